//! API answers for failures: the HTTP status of [`Error::http_status`] and the body
//! `{"error":{"code":…,"message":…}}` of [`Error::to_json`], the same object a `--json`
//! command prints. Also the extractors whose rejections must keep that shape (a bad query
//! string or path is `bad-usage`, never axum's plain text).

use crate::runtime::error::Error;
use axum::extract::{FromRequestParts, rejection::PathRejection, rejection::QueryRejection};
use axum::http::{StatusCode, request::Parts};
use axum::response::{IntoResponse, Response};

/// An [`Error`] as an HTTP answer.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl<E: Into<Error>> From<E> for ApiError {
    fn from(e: E) -> ApiError {
        ApiError(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if status.is_server_error() {
            tracing::error!(code = self.0.code(), error = %self.0, "Request failed.");
        }
        let mut response = (status, axum::Json(self.0.to_json())).into_response();
        // The metrics layer counts errors by code.
        response.extensions_mut().insert(ErrorCode(self.0.code()));
        response
    }
}

/// The code of an error answer, for the metrics layer.
#[derive(Debug, Clone, Copy)]
pub struct ErrorCode(pub &'static str);

pub type ApiResult<T> = Result<T, ApiError>;

/// `axum::extract::Query` whose rejection is a `bad-usage` error.
pub struct Query<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Query(q.0))
            .map_err(|e: QueryRejection| ApiError(Error::Usage(format!("bad query string: {}", e.body_text()))))
    }
}

/// `axum::extract::Path` whose rejection is a `bad-usage` error.
pub struct Path<T>(pub T);

impl<T: serde::de::DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Path(p.0))
            .map_err(|e: PathRejection| ApiError(Error::Usage(format!("bad path: {}", e.body_text()))))
    }
}
