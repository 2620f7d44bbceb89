//! The OpenAPI 3 document of the service, generated from the handlers' annotations
//! (utoipa), and the list of routes it must cover (checked by a test against the router).

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

/// Every error answer: `{"error":{"code":…,"message":…}}`.
#[derive(ToSchema)]
#[allow(dead_code)] // documentation only; errors are built by `Error::to_json`
pub struct ErrorBody {
    error: ErrorDetail,
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ErrorDetail {
    /// Stable kebab-case code (README, "Errors and exit codes").
    code: String,
    /// For people.
    message: String,
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "sohoa", description = "Scanned dossiers to stored, searchable PDF records: upload, status, search, retrieval, audit."),
    paths(
        super::ops::healthz,
        super::ops::metrics,
        super::ops::openapi_json,
        super::batches::upload,
        super::batches::list,
        super::batches::status,
        super::batches::requeue,
        super::batches::thumbnail,
        super::documents::search,
        super::documents::metadata,
        super::documents::pdf,
        super::documents::audit_trail,
        super::certify::certify,
        super::certify::verify,
        super::dossiers::show,
        super::dossiers::receipt,
        super::dossiers::verify,
        super::dossiers::add_result,
        super::dossiers::results,
        super::dossiers::reuse_lookup,
        super::dossiers::reuse_attach,
        super::dossiers::indicators,
    ),
    components(schemas(ErrorBody, ErrorDetail)),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
pub struct ApiDoc;

/// The document, as served at `/api/v1/openapi.json`.
pub fn document_json() -> String {
    ApiDoc::openapi().to_json().expect("the OpenAPI document serialises")
}

/// The API routes of [`super::router`] (method, path), which the document must cover.
pub const ROUTES: &[(&str, &str)] = &[
    ("get", "/healthz"),
    ("get", "/metrics"),
    ("get", "/api/v1/openapi.json"),
    ("post", "/api/v1/batches"),
    ("get", "/api/v1/batches"),
    ("get", "/api/v1/batches/{id}"),
    ("post", "/api/v1/batches/{id}/requeue"),
    ("get", "/api/v1/batches/{id}/pages/{index}/thumbnail"),
    ("get", "/api/v1/search"),
    ("get", "/api/v1/documents/{id}"),
    ("get", "/api/v1/documents/{id}/pdf"),
    ("post", "/api/v1/documents/{id}/certify"),
    ("get", "/api/v1/documents/{id}/verify"),
    ("get", "/api/v1/audit"),
    ("get", "/api/v1/dossiers/{code}"),
    ("get", "/api/v1/dossiers/{code}/receipt"),
    ("get", "/api/v1/dossiers/{code}/receipt/verify"),
    ("post", "/api/v1/dossiers/{code}/results"),
    ("get", "/api/v1/dossiers/{code}/results"),
    ("get", "/api/v1/reuse"),
    ("post", "/api/v1/reuse"),
    ("get", "/api/v1/reports/indicators"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_covers_every_route_and_nothing_else() {
        let doc: serde_json::Value = serde_json::from_str(&document_json()).unwrap();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
        let mut listed = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                listed.push((method.clone(), path.clone()));
            }
        }
        let mut want: Vec<(String, String)> = ROUTES.iter().map(|(m, p)| (m.to_string(), p.to_string())).collect();
        listed.sort();
        want.sort();
        assert_eq!(listed, want);
        // Public routes say so; the others need the bearer token.
        assert_eq!(doc["paths"]["/healthz"]["get"]["security"], serde_json::json!([{}]));
        assert!(doc["paths"]["/api/v1/search"]["get"].get("security").is_none());
        assert_eq!(doc["security"], serde_json::json!([{"bearer": []}]));
        assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    }
}
