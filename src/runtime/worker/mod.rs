//! The worker: the durable path every batch takes, from ingest to committed report.
//!
//! A worker runs the three kinds of jobs of `catalog::queue`: a `batch` job through the
//! whole pipeline; `pages` jobs (parts of a batch) streamed through one set of page
//! threads, each part's processed pages stored as one object; an `assemble` job that reads
//! a batch's parts back in page order, cuts them into documents and commits the report.
//! Callers: `sohoa process` (ingest, then run its own batches), `sohoa ingest`,
//! `sohoa worker` and `sohoa bench`.
//!
//! The pieces:
//! - `ingest`: an input becomes a queued batch (originals stored and verified first);
//! - `manifest`: which original files a batch is made of;
//! - `lease`: the heartbeat that keeps this worker's jobs;
//! - `jobs`: one claimed job run on a blocking thread, its outcome recorded;
//! - `feeder`: `pages` jobs fed to the page threads, parts stored, assembly handed on;
//! - `part`: the versioned wire format of a stored part;
//! - `scratch`: the originals on local disk for a job (private copies, hash-checked);
//! - `faults`: named failure points (test-only environment variables).
//!
//! The sync/async boundary is in one place, [`work`]: the claim loop and the heartbeat are
//! async; each claimed job runs inside `spawn_blocking`, which is also the panic boundary
//! (a panicking job releases this worker's jobs instead of killing the process), and
//! reaches the catalog and store through the runtime handle it is given.

pub mod faults;
mod feeder;
mod ingest;
mod jobs;
mod lease;
pub mod manifest;
pub mod part;
mod scratch;

pub use ingest::{FileStamp, Ingested, LocalOriginals, ingest, ingest_at, new_batch_id};
pub use lease::heartbeat_every;

use crate::model::BatchState;
use crate::runtime::catalog::{Catalog, ClaimFilter};
use crate::runtime::error::Error;
use crate::runtime::pipeline::{BatchOutcome, PipelineOptions};
use crate::runtime::store::Store;
use crate::stages::ocr::OcrEngine;
use crate::timing::{StageTimes, add_times};
use jobs::JobContext;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The catalog and store a worker uses, and where it keeps its scratch files.
#[derive(Clone)]
pub struct Services {
    pub catalog: Catalog,
    pub store: Store,
    pub data_dir: PathBuf,
    /// Local files of originals by BLAKE3 (the files `sohoa process` was given), copied
    /// (and hashed while copied) instead of fetched from the store while their
    /// [`FileStamp`] is unchanged; the copy is used only when its hash is the ingested one.
    pub local_originals: LocalOriginals,
    /// Batches of more pages than this are split into `pages` jobs that several workers
    /// share (`--chunk-pages`; 0: never split).
    pub chunk_pages: u64,
}

/// Default `--chunk-pages`: page-level parts, because the last part of a batch is what the
/// other workers wait for; a part costs a claim, a stored object and a read at assembly,
/// a few ms against a page's OCR (`docs/performance.md`, "Scaling").
pub const DEFAULT_CHUNK_PAGES: u64 = 1;

/// Parts an assembly fetches ahead of the one it is writing.
pub(crate) const PREFETCH_PARTS: usize = 8;

impl Services {
    pub fn new(catalog: Catalog, store: Store, data_dir: PathBuf) -> Services {
        Services { catalog, store, data_dir, local_originals: Default::default(), chunk_pages: DEFAULT_CHUNK_PAGES }
    }

    /// The file `sohoa process` ingested with this BLAKE3, if its stamp is unchanged since
    /// just before it was hashed (its bytes are then probably the ones stored; the scratch
    /// copy is hashed again to be sure).
    fn local_original(&self, blake3: &str) -> Option<PathBuf> {
        let (path, stamp) = self.local_originals.lock().ok()?.get(blake3).cloned()?;
        (FileStamp::of(&path).ok() == Some(stamp)).then_some(path)
    }
}

/// How a worker behaves.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    pub worker_id: String,
    /// A running job whose heartbeat is older than this is taken over by another worker.
    pub stale_after: Duration,
    /// Wait between polls of an empty queue.
    pub poll: Duration,
    /// Stop once no batch is queued or running anywhere (tests, cron-style runs).
    pub exit_when_idle: bool,
}

/// What a worker did: the batches it finished (assembled or ran whole) and the stage
/// times it spent, per batch, on any part of them.
#[derive(Debug, Default)]
pub struct WorkSummary {
    pub jobs: usize,
    pub outcomes: HashMap<String, BatchOutcome>,
    pub times: HashMap<String, StageTimes>,
}

/// The worker loop: claims jobs (of the `only` batches, or any) and runs them until
/// `shutdown` resolves (jobs in hand are finished first), until the `only` batches are
/// all done or failed, or, with `exit_when_idle`, until nothing is queued or running.
/// One heartbeat covers every job the worker holds.
pub async fn work(
    services: &Services,
    opts: &PipelineOptions,
    wopts: &WorkerOptions,
    only: Option<&[String]>,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<WorkSummary, Error> {
    tokio::pin!(shutdown);
    let stop = Arc::new(AtomicBool::new(false));
    let heartbeat = lease::Heartbeat::start(services.catalog.clone(), wopts.worker_id.clone(), heartbeat_every(wopts.stale_after));
    let summary = Arc::new(Mutex::new(WorkSummary::default()));
    let mut engines: Option<Vec<Box<dyn OcrEngine>>> = None;
    let result = async {
        loop {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            if let Some(ids) = only {
                let mut open = false;
                for id in ids {
                    if services.catalog.batch_state(id).await?.is_some_and(|s| !s.is_finished()) {
                        open = true;
                        break;
                    }
                }
                if !open {
                    break;
                }
            }
            let claimed = tokio::select! {
                _ = &mut shutdown, if !stop.load(Ordering::Relaxed) => { stop.store(true, Ordering::Relaxed); continue }
                c = services.catalog.claim(ClaimFilter { batches: only, pages_only: false }, &wopts.worker_id, wopts.stale_after) => c,
            };
            match claimed {
                Ok(Some(job)) => {
                    summary.lock().expect("summary").jobs += 1;
                    let ctx = JobContext {
                        services: services.clone(),
                        opts: opts.clone(),
                        worker_id: wopts.worker_id.clone(),
                        stale_after: wopts.stale_after,
                        only: only.map(<[String]>::to_vec),
                        stop: stop.clone(),
                        summary: summary.clone(),
                        rt: tokio::runtime::Handle::current(),
                    };
                    let mut taken = engines.take();
                    let mut task = tokio::task::spawn_blocking(move || {
                        ctx.run(job, &mut taken);
                        taken
                    });
                    let done = loop {
                        tokio::select! {
                            _ = &mut shutdown, if !stop.load(Ordering::Relaxed) => stop.store(true, Ordering::Relaxed),
                            r = &mut task => break r,
                        }
                    };
                    match done {
                        Ok(e) => engines = e,
                        // A panic is a job failure, not a worker crash: the jobs in hand
                        // are let go (as if their heartbeat had stopped), to be run again.
                        Err(e) => {
                            tracing::error!(error = %e, "A job panicked; releasing the jobs this worker holds.");
                            if let Err(e) = services.catalog.release_worker(&wopts.worker_id).await {
                                tracing::warn!(error = %e, "Could not release the jobs; they are taken over after the worker stops.");
                            }
                        }
                    }
                    continue;
                }
                Ok(None) => {
                    if wopts.exit_when_idle && only.is_none() {
                        let c = services.catalog.queue_counts().await?;
                        if c.queued == 0 && c.running == 0 {
                            break;
                        }
                    }
                }
                // The catalog may be restarting: keep polling.
                Err(e) if e.is_retryable() => tracing::warn!(error = %e, "Cannot reach the catalog; retrying."),
                Err(e) => return Err(Error::from(e)),
            }
            tokio::select! {
                _ = &mut shutdown, if !stop.load(Ordering::Relaxed) => stop.store(true, Ordering::Relaxed),
                _ = tokio::time::sleep(wopts.poll) => {}
            }
        }
        Ok(())
    }
    .await;
    heartbeat.stop().await;
    result?;
    let summary = std::mem::take(&mut *summary.lock().expect("summary"));
    Ok(summary)
}

/// Claims and runs the jobs of `batch_ids` (`sohoa process`, `sohoa bench`) until each
/// batch is done or failed for good. Other workers may share the work; a batch finished
/// elsewhere is read back from the catalog.
pub async fn run_batches(
    services: &Services,
    batch_ids: &[String],
    worker_id: &str,
    opts: &PipelineOptions,
    stale_after: Duration,
) -> Result<Vec<Option<BatchOutcome>>, Error> {
    let wopts = WorkerOptions { worker_id: worker_id.to_string(), stale_after, poll: Duration::from_millis(200), exit_when_idle: false };
    let mut summary = work(services, opts, &wopts, Some(batch_ids), std::future::pending()).await?;
    let mut outcomes = Vec::new();
    for id in batch_ids {
        let mut outcome = summary.outcomes.remove(id);
        if outcome.is_none()
            && services.catalog.batch_state(id).await? == Some(BatchState::Done)
            && let Some(report) = services.catalog.batch_report(id).await?
        {
            let page_errors = report.pages.iter().filter(|p| p.outcome() == crate::model::PageOutcome::Failed).count();
            outcome = Some(BatchOutcome { report, times: StageTimes::default(), page_errors });
        }
        if let (Some(o), Some(t)) = (outcome.as_mut(), summary.times.remove(id)) {
            add_times(&mut o.times, &t);
        }
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

/// `sohoa worker`: claims and runs jobs until `shutdown` resolves (the jobs in hand are
/// finished first) or, with `exit_when_idle`, until the queue is empty. Returns the
/// number of jobs run here.
pub async fn run_worker(
    services: &Services,
    opts: &PipelineOptions,
    wopts: &WorkerOptions,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<usize, Error> {
    tracing::info!(worker_id = %wopts.worker_id, "Worker started.");
    let summary = work(services, opts, wopts, None, shutdown).await?;
    tracing::info!(worker_id = %wopts.worker_id, jobs = summary.jobs, "Worker stopped.");
    Ok(summary.jobs)
}
