//! `sohoa process`, `sohoa ingest` and `sohoa worker`: scans into the durable queue, and
//! jobs run off it.

use super::{hostname, open_services};
use crate::model::{BatchReport, BatchState, PageKind};
use crate::runtime::config::Config;
use crate::runtime::error::{Error, exit};
use crate::runtime::views::IngestedBatch;
use crate::runtime::worker::{self, Ingested};
use crate::stages::intake::Input;
use serde::Serialize;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Every input opened and checked before anything is queued: bad input changes nothing.
fn open_inputs(paths: &[PathBuf]) -> Result<Vec<Input>, Error> {
    paths.iter().map(|p| Input::open(p).map_err(Error::from)).collect()
}

#[derive(Serialize)]
struct ProcessOutput {
    batches: Vec<BatchReport>,
    stats: Stats,
    /// Present when a batch could not be completed (exit 3).
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<serde_json::Value>,
}

#[derive(Serialize)]
struct Stats {
    pages: usize,
    content_pages: usize,
    wall_s: f64,
    pages_per_min: f64,
    /// The process's peak resident memory (`VmHWM` of /proc/self/status), bytes; absent
    /// where the kernel does not say.
    #[serde(skip_serializing_if = "Option::is_none")]
    peak_rss_bytes: Option<u64>,
}

/// This process's peak resident set size so far (Linux `VmHWM`), in bytes.
pub(crate) fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.trim_start_matches("VmHWM:").trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kib * 1024)
}

/// `sohoa process`: check every input, ingest them through the durable queue, run their
/// jobs here, print the reports.
pub async fn process(inputs: &[PathBuf], config: &Config, json: bool) -> Result<u8, Error> {
    let started = Instant::now();
    let inputs = open_inputs(inputs)?;
    let services = open_services(config).await?;
    let mut opts = config.pipeline_options()?;
    // Models load while the inputs are hashed and stored.
    opts.prestart_engines();

    let mut ingested = Vec::new();
    for input in &inputs {
        ingested.push(worker::ingest(&services, input).await?);
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
            && let Ok(Some(BatchState::Done)) = services.catalog.batch_state(&batch_id).await
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
    let outcomes = worker::run_batches(&services, &to_run, &worker_id, &opts, Duration::from_secs(60)).await?;
    let mut outcomes = to_run.iter().cloned().zip(outcomes).collect::<std::collections::HashMap<_, _>>();
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

    let mut failures = Vec::new();
    for batch_id in &failed {
        let state = services.catalog.batch_state(batch_id).await.ok().flatten().map_or("unknown", |s| s.as_str());
        failures.push(format!("batch {batch_id} could not be completed (state {state}); see `sohoa status {batch_id}` and the log"));
    }
    let error = (!failures.is_empty()).then(|| Error::BatchFailed(failures.join("; ")));

    let wall_s = started.elapsed().as_secs_f64();
    let pages: usize = reports.iter().map(|r| r.pages.len()).sum();
    let content_pages = reports.iter().flat_map(|r| &r.pages).filter(|p| p.kind == PageKind::Content).count();
    let out = ProcessOutput {
        batches: reports,
        stats: Stats {
            pages,
            content_pages,
            wall_s,
            pages_per_min: if wall_s > 0.0 { pages as f64 * 60.0 / wall_s } else { 0.0 },
            peak_rss_bytes: peak_rss_bytes(),
        },
        error: error.as_ref().map(|e| e.to_json()["error"].clone()),
    };
    if json {
        println!("{}", serde_json::to_string(&out).expect("report serialises"));
    } else {
        print_summary(&out);
    }
    Ok(match error {
        Some(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
        None if page_errors > 0 => exit::PAGE_ERRORS,
        None => exit::OK,
    })
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
    println!("{} pages ({} content) in {:.1} s: {:.1} pages/min", out.stats.pages, out.stats.content_pages, out.stats.wall_s, out.stats.pages_per_min);
}

/// `sohoa ingest`: copy the original scans into the store (verified) and queue them,
/// without processing; `sohoa worker` processes them.
pub async fn ingest(inputs: &[PathBuf], config: &Config, json: bool) -> Result<u8, Error> {
    let inputs = open_inputs(inputs)?;
    let services = open_services(config).await?;
    let mut batches = Vec::new();
    for input in &inputs {
        let i = worker::ingest(&services, input).await?;
        batches.push(IngestedBatch {
            batch_id: i.batch_id().to_string(),
            source: input.source.display().to_string(),
            duplicate: matches!(i, Ingested::Duplicate { .. }),
        });
    }
    if json {
        println!("{}", crate::runtime::views::ingest_body(&batches));
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
    Ok(exit::OK)
}

/// `sohoa worker`: run queued batches until Ctrl-C / SIGTERM (the batch in hand is
/// finished first; a second signal stops at once, and the batch is taken over by another
/// worker when its heartbeat goes stale).
pub async fn worker(config: &Config, exit_when_idle: bool) -> Result<u8, Error> {
    let services = open_services(config).await?;
    let opts = config.pipeline_options()?;
    // Models load while the worker looks for its first job.
    opts.prestart_engines();
    let wopts = worker::WorkerOptions {
        worker_id: format!("{}-{}", hostname(), std::process::id()),
        stale_after: config.stale_after,
        poll: config.poll,
        exit_when_idle,
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
    let result = worker::run_worker(&services, &opts, &wopts, shutdown).await;
    services.catalog.close().await;
    let n = result?;
    eprintln!("Worker {} ran {n} job(s).", wopts.worker_id);
    Ok(exit::OK)
}
