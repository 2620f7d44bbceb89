//! Dossier records for the command line and the API alike (issue #24): the dossier
//! object, the receipt, electronic results, reuse and the indicators, each built here
//! once so `sohoa … --json` and the HTTP API answer the same objects.
//!
//! Uses the catalog (`catalog::dossiers`), the store (results are stored
//! content-addressed like documents) and the pure decisions of `stages::dossier`.

use crate::model::DossierCode;
use crate::runtime::catalog::{Catalog, DossierRecord, ReuseHit};
use crate::runtime::error::Error;
use crate::runtime::store::Store;
use crate::stages::dossier::indicators::{self, GroupBy};
use crate::stages::dossier::procedures::{ProcedureCatalog, is_citizen_id};
use crate::stages::dossier::receipt::{self, ReceiptDocument, ReceiptInput};
use serde_json::{Value, json};

/// Unix ms as RFC 3339 in Vietnam time (+07:00).
pub fn local_rfc3339(ms: i64) -> Option<String> {
    let offset = chrono::FixedOffset::east_opt(7 * 3600)?;
    chrono::DateTime::from_timestamp_millis(ms).map(|t| t.with_timezone(&offset).to_rfc3339_opts(chrono::SecondsFormat::Secs, false))
}

/// A dossier code given by a person or a client, checked.
pub fn dossier_code(code: &str) -> Result<DossierCode, Error> {
    DossierCode::parse(code.trim())
        .ok_or_else(|| Error::Usage(format!("{code:?} is not a dossier code such as 000.00.15.H40-250301-0007 (Circular 01/2018/TT-VPCP Art. 19)")))
}

/// A citizen ID given by a person or a client, checked.
pub fn citizen_id(id: &str) -> Result<String, Error> {
    let id = id.trim();
    if is_citizen_id(id) { Ok(id.to_string()) } else { Err(Error::Usage(format!("{id:?} is not a 12-digit citizen ID number (CCCD)"))) }
}

async fn record(catalog: &Catalog, code: &str) -> Result<DossierRecord, Error> {
    catalog.dossier_record(code).await?.ok_or_else(|| Error::NotFound(format!("no stored dossier {code}")))
}

/// The dossier object: where and when it was received, its procedure and completeness,
/// its documents, electronic results and reused documents.
pub async fn dossier_body(catalog: &Catalog, procedures: &ProcedureCatalog, code: &str) -> Result<Value, Error> {
    let code = dossier_code(code)?;
    let r = record(catalog, &code).await?;
    let results = catalog.results(&code).await?;
    let reused = catalog.attachments(&code).await?;
    let documents: Vec<Value> = r
        .documents
        .iter()
        .map(|d| json!({"id": d.id, "type": d.doc_type, "page_count": d.page_count, "blake3": d.blake3, "sha256": d.sha256, "bytes": d.bytes}))
        .collect();
    let procedure_name = r.procedure.as_deref().and_then(|p| procedures.get(p)).map(|p| p.name.clone());
    Ok(json!({
        "code": r.code,
        "batch_id": r.batch_id,
        "post_office": r.post_office,
        "channel": 3,
        "received_at": local_rfc3339(r.received_at),
        "stored_at": r.stored_at.and_then(local_rfc3339),
        "procedure": r.procedure,
        "procedure_name": procedure_name,
        "citizen_id": r.citizen_id,
        "complete": r.complete,
        "missing": r.missing,
        "needs_review": r.needs_review,
        "documents": documents,
        "results": results,
        "reused": reused,
    }))
}

/// What the receipt of a stored dossier says.
pub fn receipt_input(r: &DossierRecord, procedures: &ProcedureCatalog) -> ReceiptInput {
    ReceiptInput {
        dossier_code: r.code.clone(),
        received_at_ms: r.received_at,
        stored_at_ms: r.stored_at,
        post_office: r.post_office.clone(),
        procedure: r.procedure.clone().map(|p| {
            let name = procedures.get(&p).map(|x| x.name.clone());
            (p, name)
        }),
        missing: r.missing.clone(),
        documents: r
            .documents
            .iter()
            .map(|d| ReceiptDocument { id: d.id.to_string(), doc_type: d.doc_type.clone(), page_count: d.page_count as u64, blake3: d.blake3.to_string() })
            .collect(),
    }
}

/// The receipt PDF of a stored dossier and its reference.
pub async fn receipt(catalog: &Catalog, procedures: &ProcedureCatalog, code: &str) -> Result<(Vec<u8>, String), Error> {
    let code = dossier_code(code)?;
    let r = record(catalog, &code).await?;
    receipt::receipt_pdf(&receipt_input(&r, procedures)).map_err(|e| Error::Internal(format!("cannot write the receipt: {e}")))
}

/// Checks a receipt reference: `given` is the QR's text (`BN:<code>|<ref>`), or a bare
/// reference with `code`. The object `{"dossier", "reference", "valid"}` (plus the
/// documents when it holds).
pub async fn verify_receipt(catalog: &Catalog, procedures: &ProcedureCatalog, code: Option<&str>, given: &str) -> Result<Value, Error> {
    let (code, reference) = match (receipt::parse_qr(given), code) {
        (Some((c, r)), _) => (c, r),
        (None, Some(c)) => (c.to_string(), given.trim().to_string()),
        (None, None) => return Err(Error::Usage(format!("{given:?} is not a receipt QR text (BN:<dossier code>|BN-…); give the dossier code too"))),
    };
    let code = dossier_code(&code)?;
    let Some(r) = catalog.dossier_record(&code).await? else {
        return Ok(json!({"dossier": code, "reference": reference, "valid": false, "reason": "no stored dossier with this code"}));
    };
    let input = receipt_input(&r, procedures);
    let valid = receipt::verify_reference(&input, &reference);
    let mut out = json!({"dossier": code, "reference": reference, "valid": valid});
    if valid {
        out["documents"] = input.documents.iter().map(|d| json!({"id": d.id, "type": d.doc_type, "page_count": d.page_count, "blake3": d.blake3})).collect();
        out["received_at"] = local_rfc3339(r.received_at).into();
    } else {
        out["reason"] = "the stored documents of this dossier are not the ones the receipt lists".into();
    }
    Ok(out)
}

/// Stores `bytes` as the next electronic result of dossier `code` (which must be stored).
pub async fn add_result(catalog: &Catalog, store: &Store, code: &str, file_name: &str, bytes: Vec<u8>) -> Result<Value, Error> {
    let code = dossier_code(code)?;
    record(catalog, &code).await?;
    if bytes.is_empty() {
        return Err(Error::Usage(format!("{file_name}: an electronic result cannot be empty")));
    }
    let blake3 = crate::runtime::store::blake3_hex(&bytes);
    let key = format!("results/{}/{}", &blake3[..2], blake3);
    let len = bytes.len() as u64;
    store.put_verified(&key, bytes::Bytes::from(bytes)).await?;
    let result = catalog.add_result(&code, file_name, &key, &blake3, len).await?;
    tracing::info!(dossier = %code, result = %result.id, bytes = len, "Electronic result stored.");
    Ok(serde_json::to_value(&result).expect("result serialises"))
}

/// `{"dossier", "results":[…]}`.
pub async fn results_body(catalog: &Catalog, code: &str) -> Result<Value, Error> {
    let code = dossier_code(code)?;
    Ok(json!({"dossier": code, "results": catalog.results(&code).await?}))
}

/// The reuse lookup and, with `attach`, the attachment of the newest document found:
/// `{"citizen_id", "type", "documents":[…], "attached": {…}|null}`.
pub async fn reuse(catalog: &Catalog, citizen: &str, doc_type: &str, attach: Option<&str>, limit: i64, actor: (&str, &str)) -> Result<Value, Error> {
    let citizen = citizen_id(citizen)?;
    let doc_type = doc_type.trim();
    if doc_type.is_empty() || doc_type.len() > 16 || !doc_type.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(Error::Usage(format!("--type {doc_type:?}: give a document-type code such as CCCD or GKS")));
    }
    if !(1..=1000).contains(&limit) {
        return Err(Error::Usage(format!("--limit {limit}: give 1 to 1000")));
    }
    let target = attach.map(dossier_code).transpose()?;
    let hits: Vec<ReuseHit> = catalog.reuse_lookup(&citizen, doc_type, target.as_deref(), limit).await?;
    let attached = match (&target, hits.first()) {
        (Some(code), Some(hit)) => {
            let (a, new) = catalog.attach_document(code, hit, Some(&citizen), actor.0, actor.1).await?;
            let mut v = serde_json::to_value(&a).expect("attachment serialises");
            v["new"] = new.into();
            Some(v)
        }
        (Some(code), None) => return Err(Error::NotFound(format!("no earlier {doc_type} document of citizen {citizen} to attach to {code}"))),
        (None, _) => None,
    };
    Ok(json!({"citizen_id": citizen, "type": doc_type, "documents": hits, "attached": attached}))
}

/// The indicators over `[from, to]` (days, Vietnam time): `{"from", "to", "by",
/// "groups":[…], "total":{…}}`, and the CSV lines.
pub async fn report(catalog: &Catalog, from: &str, to: &str, by: Option<&str>) -> Result<(Value, Vec<String>), Error> {
    let (from_ms, to_ms) = indicators::period_ms(from, to).map_err(Error::Usage)?;
    let by = match by {
        None => None,
        Some(b) => Some(GroupBy::parse(b).ok_or_else(|| Error::Usage(format!("--by {b:?}: use post-office or agency")))?),
    };
    let rows = catalog.indicator_rows(from_ms, to_ms).await?;
    let certifications = catalog.certifications_issued(from_ms, to_ms).await?;
    let (groups, total) = indicators::report(&rows, by, certifications);
    let mut csv = vec![indicators::CSV_HEADER.to_string()];
    csv.extend(groups.iter().chain(std::iter::once(&total)).map(indicators::csv_row));
    Ok((json!({"from": from, "to": to, "by": by, "groups": groups, "total": total}), csv))
}
