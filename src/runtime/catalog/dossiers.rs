//! Dossier records an agency reuses (issue #24): a dossier as received (its documents,
//! completeness and post office, for `status`, the receipt and the API), its electronic
//! results (`‹dossier code›-KQ‹n›`), the citizen each document belongs to, the reuse
//! lookup and attachments, and the rows the indicators are computed from.
//!
//! Invariants:
//! - result numbers are 1, 2, 3, … per dossier code without gaps, even when results are
//!   added at once by several processes: the next number is read and written inside one
//!   write transaction (SQLite's write lock; a table lock on PostgreSQL);
//! - `citizen_documents` is the one source of the reuse lookup: the cover's citizen ID
//!   (`source = 'cover'`, written with the batch's rows), a clerk's declaration
//!   (`declared`), and the documents' own CCCD fields (`field`) all feed it;
//! - an attachment is audited before it is recorded (an `audit_events` row with action
//!   `reuse`), so no attachment exists without its audit row; attaching twice is one
//!   attachment.
//!
//! A dossier code seen in several batches (a dossier scanned again) is read from the most
//! recent done batch that holds it.

use super::records::{DOCUMENT_COLUMNS, document_from_row};
use super::{AuditAction, Backend, Catalog, CatalogError, NewAuditEvent, WriteTx, parse_json_list, to_i64};
use crate::model::DocumentReport;
use crate::stages::dossier::indicators::DossierFacts;
use sqlx::Row;

/// A dossier as received and stored.
#[derive(Debug, Clone, PartialEq)]
pub struct DossierRecord {
    pub code: String,
    pub batch_id: String,
    pub post_office: Option<String>,
    /// When its batch was received (ingested), unix ms.
    pub received_at: i64,
    /// When its batch was stored (committed), unix ms.
    pub stored_at: Option<i64>,
    pub procedure: Option<String>,
    pub citizen_id: Option<String>,
    pub complete: Option<bool>,
    pub missing: Vec<String>,
    pub needs_review: bool,
    pub documents: Vec<DocumentReport>,
}

/// An electronic result of a dossier.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DossierResult {
    /// `‹dossier code›-KQ‹n›`.
    pub id: String,
    pub dossier_code: String,
    pub n: i64,
    pub file_name: String,
    pub object_key: String,
    pub blake3: String,
    pub bytes: i64,
    /// Unix ms.
    pub created_at: i64,
}

/// A document found by the reuse lookup.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ReuseHit {
    pub document_id: String,
    #[serde(rename = "type")]
    pub doc_type: Option<String>,
    pub dossier: Option<String>,
    pub batch_id: String,
    pub page_count: i64,
    pub blake3: String,
    /// When it was stored, unix ms.
    pub stored_at: i64,
    /// How the document is known to be the citizen's: `cover`, `declared`, `field`, or
    /// `text` (the number appears in its OCR text).
    pub source: String,
}

/// A document of an earlier dossier attached to another dossier.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Attachment {
    pub dossier_code: String,
    pub document_id: String,
    pub citizen_id: Option<String>,
    #[serde(rename = "type")]
    pub doc_type: Option<String>,
    pub actor: String,
    /// Unix ms.
    pub at: i64,
}

/// Links a document to a citizen (no-op when already linked).
pub(crate) async fn link_citizen(tx: &mut WriteTx, citizen_id: &str, document_id: &str, source: &str, now: i64) -> Result<(), CatalogError> {
    sqlx::query(
        "INSERT INTO citizen_documents (citizen_id, document_id, source, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (citizen_id, document_id) DO NOTHING",
    )
    .bind(citizen_id)
    .bind(document_id)
    .bind(source)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Catalog {
    /// The dossier with this code, from the most recent done batch that holds it.
    pub async fn dossier_record(&self, code: &str) -> Result<Option<DossierRecord>, CatalogError> {
        let mut conn = self.begin_read().await?;
        let row = sqlx::query(
            "SELECT s.id, s.batch_id, b.post_office, b.created_at, b.finished_at, s.procedure, s.citizen_id, s.complete, s.missing_json, s.needs_review
             FROM dossiers s JOIN batches b ON b.id = s.batch_id
             WHERE s.code = $1 AND b.state = 'done' ORDER BY b.created_at DESC, s.batch_id DESC, s.seq LIMIT 1",
        )
        .bind(code)
        .fetch_optional(&mut *conn)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let dossier_id: String = row.try_get(0)?;
        let documents = sqlx::query(&format!("SELECT {DOCUMENT_COLUMNS}, d.fields_json FROM documents d WHERE d.dossier_id = $1 ORDER BY d.seq"))
            .bind(&dossier_id)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(document_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        let complete: Option<i64> = row.try_get(7)?;
        Ok(Some(DossierRecord {
            code: code.to_string(),
            batch_id: row.try_get(1)?,
            post_office: row.try_get(2)?,
            received_at: row.try_get(3)?,
            stored_at: row.try_get(4)?,
            procedure: row.try_get(5)?,
            citizen_id: row.try_get(6)?,
            complete: complete.map(|c| c != 0),
            missing: parse_json_list(&row.try_get::<String, _>(8)?, "dossiers.missing_json")?,
            needs_review: row.try_get::<i64, _>(9)? != 0,
            documents,
        }))
    }

    /// Records that the documents of dossier `code` belong to `citizen_id` (a clerk's
    /// declaration); returns how many documents were linked (0: no such dossier).
    pub async fn declare_citizen(&self, code: &str, citizen_id: &str) -> Result<usize, CatalogError> {
        let Some(record) = self.dossier_record(code).await? else { return Ok(0) };
        let now = self.now_ms();
        let mut tx = self.begin_write().await?;
        for doc in &record.documents {
            link_citizen(&mut tx, citizen_id, doc.id.as_str(), "declared", now).await?;
        }
        tx.commit().await?;
        Ok(record.documents.len())
    }

    /// Links one document to a citizen from the document's own fields (its CCCD number).
    pub async fn link_citizen_field(&self, citizen_id: &str, document_id: &str) -> Result<(), CatalogError> {
        let now = self.now_ms();
        let mut tx = self.begin_write().await?;
        link_citizen(&mut tx, citizen_id, document_id, "field", now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records an electronic result of dossier `code`, stored at `object_key`: numbered
    /// one more than the dossier's last result, inside the write lock.
    pub async fn add_result(&self, code: &str, file_name: &str, object_key: &str, blake3: &str, bytes: u64) -> Result<DossierResult, CatalogError> {
        let bytes = to_i64(bytes, "bytes")?;
        let mut tx = self.begin_write().await?;
        if self.backend == Backend::Postgres {
            sqlx::query("LOCK TABLE dossier_results IN EXCLUSIVE MODE").execute(&mut *tx).await?;
        }
        let last: Option<i64> = sqlx::query_scalar("SELECT MAX(n) FROM dossier_results WHERE dossier_code = $1").bind(code).fetch_one(&mut *tx).await?;
        let n = last.unwrap_or(0) + 1;
        let id = crate::stages::dossier::results::result_code(code, n as u64);
        let created_at = self.now_ms();
        sqlx::query(
            "INSERT INTO dossier_results (id, dossier_code, n, file_name, object_key, blake3, bytes, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&id)
        .bind(code)
        .bind(n)
        .bind(file_name)
        .bind(object_key)
        .bind(blake3)
        .bind(bytes)
        .bind(created_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(DossierResult {
            id,
            dossier_code: code.into(),
            n,
            file_name: file_name.into(),
            object_key: object_key.into(),
            blake3: blake3.into(),
            bytes,
            created_at,
        })
    }

    /// The electronic results of dossier `code`, by number.
    pub async fn results(&self, code: &str) -> Result<Vec<DossierResult>, CatalogError> {
        let rows =
            sqlx::query("SELECT id, dossier_code, n, file_name, object_key, blake3, bytes, created_at FROM dossier_results WHERE dossier_code = $1 ORDER BY n")
                .bind(code)
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|r| {
                Ok(DossierResult {
                    id: r.try_get(0)?,
                    dossier_code: r.try_get(1)?,
                    n: r.try_get(2)?,
                    file_name: r.try_get(3)?,
                    object_key: r.try_get(4)?,
                    blake3: r.try_get(5)?,
                    bytes: r.try_get(6)?,
                    created_at: r.try_get(7)?,
                })
            })
            .collect()
    }

    /// Earlier digitized documents of a citizen, of one type: those linked to the citizen
    /// (cover, declaration, CCCD field) and those whose OCR text carries the number;
    /// newest first, at most `limit`. `except_dossier`: leave out that dossier's own.
    pub async fn reuse_lookup(&self, citizen_id: &str, doc_type: &str, except_dossier: Option<&str>, limit: i64) -> Result<Vec<ReuseHit>, CatalogError> {
        let rows = sqlx::query(
            "SELECT d.id, d.doc_type, s.code, d.batch_id, d.page_count, d.blake3, d.created_at,
                    (SELECT MIN(c.source) FROM citizen_documents c WHERE c.document_id = d.id AND c.citizen_id = $1)
             FROM documents d JOIN dossiers s ON s.id = d.dossier_id
             WHERE d.doc_type = $2
               AND (EXISTS (SELECT 1 FROM citizen_documents c WHERE c.document_id = d.id AND c.citizen_id = $1)
                    OR d.ocr_text LIKE $3)
             ORDER BY d.created_at DESC, d.id",
        )
        .bind(citizen_id)
        .bind(doc_type)
        .bind(format!("%{citizen_id}%"))
        .fetch_all(&self.pool)
        .await?;
        let mut hits = Vec::new();
        for r in &rows {
            let dossier: Option<String> = r.try_get(2)?;
            if except_dossier.is_some() && dossier.as_deref() == except_dossier {
                continue;
            }
            let source: Option<String> = r.try_get(7)?;
            hits.push(ReuseHit {
                document_id: r.try_get(0)?,
                doc_type: r.try_get(1)?,
                dossier,
                batch_id: r.try_get(3)?,
                page_count: r.try_get(4)?,
                blake3: r.try_get(5)?,
                stored_at: r.try_get(6)?,
                source: source.unwrap_or_else(|| "text".into()),
            });
            if hits.len() as i64 >= limit {
                break;
            }
        }
        Ok(hits)
    }

    /// Attaches a stored document to dossier `code` as a reused component: audited first
    /// (action `reuse`), then recorded. Returns the attachment and whether it is new.
    pub async fn attach_document(
        &self,
        code: &str,
        hit: &ReuseHit,
        citizen_id: Option<&str>,
        token_id: &str,
        role: &str,
    ) -> Result<(Attachment, bool), CatalogError> {
        self.append_audit(&NewAuditEvent {
            token_id: token_id.into(),
            role: role.into(),
            document_id: hit.document_id.clone(),
            action: AuditAction::Reuse,
            purpose: Some(format!("attached to dossier {code}")),
        })
        .await?;
        let at = self.now_ms();
        let turn = self.write_turn().await;
        let inserted = sqlx::query(
            "INSERT INTO reuse_attachments (dossier_code, document_id, citizen_id, doc_type, actor, at) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (dossier_code, document_id) DO NOTHING",
        )
        .bind(code)
        .bind(&hit.document_id)
        .bind(citizen_id)
        .bind(hit.doc_type.as_deref())
        .bind(token_id)
        .bind(at)
        .execute(&self.pool)
        .await?
        .rows_affected();
        drop(turn);
        let attachment = self.attachments(code).await?.into_iter().find(|a| a.document_id == hit.document_id);
        let attachment = attachment.ok_or_else(|| CatalogError::Corrupt(format!("attachment of {} to {code} vanished", hit.document_id)))?;
        Ok((attachment, inserted == 1))
    }

    /// The documents attached to dossier `code`, oldest first.
    pub async fn attachments(&self, code: &str) -> Result<Vec<Attachment>, CatalogError> {
        let rows = sqlx::query(
            "SELECT dossier_code, document_id, citizen_id, doc_type, actor, at FROM reuse_attachments WHERE dossier_code = $1 ORDER BY at, document_id",
        )
        .bind(code)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Attachment {
                    dossier_code: r.try_get(0)?,
                    document_id: r.try_get(1)?,
                    citizen_id: r.try_get(2)?,
                    doc_type: r.try_get(3)?,
                    actor: r.try_get(4)?,
                    at: r.try_get(5)?,
                })
            })
            .collect()
    }

    /// One row per coded dossier of the done batches received in `[from_ms, to_ms)`.
    pub async fn indicator_rows(&self, from_ms: i64, to_ms: i64) -> Result<Vec<DossierFacts>, CatalogError> {
        let mut conn = self.begin_read().await?;
        let rows = sqlx::query(
            "SELECT s.code, b.post_office, b.created_at, b.finished_at, s.complete,
                    (SELECT COUNT(*) FROM documents d WHERE d.dossier_id = s.id),
                    (SELECT CAST(COALESCE(SUM(d.page_count), 0) AS BIGINT) FROM documents d WHERE d.dossier_id = s.id),
                    (SELECT COUNT(*) FROM reuse_attachments r WHERE r.dossier_code = s.code),
                    (SELECT COUNT(*) FROM dossier_results k WHERE k.dossier_code = s.code)
             FROM dossiers s JOIN batches b ON b.id = s.batch_id
             WHERE b.state = 'done' AND s.code IS NOT NULL AND b.created_at >= $1 AND b.created_at < $2
             ORDER BY b.created_at, s.batch_id, s.seq",
        )
        .bind(from_ms)
        .bind(to_ms)
        .fetch_all(&mut *conn)
        .await?;
        let mut out: Vec<DossierFacts> = Vec::with_capacity(rows.len());
        for r in &rows {
            let code: String = r.try_get(0)?;
            let complete: Option<i64> = r.try_get(4)?;
            let row = DossierFacts {
                code,
                post_office: r.try_get(1)?,
                received_at: r.try_get(2)?,
                stored_at: r.try_get(3)?,
                complete: complete.map(|c| c != 0),
                documents: r.try_get::<i64, _>(5)?.max(0) as u64,
                pages: r.try_get::<i64, _>(6)?.max(0) as u64,
                reused: r.try_get::<i64, _>(7)? > 0,
                has_result: r.try_get::<i64, _>(8)? > 0,
            };
            // A dossier scanned again counts once, as its latest scan.
            match out.iter_mut().find(|o| o.code == row.code) {
                Some(o) => *o = row,
                None => out.push(row),
            }
        }
        Ok(out)
    }

    /// Certifications issued in `[from_ms, to_ms)`: entries of the certification book
    /// (`certifications`, migration 0007) by their time of certification.
    pub async fn certifications_issued(&self, from_ms: i64, to_ms: i64) -> Result<u64, CatalogError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM certifications WHERE certified_at >= $1 AND certified_at < $2")
            .bind(from_ms)
            .bind(to_ms)
            .fetch_one(&self.pool)
            .await?;
        Ok(n.max(0) as u64)
    }
}
