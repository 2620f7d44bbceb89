//! Ingest and job running: the durable path every batch takes.
//!
//! Owns turning an input into a queued batch (originals copied into the object store and
//! verified, then one catalog transaction creating the batch and its job) and running a
//! claimed job: fetch the originals back from the store (so any worker on any machine can
//! run it), run the pipeline with a heartbeat, then commit the report in one catalog
//! transaction, or record the failure for retry. Callers: `sohoa process` (ingest, then
//! run its own batches), `sohoa worker` / `sohoa ingest`, and `sohoa bench`.
//!
//! A worker runs the three kinds of jobs of `catalog::queue`: a `batch` job through the
//! whole pipeline; `pages` jobs streamed through one set of page threads (the next one is
//! claimed when the threads ask for more pages, so there is no pause between parts), each
//! part's processed pages stored as one object; an `assemble` job (handed to the worker
//! that completed a batch's last part, run on a thread of its own) reads the parts back in
//! page order, cuts them into documents and commits the report. One heartbeat task covers
//! every job the worker holds; a worker that dies leaves jobs with a stale heartbeat,
//! which any other worker takes over.

use crate::catalog::{Catalog, ClaimFilter, CreateOutcome, Job, JobKind, NewBatch};
use crate::intake::Input;
use crate::ocr::OcrEngine;
use crate::pipeline::{self, BatchOutcome, CpuClock, PageDone, PageWork, PipelineOptions, StageTimes};
use crate::store::Store;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The files a batch was made from, as kept in the catalog.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    /// When the scan was made (the file's modification time), RFC 3339, +07:00.
    pub scanned_at: String,
    pub files: Vec<ManifestFile>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ManifestFile {
    pub name: String,
    pub key: String,
    pub blake3: String,
    pub bytes: u64,
}

/// The catalog and store a worker uses, and where it keeps its scratch files.
#[derive(Clone)]
pub struct Services {
    pub catalog: Catalog,
    pub store: Store,
    pub data_dir: PathBuf,
    /// Local copies of originals by BLAKE3 (the files `sohoa process` was given), used
    /// instead of fetching them from the store while their [`FileStamp`] is unchanged.
    pub local_originals: LocalOriginals,
    /// Batches of more pages than this are split into `pages` jobs that several workers
    /// share (`--chunk-pages`; 0: never split).
    pub chunk_pages: u64,
}

/// Default `--chunk-pages`: page-level parts. Measured (README, "Performance"): two
/// one-thread workers on one 40-page batch finish 1.86x faster than one (medians) with
/// parts of 1 page, 1.64-1.81x with parts of 4, because the last part is what the other
/// worker waits for. A part costs one catalog claim, one stored object and one read at assembly
/// (fetched ahead, [`PREFETCH_PARTS`] at a time), a few ms against a page's OCR.
pub const DEFAULT_CHUNK_PAGES: u64 = 1;

/// Parts an assembly fetches ahead of the one it is writing.
const PREFETCH_PARTS: usize = 8;

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error(transparent)]
    Intake(#[from] crate::intake::IntakeError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Catalog(#[from] crate::catalog::CatalogError),
    #[error(transparent)]
    Pipeline(#[from] pipeline::PipelineError),
    #[error("{0}")]
    Io(String),
}

impl WorkerError {
    pub fn code(&self) -> &'static str {
        match self {
            WorkerError::Intake(e) => e.code(),
            WorkerError::Store(e) => e.code(),
            WorkerError::Catalog(e) => e.code(),
            WorkerError::Pipeline(e) => e.code(),
            WorkerError::Io(_) => "io",
        }
    }
    pub fn is_retryable(&self) -> bool {
        match self {
            WorkerError::Store(e) => e.is_retryable(),
            WorkerError::Catalog(e) => e.is_retryable(),
            WorkerError::Pipeline(e) => e.is_retryable(),
            WorkerError::Io(_) => true,
            WorkerError::Intake(_) => false,
        }
    }
}

/// Where this process read originals from at ingest, by BLAKE3, with what the file system
/// said of each file just before it was hashed (shared by clones).
pub type LocalOriginals = std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, (PathBuf, FileStamp)>>>;

/// What identifies a file's contents without reading them: device, inode, size and the
/// modification and change times, to the nanosecond. Any write to the file, or a new file
/// renamed over it, changes the stamp (the change time cannot be set back by `touch`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStamp {
    dev: u64,
    ino: u64,
    len: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl FileStamp {
    pub fn of(path: &Path) -> std::io::Result<FileStamp> {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(path)?;
        Ok(FileStamp { dev: m.dev(), ino: m.ino(), len: m.len(), mtime: (m.mtime(), m.mtime_nsec()), ctime: (m.ctime(), m.ctime_nsec()) })
    }
}

impl Services {
    pub fn new(catalog: Catalog, store: Store, data_dir: PathBuf) -> Services {
        Services { catalog, store, data_dir, local_originals: Default::default(), chunk_pages: DEFAULT_CHUNK_PAGES }
    }

    /// The file `sohoa process` ingested with this BLAKE3, if its stamp is unchanged since
    /// just before it was hashed (then its bytes are the ones hashed and stored).
    fn local_original(&self, blake3: &str) -> Option<PathBuf> {
        let (path, stamp) = self.local_originals.lock().ok()?.get(blake3).cloned()?;
        (FileStamp::of(&path).ok() == Some(stamp)).then_some(path)
    }
}

/// The result of ingesting one input.
#[derive(Debug, Clone, PartialEq)]
pub enum Ingested {
    Queued { batch_id: String },
    /// The same scan (same blake3 of the original files) was ingested before.
    Duplicate { batch_id: String },
}

impl Ingested {
    pub fn batch_id(&self) -> &str {
        match self {
            Ingested::Queued { batch_id } | Ingested::Duplicate { batch_id } => batch_id,
        }
    }
}

/// A new, time-ordered batch id.
pub fn new_batch_id() -> String {
    format!("bat_{}", uuid::Uuid::now_v7().simple())
}

/// Copies the input's files into the store (verified) and queues the batch.
pub async fn ingest(services: &Services, input: &Input) -> Result<Ingested, WorkerError> {
    let mut files = Vec::new();
    for file in &input.files {
        // Taken before hashing: a file changed while it is hashed gets another stamp.
        let stamp = FileStamp::of(&file.path).map_err(|e| WorkerError::Io(format!("{}: {e}", file.path.display())))?;
        let (size, b3) = crate::store::hash_file(&file.path).await.map_err(|e| WorkerError::Io(format!("{}: {e}", file.path.display())))?;
        let key = Store::original_key(&b3, file.kind.extension());
        services.store.put_file_verified_as(&key, &file.path, (size, b3.clone())).await?;
        let name = file.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if let Ok(mut local) = services.local_originals.lock() {
            local.insert(b3.clone(), (file.path.clone(), stamp));
        }
        // The bytes hashed, which the stored copy was verified to hold.
        files.push(ManifestFile { name, key, blake3: b3, bytes: size });
    }
    let original_blake3 = if files.len() == 1 {
        files[0].blake3.clone()
    } else {
        let joined: String = files.iter().map(|f| format!("{}\n", f.blake3)).collect();
        blake3::hash(joined.as_bytes()).to_hex().to_string()
    };
    let manifest = Manifest { scanned_at: scan_time(&input.files[0].path), files };
    let batch = NewBatch {
        id: new_batch_id(),
        source: input.source.display().to_string(),
        original_key: manifest.files[0].key.clone(),
        original_blake3,
        original_bytes: manifest.files.iter().map(|f| f.bytes).sum(),
        manifest_json: serde_json::to_string(&manifest).expect("manifest serialises"),
        page_count: input.page_count() as u64,
        chunk_pages: services.chunk_pages,
    };
    Ok(match services.catalog.create_batch(&batch).await? {
        CreateOutcome::Created => {
            tracing::info!(batch_id = %batch.id, source = %batch.source, "Batch queued.");
            Ingested::Queued { batch_id: batch.id }
        }
        CreateOutcome::Duplicate { batch_id } => {
            tracing::warn!(batch_id = %batch_id, source = %batch.source, "Scan already ingested; not queued again.");
            Ingested::Duplicate { batch_id }
        }
    })
}


/// The file's modification time in Vietnam's time zone (when the scanner wrote it).
fn scan_time(path: &Path) -> String {
    let modified = std::fs::metadata(path).and_then(|m| m.modified()).unwrap_or_else(|_| std::time::SystemTime::now());
    let t: chrono::DateTime<chrono::Utc> = modified.into();
    let vn = chrono::FixedOffset::east_opt(7 * 3600).expect("valid offset");
    t.with_timezone(&vn).to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
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

/// Heartbeats come four times per staleness window, so one late beat never loses a job.
pub fn heartbeat_every(stale_after: Duration) -> Duration {
    (stale_after / 4).max(Duration::from_millis(200))
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
) -> Result<WorkSummary, WorkerError> {
    tokio::pin!(shutdown);
    let stop = Arc::new(AtomicBool::new(false));
    let (hb_stop, mut hb_rx) = tokio::sync::oneshot::channel::<()>();
    let hb = {
        let (catalog, worker, every) = (services.catalog.clone(), wopts.worker_id.clone(), heartbeat_every(wopts.stale_after));
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = &mut hb_rx => break,
                    _ = tokio::time::sleep(every) => {
                        if let Err(e) = catalog.heartbeat_worker(&worker).await {
                            tracing::warn!(error = %e, "Heartbeat failed.");
                        }
                    }
                }
            }
        })
    };
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
                    if !matches!(services.catalog.batch_state(id).await?.as_deref(), Some("done" | "failed") | None) {
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
                Err(e) => return Err(WorkerError::from(e)),
            }
            tokio::select! {
                _ = &mut shutdown, if !stop.load(Ordering::Relaxed) => stop.store(true, Ordering::Relaxed),
                _ = tokio::time::sleep(wopts.poll) => {}
            }
        }
        Ok(())
    }
    .await;
    let _ = hb_stop.send(());
    let _ = hb.await;
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
) -> Result<Vec<Option<BatchOutcome>>, WorkerError> {
    let wopts = WorkerOptions { worker_id: worker_id.to_string(), stale_after, poll: Duration::from_millis(200), exit_when_idle: false };
    let mut summary = work(services, opts, &wopts, Some(batch_ids), std::future::pending()).await?;
    let mut outcomes = Vec::new();
    for id in batch_ids {
        let mut outcome = summary.outcomes.remove(id);
        if outcome.is_none()
            && services.catalog.batch_state(id).await?.as_deref() == Some("done")
            && let Some(report) = services.catalog.batch_report(id).await?
        {
            let page_errors = report.pages.iter().filter(|p| p.warnings.iter().any(|w| w.starts_with("error:"))).count();
            outcome = Some(BatchOutcome { report, times: StageTimes::default(), page_errors });
        }
        if let (Some(o), Some(t)) = (outcome.as_mut(), summary.times.remove(id)) {
            pipeline::add_times(&mut o.times, &t);
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
) -> Result<usize, WorkerError> {
    tracing::info!(worker_id = %wopts.worker_id, "Worker started.");
    let summary = work(services, opts, wopts, None, shutdown).await?;
    tracing::info!(worker_id = %wopts.worker_id, jobs = summary.jobs, "Worker stopped.");
    Ok(summary.jobs)
}

/// Everything a job needs, owned, for the blocking thread that runs it.
struct JobContext {
    services: Services,
    opts: PipelineOptions,
    worker_id: String,
    stale_after: Duration,
    only: Option<Vec<String>>,
    stop: Arc<AtomicBool>,
    summary: Arc<Mutex<WorkSummary>>,
    rt: tokio::runtime::Handle,
}

/// A `pages` job whose pages are on the page threads.
struct InFlight {
    job: Job,
    expected: usize,
    pages: Vec<PageDone>,
}

impl JobContext {
    /// Runs a claimed job (blocking); every outcome and failure is recorded in the catalog.
    fn run(&self, job: Job, engines: &mut Option<Vec<Box<dyn OcrEngine>>>) {
        let span = tracing::info_span!("job", batch_id = %job.batch_id, job_id = %job.id, attempt = job.attempts);
        let _enter = span.enter();
        match job.kind {
            JobKind::Batch => {
                let result = self.with_engines(engines, |engines| self.run_batch_job(&job, engines));
                self.record(&job, result);
            }
            JobKind::Assemble => {
                let result = self.assemble(&job);
                self.record(&job, result);
            }
            JobKind::Pages { .. } => match self.with_engines(engines, |engines| {
                self.run_pages_jobs(job.clone(), engines);
                Ok(())
            }) {
                Ok(()) => {}
                Err(e) => self.record(&job, Err(e)),
            },
        }
    }

    fn with_engines<T>(
        &self,
        engines: &mut Option<Vec<Box<dyn OcrEngine>>>,
        f: impl FnOnce(&mut [Box<dyn OcrEngine>]) -> Result<T, WorkerError>,
    ) -> Result<T, WorkerError> {
        if engines.as_ref().is_none_or(|e| e.len() != self.opts.workers.max(1)) {
            *engines = Some(pipeline::start_engines(&self.opts)?);
        }
        f(engines.as_mut().expect("engines started"))
    }

    /// Commits a finished batch's report (already done by `assemble`) or records a failure.
    fn record(&self, job: &Job, result: Result<Option<BatchOutcome>, WorkerError>) {
        match result {
            Ok(Some(outcome)) => {
                tracing::info!(pages = outcome.report.pages.len(), "Batch done.");
                self.summary.lock().expect("summary").outcomes.insert(job.batch_id.clone(), outcome);
            }
            Ok(None) => {}
            Err(e) => self.fail(job, &e),
        }
    }

    fn fail(&self, job: &Job, e: &WorkerError) {
        tracing::error!(error = %e, code = e.code(), "Job failed.");
        if let Err(err) = self.rt.block_on(self.services.catalog.fail_job(&job.id, &self.worker_id, &format!("{}: {e}", e.code()), e.is_retryable())) {
            tracing::warn!(error = %err, code = err.code(), "Could not record the failure; the job will be taken over when its heartbeat goes stale.");
        }
    }

    /// A `batch` job: the whole batch through the pipeline, then the report committed.
    fn run_batch_job(&self, job: &Job, engines: &mut [Box<dyn OcrEngine>]) -> Result<Option<BatchOutcome>, WorkerError> {
        let manifest = manifest(job)?;
        let fetched = self.rt.block_on(fetch_originals(&self.services, job, &manifest, &self.worker_id))?;
        let outcome = pipeline::run_batch_with(
            engines,
            &job.batch_id,
            &job.source,
            &manifest.scanned_at,
            &fetched.input,
            &self.services.store,
            &self.rt,
            &self.opts,
        );
        drop(fetched);
        let outcome = outcome?;
        self.rt.block_on(self.services.catalog.complete_job(&job.id, &self.worker_id, &outcome.report))?;
        Ok(Some(outcome))
    }

    /// `first` and then every further `pages` job this worker can claim, streamed through
    /// one set of page threads (no pause between jobs). Each job's pages are stored as one
    /// object when its last page is done; the worker completing a batch's last part
    /// assembles it on a thread of its own while the page threads go on.
    fn run_pages_jobs(&self, first: Job, engines: &mut [Box<dyn OcrEngine>]) {
        let inflight: Mutex<HashMap<u64, InFlight>> = Mutex::new(HashMap::new());
        let page_back = std::sync::Condvar::new();
        let (assemble_tx, assemble_rx) = std::sync::mpsc::channel::<Job>();
        std::thread::scope(|scope| {
            scope.spawn(move || {
                for job in assemble_rx {
                    let span = tracing::info_span!("job", batch_id = %job.batch_id, job_id = %job.id, attempt = job.attempts);
                    let _enter = span.enter();
                    let result = self.assemble(&job);
                    self.record(&job, result);
                }
            });
            let feeder = Feeder { ctx: self, first: Some(first), current: None, next_tag: 0, inflight: &inflight, page_back: &page_back, inputs: Vec::new() };
            let sink = |done: PageDone| {
                let tag = done.tag;
                let finished = {
                    let mut map = inflight.lock().expect("inflight");
                    let Some(entry) = map.get_mut(&done.tag) else { return Ok(()) };
                    pipeline::add_times(
                        self.summary.lock().expect("summary").times.entry(entry.job.batch_id.clone()).or_default(),
                        &done.times,
                    );
                    entry.pages.push(done);
                    page_back.notify_one();
                    if let Some(progress) = &self.opts.progress {
                        progress(1);
                    }
                    if entry.pages.len() < entry.expected {
                        return Ok(());
                    }
                    map.remove(&tag).expect("entry present")
                };
                self.finish_pages_job(finished, &assemble_tx);
                Ok(())
            };
            if let Err(e) = pipeline::run_pages(engines, feeder, &self.opts, sink) {
                tracing::error!(error = %e, "Page threads stopped.");
            }
            // Jobs whose pages did not all come back (a page thread died): retry them.
            let left: Vec<InFlight> = inflight.lock().expect("inflight").drain().map(|(_, v)| v).collect();
            for f in left {
                let e = WorkerError::Pipeline(pipeline::PipelineError::Internal(format!("{} of {} pages came back", f.pages.len(), f.expected)));
                self.fail(&f.job, &e);
            }
            drop(assemble_tx);
        });
    }

    /// Stores a `pages` job's processed pages and marks it done; hands the batch's assemble
    /// job on when this was its last part.
    fn finish_pages_job(&self, mut f: InFlight, assemble_tx: &std::sync::mpsc::Sender<Job>) {
        let JobKind::Pages { start, end } = f.job.kind else { return };
        let started = std::time::Instant::now();
        f.pages.sort_by_key(|p| p.report.index);
        let result = pipeline::PagesResult { batch_id: f.job.batch_id.clone(), start, end, pages: f.pages };
        let t = CpuClock::start();
        let bytes = result.to_bytes();
        let b3 = blake3::hash(&bytes).to_hex().to_string();
        let hash_s = t.seconds();
        let key = Store::pages_key(&f.job.batch_id, &b3);
        let t = std::time::Instant::now();
        let stored = self.rt.block_on(self.services.store.put_verified(&key, bytes::Bytes::from(bytes)));
        {
            let mut summary = self.summary.lock().expect("summary");
            let times = summary.times.entry(f.job.batch_id.clone()).or_default();
            times.hash_s += hash_s;
            times.store_s += t.elapsed().as_secs_f64();
        }
        if let Err(e) = stored {
            return self.fail(&f.job, &WorkerError::Store(e));
        }
        match self.rt.block_on(self.services.catalog.complete_pages_job(&f.job.id, &self.worker_id, &key, &b3)) {
            Ok(Some(assemble)) => {
                tracing::info!(pages = ?(start..end), store_ms = started.elapsed().as_millis() as u64, "Part done; the batch is ready to assemble.");
                let _ = assemble_tx.send(assemble);
            }
            Ok(None) => tracing::debug!(pages = ?(start..end), store_ms = started.elapsed().as_millis() as u64, "Part done."),
            Err(e) => tracing::warn!(error = %e, code = e.code(), pages = ?(start..end), "Could not complete the pages job; another worker will redo it."),
        }
    }

    /// An `assemble` job: the stored parts of a batch, in page order, cut into documents,
    /// stored, and the report committed. An unreadable part is queued again (and assembly
    /// starts over when it is done).
    fn assemble(&self, job: &Job) -> Result<Option<BatchOutcome>, WorkerError> {
        let manifest = manifest(job)?;
        let started = std::time::Instant::now();
        let catalog = &self.services.catalog;
        let parts = self.rt.block_on(catalog.pages_results(&job.batch_id))?;
        let total = parts.last().map_or(0, |p| p.end);
        if parts.first().is_none_or(|p| p.start != 0) || parts.windows(2).any(|w| w[0].end != w[1].start) {
            return Err(WorkerError::Catalog(crate::catalog::CatalogError::Corrupt(format!("batch {} has gaps between its parts", job.batch_id))));
        }
        let mut asm = pipeline::Assembler::new(&job.batch_id, &job.source, &manifest.scanned_at, total, &self.services.store, &self.rt, &self.opts);
        asm.report_progress = false;
        // Parts are fetched ahead (at most PREFETCH_PARTS in flight, in order) while the
        // assembler writes the documents of the ones already here.
        let mut ahead = std::collections::VecDeque::new();
        let mut next = 0;
        for part in &parts {
            while next < parts.len() && ahead.len() < PREFETCH_PARTS {
                let (store, key, b3) = (self.services.store.clone(), parts[next].key.clone(), parts[next].blake3.clone());
                ahead.push_back(self.rt.spawn(async move { store.get_verified(&key, &b3).await }));
                next += 1;
            }
            let fetched = ahead.pop_front().expect("a fetch per part");
            let fetched = self.rt.block_on(fetched).map_err(|e| WorkerError::Io(format!("part fetch: {e}")))?;
            let bytes = match fetched {
                Ok(b) => b,
                Err(e) if e.is_retryable() => return Err(e.into()),
                Err(e) => {
                    tracing::warn!(error = %e, key = %part.key, "Part of the batch unreadable.");
                    self.rt.block_on(catalog.reopen_pages_job(&job.id, &self.worker_id, &part.job_id))?;
                    return Ok(None);
                }
            };
            let result = match pipeline::PagesResult::from_bytes(&bytes) {
                Ok(r) if r.start == part.start && r.end == part.end && r.batch_id == job.batch_id && r.pages.len() == r.end - r.start => r,
                other => {
                    tracing::warn!(error = ?other.err(), key = %part.key, "Part of the batch does not decode.");
                    self.rt.block_on(catalog.reopen_pages_job(&job.id, &self.worker_id, &part.job_id))?;
                    return Ok(None);
                }
            };
            for page in result.pages {
                asm.push(page)?;
            }
        }
        let outcome = asm.finish()?;
        self.rt.block_on(catalog.complete_job(&job.id, &self.worker_id, &outcome.report))?;
        tracing::info!(parts = parts.len(), ms = started.elapsed().as_millis() as u64, "Batch assembled.");
        // The parts are intermediate: the documents are stored and verified now.
        if let Err(e) = self.rt.block_on(self.services.store.delete_prefix(&format!("work/{}/", job.batch_id))) {
            tracing::warn!(error = %e, "Could not delete the batch's intermediate parts.");
        }
        {
            let mut summary = self.summary.lock().expect("summary");
            pipeline::add_times(summary.times.entry(job.batch_id.clone()).or_default(), &outcome.times);
        }
        Ok(Some(BatchOutcome { times: StageTimes::default(), ..outcome }))
    }
}

type PageIter = Box<dyn Iterator<Item = Result<crate::model::PageImage, crate::intake::PageFailure>> + Send>;

/// The page source of [`JobContext::run_pages_jobs`]: the pages of the job in hand, then
/// of the next `pages` job it claims (only when the page threads ask for more).
struct Feeder<'a> {
    ctx: &'a JobContext,
    first: Option<Job>,
    /// The part in hand: its tag, the page count of its batch, its pages.
    current: Option<(u64, usize, PageIter)>,
    next_tag: u64,
    inflight: &'a Mutex<HashMap<u64, InFlight>>,
    /// Notified with `inflight` each time a processed page comes back.
    page_back: &'a std::sync::Condvar,
    /// Originals fetched for the last batches worked on (most recent last).
    inputs: Vec<(String, Arc<Fetched>)>,
}

impl Feeder<'_> {
    /// Waits until at most `limit` pages handed to the page threads are still unprocessed,
    /// or the worker is stopping (then returns false).
    fn wait_for_room(&self, limit: usize) -> bool {
        let outstanding = |map: &HashMap<u64, InFlight>| map.values().map(|f| f.expected.saturating_sub(f.pages.len())).sum::<usize>();
        let mut map = self.inflight.lock().expect("inflight");
        loop {
            if self.ctx.stop.load(Ordering::Relaxed) {
                return false;
            }
            if outstanding(&map) <= limit {
                return true;
            }
            // The timeout only bounds how late a stop request is seen.
            map = self.page_back.wait_timeout(map, Duration::from_millis(100)).expect("inflight").0;
        }
    }

    fn input_for(&mut self, job: &Job) -> Result<Arc<Fetched>, WorkerError> {
        if let Some((_, f)) = self.inputs.iter().find(|(b, _)| *b == job.batch_id) {
            return Ok(f.clone());
        }
        let manifest = manifest(job)?;
        let fetched = Arc::new(self.ctx.rt.block_on(fetch_originals(&self.ctx.services, job, &manifest, &self.ctx.worker_id))?);
        self.inputs.push((job.batch_id.clone(), fetched.clone()));
        if self.inputs.len() > 2 {
            self.inputs.remove(0);
        }
        Ok(fetched)
    }
}

impl Iterator for Feeder<'_> {
    type Item = PageWork;

    fn next(&mut self) -> Option<PageWork> {
        loop {
            if let Some((tag, total, pages)) = &mut self.current {
                if let Some(page) = pages.next() {
                    return Some(PageWork::new(*tag, page, *total, self.ctx.opts.workers.max(1)));
                }
                self.current = None;
            }
            let job = match self.first.take() {
                Some(job) => job,
                None => {
                    // Claim the next part only when the page threads are about to run dry
                    // (at most one page waiting beyond the one each is on): a part claimed
                    // early sits here while another worker may be idle, and the batch ends
                    // later. With none waiting, a thread done with a separator or a blank
                    // (milliseconds) waited for a claim and a decode: traced, page threads
                    // waited 152 ms for pages over a 50-page run, 58 ms with one waiting.
                    // Keeping 4 waiting did not keep the cores busier (97.6-97.8% vs
                    // 97.9-98.0% of two cores over a 50-page run).
                    if !self.wait_for_room(self.ctx.opts.workers.max(1) + 1) {
                        return None;
                    }
                    let filter = ClaimFilter { batches: self.ctx.only.as_deref(), pages_only: true };
                    match self.ctx.rt.block_on(self.ctx.services.catalog.claim(filter, &self.ctx.worker_id, self.ctx.stale_after)) {
                        Ok(Some(job)) => {
                            self.ctx.summary.lock().expect("summary").jobs += 1;
                            job
                        }
                        Ok(None) => return None,
                        Err(e) => {
                            tracing::warn!(error = %e, "Cannot claim more pages.");
                            return None;
                        }
                    }
                }
            };
            let JobKind::Pages { start, end } = job.kind else { continue };
            match self.input_for(&job) {
                Ok(fetched) if end <= fetched.input.page_count() => {
                    let tag = self.next_tag;
                    self.next_tag += 1;
                    self.inflight.lock().expect("inflight").insert(tag, InFlight { job, expected: end - start, pages: Vec::new() });
                    self.current = Some((tag, fetched.input.page_count(), Box::new(fetched.input.pages_range(start..end))));
                }
                Ok(fetched) => {
                    let e = WorkerError::Io(format!("pages {start}..{end} asked of a batch of {} pages", fetched.input.page_count()));
                    self.ctx.fail(&job, &e);
                }
                Err(e) => self.ctx.fail(&job, &e),
            }
        }
    }
}

fn manifest(job: &Job) -> Result<Manifest, WorkerError> {
    serde_json::from_str(&job.manifest_json).map_err(|e| WorkerError::Io(format!("batch {} has an unreadable manifest: {e}", job.batch_id)))
}

/// A batch's originals on local disk; the scratch copies go when this is dropped.
struct Fetched {
    input: Input,
    work: Option<PathBuf>,
}

impl Drop for Fetched {
    fn drop(&mut self) {
        if let Some(w) = &self.work {
            let _ = std::fs::remove_dir_all(w);
        }
    }
}

/// The batch's original files: where `sohoa process` read them, when they are still
/// unchanged, else copied back out of the store (verified) into a scratch folder.
async fn fetch_originals(services: &Services, job: &Job, manifest: &Manifest, worker_id: &str) -> Result<Fetched, WorkerError> {
    // Per worker: a worker that lost its job to a takeover must not share scratch files.
    let work = services.data_dir.join("work").join(format!("{}-{}", job.batch_id, sanitize(worker_id)));
    let _ = tokio::fs::remove_dir_all(&work).await;
    let mut paths = Vec::with_capacity(manifest.files.len());
    let mut used_work = false;
    for (i, f) in manifest.files.iter().enumerate() {
        if let Some(path) = services.local_original(&f.blake3) {
            paths.push(path);
            continue;
        }
        if !used_work {
            tokio::fs::create_dir_all(&work).await.map_err(|e| WorkerError::Io(format!("{}: {e}", work.display())))?;
            used_work = true;
        }
        let local = work.join(format!("{i:05}-{}", sanitize(&f.name)));
        services.store.get_file_verified(&f.key, &f.blake3, &local).await?;
        paths.push(local);
    }
    let work = used_work.then_some(work);
    match Input::from_files(PathBuf::from(&job.source), &paths) {
        Ok(input) => Ok(Fetched { input, work }),
        Err(e) => {
            if let Some(w) = &work {
                let _ = tokio::fs::remove_dir_all(w).await;
            }
            Err(e.into())
        }
    }
}

fn sanitize(name: &str) -> String {
    name.chars().map(|c| if c.is_alphanumeric() || ".-_".contains(c) { c } else { '_' }).collect()
}

#[cfg(test)]
mod tests {
    use super::FileStamp;

    #[test]
    fn a_file_stamp_changes_when_the_file_is_written_or_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let scan = dir.path().join("scan.tif");
        std::fs::write(&scan, b"page one").unwrap();
        let stamp = FileStamp::of(&scan).unwrap();
        assert_eq!(FileStamp::of(&scan).unwrap(), stamp);
        // Reading it, or copying it elsewhere, changes nothing.
        let _ = std::fs::read(&scan).unwrap();
        std::fs::copy(&scan, dir.path().join("copy.tif")).unwrap();
        assert_eq!(FileStamp::of(&scan).unwrap(), stamp);
        // Appended to (the scanner still writing).
        use std::io::Write;
        std::fs::OpenOptions::new().append(true).open(&scan).unwrap().write_all(b", two").unwrap();
        assert_ne!(FileStamp::of(&scan).unwrap(), stamp);
        // Another file of the same size renamed over it.
        let stamp = FileStamp::of(&scan).unwrap();
        let other = dir.path().join("other.tif");
        std::fs::write(&other, b"page one, 22!").unwrap();
        assert_eq!(std::fs::metadata(&other).unwrap().len(), std::fs::metadata(&scan).unwrap().len());
        std::fs::rename(&other, &scan).unwrap();
        assert_ne!(FileStamp::of(&scan).unwrap(), stamp);
        assert!(FileStamp::of(&dir.path().join("gone.tif")).is_err());
    }
}
