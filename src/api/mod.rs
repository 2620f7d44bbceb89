//! `sohoa serve`: the HTTP API over the catalog, store and queue the command line uses,
//! with the worker pool and hot folders in the same process.
//!
//! Owns the routes (`batches`: upload, status, thumbnails; `documents`: metadata, PDF,
//! search, audit; `ops`: health, metrics, the OpenAPI document and its page), the bearer
//! authentication and scope rules (`auth`), the error answers (`error`) and the request
//! counters (`metrics`). Invariants:
//! - every route but `/healthz`, `/api/v1/openapi.json` and the static `/docs` page needs
//!   a valid token (a bearer header, or the UI's session cookie; `ui` sends a browser
//!   without one to its login page); a record outside the caller's scope answers exactly as a missing one;
//! - API bodies are the CLI's `--json` objects, built by [`crate::runtime::views`];
//! - every document metadata read and PDF download is appended to the audit chain before
//!   a byte of the answer is sent (no audit row, no answer);
//! - uploads are streamed to disk under `<data>/uploads` (never whole in memory), capped at
//!   the configured size, and ingested exactly as `sohoa ingest` does.
//!
//! Called by `cli` (`sohoa serve`); uses `runtime` only.

pub mod auth;
mod batches;
mod certify;
mod documents;
mod dossiers;
pub mod error;
mod metrics;
pub mod openapi;
mod ops;
mod ui;

use crate::runtime::config::Config;
use crate::runtime::error::Error;
use crate::runtime::watch::WatchDir;
use crate::runtime::worker::{self, Services};
use auth::Principal;
use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts};
use axum::http::request::Parts;
use axum::routing::{get, post};
use error::ApiError;
use std::net::SocketAddr;
use std::sync::Arc;

/// Default `--listen`.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// Default `--max-upload-mb`.
pub const DEFAULT_MAX_UPLOAD_MB: u64 = 512;

/// How `sohoa serve` runs, validated.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub listen: SocketAddr,
    pub watch: Vec<WatchDir>,
    /// Run the worker pool in this process.
    pub workers: bool,
    /// Largest upload (all files of one request), bytes.
    pub max_upload_bytes: u64,
    /// Seconds between looks at the hot folders.
    pub watch_poll: std::time::Duration,
}

/// What every request handler shares.
pub struct AppState {
    pub services: Services,
    pub metrics: metrics::Metrics,
    pub max_upload_bytes: u64,
    /// Thumbnails decode whole pages: at most this many at once.
    pub thumbnails: tokio::sync::Semaphore,
    /// The certifier's and agency's keys (`--certifier-key`, `--agency-key`), if configured.
    pub certify: Option<crate::runtime::signing::CertifyKeys>,
    /// Trust roots for `GET /api/v1/documents/{id}/verify`.
    pub trust: Vec<x509_cert::Certificate>,
    /// Procedure names for dossiers and receipts (`--procedures`).
    pub procedures: Arc<crate::stages::dossier::procedures::ProcedureCatalog>,
}

pub type SharedState = Arc<AppState>;

/// The name of the UI's session cookie (same value as a bearer token).
pub const SESSION_COOKIE: &str = "sohoa_token";

impl FromRequestParts<SharedState> for Principal {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &SharedState) -> Result<Principal, ApiError> {
        let header = parts.headers.get(axum::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        let secret = match header {
            Some(h) => Some(auth::bearer(h).ok_or_else(|| ApiError(Error::Unauthorized("the Authorization header must be: Bearer TOKEN".into())))?),
            None => session_secret(&parts.headers),
        };
        let principal = auth::authenticate(&state.services.catalog, secret).await?;
        Ok(principal)
    }
}

/// The token of the UI's session cookie, if the request carries one.
pub fn session_secret(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix(SESSION_COOKIE).and_then(|rest| rest.strip_prefix('=')))
        .filter(|s| !s.is_empty())
}

/// Every route of the service, with the state it runs on.
pub fn router(state: SharedState) -> Router {
    Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/metrics", get(ops::metrics))
        .route("/api/v1/openapi.json", get(ops::openapi_json))
        .route("/docs", get(ops::docs_page))
        .route("/", get(ui::home))
        .route("/ui", get(ui::page))
        .route("/ui/login", get(ui::login_page).post(ui::login))
        .route("/ui/logout", post(ui::logout))
        .route("/ui/batches", get(ui::batches_fragment))
        .route("/ui/batches/{id}", get(ui::batch_page))
        .route("/ui/assets/app.js", get(ui::script))
        .route("/ui/assets/app.css", get(ui::style))
        .route("/api/v1/batches", post(batches::upload).layer(DefaultBodyLimit::disable()).get(batches::list))
        .route("/api/v1/batches/{id}", get(batches::status))
        .route("/api/v1/batches/{id}/requeue", post(batches::requeue))
        .route("/api/v1/batches/{id}/pages/{index}/thumbnail", get(batches::thumbnail))
        .route("/api/v1/search", get(documents::search))
        .route("/api/v1/documents/{id}", get(documents::metadata))
        .route("/api/v1/documents/{id}/pdf", get(documents::pdf))
        .route("/api/v1/documents/{id}/certify", post(certify::certify))
        .route("/api/v1/documents/{id}/verify", get(certify::verify))
        .route("/api/v1/audit", get(documents::audit_trail))
        .route("/api/v1/dossiers/{code}", get(dossiers::show))
        .route("/api/v1/dossiers/{code}/receipt", get(dossiers::receipt))
        .route("/api/v1/dossiers/{code}/receipt/verify", get(dossiers::verify))
        .route("/api/v1/dossiers/{code}/results", get(dossiers::results).post(dossiers::add_result))
        .route("/api/v1/reuse", get(dossiers::reuse_lookup).post(dossiers::reuse_attach))
        .route("/api/v1/reports/indicators", get(dossiers::indicators))
        .fallback(ops::not_found)
        .method_not_allowed_fallback(ops::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(state.clone(), metrics::count))
        .with_state(state)
}

/// `sohoa serve`: the API on `opts.listen`, the worker pool (unless `--no-workers`) and
/// the hot folders, until SIGTERM or Ctrl-C (the worker finishes the work in hand).
pub async fn serve(config: &Config, opts: ServeOptions) -> Result<u8, Error> {
    let services = crate::cli::open_services(config).await?;
    let listener = tokio::net::TcpListener::bind(opts.listen).await.map_err(|e| Error::config("listen", format!("cannot listen on {}: {e}", opts.listen)))?;
    let local = listener.local_addr().map_err(|e| Error::config("listen", e.to_string()))?;
    let state = Arc::new(AppState {
        services: services.clone(),
        metrics: metrics::Metrics::default(),
        max_upload_bytes: opts.max_upload_bytes,
        thumbnails: tokio::sync::Semaphore::new(2),
        certify: config.certify.clone(),
        trust: config.trust.clone(),
        procedures: Arc::clone(&config.procedures),
    });
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = move || {
        let mut rx = stop_rx.clone();
        async move {
            let _ = rx.wait_for(|s| *s).await;
        }
    };

    let mut tasks = tokio::task::JoinSet::new();
    if opts.workers {
        let pipeline = config.pipeline_options()?;
        pipeline.prestart_engines();
        let wopts = worker::WorkerOptions {
            worker_id: format!("serve-{}-{}", crate::cli::hostname(), std::process::id()),
            stale_after: config.stale_after,
            poll: config.poll,
            exit_when_idle: false,
        };
        let (services, shutdown) = (services.clone(), stopped());
        tasks.spawn(async move {
            if let Err(e) = worker::run_worker(&services, &pipeline, &wopts, shutdown).await {
                tracing::error!(error = %e, code = e.code(), "The worker stopped.");
            }
        });
    }
    for dir in opts.watch.clone() {
        let (services, shutdown, poll) = (services.clone(), stopped(), opts.watch_poll);
        tasks.spawn(async move { crate::runtime::watch::watch(&services, &dir, poll, shutdown).await });
    }

    eprintln!("Serving on http://{local} (catalog {:?}, store {}).", services.catalog.backend(), services.store.location());
    tracing::info!(listen = %local, workers = opts.workers, hot_folders = opts.watch.len(), "Service started.");
    let signal = async move {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("signal handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        eprintln!("Stopping: finishing the requests and the work in hand (signal again to stop now).");
        let _ = stop_tx.send(true);
        tokio::spawn(async {
            let _ = tokio::signal::ctrl_c().await;
            std::process::exit(130);
        });
    };
    let served = axum::serve(listener, router(state)).with_graceful_shutdown(signal).await;
    while tasks.join_next().await.is_some() {}
    services.catalog.close().await;
    served.map_err(|e| Error::Internal(format!("the HTTP server failed: {e}")))?;
    Ok(crate::runtime::error::exit::OK)
}
