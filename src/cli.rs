//! What the `sohoa` subcommands do, behind the argument parsing of `main.rs`.
//!
//! Owns exit codes (0 ok; 1 some pages had errors but the batch was stored; 2 bad usage
//! or unreadable input; 3 the batch could not be stored or catalogued), the `--json`
//! output shapes, the progress bar, and writing the built-in models to the data folder.

use crate::catalog::{Catalog, SearchHit, SearchQuery};
use crate::intake::Input;
use crate::model::{BatchReport, PageKind};
use crate::ocr::OcrConfig;
use crate::pipeline::PipelineOptions;
use crate::store::Store;
use crate::worker::{self, Ingested, Services};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const EXIT_OK: u8 = 0;
pub const EXIT_PAGE_ERRORS: u8 = 1;
pub const EXIT_BAD_INPUT: u8 = 2;
pub const EXIT_STORAGE: u8 = 3;

/// Logs go to stderr; `SOHOA_LOG` (or `RUST_LOG`) sets the filter, default `warn`;
/// `SOHOA_LOG_FORMAT=json` for structured logs.
pub fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = std::env::var("SOHOA_LOG")
        .ok()
        .map(EnvFilter::new)
        .unwrap_or_else(|| EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn")));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if std::env::var("SOHOA_LOG_FORMAT").as_deref() == Ok("json") {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// The built-in copy of `models/`, written to `<data>/models` when no `--models` is given.
const MODEL_FILES: &[(&str, &[u8])] = &[
    ("sohoa.config", include_bytes!("../models/sohoa.config")),
    ("vie.user-words", include_bytes!("../models/vie.user-words")),
    ("vie.user-patterns", include_bytes!("../models/vie.user-patterns")),
];

pub fn materialize_models(data: &Path) -> std::io::Result<PathBuf> {
    let dir = data.join("models");
    std::fs::create_dir_all(&dir)?;
    for (name, bytes) in MODEL_FILES {
        let path = dir.join(name);
        if std::fs::read(&path).ok().as_deref() != Some(*bytes) {
            std::fs::write(&path, bytes)?;
        }
    }
    Ok(dir)
}

/// Where the catalog and store live (`--data`, `--store`, `--catalog`).
#[derive(Debug, Clone)]
pub struct Location {
    pub data: PathBuf,
    pub store: Option<String>,
    pub catalog: Option<String>,
}

/// How pages are processed (`--lang`, `--tessdata`, `--models`, `--workers`, `--keep-separators`).
#[derive(Debug, Clone)]
pub struct EngineArgs {
    pub keep_separators: bool,
    /// Separator rules file (`--separators`).
    pub separators: Option<PathBuf>,
    /// Duplex scans (`--duplex`): the page after a separator sheet is its back.
    pub duplex: bool,
    pub lang: String,
    pub tessdata: Option<PathBuf>,
    pub models: Option<PathBuf>,
    pub workers: Option<usize>,
}

pub struct ProcessArgs {
    pub inputs: Vec<PathBuf>,
    pub loc: Location,
    pub engine: EngineArgs,
    pub json: bool,
    pub chunk_pages: u64,
}

/// Opens the store and catalog of `loc` (creating the data folder), or the exit code.
pub async fn open_services(loc: &Location) -> Result<Services, u8> {
    if let Err(e) = std::fs::create_dir_all(&loc.data) {
        return Err(fail(EXIT_BAD_INPUT, format!("cannot create data folder {}: {e}", loc.data.display())));
    }
    let store = Store::open(loc.store.as_deref(), &loc.data).map_err(|e| fail(EXIT_BAD_INPUT, e))?;
    let catalog = Catalog::open(loc.catalog.as_deref(), &loc.data).await.map_err(|e| fail(EXIT_STORAGE, e))?;
    Ok(Services::new(catalog, store, loc.data.clone()))
}

/// Pipeline options from the command line; the built-in models go to `<data>/models`.
pub fn pipeline_options(engine: &EngineArgs, data: &Path) -> Result<PipelineOptions, u8> {
    let models = match engine.models.clone() {
        Some(m) => m,
        None => materialize_models(data)
            .map_err(|e| fail(EXIT_BAD_INPUT, format!("cannot write models to {}: {e}", data.display())))?,
    };
    let mut opts = PipelineOptions::new(OcrConfig {
        langs: engine.lang.clone(),
        tessdata: engine.tessdata.clone(),
        models: Some(models),
        ..Default::default()
    });
    let rules = match &engine.separators {
        Some(path) => crate::split::rules::SeparatorRules::load(path).map_err(|e| fail(EXIT_BAD_INPUT, e))?,
        None => crate::split::rules::SeparatorRules::default(),
    };
    opts.split.keep_separators = engine.keep_separators || rules.keep_separators.unwrap_or(false);
    opts.split.duplex = engine.duplex || rules.duplex;
    opts.separators = Arc::new(rules);
    if let Some(w) = engine.workers {
        opts.workers = w.max(1);
    }
    Ok(opts)
}

/// Every input opened and checked, or exit code 2 with the reason.
fn open_inputs(paths: &[PathBuf]) -> Result<Vec<Input>, u8> {
    paths.iter().map(|p| Input::open(p).map_err(|e| fail(EXIT_BAD_INPUT, e))).collect()
}

#[derive(Serialize)]
struct ProcessOutput {
    batches: Vec<BatchReport>,
    stats: Stats,
}

#[derive(Serialize)]
struct Stats {
    pages: usize,
    content_pages: usize,
    wall_s: f64,
    pages_per_min: f64,
}

fn fail(code: u8, msg: impl std::fmt::Display) -> u8 {
    eprintln!("error: {msg}");
    code
}

/// `sohoa process`: check every input, ingest them through the durable queue, run their
/// jobs here, print the reports.
pub async fn process(args: ProcessArgs) -> u8 {
    let started = Instant::now();
    // Check every input before anything is queued: bad input changes nothing.
    let inputs = match open_inputs(&args.inputs) {
        Ok(i) => i,
        Err(code) => return code,
    };
    let mut services = match open_services(&args.loc).await {
        Ok(s) => s,
        Err(code) => return code,
    };
    services.chunk_pages = args.chunk_pages;
    let mut opts = match pipeline_options(&args.engine, &args.loc.data) {
        Ok(o) => o,
        Err(code) => return code,
    };
    // Models load while the inputs are hashed and stored.
    opts.prestart_engines();

    let mut ingested = Vec::new();
    for input in &inputs {
        match worker::ingest(&services, input).await {
            Ok(i) => ingested.push(i),
            Err(e) => return fail(EXIT_STORAGE, e),
        }
    }

    let total: usize = inputs.iter().map(|i| i.page_count()).sum();
    let bar = indicatif::ProgressBar::with_draw_target(Some(total as u64), indicatif::ProgressDrawTarget::stderr());
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {wide_bar} {pos}/{len} pages  {per_sec}  eta {eta}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    {
        let bar = bar.clone();
        opts.progress = Some(Arc::new(move |n| bar.inc(n as u64)));
    }

    let worker_id = format!("process-{}-{}", hostname(), std::process::id());
    let mut reports = Vec::new();
    let mut page_errors = 0;
    let mut failed = Vec::new();
    // Batches scanned before and already done are reported, not run again.
    let mut to_run = Vec::new();
    let mut done_before = std::collections::HashMap::new();
    for (input, ing) in inputs.iter().zip(&ingested) {
        let batch_id = ing.batch_id().to_string();
        if let Ingested::Duplicate { .. } = ing
            && let Ok(Some(state)) = services.catalog.batch_state(&batch_id).await
            && state == "done"
        {
            if let Ok(Some(mut report)) = services.catalog.batch_report(&batch_id).await {
                report.warnings.push(format!("{} was already processed as batch {batch_id}; not processed again", input.source.display()));
                done_before.insert(batch_id.clone(), report);
            }
            bar.inc(input.page_count() as u64);
            continue;
        }
        if !to_run.contains(&batch_id) {
            to_run.push(batch_id);
        }
    }
    // All batches go through one worker loop: their parts stream through the same page
    // threads, with no pause between batches.
    let mut outcomes = match worker::run_batches(&services, &to_run, &worker_id, &opts, Duration::from_secs(60)).await {
        Ok(o) => to_run.iter().cloned().zip(o).collect::<std::collections::HashMap<_, _>>(),
        Err(e) => return fail(EXIT_STORAGE, e),
    };
    for ing in &ingested {
        let batch_id = ing.batch_id();
        if let Some(report) = done_before.remove(batch_id) {
            reports.push(report);
            continue;
        }
        match outcomes.remove(batch_id) {
            Some(Some(outcome)) => {
                page_errors += outcome.page_errors;
                reports.push(outcome.report);
            }
            Some(None) => failed.push(batch_id.to_string()),
            // The same input named twice: reported once.
            None => {}
        }
    }
    bar.finish_and_clear();

    let wall_s = started.elapsed().as_secs_f64();
    let pages: usize = reports.iter().map(|r| r.pages.len()).sum();
    let content_pages = reports.iter().flat_map(|r| &r.pages).filter(|p| p.kind == PageKind::Content).count();
    let out = ProcessOutput {
        batches: reports,
        stats: Stats { pages, content_pages, wall_s, pages_per_min: if wall_s > 0.0 { pages as f64 * 60.0 / wall_s } else { 0.0 } },
    };
    if args.json {
        println!("{}", serde_json::to_string(&out).expect("report serialises"));
    } else {
        print_summary(&out);
    }
    for batch_id in &failed {
        let reason = services.catalog.batch_state(batch_id).await.ok().flatten().unwrap_or_default();
        eprintln!("error: batch {batch_id} could not be completed (state {reason}); see `sohoa status {batch_id}` and the log");
    }
    if !failed.is_empty() {
        EXIT_STORAGE
    } else if page_errors > 0 {
        EXIT_PAGE_ERRORS
    } else {
        EXIT_OK
    }
}

fn print_summary(out: &ProcessOutput) {
    for b in &out.batches {
        println!("Batch {} ({}): {} pages", b.batch_id, b.source, b.pages.len());
        for d in &b.dossiers {
            println!("  Dossier {}", d.code.as_deref().unwrap_or("(no code)"));
            for doc in &d.documents {
                println!(
                    "    {}  {:<8} pages {:?}  {} bytes  blake3 {}",
                    doc.id,
                    doc.doc_type.as_deref().unwrap_or("-"),
                    doc.source_pages,
                    doc.bytes,
                    &doc.blake3[..16]
                );
            }
        }
        for w in &b.warnings {
            println!("  warning: {w}");
        }
        for p in b.pages.iter().filter(|p| !p.warnings.is_empty()) {
            for w in &p.warnings {
                println!("  page {}: {w}", p.index);
            }
        }
    }
    println!(
        "{} pages ({} content) in {:.1} s: {:.1} pages/min",
        out.stats.pages, out.stats.content_pages, out.stats.wall_s, out.stats.pages_per_min
    );
}

pub fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname").map(|s| s.trim().to_string()).unwrap_or_else(|_| "host".into())
}

/// `sohoa generate`: a sample batch with ground truth.
pub fn generate(out: &Path, opts: &crate::samples::GenOptions) -> u8 {
    match crate::samples::write_sample_set(out, opts) {
        Ok(()) => {
            eprintln!("Wrote {} and {}.", out.join("batch.tif").display(), out.join("batch.truth.json").display());
            EXIT_OK
        }
        Err(e) => fail(EXIT_BAD_INPUT, format!("{}: {e}", out.display())),
    }
}

/// `sohoa separators`: printable separator sheets, one A4 page each, in one PDF.
pub fn separators(dossiers: &[String], types: &[String], patches: &[String], output: &Path) -> u8 {
    use crate::barcode::{patch::PatchKind, sheets};
    let mut list: Vec<sheets::Sheet> = dossiers.iter().map(|c| sheets::Sheet::Dossier(c.trim().to_string())).collect();
    list.extend(types.iter().map(|t| sheets::Sheet::Type(t.trim().to_string())));
    for p in patches {
        match PatchKind::parse(p) {
            Some(kind) => list.push(sheets::Sheet::Patch(kind)),
            None => return fail(EXIT_BAD_INPUT, format!("--patch {p:?}: use 1, 2, 3, 4, 6 or T")),
        }
    }
    for w in sheets::check(&list) {
        eprintln!("warning: {w}");
    }
    let pdf = match sheets::sheets_pdf(&list) {
        Ok(pdf) => pdf,
        Err(e) => return fail(EXIT_BAD_INPUT, e),
    };
    let tmp = output.with_extension("pdf.part");
    if let Err(e) = std::fs::write(&tmp, &pdf).and_then(|_| std::fs::rename(&tmp, output)) {
        let _ = std::fs::remove_file(&tmp);
        return fail(EXIT_BAD_INPUT, format!("cannot write {}: {e}", output.display()));
    }
    eprintln!("Wrote {} ({} sheets).", output.display(), list.len());
    EXIT_OK
}

/// `sohoa get`: the stored PDF of a document, byte for byte, hash-checked on the way out.
pub async fn get(id: &str, output: &Path, data: &Path, store: Option<&str>, catalog: Option<&str>) -> u8 {
    let catalog = match Catalog::open(catalog, data).await {
        Ok(c) => c,
        Err(e) => return fail(EXIT_STORAGE, e),
    };
    let doc = match catalog.find_document(id).await {
        Ok(Some(d)) => d,
        Ok(None) => return fail(EXIT_BAD_INPUT, format!("no document {id:?} in the catalog; ids look like doc_… (see `sohoa process --json`)")),
        Err(e) => return fail(EXIT_BAD_INPUT, e),
    };
    let store = match Store::open(store, data) {
        Ok(s) => s,
        Err(e) => return fail(EXIT_BAD_INPUT, e),
    };
    let bytes = match store.get_verified(&doc.object_key, &doc.blake3).await {
        Ok(b) => b,
        Err(e) => return fail(EXIT_STORAGE, e),
    };
    // Write next to the target, then rename: a reader never sees half a PDF.
    let tmp = output.with_extension("pdf.part");
    if let Err(e) = std::fs::write(&tmp, &bytes).and_then(|_| std::fs::rename(&tmp, output)) {
        let _ = std::fs::remove_file(&tmp);
        return fail(EXIT_BAD_INPUT, format!("cannot write {}: {e}", output.display()));
    }
    eprintln!("Wrote {} ({} bytes, blake3 {}).", output.display(), bytes.len(), doc.blake3);
    EXIT_OK
}

#[derive(Serialize)]
struct IngestedBatch {
    batch_id: String,
    source: String,
    /// The same scan was ingested before; `batch_id` is that earlier batch.
    duplicate: bool,
}

/// `sohoa ingest`: copy the original scans into the store (verified) and queue them,
/// without processing; `sohoa worker` processes them.
pub async fn ingest(inputs: &[PathBuf], loc: &Location, json: bool, chunk_pages: u64) -> u8 {
    let inputs = match open_inputs(inputs) {
        Ok(i) => i,
        Err(code) => return code,
    };
    let mut services = match open_services(loc).await {
        Ok(s) => s,
        Err(code) => return code,
    };
    services.chunk_pages = chunk_pages;
    let mut batches = Vec::new();
    for input in &inputs {
        match worker::ingest(&services, input).await {
            Ok(i) => batches.push(IngestedBatch {
                batch_id: i.batch_id().to_string(),
                source: input.source.display().to_string(),
                duplicate: matches!(i, Ingested::Duplicate { .. }),
            }),
            Err(e) => return fail(EXIT_STORAGE, e),
        }
    }
    if json {
        println!("{}", serde_json::json!({ "batches": batches }));
    } else {
        for b in &batches {
            if b.duplicate {
                println!("{}  {}  already ingested; not queued again", b.batch_id, b.source);
            } else {
                println!("{}  {}  queued", b.batch_id, b.source);
            }
        }
    }
    services.catalog.close().await;
    EXIT_OK
}

pub struct WorkerArgs {
    pub loc: Location,
    pub engine: EngineArgs,
    pub stale_after: Duration,
    pub poll: Duration,
    pub exit_when_idle: bool,
}

/// `sohoa worker`: run queued batches until Ctrl-C / SIGTERM (the batch in hand is
/// finished first; a second signal stops at once, and the batch is taken over by another
/// worker when its heartbeat goes stale).
pub async fn run_worker(args: WorkerArgs) -> u8 {
    let services = match open_services(&args.loc).await {
        Ok(s) => s,
        Err(code) => return code,
    };
    let opts = match pipeline_options(&args.engine, &args.loc.data) {
        Ok(o) => o,
        Err(code) => return code,
    };
    // Models load while the worker looks for its first job.
    opts.prestart_engines();
    let wopts = worker::WorkerOptions {
        worker_id: format!("{}-{}", hostname(), std::process::id()),
        stale_after: args.stale_after,
        poll: args.poll,
        exit_when_idle: args.exit_when_idle,
    };
    eprintln!("Worker {} on catalog {:?} and store {}.", wopts.worker_id, services.catalog.backend(), services.store.location());
    let shutdown = async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("signal handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        eprintln!("Stopping after the current batch (signal again to stop now).");
        tokio::spawn(async {
            let _ = tokio::signal::ctrl_c().await;
            std::process::exit(130);
        });
    };
    let code = match worker::run_worker(&services, &opts, &wopts, shutdown).await {
        Ok(n) => {
            eprintln!("Worker {} ran {n} job(s).", wopts.worker_id);
            EXIT_OK
        }
        Err(e) => fail(EXIT_STORAGE, e),
    };
    services.catalog.close().await;
    code
}

/// `sohoa status [BATCH_ID] [--json]`: queue counts, or one batch with its state.
pub async fn status(batch: Option<&str>, loc: &Location, json: bool) -> u8 {
    let services = match open_services(loc).await {
        Ok(s) => s,
        Err(code) => return code,
    };
    let catalog = &services.catalog;
    let code = match batch {
        None => match catalog.queue_counts().await {
            Ok(c) => {
                if json {
                    println!("{}", serde_json::json!({"queued": c.queued, "running": c.running, "done": c.done, "failed": c.failed}));
                } else {
                    println!("queued {}  running {}  done {}  failed {}", c.queued, c.running, c.done, c.failed);
                }
                EXIT_OK
            }
            Err(e) => fail(EXIT_STORAGE, e),
        },
        Some(id) => match batch_status(catalog, id).await {
            Ok(Some(value)) => {
                if json {
                    println!("{value}");
                } else {
                    print_batch_status(&value);
                }
                EXIT_OK
            }
            Ok(None) => fail(EXIT_BAD_INPUT, format!("no batch {id}; `sohoa status` lists the queue")),
            Err(e) => fail(EXIT_STORAGE, e),
        },
    };
    services.catalog.close().await;
    code
}

/// The batch object of `sohoa process --json` plus `state` (and the job's attempts and
/// last error while it is not done).
pub async fn batch_status(catalog: &Catalog, id: &str) -> Result<Option<serde_json::Value>, crate::catalog::CatalogError> {
    let Some(state) = catalog.batch_state(id).await? else { return Ok(None) };
    let mut value = match catalog.batch_report(id).await? {
        Some(report) => serde_json::to_value(&report).expect("report serialises"),
        None => {
            let source = catalog.batch_source(id).await?.unwrap_or_default();
            serde_json::json!({"batch_id": id, "source": source, "pages": [], "dossiers": [], "warnings": []})
        }
    };
    value["state"] = state.into();
    if let Some((total, done)) = catalog.batch_progress(id).await? {
        value["progress"] = serde_json::json!({"pages": total, "pages_done": done});
    }
    value["workers"] = catalog.batch_workers(id).await?.into();
    if let Some(job) = catalog.job_status(id).await? {
        value["attempts"] = job.attempts.into();
        value["last_error"] = job.last_error.into();
    }
    Ok(Some(value))
}

fn print_batch_status(v: &serde_json::Value) {
    println!("Batch {} ({}): {}", v["batch_id"].as_str().unwrap_or(""), v["source"].as_str().unwrap_or(""), v["state"].as_str().unwrap_or(""));
    if let Some(err) = v["last_error"].as_str() {
        println!("  last error: {err}");
    }
    for d in v["dossiers"].as_array().into_iter().flatten() {
        println!("  Dossier {}", d["code"].as_str().unwrap_or("(no code)"));
        for doc in d["documents"].as_array().into_iter().flatten() {
            println!("    {}  {:<8} pages {}", doc["id"].as_str().unwrap_or(""), doc["type"].as_str().unwrap_or("-"), doc["source_pages"]);
        }
    }
}

/// `sohoa search`: documents by words of their text, dossier, type or citizen ID. Exit 0
/// with or without hits, 2 on a bad query, 3 when the catalog fails.
pub async fn search(query: &SearchQuery, loc: &Location, json: bool) -> u8 {
    // A bad query is bad usage whatever the catalog; check it before opening anything.
    if let Err(msg) = query.plan() {
        return fail(EXIT_BAD_INPUT, format!("{msg} (see `sohoa search --help`)"));
    }
    let catalog = match Catalog::open(loc.catalog.as_deref(), &loc.data).await {
        Ok(c) => c,
        Err(e) => return fail(EXIT_STORAGE, e),
    };
    let result = catalog.search_documents(query).await;
    catalog.close().await;
    let hits = match result {
        Ok(h) => h,
        Err(e) => return fail(EXIT_STORAGE, e),
    };
    if json {
        println!("{}", serde_json::json!({ "hits": hits }));
    } else {
        print_hits(&hits);
    }
    EXIT_OK
}

fn print_hits(hits: &[SearchHit]) {
    for h in hits {
        let score = h.score.map(|s| format!("  score {s:.3e}")).unwrap_or_default();
        println!(
            "{}  {:<6} {}  {} page{}  batch {}{score}",
            h.document_id,
            h.doc_type.as_deref().unwrap_or("-"),
            h.dossier.as_deref().unwrap_or("(no dossier code)"),
            h.page_count,
            if h.page_count == 1 { "" } else { "s" },
            h.batch_id,
        );
        if !h.snippet.is_empty() {
            println!("    {}", h.snippet);
        }
    }
    match hits.len() {
        0 => println!("No documents found."),
        1 => println!("1 document."),
        n => println!("{n} documents."),
    }
}
