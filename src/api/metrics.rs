//! `/metrics`: Prometheus text format. Request and error counters live in this process;
//! queue depth, pages processed and failed jobs are read from the catalog at scrape time
//! (so they cover every worker sharing it); stage seconds are those of this process's
//! worker pool.

use super::SharedState;
use super::error::ErrorCode;
use crate::runtime::catalog::Catalog;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

/// This process's request counters.
#[derive(Default)]
pub struct Metrics {
    /// By route template (`/api/v1/documents/{id}`) and status.
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    /// API errors by code.
    errors: Mutex<BTreeMap<&'static str, u64>>,
}

impl Metrics {
    fn record(&self, route: String, status: u16, error: Option<&'static str>) {
        if let Ok(mut r) = self.requests.lock() {
            *r.entry((route, status)).or_default() += 1;
        }
        if let Some(code) = error
            && let Ok(mut e) = self.errors.lock()
        {
            *e.entry(code).or_default() += 1;
        }
    }
}

/// Middleware: counts every answer by route and status, and errors by code.
pub async fn count(State(state): State<SharedState>, request: Request, next: Next) -> Response {
    // Unmatched paths are counted together, not one series per path asked for.
    let route = request.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let response = next.run(request).await;
    let error = response.extensions().get::<ErrorCode>().map(|c| c.0);
    state.metrics.record(route, response.status().as_u16(), error);
    response
}

/// A label value, escaped for the text format.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// The whole exposition.
pub async fn render(metrics: &Metrics, catalog: &Catalog) -> Result<String, crate::runtime::catalog::CatalogError> {
    let counts = catalog.queue_counts().await?;
    let (pages, documents) = catalog.totals().await?;
    let failed = catalog.failed_jobs_by_code().await?;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# HELP sohoa_pages_processed Pages of finished batches in the catalog.\n# TYPE sohoa_pages_processed gauge\nsohoa_pages_processed {pages}"
    );
    let _ = writeln!(out, "# HELP sohoa_documents_stored Documents in the catalog.\n# TYPE sohoa_documents_stored gauge\nsohoa_documents_stored {documents}");
    let _ = writeln!(out, "# HELP sohoa_queue_batches Batches by state.\n# TYPE sohoa_queue_batches gauge");
    for (state, n) in [("queued", counts.queued), ("running", counts.running), ("done", counts.done), ("failed", counts.failed)] {
        let _ = writeln!(out, "sohoa_queue_batches{{state=\"{state}\"}} {n}");
    }
    let t = crate::timing::process_times();
    let _ = writeln!(out, "# HELP sohoa_stage_seconds_total Seconds spent per stage by this process's workers.\n# TYPE sohoa_stage_seconds_total counter");
    for (stage, s) in t.stages() {
        let _ = writeln!(out, "sohoa_stage_seconds_total{{stage=\"{stage}\"}} {s}");
    }
    let _ = writeln!(out, "# HELP sohoa_failed_jobs Jobs failed for good, by the code of their last error.\n# TYPE sohoa_failed_jobs gauge");
    for (code, n) in failed {
        let _ = writeln!(out, "sohoa_failed_jobs{{code=\"{}\"}} {n}", label(&code));
    }
    let _ = writeln!(out, "# HELP sohoa_errors_total API errors answered by this process, by code.\n# TYPE sohoa_errors_total counter");
    for (code, n) in metrics.errors.lock().map(|e| e.clone()).unwrap_or_default() {
        let _ = writeln!(out, "sohoa_errors_total{{code=\"{}\"}} {n}", label(code));
    }
    let _ = writeln!(
        out,
        "# HELP sohoa_http_requests_total HTTP requests answered by this process, by route and status.\n# TYPE sohoa_http_requests_total counter"
    );
    for ((route, status), n) in metrics.requests.lock().map(|r| r.clone()).unwrap_or_default() {
        let _ = writeln!(out, "sohoa_http_requests_total{{route=\"{}\",status=\"{status}\"}} {n}", label(&route));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn label_values_are_escaped() {
        assert_eq!(super::label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
