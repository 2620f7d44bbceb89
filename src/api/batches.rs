//! Batch routes: upload (`POST /api/v1/batches`), listing and status, page thumbnails.

use super::SharedState;
use super::auth::Principal;
use super::error::{ApiError, ApiResult, Path, Query};
use crate::model::BatchState;
use crate::runtime::error::Error;
use crate::runtime::views::{self, IngestedBatch};
use crate::runtime::worker::{self, Ingested, manifest::Manifest};
use crate::stages::intake::Input;
use axum::Json;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::path::{Path as FsPath, PathBuf};

/// Longest side of a thumbnail, pixels.
pub const THUMBNAIL_PX: u32 = 320;
/// Batches a listing returns at most.
const MAX_LIST: i64 = 500;

#[derive(serde::Deserialize, utoipa::IntoParams)]
pub struct UploadParams {
    /// Admin tokens only: the post office to tag the batches with (a clerk's batches carry
    /// its token's post office).
    post_office: Option<String>,
}

/// A folder under `<data>/uploads` that goes when dropped.
struct UploadDir(PathBuf);

impl Drop for UploadDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A file name from a client, reduced to a safe base name.
pub fn safe_file_name(raw: Option<&str>, n: usize) -> String {
    let base = raw.unwrap_or("").rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base.chars().filter(|c| !c.is_control()).collect::<String>().trim().trim_start_matches('.').to_string();
    if cleaned.is_empty() { format!("upload-{n}") } else { cleaned.chars().take(200).collect() }
}

/// Upload scans: one batch per `file` field, streamed to disk, then ingested as
/// `sohoa ingest` does. Answers the object of `sohoa ingest --json`.
#[utoipa::path(post, path = "/api/v1/batches", tag = "batches", params(UploadParams),
    request_body(content_type = "multipart/form-data", description = "One or more `file` fields: TIFF, PDF, PNG or JPEG scans"),
    responses((status = 202, description = "Queued (the object of `sohoa ingest --json`)", body = Object),
        (status = 400, body = super::openapi::ErrorBody), (status = 401, body = super::openapi::ErrorBody), (status = 403, body = super::openapi::ErrorBody),
        (status = 413, body = super::openapi::ErrorBody), (status = 415, body = super::openapi::ErrorBody)))]
pub async fn upload(State(state): State<SharedState>, who: Principal, Query(params): Query<UploadParams>, request: Request) -> ApiResult<Response> {
    if !who.may_upload() {
        return Err(ApiError(Error::Forbidden(format!("a {} token cannot upload", who.role.as_str()))));
    }
    let post_office = match (who.role, params.post_office) {
        (super::auth::Role::Admin, Some(p)) if super::auth::is_post_office_code(&p) => Some(p),
        (super::auth::Role::Admin, Some(p)) => return Err(ApiError(Error::Usage(format!("post_office {p:?}: use 1 to 32 letters, digits, '-', '_' or '.'")))),
        (super::auth::Role::Admin, None) => None,
        (_, _) => who.post_office.clone(),
    };
    let content_type = request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !content_type.to_ascii_lowercase().starts_with("multipart/form-data") {
        return Err(ApiError(Error::UnsupportedMediaType(format!("upload scans as multipart/form-data with `file` fields, not {content_type:?}"))));
    }
    let mut multipart = Multipart::from_request(request, &()).await.map_err(|e| ApiError(Error::Usage(format!("bad multipart body: {}", e.body_text()))))?;

    let root = state.services.data_dir.join("uploads");
    let dir = UploadDir(root.join(uuid::Uuid::now_v7().simple().to_string()));
    let local = |path: &FsPath, e: std::io::Error| ApiError(Error::LocalIo { path: path.display().to_string(), source: e });
    tokio::fs::create_dir_all(&dir.0).await.map_err(|e| local(&dir.0, e))?;
    let limit = state.max_upload_bytes;
    let mut total = 0u64;
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    let too_large = || ApiError(Error::PayloadTooLarge(format!("the upload is larger than the limit of {} MB (--max-upload-mb)", limit / (1024 * 1024))));
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return Err(ApiError(Error::Usage(format!("bad multipart body: {}", e.body_text())))),
        };
        if field.name() != Some("file") {
            continue;
        }
        let name = safe_file_name(field.file_name(), files.len());
        // One folder per file: two files of the same name stay apart.
        let sub = dir.0.join(format!("{:05}", files.len()));
        tokio::fs::create_dir_all(&sub).await.map_err(|e| local(&sub, e))?;
        let path = sub.join(&name);
        let mut out = tokio::fs::File::create(&path).await.map_err(|e| local(&path, e))?;
        let mut field = field;
        use tokio::io::AsyncWriteExt;
        loop {
            let chunk = match field.chunk().await {
                Ok(Some(c)) => c,
                Ok(None) => break,
                Err(e) => return Err(ApiError(Error::Usage(format!("bad multipart body: {}", e.body_text())))),
            };
            total += chunk.len() as u64;
            if total > limit {
                return Err(too_large());
            }
            out.write_all(&chunk).await.map_err(|e| local(&path, e))?;
        }
        out.flush().await.map_err(|e| local(&path, e))?;
        files.push((name, path));
    }
    if files.is_empty() {
        return Err(ApiError(Error::Usage("no `file` field in the upload".into())));
    }
    // Every file checked before anything is queued, as `sohoa ingest` does.
    let mut inputs = Vec::new();
    for (name, path) in &files {
        let mut input = Input::open(path).map_err(|e| ApiError(Error::from(e)))?;
        input.source = PathBuf::from(name);
        inputs.push(input);
    }
    let mut batches = Vec::new();
    for input in &inputs {
        let i = worker::ingest_at(&state.services, input, post_office.as_deref()).await?;
        batches.push(IngestedBatch {
            batch_id: i.batch_id().to_string(),
            source: input.source.display().to_string(),
            duplicate: matches!(i, Ingested::Duplicate { .. }),
        });
    }
    drop(dir);
    Ok((StatusCode::ACCEPTED, Json(views::ingest_body(&batches))).into_response())
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
pub struct ListParams {
    /// Only batches in this state: queued, running, done or failed.
    state: Option<String>,
    /// At most this many, newest first (default 100, at most 500).
    limit: Option<i64>,
}

/// Batches, newest first: `{"batches":[…]}`, each the object of `sohoa status BATCH --json`.
/// A clerk sees those of its post office.
#[utoipa::path(get, path = "/api/v1/batches", tag = "batches", params(ListParams),
    responses((status = 200, description = "`{\"batches\":[…]}`", body = Object), (status = 400, body = super::openapi::ErrorBody), (status = 401, body = super::openapi::ErrorBody), (status = 403, body = super::openapi::ErrorBody)))]
pub async fn list(State(state): State<SharedState>, who: Principal, Query(params): Query<ListParams>) -> ApiResult<Json<serde_json::Value>> {
    if !who.may_list_batches() {
        return Err(ApiError(Error::Forbidden(format!("a {} token does not list batches", who.role.as_str()))));
    }
    if let Some(s) = params.state.as_deref()
        && BatchState::parse(s).is_none()
    {
        return Err(ApiError(Error::Usage(format!("state {s:?}: use queued, running, done or failed"))));
    }
    let limit = params.limit.unwrap_or(100);
    if !(1..=MAX_LIST).contains(&limit) {
        return Err(ApiError(Error::Usage(format!("limit {limit} is not in 1..={MAX_LIST}"))));
    }
    let post_office = if who.is_admin() { None } else { Some(who.post_office.clone().unwrap_or_default()) };
    let listing = state.services.catalog.list_batches(params.state.as_deref(), post_office.as_deref(), limit).await?;
    let mut out = Vec::with_capacity(listing.len());
    for b in &listing {
        if let Some(v) = views::batch_status(&state.services.catalog, &b.id).await? {
            out.push(v);
        }
    }
    Ok(Json(serde_json::json!({ "batches": out })))
}

fn no_batch(id: &str) -> ApiError {
    ApiError(Error::NotFound(format!("no batch {id}")))
}

/// One batch: the object of `sohoa status BATCH --json`.
#[utoipa::path(get, path = "/api/v1/batches/{id}", tag = "batches", params(("id" = String, Path, description = "Batch id (bat_…)")),
    responses((status = 200, description = "The object of `sohoa status BATCH --json`", body = Object), (status = 401, body = super::openapi::ErrorBody), (status = 403, body = super::openapi::ErrorBody), (status = 404, body = super::openapi::ErrorBody)))]
pub async fn status(State(state): State<SharedState>, who: Principal, Path(id): Path<String>) -> ApiResult<Json<serde_json::Value>> {
    if !who.may_list_batches() {
        return Err(ApiError(Error::Forbidden(format!("a {} token does not read batches", who.role.as_str()))));
    }
    let catalog = &state.services.catalog;
    match catalog.batch_post_office(&id).await? {
        Some(po) if who.sees_batch(po.as_deref()) => {}
        _ => return Err(no_batch(&id)),
    }
    views::batch_status(catalog, &id).await?.map(Json).ok_or_else(|| no_batch(&id))
}

/// A small PNG of a page as scanned (longest side 320 px).
#[utoipa::path(get, path = "/api/v1/batches/{id}/pages/{index}/thumbnail", tag = "batches",
    params(("id" = String, Path, description = "Batch id"), ("index" = usize, Path, description = "0-based page index in the batch")),
    responses((status = 200, description = "PNG", content_type = "image/png"), (status = 401, body = super::openapi::ErrorBody), (status = 404, body = super::openapi::ErrorBody)))]
pub async fn thumbnail(State(state): State<SharedState>, who: Principal, Path((id, index)): Path<(String, usize)>) -> ApiResult<Response> {
    let catalog = &state.services.catalog;
    let missing = || ApiError(Error::NotFound(format!("no page {index} in batch {id}")));
    let Some(post_office) = catalog.batch_post_office(&id).await? else { return Err(missing()) };
    let dossiers = if who.sees_batch(post_office.as_deref()) { Vec::new() } else { catalog.page_dossiers(&id, index).await? };
    if !who.sees_page(post_office.as_deref(), &dossiers) {
        return Err(missing());
    }
    let cache = state.services.data_dir.join("thumbs").join(&id);
    let file = cache.join(format!("{index}.png"));
    if let Ok(png) = tokio::fs::read(&file).await {
        return Ok(png_response(png));
    }
    let manifest: Manifest = match catalog.batch_manifest(&id).await? {
        Some(json) => serde_json::from_str(&json).map_err(|e| ApiError(Error::CorruptJob(format!("batch {id} has an unreadable manifest: {e}"))))?,
        None => return Err(missing()),
    };
    let _permit = state.thumbnails.acquire().await.map_err(|e| ApiError(Error::Internal(e.to_string())))?;
    // The originals stay beside the thumbnails: the next page of the batch needs them too.
    let originals = cache.join("originals");
    let mut paths = Vec::new();
    for (i, f) in manifest.files.iter().enumerate() {
        let dir = originals.join(format!("{i:05}"));
        let path = dir.join(safe_file_name(Some(&f.name), i));
        if tokio::fs::metadata(&path).await.map(|m| m.len() != f.bytes).unwrap_or(true) {
            tokio::fs::create_dir_all(&dir).await.map_err(|e| ApiError(Error::LocalIo { path: dir.display().to_string(), source: e }))?;
            // Fetched aside and renamed: a concurrent request never reads a half-written copy.
            let part = dir.join(format!(".part-{}", uuid::Uuid::now_v7().simple()));
            state.services.store.get_file_verified(&f.key, &f.blake3, &part).await?;
            tokio::fs::rename(&part, &path).await.map_err(|e| ApiError(Error::LocalIo { path: path.display().to_string(), source: e }))?;
        }
        paths.push(path);
    }
    let png = tokio::task::spawn_blocking(move || render_thumbnail(&paths, index, &file))
        .await
        .map_err(|e| ApiError(Error::Internal(format!("thumbnail: {e}"))))??;
    match png {
        Some(png) => Ok(png_response(png)),
        None => Err(missing()),
    }
}

fn png_response(png: Vec<u8>) -> Response {
    ([(header::CONTENT_TYPE, "image/png"), (header::CACHE_CONTROL, "private, max-age=3600")], png).into_response()
}

/// Decodes page `index` of the originals, shrinks it and caches it as `file` (`None` when
/// the batch has no such page or it cannot be decoded).
fn render_thumbnail(paths: &[PathBuf], index: usize, file: &FsPath) -> Result<Option<Vec<u8>>, ApiError> {
    let input = Input::from_files(PathBuf::from("thumbnail"), paths).map_err(|e| ApiError(Error::from(e)))?;
    if index >= input.page_count() {
        return Ok(None);
    }
    let Some(Ok(page)) = input.pages_range(index..index + 1).next() else { return Ok(None) };
    let small = page.image.thumbnail(THUMBNAIL_PX, THUMBNAIL_PX);
    let mut png = Vec::new();
    small.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png).map_err(|e| ApiError(Error::Internal(format!("thumbnail PNG: {e}"))))?;
    let tmp = file.with_extension(format!("tmp{}", std::process::id()));
    let local = |e: std::io::Error| ApiError(Error::LocalIo { path: file.display().to_string(), source: e });
    std::fs::write(&tmp, &png).map_err(local)?;
    std::fs::rename(&tmp, file).map_err(local)?;
    Ok(Some(png))
}

#[cfg(test)]
mod tests {
    #[test]
    fn client_file_names_become_safe_base_names() {
        use super::safe_file_name as f;
        assert_eq!(f(Some("scan.tif"), 0), "scan.tif");
        assert_eq!(f(Some("../../etc/passwd"), 0), "passwd");
        assert_eq!(f(Some("C:\\scans\\lô 1.pdf"), 0), "lô 1.pdf");
        assert_eq!(f(Some(".."), 3), "upload-3");
        assert_eq!(f(Some(".hidden"), 0), "hidden");
        assert_eq!(f(None, 2), "upload-2");
        assert_eq!(f(Some("a\nb.tif"), 0), "ab.tif");
    }
}

/// Puts a failed batch back in the queue (a clerk of its post office, an admin); answers
/// its status. A batch that has not failed is `bad-usage`.
#[utoipa::path(post, path = "/api/v1/batches/{id}/requeue", tag = "batches", params(("id" = String, Path, description = "Batch id")),
    responses((status = 200, description = "Queued again: the object of `sohoa status BATCH --json`", body = Object), (status = 400, body = super::openapi::ErrorBody),
        (status = 401, body = super::openapi::ErrorBody), (status = 403, body = super::openapi::ErrorBody), (status = 404, body = super::openapi::ErrorBody)))]
pub async fn requeue(State(state): State<SharedState>, who: Principal, Path(id): Path<String>) -> ApiResult<Json<serde_json::Value>> {
    if !who.may_list_batches() {
        return Err(ApiError(Error::Forbidden(format!("a {} token does not re-queue batches", who.role.as_str()))));
    }
    let catalog = &state.services.catalog;
    match catalog.batch_post_office(&id).await? {
        Some(po) if who.sees_batch(po.as_deref()) => {}
        _ => return Err(no_batch(&id)),
    }
    if !catalog.requeue_failed(&id).await? {
        return Err(ApiError(Error::Usage(format!("batch {id} has not failed; only a failed batch is queued again"))));
    }
    views::batch_status(catalog, &id).await?.map(Json).ok_or_else(|| no_batch(&id))
}
