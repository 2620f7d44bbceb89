//! Signatures in the runtime: the keys, timestamp authority and trust roots as configured
//! (loaded and checked at start-up), scan signing of each stored document, certification
//! (a certified copy signed by the certifier and the agency, stored and entered in the
//! certification book) and verification of a file or a stored document.
//!
//! Called by the pipeline (scan signing, in `store_document`), the CLI (`certify`,
//! `verify`) and the API (`POST /documents/{id}/certify`, `GET /documents/{id}/verify`).

use crate::model::ContentHash;
use crate::runtime::catalog::{AuditAction, BookPlace, Catalog, CertificationEntry, CertifiedDocument, NewAuditEvent};
use crate::runtime::error::Error;
use crate::runtime::store::Store;
use crate::runtime::tsa::HttpTsa;
use crate::runtime::worker::Services;
use crate::stages::sign::appearance::{Statement, book_label};
use crate::stages::sign::keys::{common_name, organisation};
use crate::stages::sign::{self, SignError, SignOptions, Signer, Timestamper, VerifyReport};
use chrono::Datelike;
use futures::StreamExt;
use sha2::Digest;
use std::path::Path;
use std::sync::Arc;

/// Reads a key file (PEM, or PKCS #12 with the password in the environment variable
/// `password_env`).
pub fn load_key(path: &Path, password_env: Option<&str>) -> Result<Arc<dyn Signer>, Error> {
    let password = match password_env {
        Some(var) => Some(std::env::var(var).map_err(|_| Error::config("key_password_env", format!("the environment variable {var} is not set")))?),
        None => None,
    };
    Ok(Arc::new(sign::load_key_file(path, password.as_deref())?))
}

/// The timestamp authority at `url`, checked.
pub fn load_tsa(url: &str) -> Result<Arc<dyn Timestamper>, Error> {
    Ok(Arc::new(HttpTsa::new(url).map_err(|m| Error::config("tsa", m))?))
}

/// The certificates of the PEM files `paths` (trust roots).
pub fn load_roots(paths: &[std::path::PathBuf]) -> Result<Vec<x509_cert::Certificate>, Error> {
    let mut roots = Vec::new();
    for p in paths {
        let text = std::fs::read_to_string(p).map_err(|e| Error::config("trust", format!("cannot read {}: {e}", p.display())))?;
        roots.extend(sign::verify::load_roots(&text).map_err(|m| Error::config("trust", format!("{}: {m}", p.display())))?);
    }
    Ok(roots)
}

/// Scan signing (Circular 01/2023/TT-VPCP, Art. 8): the scanning station's or post
/// office's key signs every stored document.
#[derive(Clone)]
pub struct ScanSigning {
    pub signer: Arc<dyn Signer>,
    pub tsa: Option<Arc<dyn Timestamper>>,
}

impl std::fmt::Debug for ScanSigning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScanSigning").field("signer", &self.signer.chain().first().map(common_name)).field("tsa", &self.tsa.is_some()).finish()
    }
}

impl ScanSigning {
    /// `pdf` signed now, B-T when a TSA is configured.
    pub fn sign(&self, pdf: &[u8]) -> Result<Vec<u8>, SignError> {
        let opts = SignOptions {
            time: chrono::Utc::now().with_timezone(&sign::vietnam()),
            label: "BẢN SỐ HÓA".into(),
            reason: Some("Số hóa bản giấy (Thông tư 01/2023/TT-VPCP)".into()),
            location: None,
            timestamper: self.tsa.as_deref(),
        };
        sign::sign_pdf(pdf, self.signer.as_ref(), &opts)
    }
}

/// The keys a certification is signed with.
#[derive(Clone)]
pub struct CertifyKeys {
    pub certifier: Arc<dyn Signer>,
    pub agency: Option<Arc<dyn Signer>>,
    pub tsa: Option<Arc<dyn Timestamper>>,
}

impl std::fmt::Debug for CertifyKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertifyKeys").field("certifier", &self.certifier.chain().first().map(common_name)).field("agency", &self.agency.is_some()).finish()
    }
}

impl CertifyKeys {
    /// The book this certifier writes in, in `year`: the agency's (its certificate's
    /// organisation; the certifier's organisation without an agency key).
    pub fn place(&self, year: i32) -> BookPlace {
        let certifier = &self.certifier.chain()[0];
        let agency = self.agency.as_ref().map_or_else(|| organisation(certifier), |a| organisation(&a.chain()[0]));
        BookPlace { agency, year, book: book_label(year), certifier: common_name(certifier) }
    }
}

/// The id of the copy entered as `number` in `place`'s book.
pub fn certified_document_id(place: &BookPlace, number: u32) -> String {
    let h = blake3::hash(format!("certified/{}/{}/{number}", place.agency, place.year).as_bytes());
    format!("doc_{}", &h.to_hex()[..20])
}

/// What `sohoa certify --json` prints.
#[derive(Debug, Clone, serde::Serialize, PartialEq, Eq)]
pub struct Certified {
    pub document_id: String,
    pub certified_from: String,
    pub book: String,
    pub number: u32,
    pub year: i32,
}

impl From<&CertificationEntry> for Certified {
    fn from(e: &CertificationEntry) -> Certified {
        Certified { document_id: e.document_id.clone(), certified_from: e.certified_from.clone(), book: e.book.clone(), number: e.number, year: e.year }
    }
}

/// Certifies the stored document `original_id`: the copy with its statement, signed by
/// the certifier then the agency, stored, and entered in the book.
/// `actor` (token id and role; `("cli", "cli")` at a shell) is entered in the audit chain
/// against the original once the copy is in the book.
pub async fn certify(services: &Services, original_id: &str, keys: &CertifyKeys, actor: (&str, &str)) -> Result<CertificationEntry, Error> {
    let record = services.catalog.document_record(original_id).await?.ok_or_else(|| Error::NotFound(format!("no document {original_id}")))?;
    let doc = record.document;
    let original = services.store.get_verified(doc.object_key.as_str(), doc.blake3.as_str()).await?;
    let now = chrono::Utc::now().with_timezone(&sign::vietnam());
    let place = keys.place(now.year());
    let started = std::time::Instant::now();
    let entry = services
        .catalog
        .record_certification(original_id, &place, |number| {
            let (keys, place, store) = (keys.clone(), place.clone(), services.store.clone());
            let statement = Statement {
                number,
                book: place.book.clone(),
                date: now.date_naive(),
                certifier: place.certifier.clone(),
                agency: place.agency.clone(),
                original_id: original_id.to_string(),
                original_pages: doc.page_count,
            };
            async move {
                let built = tokio::task::spawn_blocking(move || sign_certified_copy(&original, &statement, &keys, now))
                    .await
                    .map_err(|e| Error::Internal(format!("the signing task stopped: {e}")))??;
                let (pdf, pages) = built;
                let blake3 = ContentHash::of(&pdf);
                let sha256 = hex::encode(sha2::Sha256::digest(&pdf));
                let key = Store::document_key(&blake3);
                let bytes = pdf.len() as u64;
                store.put_verified(key.as_str(), bytes::Bytes::from(pdf)).await?;
                Ok::<_, Error>(CertifiedDocument {
                    id: certified_document_id(&place, number),
                    blake3: blake3.to_string(),
                    sha256,
                    bytes,
                    object_key: key.to_string(),
                    page_count: pages,
                })
            }
        })
        .await?;
    services
        .catalog
        .append_audit(&NewAuditEvent {
            token_id: actor.0.into(),
            role: actor.1.into(),
            document_id: original_id.into(),
            action: AuditAction::Certify,
            purpose: Some(format!("certified copy {}: Số chứng thực {}, quyển số {}", entry.document_id, entry.number, entry.book)),
        })
        .await?;
    tracing::info!(document_id = %entry.document_id, certified_from = original_id, number = entry.number, book = %entry.book, agency = %entry.agency,
        ms = started.elapsed().as_millis() as u64, "Certified a copy.");
    Ok(entry)
}

fn sign_certified_copy(
    original: &[u8],
    statement: &Statement,
    keys: &CertifyKeys,
    now: chrono::DateTime<chrono::FixedOffset>,
) -> Result<(Vec<u8>, usize), Error> {
    let (copy, pages) = sign::copy::certified_copy(original, statement)?;
    let reason = format!("Chứng thực bản sao đúng với bản chính. Số chứng thực: {}, quyển số {}", statement.number, statement.book);
    let certifier =
        SignOptions { time: now, label: "CHỨNG THỰC BẢN SAO".into(), reason: Some(reason.clone()), location: None, timestamper: keys.tsa.as_deref() };
    let once = sign::sign_pdf(&copy, keys.certifier.as_ref(), &certifier)?;
    let signed = match &keys.agency {
        Some(agency) => {
            let opts =
                SignOptions { time: now, label: "CƠ QUAN CHỨNG THỰC".into(), reason: Some(reason), location: None, timestamper: keys.tsa.as_deref() };
            sign::sign_pdf(&once, agency.as_ref(), &opts)?
        }
        None => once,
    };
    Ok((signed, pages))
}

/// A verification: the signatures, and for a stored document its catalog hashes and book line.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Verification {
    pub valid: bool,
    pub document_id: Option<String>,
    pub file: Option<String>,
    /// For a stored document: the bytes hash to the catalog's BLAKE3 and SHA-256.
    pub hash_matches_catalog: Option<bool>,
    #[serde(flatten)]
    pub report: VerifyReport,
    pub certification: Option<CertificationEntry>,
}

/// Verifies `bytes`, which the catalog records as `document` (id, BLAKE3, SHA-256) when
/// they came from the store.
pub async fn verify_bytes(
    bytes: &[u8],
    catalog: Option<&Catalog>,
    document: Option<(&str, &str, &str)>,
    file: Option<String>,
    roots: &[x509_cert::Certificate],
) -> Result<Verification, Error> {
    let report = sign::verify_pdf(bytes, roots, chrono::Utc::now());
    let hash_matches_catalog = document.map(|(_, blake3, sha)| ContentHash::of(bytes).as_str() == blake3 && report.sha256 == sha);
    let mut document_id = document.map(|(id, _, _)| id.to_string());
    if document_id.is_none()
        && let Some(c) = catalog
    {
        document_id = c.documents_with_sha256(&report.sha256).await?.into_iter().next();
    }
    let certification = match (catalog, &document_id) {
        (Some(c), Some(id)) => c.certification_of(id).await?,
        _ => None,
    };
    let valid = report.valid && hash_matches_catalog != Some(false);
    Ok(Verification { valid, document_id, file, hash_matches_catalog, report, certification })
}

/// Verifies the stored document `id`: its bytes as stored (not refused on a hash
/// mismatch: the mismatch is the answer).
/// The check is entered in the audit chain for `actor` (token id and role) before the
/// bytes are read.
pub async fn verify_document(services: &Services, id: &str, roots: &[x509_cert::Certificate], actor: (&str, &str)) -> Result<Verification, Error> {
    let doc = services.catalog.find_document(id).await?.ok_or_else(|| Error::NotFound(format!("no document {id:?} in the catalog and no such file")))?;
    let event = NewAuditEvent { token_id: actor.0.into(), role: actor.1.into(), document_id: doc.id.to_string(), action: AuditAction::Verify, purpose: None };
    services.catalog.append_audit(&event).await?;
    let mut stream = services.store.get_stream(doc.object_key.as_str(), None).await?;
    let mut bytes = Vec::with_capacity(doc.bytes as usize);
    while let Some(chunk) = stream.next().await {
        bytes.extend_from_slice(&chunk?);
    }
    verify_bytes(&bytes, Some(&services.catalog), Some((doc.id.as_str(), doc.blake3.as_str(), &doc.sha256)), None, roots).await
}
