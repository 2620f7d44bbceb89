//! Document routes: search, metadata, the PDF (streamed, ETag, ranges) and the audit
//! trail. A document outside the caller's scope is `not-found` with the message of a
//! document that does not exist; metadata reads and downloads are audited first.

use super::SharedState;
use super::auth::Principal;
use super::error::{ApiError, ApiResult, Path, Query};
use crate::runtime::catalog::{AuditAction, DocumentRecord, NewAuditEvent, SearchQuery};
use crate::runtime::error::Error;
use crate::runtime::views;
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;

#[derive(serde::Deserialize, utoipa::IntoParams)]
pub struct SearchParams {
    /// Words that must all appear in the text (diacritics optional; `word*` for a prefix).
    q: Option<String>,
    /// Exact dossier code.
    dossier: Option<String>,
    /// Exact document type (DON, CCCD, …).
    #[serde(rename = "type")]
    #[param(rename = "type")]
    doc_type: Option<String>,
    /// A 12-digit CCCD number that must appear in the text.
    citizen_id: Option<String>,
    /// At most this many hits (default 20, at most 1000).
    limit: Option<usize>,
}

/// Finds documents: the object of `sohoa search --json`. An agency finds only its own.
#[utoipa::path(get, path = "/api/v1/search", tag = "documents",
    params(SearchParams, ("field" = Option<String>, Query, description = "`NAME=VALUE`: only documents whose field NAME (so_ky_hieu, ngay, loai, co_quan, trich_yeu, nguoi_ky, cccd, ...) is VALUE, diacritics and case ignored; repeatable")),
    responses((status = 200, description = "The object of `sohoa search --json`", body = Object), (status = 400, body = super::openapi::ErrorBody), (status = 401, body = super::openapi::ErrorBody), (status = 403, body = super::openapi::ErrorBody)))]
pub async fn search(
    State(state): State<SharedState>,
    who: Principal,
    Query(p): Query<SearchParams>,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
) -> ApiResult<Json<serde_json::Value>> {
    if !who.may_read_documents() {
        return Err(ApiError(Error::Forbidden(format!("a {} token does not search documents", who.role.as_str()))));
    }
    let query = SearchQuery {
        text: p.q.filter(|q| !q.trim().is_empty()),
        dossier: p.dossier,
        doc_type: p.doc_type,
        citizen_id: p.citizen_id,
        limit: p.limit,
        dossier_prefix: who.dossier_prefix(),
        // `field` may repeat, which the typed query cannot hold.
        fields: url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()).filter(|(k, _)| k == "field").map(|(_, v)| v.into_owned()).collect(),
    };
    query.plan().map_err(|msg| ApiError(Error::Usage(msg)))?;
    let hits = state.services.catalog.search_documents(&query).await?;
    Ok(Json(views::search_body(&hits)))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
pub struct ReadParams {
    /// Why the document is read; recorded in the audit trail.
    purpose: Option<String>,
}

/// The document `id` if the caller may read it; `not-found` otherwise, exactly as for an
/// id that does not exist.
async fn readable(state: &SharedState, who: &Principal, id: &str) -> ApiResult<DocumentRecord> {
    if !who.may_read_documents() {
        return Err(ApiError(Error::Forbidden(format!("a {} token does not read documents", who.role.as_str()))));
    }
    match state.services.catalog.document_record(id).await? {
        Some(r) if who.sees_dossier(r.dossier.as_deref()) => Ok(r),
        _ => Err(ApiError(Error::NotFound(format!("no document {id}")))),
    }
}

async fn audit(state: &SharedState, who: &Principal, id: &str, action: AuditAction, purpose: Option<String>) -> ApiResult<()> {
    let purpose = purpose.map(|p| p.chars().take(500).collect::<String>()).filter(|p| !p.trim().is_empty());
    let event = NewAuditEvent { token_id: who.token_id.clone(), role: who.role.as_str().into(), document_id: id.into(), action, purpose };
    state.services.catalog.append_audit(&event).await?;
    Ok(())
}

/// A document's metadata: dossier code, type, pages, hashes, size, object key, batch.
#[utoipa::path(get, path = "/api/v1/documents/{id}", tag = "documents", params(("id" = String, Path, description = "Document id (doc_…)"), ReadParams),
    responses((status = 200, description = "The document object of `sohoa process --json` plus `dossier` and `batch_id`", body = Object), (status = 401, body = super::openapi::ErrorBody), (status = 403, body = super::openapi::ErrorBody), (status = 404, body = super::openapi::ErrorBody)))]
pub async fn metadata(
    State(state): State<SharedState>,
    who: Principal,
    Path(id): Path<String>,
    Query(p): Query<ReadParams>,
) -> ApiResult<Json<serde_json::Value>> {
    let record = readable(&state, &who, &id).await?;
    audit(&state, &who, &id, AuditAction::Metadata, p.purpose).await?;
    Ok(Json(views::document_metadata(&record)))
}

/// A single byte range of a `Range` header over `len` bytes: `Ok(None)` for no header
/// (or one this server ignores, as RFC 9110 allows: several ranges, other units),
/// `Err` when it lies outside the document.
pub fn parse_range(header: Option<&str>, len: u64) -> Result<Option<std::ops::Range<u64>>, ()> {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else { return Ok(None) };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((a, b)) = spec.trim().split_once('-') else { return Ok(None) };
    let (a, b) = (a.trim(), b.trim());
    let range = if a.is_empty() {
        // The last `b` bytes.
        let n: u64 = b.parse().map_err(|_| ())?;
        if n == 0 || len == 0 {
            return Err(());
        }
        len.saturating_sub(n)..len
    } else {
        let start: u64 = a.parse().map_err(|_| ())?;
        let end = if b.is_empty() { len } else { b.parse::<u64>().map_err(|_| ())?.saturating_add(1).min(len) };
        if start >= len || end <= start {
            return Err(());
        }
        start..end
    };
    Ok(Some(range))
}

/// The PDF, streamed from the store: `ETag` is its BLAKE3, `Range` gives one byte range.
/// A whole download is hashed on the way out; if the stored bytes are not the recorded
/// ones the connection is cut before the last byte, so no client keeps a wrong copy.
#[utoipa::path(get, path = "/api/v1/documents/{id}/pdf", tag = "documents", params(("id" = String, Path, description = "Document id (doc_…)"), ReadParams),
    responses((status = 200, description = "The PDF", content_type = "application/pdf"), (status = 206, description = "A byte range of it", content_type = "application/pdf"),
        (status = 304, description = "Not modified (If-None-Match)"), (status = 401, body = super::openapi::ErrorBody), (status = 403, body = super::openapi::ErrorBody),
        (status = 404, body = super::openapi::ErrorBody), (status = 416, body = super::openapi::ErrorBody)))]
pub async fn pdf(
    State(state): State<SharedState>,
    who: Principal,
    Path(id): Path<String>,
    Query(p): Query<ReadParams>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let record = readable(&state, &who, &id).await?;
    let doc = &record.document;
    let etag = format!("\"{}\"", doc.blake3);
    let len = doc.bytes;
    let range = parse_range(headers.get(header::RANGE).and_then(|v| v.to_str().ok()), len)
        .map_err(|()| ApiError(Error::RangeNotSatisfiable(format!("the document has {len} bytes"))))?;
    audit(&state, &who, &id, AuditAction::Pdf, p.purpose).await?;
    let not_modified =
        headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    if not_modified {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response());
    }
    let stream = state.services.store.get_stream(doc.object_key.as_str(), range.clone()).await?;
    let filename = format!("{}.pdf", doc.id);
    let mut builder = Response::builder()
        .header(header::CONTENT_TYPE, "application/pdf")
        .header(header::ETAG, &etag)
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::CONTENT_DISPOSITION, format!("inline; filename=\"{filename}\""));
    let body = match &range {
        Some(r) => {
            builder = builder
                .status(StatusCode::PARTIAL_CONTENT)
                .header(header::CONTENT_RANGE, format!("bytes {}-{}/{len}", r.start, r.end - 1))
                .header(header::CONTENT_LENGTH, r.end - r.start);
            Body::from_stream(stream)
        }
        None => {
            builder = builder.status(StatusCode::OK).header(header::CONTENT_LENGTH, len);
            Body::from_stream(verified(stream, doc.blake3.to_string(), len))
        }
    };
    builder.body(body).map_err(|e| ApiError(Error::Internal(e.to_string())))
}

/// `stream`, hashed as it goes: when it ends, an error instead of the end if the bytes
/// were not `len` bytes hashing to `blake3`.
fn verified(
    stream: futures::stream::BoxStream<'static, Result<bytes::Bytes, crate::runtime::store::StoreError>>,
    blake3: String,
    len: u64,
) -> impl futures::Stream<Item = Result<bytes::Bytes, std::io::Error>> {
    let state = (stream, blake3::Hasher::new(), 0u64, false);
    futures::stream::unfold(state, move |(mut s, mut hasher, mut n, finished)| {
        let (want, len) = (blake3.clone(), len);
        async move {
            if finished {
                return None;
            }
            match s.next().await {
                Some(Ok(chunk)) => {
                    hasher.update(&chunk);
                    n += chunk.len() as u64;
                    Some((Ok(chunk), (s, hasher, n, false)))
                }
                Some(Err(e)) => Some((Err(std::io::Error::other(e.to_string())), (s, hasher, n, true))),
                None => {
                    let got = hasher.finalize().to_hex().to_string();
                    if got == want && n == len {
                        None
                    } else {
                        tracing::error!(expected = %want, actual = %got, bytes = n, "A stored PDF does not match its hash; the download was cut.");
                        Some((Err(std::io::Error::other("stored PDF does not match its hash")), (s, hasher, n, true)))
                    }
                }
            }
        }
    })
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
pub struct AuditParams {
    /// The document whose reads to list.
    document: String,
}

/// The audit trail of a document (admin token): `{"events":[…]}`, oldest first.
#[utoipa::path(get, path = "/api/v1/audit", tag = "documents", params(AuditParams),
    responses((status = 200, description = "`{\"events\":[{seq, at, token_id, role, document_id, action, purpose, prev_hash, hash}]}`", body = Object),
        (status = 400, body = super::openapi::ErrorBody), (status = 401, body = super::openapi::ErrorBody), (status = 403, body = super::openapi::ErrorBody)))]
pub async fn audit_trail(State(state): State<SharedState>, who: Principal, Query(p): Query<AuditParams>) -> ApiResult<Json<serde_json::Value>> {
    if !who.is_admin() {
        return Err(ApiError(Error::Forbidden("the audit trail needs an admin token".into())));
    }
    let events = state.services.catalog.audit_events(&p.document).await?;
    Ok(Json(serde_json::json!({ "events": events })))
}

#[cfg(test)]
mod tests {
    use super::parse_range;

    #[test]
    fn ranges() {
        assert_eq!(parse_range(None, 100), Ok(None));
        assert_eq!(parse_range(Some("bytes=0-9"), 100), Ok(Some(0..10)));
        assert_eq!(parse_range(Some("bytes=90-"), 100), Ok(Some(90..100)));
        assert_eq!(parse_range(Some("bytes=90-200"), 100), Ok(Some(90..100)));
        assert_eq!(parse_range(Some("bytes=-10"), 100), Ok(Some(90..100)));
        assert_eq!(parse_range(Some("bytes=-1000"), 100), Ok(Some(0..100)));
        assert_eq!(parse_range(Some("bytes=100-"), 100), Err(()));
        assert_eq!(parse_range(Some("bytes=5-2"), 100), Err(()));
        assert_eq!(parse_range(Some("bytes=-0"), 100), Err(()));
        assert_eq!(parse_range(Some("bytes=x-2"), 100), Err(()));
        assert_eq!(parse_range(Some("bytes=0-1,5-6"), 100), Ok(None));
        assert_eq!(parse_range(Some("pages=1-2"), 100), Ok(None));
    }
}
