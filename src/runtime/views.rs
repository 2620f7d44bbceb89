//! The JSON objects that `sohoa … --json` prints and the HTTP API answers with, built in
//! one place so the two never differ: the ingest result, a batch's status, search hits,
//! a document's metadata.

use crate::runtime::catalog::{Catalog, CatalogError, DocumentRecord, SearchHit};
use serde::Serialize;

/// One input of `sohoa ingest --json` (and of `POST /api/v1/batches`).
#[derive(Debug, Clone, Serialize)]
pub struct IngestedBatch {
    pub batch_id: String,
    pub source: String,
    /// The same scan was ingested before; `batch_id` is that earlier batch.
    pub duplicate: bool,
}

/// `{"batches":[…]}`: the object of `sohoa ingest --json`.
pub fn ingest_body(batches: &[IngestedBatch]) -> serde_json::Value {
    serde_json::json!({ "batches": batches })
}

/// `{"hits":[…]}`: the object of `sohoa search --json`.
pub fn search_body(hits: &[SearchHit]) -> serde_json::Value {
    serde_json::json!({ "hits": hits })
}

/// The batch object of `sohoa process --json` plus `state` (and the job's attempts and
/// last error while it is not done): the object of `sohoa status BATCH --json`.
pub async fn batch_status(catalog: &Catalog, id: &str) -> Result<Option<serde_json::Value>, CatalogError> {
    let Some(state) = catalog.batch_state(id).await? else { return Ok(None) };
    let mut value = match catalog.batch_report(id).await? {
        Some(report) => serde_json::to_value(&report).expect("report serialises"),
        None => {
            let source = catalog.batch_source(id).await?.unwrap_or_default();
            serde_json::json!({"batch_id": id, "source": source, "pages": [], "dossiers": [], "warnings": []})
        }
    };
    value["state"] = state.as_str().into();
    if let Some((total, done)) = catalog.batch_progress(id).await? {
        value["progress"] = serde_json::json!({"pages": total, "pages_done": done});
    }
    value["workers"] = catalog.batch_workers(id).await?.into();
    if let Some(job) = catalog.job_status(id).await? {
        value["attempts"] = job.attempts.into();
        value["last_error"] = job.last_error.into();
    }
    if let Some(post_office) = catalog.batch_post_office(id).await? {
        value["post_office"] = post_office.into();
    }
    Ok(Some(value))
}

/// A document's metadata: the document object of `sohoa process --json` (id, type,
/// source pages, page count, hashes, size, object key) plus its `dossier` and `batch_id`.
pub fn document_metadata(record: &DocumentRecord) -> serde_json::Value {
    let mut value = serde_json::to_value(&record.document).expect("document serialises");
    value["dossier"] = record.dossier.clone().into();
    value["batch_id"] = record.batch_id.clone().into();
    value
}
