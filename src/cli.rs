//! What the `sohoa` subcommands do, behind the argument parsing of `main.rs`.
//!
//! Owns exit codes (0 ok; 1 some pages had errors but the batch was stored; 2 bad usage
//! or unreadable input; 3 the batch could not be stored or catalogued), the `--json`
//! output shapes, the progress bar, and writing the built-in models to the data folder.

use crate::catalog::Catalog;
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

pub struct ProcessArgs {
    pub inputs: Vec<PathBuf>,
    pub data: PathBuf,
    pub store: Option<String>,
    pub catalog: Option<String>,
    pub json: bool,
    pub keep_separators: bool,
    /// Separator rules file (`--separators`).
    pub separators: Option<PathBuf>,
    pub duplex: bool,
    pub lang: String,
    pub tessdata: Option<PathBuf>,
    pub models: Option<PathBuf>,
    pub workers: Option<usize>,
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
    let rules = match &args.separators {
        Some(path) => match crate::split::rules::SeparatorRules::load(path) {
            Ok(r) => r,
            Err(e) => return fail(EXIT_BAD_INPUT, e),
        },
        None => crate::split::rules::SeparatorRules::default(),
    };
    let mut inputs = Vec::new();
    for path in &args.inputs {
        match Input::open(path) {
            Ok(input) => inputs.push(input),
            Err(e) => return fail(EXIT_BAD_INPUT, e),
        }
    }
    if let Err(e) = std::fs::create_dir_all(&args.data) {
        return fail(EXIT_BAD_INPUT, format!("cannot create data folder {}: {e}", args.data.display()));
    }
    let store = match Store::open(args.store.as_deref(), &args.data) {
        Ok(s) => s,
        Err(e) => return fail(EXIT_BAD_INPUT, e),
    };
    let catalog = match Catalog::open(args.catalog.as_deref(), &args.data).await {
        Ok(c) => c,
        Err(e) => return fail(EXIT_STORAGE, e),
    };
    let models = match args.models.clone() {
        Some(m) => m,
        None => match materialize_models(&args.data) {
            Ok(m) => m,
            Err(e) => return fail(EXIT_BAD_INPUT, format!("cannot write models to {}: {e}", args.data.display())),
        },
    };
    let services = Services { catalog, store, data_dir: args.data.clone() };

    let mut ingested = Vec::new();
    for input in &inputs {
        match worker::ingest(&services, input).await {
            Ok(i) => ingested.push(i),
            Err(e) => return fail(EXIT_STORAGE, e),
        }
    }

    let mut opts = PipelineOptions::new(OcrConfig { langs: args.lang.clone(), tessdata: args.tessdata.clone(), models: Some(models), ..Default::default() });
    opts.split.keep_separators = args.keep_separators || rules.keep_separators.unwrap_or(false);
    opts.split.duplex = args.duplex || rules.duplex;
    opts.separators = Arc::new(rules);
    if let Some(w) = args.workers {
        opts.workers = w.max(1);
    }
    let total: usize = inputs.iter().map(|i| i.page_count()).sum();
    let bar = indicatif::ProgressBar::with_draw_target(Some(total as u64), indicatif::ProgressDrawTarget::stderr());
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {wide_bar} {pos}/{len} pages  {per_sec}  eta {eta}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let base = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    {
        let (bar, base) = (bar.clone(), base.clone());
        opts.progress = Some(Arc::new(move |done, _| {
            bar.set_position((base.load(std::sync::atomic::Ordering::Relaxed) + done) as u64)
        }));
    }

    let worker_id = format!("process-{}-{}", hostname(), std::process::id());
    let mut reports = Vec::new();
    let mut page_errors = 0;
    let mut failed = Vec::new();
    for (input, ing) in inputs.iter().zip(&ingested) {
        let batch_id = ing.batch_id().to_string();
        if let Ingested::Duplicate { .. } = ing {
            if let Ok(Some(state)) = services.catalog.batch_state(&batch_id).await {
                if state == "done" {
                    if let Ok(Some(mut report)) = services.catalog.batch_report(&batch_id).await {
                        report.warnings.push(format!(
                            "{} was already processed as batch {batch_id}; not processed again",
                            input.source.display()
                        ));
                        reports.push(report);
                    }
                    base.fetch_add(input.page_count(), std::sync::atomic::Ordering::Relaxed);
                    continue;
                }
            }
        }
        match worker::run_batches(&services, std::slice::from_ref(&batch_id), &worker_id, &opts, Duration::from_secs(60)).await {
            Ok(outcomes) => match outcomes.into_iter().next().flatten() {
                Some(outcome) => {
                    page_errors += outcome.page_errors;
                    reports.push(outcome.report);
                }
                None => failed.push(batch_id),
            },
            Err(e) => return fail(EXIT_STORAGE, e),
        }
        base.fetch_add(input.page_count(), std::sync::atomic::Ordering::Relaxed);
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
