//! The records of a finished batch: its report written as rows (inside the transaction
//! that completes its last job), and read back: the report rebuilt in stored order,
//! documents by id or content hash.

use super::{
    Catalog, CatalogError, WriteTx, dossier_row_id, finite_or_zero, from_i64, page_kind_str, parse_json_list, parse_page_kind, search, to_i64, to_json,
};
use crate::model::{BatchReport, BatchState, DocumentReport, DossierReport, PageReport};
use sqlx::Row;
use sqlx::any::AnyRow;

impl Catalog {
    /// The report of a finished batch, rebuilt from its rows in stored order; `None` if the
    /// batch does not exist or is not done.
    pub async fn batch_report(&self, batch_id: &str) -> Result<Option<BatchReport>, CatalogError> {
        let mut conn = self.begin_read().await?;
        let Some(batch) = sqlx::query("SELECT source, state, warnings_json FROM batches WHERE id = $1").bind(batch_id).fetch_optional(&mut *conn).await? else {
            return Ok(None);
        };
        let state: String = batch.try_get(1)?;
        if BatchState::parse(&state) != Some(BatchState::Done) {
            return Ok(None);
        }
        let source: String = batch.try_get(0)?;
        let warnings = parse_json_list(&batch.try_get::<String, _>(2)?, "batches.warnings_json")?;

        let pages = sqlx::query(
            "SELECT idx, kind, barcode, skew_deg, rotation, ocr_confidence, warnings_json
             FROM pages WHERE batch_id = $1 ORDER BY idx",
        )
        .bind(batch_id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(page_from_row)
        .collect::<Result<Vec<_>, _>>()?;

        let dossier_rows =
            sqlx::query("SELECT id, code, needs_review, procedure, citizen_id, complete, missing_json FROM dossiers WHERE batch_id = $1 ORDER BY seq")
                .bind(batch_id)
                .fetch_all(&mut *conn)
                .await?;
        let doc_rows = sqlx::query(&format!(
            "SELECT {DOCUMENT_COLUMNS}, d.dossier_id, d.fields_json FROM documents d WHERE d.batch_id = $1 AND d.certified_from IS NULL ORDER BY d.dossier_id, d.seq"
        ))
        .bind(batch_id)
        .fetch_all(&mut *conn)
        .await?;
        let mut docs_by_dossier: std::collections::HashMap<String, Vec<DocumentReport>> = std::collections::HashMap::new();
        for row in &doc_rows {
            let dossier_id: String = row.try_get(9)?;
            docs_by_dossier.entry(dossier_id).or_default().push(document_from_row(row)?);
        }
        let mut dossiers = Vec::with_capacity(dossier_rows.len());
        for row in &dossier_rows {
            let id: String = row.try_get(0)?;
            let needs_review: i64 = row.try_get(2)?;
            let complete: Option<i64> = row.try_get(5)?;
            dossiers.push(DossierReport {
                code: row.try_get(1)?,
                documents: docs_by_dossier.remove(&id).unwrap_or_default(),
                needs_review: needs_review != 0,
                procedure: row.try_get(3)?,
                citizen_id: row.try_get(4)?,
                complete: complete.map(|c| c != 0),
                missing: parse_json_list(&row.try_get::<String, _>(6)?, "dossiers.missing_json")?,
            });
        }
        if !docs_by_dossier.is_empty() {
            return Err(CatalogError::Corrupt(format!("batch {batch_id} has documents in unknown dossiers")));
        }
        Ok(Some(BatchReport { batch_id: batch_id.into(), source, pages, dossiers, warnings }))
    }

    /// Writes the rows of a finished batch inside `tx` (which already holds the write lock),
    /// replacing any left by an earlier attempt, and marks the batch done.
    pub(crate) async fn write_report(&self, tx: &mut WriteTx, report: &BatchReport, now: i64) -> Result<(), CatalogError> {
        let b = report.batch_id.as_str();
        self.delete_fields(tx, b).await?;
        sqlx::query("DELETE FROM citizen_documents WHERE source IN ('cover', 'field') AND document_id IN (SELECT id FROM documents WHERE batch_id = $1)")
            .bind(b)
            .execute(&mut **tx)
            .await?;
        for table in ["documents", "dossiers", "pages"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE batch_id = $1")).bind(b).execute(&mut **tx).await?;
        }
        for p in &report.pages {
            // sqlx 0.8 Any maps a NULL f64 to a PostgreSQL float4 parameter (and a NULL f32
            // to float8), which poisons the cached statement for later non-NULL f64 values.
            // So a missing confidence is a literal NULL in its own statement.
            let confidence = p.ocr_confidence.filter(|c| c.is_finite()).map(f64::from);
            let sql = format!(
                "INSERT INTO pages (batch_id, idx, kind, barcode, skew_deg, rotation, warnings_json, ocr_confidence)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, {})",
                if confidence.is_some() { "$8" } else { "NULL" }
            );
            let mut q = sqlx::query(&sql)
                .bind(b)
                .bind(to_i64(p.index as u64, "page index")?)
                .bind(page_kind_str(p.kind))
                .bind(p.barcode.as_deref())
                .bind(finite_or_zero(p.skew_deg))
                .bind(i64::from(p.rotation))
                .bind(to_json(&p.warnings)?);
            if let Some(c) = confidence {
                q = q.bind(c);
            }
            q.execute(&mut **tx).await?;
        }
        for (seq, d) in report.dossiers.iter().enumerate() {
            let dossier_id = dossier_row_id(b, seq);
            let valid = d.code.as_deref().is_some_and(crate::model::DossierCode::is_valid);
            // A NULL `complete` is a literal (see the note on NULL parameters above).
            let sql = format!(
                "INSERT INTO dossiers (id, batch_id, seq, code, code_valid, needs_review, procedure, citizen_id, missing_json, complete)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, {})",
                if d.complete.is_some() { "$10" } else { "NULL" }
            );
            let mut q = sqlx::query(&sql)
                .bind(&dossier_id)
                .bind(b)
                .bind(seq as i64)
                .bind(d.code.as_deref())
                .bind(i64::from(valid))
                .bind(i64::from(d.needs_review))
                .bind(d.procedure.as_deref())
                .bind(d.citizen_id.as_deref())
                .bind(to_json(&d.missing)?);
            if let Some(c) = d.complete {
                q = q.bind(i64::from(c));
            }
            q.execute(&mut **tx).await?;
            for (doc_seq, doc) in d.documents.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO documents (id, batch_id, dossier_id, seq, doc_type, source_pages_json, page_count,
                                            blake3, sha256, bytes, object_key, ocr_text, created_at,
                                            search_folded, search_version)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
                )
                .bind(doc.id.as_str())
                .bind(b)
                .bind(&dossier_id)
                .bind(doc_seq as i64)
                .bind(doc.doc_type.as_deref())
                .bind(to_json(&doc.source_pages)?)
                .bind(to_i64(doc.page_count as u64, "page_count")?)
                .bind(doc.blake3.as_str())
                .bind(&doc.sha256)
                .bind(to_i64(doc.bytes, "bytes")?)
                .bind(doc.object_key.as_str())
                .bind(&doc.ocr_text)
                .bind(now)
                .bind(search::index_text(&doc.ocr_text))
                .bind(search::FOLD_VERSION)
                .execute(&mut **tx)
                .await?;
                self.write_fields(tx, b, doc).await?;
                if let Some(citizen) = d.citizen_id.as_deref().filter(|c| crate::stages::dossier::procedures::is_citizen_id(c)) {
                    super::dossiers::link_citizen(tx, citizen, doc.id.as_str(), "cover", now).await?;
                }
                for citizen in doc.fields.cccd.iter().filter(|c| crate::stages::dossier::procedures::is_citizen_id(c)) {
                    super::dossiers::link_citizen(tx, citizen, doc.id.as_str(), "field", now).await?;
                }
            }
        }
        let updated = sqlx::query("UPDATE batches SET state = 'done', source = $1, finished_at = $2, warnings_json = $3 WHERE id = $4")
            .bind(&report.source)
            .bind(now)
            .bind(to_json(&report.warnings)?)
            .bind(b)
            .execute(&mut **tx)
            .await?
            .rows_affected();
        if updated != 1 {
            return Err(CatalogError::Invalid(format!("no batch {b}")));
        }
        Ok(())
    }

    /// Ids of the batches with at least one dossier that needs review, oldest first.
    pub async fn batches_needing_review(&self) -> Result<Vec<String>, CatalogError> {
        let mut conn = self.pool.acquire().await?;
        let rows = sqlx::query(
            "SELECT b.id FROM batches b WHERE EXISTS (SELECT 1 FROM dossiers d WHERE d.batch_id = b.id AND d.needs_review <> 0) ORDER BY b.created_at, b.id",
        )
        .fetch_all(&mut *conn)
        .await?;
        rows.iter().map(|r| r.try_get::<String, _>(0).map_err(CatalogError::from)).collect()
    }

    /// A document by id, by BLAKE3, or by a unique BLAKE3 prefix of at least 8 hex digits.
    /// When several documents share the same content, the oldest is returned.
    pub async fn find_document(&self, id_or_blake3: &str) -> Result<Option<DocumentReport>, CatalogError> {
        let key = id_or_blake3.trim();
        let by_id =
            sqlx::query(&format!("SELECT {DOCUMENT_COLUMNS}, d.fields_json FROM documents d WHERE d.id = $1")).bind(key).fetch_optional(&self.pool).await?;
        if let Some(row) = by_id {
            return Ok(Some(document_from_row(&row)?));
        }
        let hex = key.to_ascii_lowercase();
        if hex.len() < 8 || hex.len() > 64 || !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
            return Ok(None);
        }
        let blake3 = if hex.len() == 64 {
            hex
        } else {
            let matches =
                sqlx::query("SELECT DISTINCT blake3 FROM documents WHERE blake3 LIKE $1 LIMIT 2").bind(format!("{hex}%")).fetch_all(&self.pool).await?;
            match matches.as_slice() {
                [] => return Ok(None),
                [one] => one.try_get::<String, _>(0)?,
                _ => return Err(CatalogError::Ambiguous { prefix: hex }),
            }
        };
        let row = sqlx::query(&format!("SELECT {DOCUMENT_COLUMNS}, d.fields_json FROM documents d WHERE d.blake3 = $1 ORDER BY d.created_at, d.id LIMIT 1"))
            .bind(&blake3)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(document_from_row).transpose()
    }

    /// Every stored document, oldest first, in batch order.
    pub async fn list_documents(&self) -> Result<Vec<DocumentReport>, CatalogError> {
        sqlx::query(&format!(
            "SELECT {DOCUMENT_COLUMNS}, d.fields_json FROM documents d JOIN dossiers s ON s.id = d.dossier_id
             ORDER BY d.created_at, d.batch_id, s.seq, d.seq"
        ))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(document_from_row)
        .collect()
    }
}

/// A stored document with where it belongs: its dossier's code and its batch (and the
/// post office the batch came from).
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentRecord {
    pub document: DocumentReport,
    pub dossier: Option<String>,
    pub batch_id: String,
    pub post_office: Option<String>,
}

/// One batch in a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchListing {
    pub id: String,
    pub state: String,
    pub post_office: Option<String>,
    /// Unix milliseconds.
    pub created_at: i64,
}

impl Catalog {
    /// The document with exactly this id, with its dossier code and batch.
    pub async fn document_record(&self, id: &str) -> Result<Option<DocumentRecord>, CatalogError> {
        let row = sqlx::query(&format!(
            "SELECT {DOCUMENT_COLUMNS}, s.code, d.batch_id, b.post_office, d.fields_json FROM documents d
             JOIN dossiers s ON s.id = d.dossier_id JOIN batches b ON b.id = d.batch_id WHERE d.id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(DocumentRecord { document: document_from_row(&row)?, dossier: row.try_get(9)?, batch_id: row.try_get(10)?, post_office: row.try_get(11)? }))
    }

    /// The dossier codes of the documents of a batch that hold page `page` (a page is in at
    /// most one document; `[]` when it is in none, or the batch is not done).
    pub async fn page_dossiers(&self, batch_id: &str, page: usize) -> Result<Vec<Option<String>>, CatalogError> {
        let rows = sqlx::query("SELECT d.source_pages_json, s.code FROM documents d JOIN dossiers s ON s.id = d.dossier_id WHERE d.batch_id = $1")
            .bind(batch_id)
            .fetch_all(&self.pool)
            .await?;
        let mut out = Vec::new();
        for row in &rows {
            let pages: Vec<usize> =
                serde_json::from_str(&row.try_get::<String, _>(0)?).map_err(|e| CatalogError::Corrupt(format!("documents.source_pages_json: {e}")))?;
            if pages.contains(&page) {
                out.push(row.try_get(1)?);
            }
        }
        Ok(out)
    }

    /// The post office a batch came from: `None` if there is no such batch, `Some(None)`
    /// if it has none.
    pub async fn batch_post_office(&self, batch_id: &str) -> Result<Option<Option<String>>, CatalogError> {
        let row = sqlx::query("SELECT post_office FROM batches WHERE id = $1").bind(batch_id).fetch_optional(&self.pool).await?;
        row.map(|r| r.try_get::<Option<String>, _>(0).map_err(CatalogError::from)).transpose()
    }

    /// The manifest (JSON) of a batch, if it exists.
    pub async fn batch_manifest(&self, batch_id: &str) -> Result<Option<String>, CatalogError> {
        Ok(sqlx::query_scalar("SELECT manifest_json FROM batches WHERE id = $1").bind(batch_id).fetch_optional(&self.pool).await?)
    }

    /// Batches, newest first: of one state and one post office when given, at most `limit`.
    pub async fn list_batches(&self, state: Option<&str>, post_office: Option<&str>, limit: i64) -> Result<Vec<BatchListing>, CatalogError> {
        let mut conditions = Vec::new();
        let mut binds = Vec::new();
        if let Some(s) = state {
            binds.push(s.to_string());
            conditions.push(format!("state = ${}", binds.len()));
        }
        if let Some(p) = post_office {
            binds.push(p.to_string());
            conditions.push(format!("post_office = ${}", binds.len()));
        }
        let filter = if conditions.is_empty() { String::new() } else { format!("WHERE {}", conditions.join(" AND ")) };
        let sql = format!("SELECT id, state, post_office, created_at FROM batches {filter} ORDER BY created_at DESC, id DESC LIMIT ${}", binds.len() + 1);
        let mut q = sqlx::query(&sql);
        for b in &binds {
            q = q.bind(b);
        }
        q.bind(limit)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| Ok(BatchListing { id: r.try_get(0)?, state: r.try_get(1)?, post_office: r.try_get(2)?, created_at: r.try_get(3)? }))
            .collect()
    }

    /// Pages recorded as processed (pages of done batches), and documents stored.
    pub async fn totals(&self) -> Result<(u64, u64), CatalogError> {
        let pages: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM pages").fetch_one(&self.pool).await?;
        let docs: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM documents").fetch_one(&self.pool).await?;
        Ok((pages.max(0) as u64, docs.max(0) as u64))
    }

    /// Failed jobs by the code of their last error (the text before the first `:`).
    pub async fn failed_jobs_by_code(&self) -> Result<Vec<(String, u64)>, CatalogError> {
        let rows = sqlx::query("SELECT last_error FROM jobs WHERE status = 'failed'").fetch_all(&self.pool).await?;
        let mut counts = std::collections::BTreeMap::<String, u64>::new();
        for r in &rows {
            let e: Option<String> = r.try_get(0)?;
            *counts.entry(error_code_of(e.as_deref().unwrap_or(""))).or_default() += 1;
        }
        Ok(counts.into_iter().collect())
    }
}

impl Catalog {
    /// Batches finished since `since_ms` (unix ms): (finished_at, pages), oldest first.
    pub async fn finished_since(&self, since_ms: i64) -> Result<Vec<(i64, u64)>, CatalogError> {
        let rows = sqlx::query("SELECT finished_at, COALESCE(page_count, 0) FROM batches WHERE state = 'done' AND finished_at >= $1 ORDER BY finished_at")
            .bind(since_ms)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| Ok((r.try_get::<i64, _>(0)?, r.try_get::<i64, _>(1)?.max(0) as u64))).collect()
    }

    /// Workers holding running jobs: (worker id, jobs, last heartbeat in unix ms).
    pub async fn running_workers(&self) -> Result<Vec<(String, u64, Option<i64>)>, CatalogError> {
        let rows = sqlx::query(
            "SELECT worker_id, COUNT(*), MAX(heartbeat_at) FROM jobs WHERE status = 'running' AND worker_id IS NOT NULL GROUP BY worker_id ORDER BY worker_id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get::<i64, _>(1)?.max(0) as u64, r.try_get(2)?))).collect()
    }
}

/// The code a job's `last_error` starts with (`store-unavailable: …`), else `unknown`.
fn error_code_of(last_error: &str) -> String {
    let head = last_error.split(':').next().unwrap_or("").trim();
    if !head.is_empty() && head.len() <= 40 && head.bytes().all(|b| b.is_ascii_lowercase() || b == b'-') { head.to_string() } else { "unknown".into() }
}

/// Columns read by [`document_from_row`], in order, from `documents d`.
pub(super) const DOCUMENT_COLUMNS: &str = "d.id, d.doc_type, d.source_pages_json, d.page_count, d.blake3, d.sha256, d.bytes, d.object_key, d.ocr_text";

pub(super) fn document_from_row(row: &AnyRow) -> Result<DocumentReport, CatalogError> {
    let source_pages: Vec<usize> =
        serde_json::from_str(&row.try_get::<String, _>(2)?).map_err(|e| CatalogError::Corrupt(format!("documents.source_pages_json: {e}")))?;
    Ok(DocumentReport {
        id: row.try_get::<String, _>(0)?.into(),
        doc_type: row.try_get(1)?,
        source_pages,
        page_count: from_i64(row.try_get(3)?, "documents.page_count")?,
        blake3: row.try_get::<String, _>(4)?.into(),
        sha256: row.try_get(5)?,
        bytes: from_i64(row.try_get(6)?, "documents.bytes")?,
        object_key: row.try_get::<String, _>(7)?.into(),
        fields: super::fields::fields_from_row(row)?,
        ocr_text: row.try_get(8)?,
    })
}

fn page_from_row(row: &AnyRow) -> Result<PageReport, CatalogError> {
    let kind: String = row.try_get(1)?;
    let skew: f64 = row.try_get(3)?;
    let confidence: Option<f64> = row.try_get(5)?;
    Ok(PageReport {
        index: from_i64(row.try_get(0)?, "pages.idx")?,
        kind: parse_page_kind(&kind).ok_or_else(|| CatalogError::Corrupt(format!("unknown page kind {kind:?}")))?,
        barcode: row.try_get(2)?,
        skew_deg: skew as f32,
        rotation: from_i64(row.try_get(4)?, "pages.rotation")?,
        ocr_confidence: confidence.map(|c| c as f32),
        warnings: parse_json_list(&row.try_get::<String, _>(6)?, "pages.warnings_json")?,
    })
}
