//! Certification and verification routes: `POST /api/v1/documents/{id}/certify` (a
//! `certifier` token, within its agency's dossiers; the service's configured certifier
//! and agency keys sign) and `GET /api/v1/documents/{id}/verify` (whoever may read the
//! document). Bodies are the CLI's `--json` objects (`sohoa certify`, `sohoa verify`).

use super::SharedState;
use super::auth::{Principal, Role};
use super::error::{ApiError, ApiResult, Path};
use crate::runtime::catalog::DocumentRecord;
use crate::runtime::error::Error;
use crate::runtime::signing::{self, Certified};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

/// The document `id` if `who` sees its dossier; `not-found` otherwise, as for no document.
async fn in_scope(state: &SharedState, who: &Principal, id: &str) -> ApiResult<DocumentRecord> {
    match state.services.catalog.document_record(id).await? {
        Some(r) if who.sees_dossier(r.dossier.as_deref()) => Ok(r),
        _ => Err(ApiError(Error::NotFound(format!("no document {id}")))),
    }
}

/// Certifies a stored document: the object of `sohoa certify --json`.
#[utoipa::path(post, path = "/api/v1/documents/{id}/certify", tag = "documents", params(("id" = String, Path, description = "The original's document id (doc_…)")),
    responses((status = 201, description = "`{document_id, certified_from, book, number, year}`", body = Object), (status = 400, body = super::openapi::ErrorBody),
        (status = 401, body = super::openapi::ErrorBody), (status = 403, body = super::openapi::ErrorBody), (status = 404, body = super::openapi::ErrorBody)))]
pub async fn certify(State(state): State<SharedState>, who: Principal, Path(id): Path<String>) -> ApiResult<(StatusCode, Json<Certified>)> {
    if who.role != Role::Certifier {
        return Err(ApiError(Error::Forbidden(format!("a {} token does not certify; certifications need a certifier token", who.role.as_str()))));
    }
    let keys = state.certify.as_ref().ok_or_else(|| {
        ApiError(Error::config("certifier_key", "this service has no certifier key: start `sohoa serve` with --certifier-key (and --agency-key)"))
    })?;
    in_scope(&state, &who, &id).await?;
    let entry = signing::certify(&state.services, &id, keys, (&who.token_id, who.role.as_str())).await?;
    Ok((StatusCode::CREATED, Json(Certified::from(&entry))))
}

/// Verifies a stored document's signatures and hashes: the object of `sohoa verify --json`.
#[utoipa::path(get, path = "/api/v1/documents/{id}/verify", tag = "documents", params(("id" = String, Path, description = "Document id (doc_…)")),
    responses((status = 200, description = "`{valid, signatures, hash_matches_catalog, certification, …}`", body = Object),
        (status = 401, body = super::openapi::ErrorBody), (status = 403, body = super::openapi::ErrorBody), (status = 404, body = super::openapi::ErrorBody)))]
pub async fn verify(State(state): State<SharedState>, who: Principal, Path(id): Path<String>) -> ApiResult<Json<signing::Verification>> {
    if !who.may_read_documents() {
        return Err(ApiError(Error::Forbidden(format!("a {} token does not read documents", who.role.as_str()))));
    }
    in_scope(&state, &who, &id).await?;
    Ok(Json(signing::verify_document(&state.services, &id, &state.trust, (&who.token_id, who.role.as_str())).await?))
}
