//! The command line: what each `sohoa` subcommand does, over the runtime.
//!
//! `args` is the grammar; `batch` runs scans (`process`, `ingest`, `worker`); `records`
//! reads the catalog (`status`, `search`, `get`); `files` writes local files
//! (`separators`, `generate`); `sign` signs and verifies (`keys`, `certify`, `verify`).
//! Every command returns `Result<u8, Error>`: `Ok` carries exit 0 or 1 (some pages
//! failed), and [`run`] turns an error into its message on stderr (and, with `--json`, one
//! `{"error":{…}}` object on stdout) and its exit code, in one place. Owns the `--json`
//! output shapes and the progress bar.

pub mod args;
mod batch;
mod dossiers;
mod files;
mod records;
mod service;
mod sign;

use crate::runtime::catalog::{Catalog, SearchQuery};
use crate::runtime::config::Config;
use crate::runtime::error::{Error, exit};
use crate::runtime::store::Store;
use crate::runtime::worker::Services;
use args::{Cli, Command, Location};

/// Logs go to stderr; `SOHOA_LOG` (or `RUST_LOG`) sets the filter, default `warn`;
/// `SOHOA_LOG_FORMAT=json` for structured logs.
pub fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter =
        std::env::var("SOHOA_LOG").ok().map(EnvFilter::new).unwrap_or_else(|| EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn")));
    // Colour only for a person at a terminal, and never with NO_COLOR (no-color.org).
    use std::io::IsTerminal;
    let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(colour);
    if std::env::var("SOHOA_LOG_FORMAT").as_deref() == Ok("json") {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Runs one parsed command line; returns the exit code.
pub fn run(cli: Cli) -> u8 {
    let json = match &cli.command {
        Command::Process { json, .. }
        | Command::Ingest { json, .. }
        | Command::Status { json, .. }
        | Command::Search { json, .. }
        | Command::Bench { json, .. }
        | Command::EvalImaging { json, .. }
        | Command::EvalOcr { json, .. }
        | Command::Certify { json, .. }
        | Command::Verify { json, .. }
        | Command::EvalSize { json, .. }
        | Command::EvalFields { json, .. }
        | Command::Token { action: args::TokenAction::Create { json, .. } | args::TokenAction::List { json, .. } }
        | Command::Audit { action: args::AuditAction::Verify { json, .. } }
        | Command::Dossier { action: args::DossierAction::Show { json, .. } }
        | Command::Receipt { json, .. }
        | Command::Result { action: args::ResultAction::Add { json, .. } | args::ResultAction::List { json, .. } }
        | Command::Reuse { json, .. }
        | Command::Report { json, .. } => *json,
        _ => false,
    };
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return report(&Error::Internal(format!("cannot start the async runtime: {e}")), json),
    };
    // A panic that escapes a command still ends as one error (one JSON object with
    // `--json`) and exit 3; the panic message itself is on stderr (Rust's panic hook).
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| rt.block_on(dispatch(cli.command))));
    match outcome {
        Ok(Ok(code)) => code,
        Ok(Err(e)) => report(&e, json),
        Err(panic) => {
            let what = panic.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| panic.downcast_ref::<String>().cloned()).unwrap_or_default();
            report(&Error::Internal(format!("sohoa stopped on an unexpected failure (a panic): {what}")), json)
        }
    }
}

/// Prints `e` for people (stderr) and, with `--json`, for scripts (stdout); its exit code.
pub fn report(e: &Error, json: bool) -> u8 {
    eprintln!("error: {e}");
    if json {
        println!("{}", e.to_json());
    }
    e.exit_code()
}

async fn dispatch(command: Command) -> Result<u8, Error> {
    match command {
        Command::Process { inputs, loc, engine, json, chunk_pages } => {
            let config = Config::resolve(loc.data.clone(), loc.config.as_deref(), crate::runtime::config::Settings { chunk_pages, ..engine.settings(&loc) })?;
            batch::process(&inputs, &config, json).await
        }
        Command::Ingest { inputs, loc, json, chunk_pages } => {
            let config = Config::resolve(loc.data.clone(), loc.config.as_deref(), crate::runtime::config::Settings { chunk_pages, ..loc.settings() })?;
            batch::ingest(&inputs, &config, json).await
        }
        Command::Worker { loc, engine, stale_after, poll, exit_when_idle } => {
            let config =
                Config::resolve(loc.data.clone(), loc.config.as_deref(), crate::runtime::config::Settings { stale_after, poll, ..engine.settings(&loc) })?;
            batch::worker(&config, exit_when_idle).await
        }
        Command::Serve { listen, watch, watch_poll, no_workers, max_upload_mb, loc, engine, stale_after, poll, certifier_key, agency_key, trust } => {
            let settings = crate::runtime::config::Settings { stale_after, poll, certifier_key, agency_key, trust, ..engine.settings(&loc) };
            let config = Config::resolve(loc.data.clone(), loc.config.as_deref(), settings)?;
            service::serve(&config, &service::ServeArgs { listen, watch, watch_poll, no_workers, max_upload_mb }).await
        }
        Command::Keys { action: args::KeysAction::DevCa { out } } => sign::dev_ca(&out),
        Command::Certify { document_id, key, agency_key, key_password_env, tsa, json, loc } => {
            sign::certify(&document_id, &sign::CertifyArgs { key, agency_key, key_password_env, tsa }, &loc, json).await
        }
        Command::Verify { target, trust, json, loc } => sign::verify(&target, &trust, &loc, json).await,
        Command::Token { action } => service::token(action).await,
        Command::Audit { action } => service::audit(action).await,
        Command::Status { batch_id, loc, json } => records::status(batch_id.as_deref(), &location(&loc)?, json).await,
        Command::Get { id, output, loc } => records::get(&id, &output, &location(&loc)?).await,
        Command::Dossier { action } => dossiers::dossier(action).await,
        Command::Receipt { code, output, verify, json, loc } => {
            dossiers::receipt(code.as_deref(), output.as_deref(), verify.as_deref(), json, &location(&loc)?).await
        }
        Command::Result { action } => dossiers::result(action).await,
        Command::Reuse { citizen_id, doc_type, attach, limit, json, loc } => {
            dossiers::reuse(&citizen_id, &doc_type, attach.as_deref(), limit, json, &location(&loc)?).await
        }
        Command::Report { from, to, by, json, csv, loc } => dossiers::report(&from, &to, by.as_deref(), json, csv, &location(&loc)?).await,
        Command::Search { query, dossier, doc_type, citizen_id, field, limit, json, loc } => {
            let query = SearchQuery {
                text: (!query.is_empty()).then(|| query.join(" ")),
                dossier,
                doc_type,
                citizen_id,
                limit: Some(limit),
                dossier_prefix: None,
                fields: field,
            };
            records::search(&query, &location(&loc)?, json).await
        }
        Command::Bench { pages, workers, input, json, dpi, seed, lang, tessdata, processes, chunk_pages, sign_key, tsa, key_password_env } => {
            let signing = crate::tools::bench::BenchSigning { key: sign_key, tsa, key_password_env };
            Ok(crate::tools::bench::run(crate::tools::bench::BenchArgs {
                pages,
                workers,
                input,
                json,
                dpi,
                seed,
                lang,
                tessdata,
                processes,
                chunk_pages,
                signing,
            })
            .await)
        }
        Command::BenchInput { out, pages, dpi, seed } => crate::tools::bench::generate_input(&out, pages, dpi, seed)
            .map(|_| exit::OK)
            .map_err(|e| Error::Output { path: out.display().to_string(), source: e }),
        Command::Separators { dossiers, types, patches, output } => files::separators(&dossiers, &types, &patches, &output),
        Command::Generate { out, seed, dpi, dossiers, max_skew, noise, procedures } => {
            let opts = crate::tools::synth::GenOptions { seed, dpi, dossiers, max_skew_deg: max_skew, noise_sigma: noise, procedures, ..Default::default() };
            files::generate(&out, &opts)
        }
        Command::EvalImaging { pages, seed, json, compare, ocr, ocr_plain, ocr_threads, defects, data, script } => {
            Ok(crate::tools::eval::run(&crate::tools::eval::EvalArgs { pages, seed, json, compare, ocr, ocr_plain, ocr_threads, defects, data, script }))
        }
        Command::EvalFields { docs, seed, threads, json, data, keep, from } => {
            let source = match from {
                Some(dir) => crate::tools::eval::fields::Source::Kept(dir),
                None => crate::tools::eval::fields::Source::Generate { docs, seed, threads, data, keep },
            };
            Ok(crate::tools::eval::fields::run_cli(&source, json))
        }
        Command::EvalOcr { pages, seed, sets, ablation, readers, threads, json, show_errors, data } => {
            let args = crate::tools::eval::fidelity::FidelityArgs {
                pages_per_set: pages.max(1),
                seed,
                sets,
                ablation: ablation || !readers.is_empty(),
                readers,
                threads,
                show_errors,
            };
            Ok(crate::tools::eval::fidelity::run_cli(&args, &data, json))
        }
        Command::EvalSize { pages, seed, sets, threads, keep_work, json, data } => {
            Ok(crate::tools::eval::size::run_cli(pages, seed, threads, &sets, &data, keep_work.as_deref(), json))
        }
    }
}

/// The validated configuration of a read command (only where the data lives matters).
pub(crate) fn location(loc: &Location) -> Result<Config, Error> {
    Config::resolve(loc.data.clone(), loc.config.as_deref(), loc.settings())
}

/// Opens the store and catalog of `config` (creating the data folder).
pub async fn open_services(config: &Config) -> Result<Services, Error> {
    std::fs::create_dir_all(&config.data).map_err(|e| Error::LocalIo { path: config.data.display().to_string(), source: e })?;
    let store = Store::open(config.store.as_deref(), &config.data)?;
    let catalog = Catalog::open(config.catalog.as_deref(), &config.data).await?;
    let mut services = Services::new(catalog, store, config.data.clone());
    services.chunk_pages = config.chunk_pages;
    Ok(services)
}

/// This machine's name, for worker ids.
pub fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname").map(|s| s.trim().to_string()).unwrap_or_else(|_| "host".into())
}
