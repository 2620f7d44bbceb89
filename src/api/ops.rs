//! Operations routes: health, metrics, the OpenAPI document and its page, and the answers
//! for unknown routes and methods.

use super::SharedState;
use super::auth::Principal;
use super::error::{ApiError, ApiResult};
use crate::runtime::error::Error;
use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};

/// Liveness and the catalog's reachability.
#[utoipa::path(get, path = "/healthz", tag = "ops", security(()),
    responses((status = 200, description = "Up, and the catalog answers", body = Object), (status = 503, description = "The catalog does not answer", body = super::openapi::ErrorBody)))]
pub async fn healthz(State(state): State<SharedState>) -> ApiResult<axum::Json<serde_json::Value>> {
    state.services.catalog.queue_counts().await?;
    Ok(axum::Json(serde_json::json!({"status": "ok"})))
}

/// Prometheus metrics (admin token).
#[utoipa::path(get, path = "/metrics", tag = "ops",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain; version=0.0.4"), (status = 401, body = super::openapi::ErrorBody), (status = 403, body = super::openapi::ErrorBody)))]
pub async fn metrics(State(state): State<SharedState>, who: Principal) -> ApiResult<Response> {
    if !who.is_admin() {
        return Err(ApiError(Error::Forbidden("metrics need an admin token".into())));
    }
    let text = super::metrics::render(&state.metrics, &state.services.catalog).await?;
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text).into_response())
}

/// This document: OpenAPI 3, generated from the code.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "ops", security(()), responses((status = 200, description = "OpenAPI 3.1 document", body = Object)))]
pub async fn openapi_json() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], super::openapi::document_json()).into_response()
}

/// The API documentation page (static HTML and a small script of ours that renders
/// `/api/v1/openapi.json`; no CDN).
pub async fn docs_page() -> Html<&'static str> {
    Html(include_str!("assets/docs.html"))
}

pub async fn not_found() -> ApiError {
    ApiError(Error::NotFound("no such route; see /api/v1/openapi.json".into()))
}

pub async fn method_not_allowed() -> Response {
    let e = Error::Usage("method not allowed on this route; see /api/v1/openapi.json".into());
    let mut r = ApiError(e).into_response();
    *r.status_mut() = axum::http::StatusCode::METHOD_NOT_ALLOWED;
    r
}
