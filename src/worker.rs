//! Ingest and job running: the durable path every batch takes.
//!
//! Owns turning an input into a queued batch (originals copied into the object store and
//! verified, then one catalog transaction creating the batch and its job) and running a
//! claimed job: fetch the originals back from the store (so any worker on any machine can
//! run it), run the pipeline with a heartbeat, then commit the report in one catalog
//! transaction, or record the failure for retry. Callers: `sohoa process` (ingest, then
//! run its own batches), and later `sohoa worker` / `sohoa ingest`.

use crate::catalog::{Catalog, CreateOutcome, Job, NewBatch};
use crate::intake::Input;
use crate::pipeline::{self, BatchOutcome, PipelineOptions};
use crate::store::Store;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
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
    /// instead of fetching them from the store when their hash still matches.
    pub local_originals: LocalOriginals,
}

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

/// Where this process read originals from at ingest, by BLAKE3 (shared by clones).
pub type LocalOriginals = std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, PathBuf>>>;

impl Services {
    pub fn new(catalog: Catalog, store: Store, data_dir: PathBuf) -> Services {
        Services { catalog, store, data_dir, local_originals: Default::default() }
    }

    fn local_original(&self, blake3: &str) -> Option<PathBuf> {
        self.local_originals.lock().ok()?.get(blake3).cloned()
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
        let path = file.path.clone();
        let b3 = tokio::task::spawn_blocking(move || hash_file(&path))
            .await
            .map_err(|e| WorkerError::Io(e.to_string()))?
            .map_err(|e| WorkerError::Io(format!("{}: {e}", file.path.display())))?;
        let key = Store::original_key(&b3, file.kind.extension());
        services.store.put_file_verified(&key, &file.path).await?;
        let bytes = std::fs::metadata(&file.path).map(|m| m.len()).unwrap_or(0);
        let name = file.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if let Ok(mut local) = services.local_originals.lock() {
            local.insert(b3.clone(), file.path.clone());
        }
        files.push(ManifestFile { name, key, blake3: b3, bytes });
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

fn hash_file(path: &Path) -> std::io::Result<String> {
    let mut hasher = blake3::Hasher::new();
    hasher.update_reader(std::fs::File::open(path)?)?;
    Ok(hasher.finalize().to_hex().to_string())
}

/// The file's modification time in Vietnam's time zone (when the scanner wrote it).
fn scan_time(path: &Path) -> String {
    let modified = std::fs::metadata(path).and_then(|m| m.modified()).unwrap_or_else(|_| std::time::SystemTime::now());
    let t: chrono::DateTime<chrono::Utc> = modified.into();
    let vn = chrono::FixedOffset::east_opt(7 * 3600).expect("valid offset");
    t.with_timezone(&vn).to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// Runs one claimed job to the end: the report is committed, or the failure recorded.
pub async fn run_job(
    services: &Services,
    job: Job,
    worker_id: &str,
    opts: &PipelineOptions,
    stale_after: Duration,
) -> Result<BatchOutcome, WorkerError> {
    let span = tracing::info_span!("job", batch_id = %job.batch_id, attempt = job.attempts);
    let _enter = span.enter();
    let result = run_job_inner(services, &job, worker_id, opts, heartbeat_every(stale_after)).await;
    match &result {
        Ok(outcome) => {
            services.catalog.complete_job(&job.id, worker_id, &outcome.report).await?;
            tracing::info!(pages = outcome.report.pages.len(), "Batch done.");
        }
        Err(e) => {
            tracing::error!(error = %e, code = e.code(), "Batch failed.");
            services.catalog.fail_job(&job.id, worker_id, &format!("{}: {e}", e.code()), e.is_retryable()).await?;
        }
    }
    result
}

/// Heartbeats come four times per staleness window, so one late beat never loses a job.
pub fn heartbeat_every(stale_after: Duration) -> Duration {
    (stale_after / 4).max(Duration::from_millis(200))
}

async fn run_job_inner(
    services: &Services,
    job: &Job,
    worker_id: &str,
    opts: &PipelineOptions,
    heartbeat: Duration,
) -> Result<BatchOutcome, WorkerError> {
    let manifest: Manifest = serde_json::from_str(&job.manifest_json)
        .map_err(|e| WorkerError::Io(format!("batch {} has an unreadable manifest: {e}", job.batch_id)))?;
    // Per worker: a worker that lost its job to a takeover must not share scratch files.
    let work = services.data_dir.join("work").join(format!("{}-{}", job.batch_id, sanitize(worker_id)));
    let _ = tokio::fs::remove_dir_all(&work).await;
    tokio::fs::create_dir_all(&work).await.map_err(|e| WorkerError::Io(format!("{}: {e}", work.display())))?;
    let mut paths = Vec::with_capacity(manifest.files.len());
    for (i, f) in manifest.files.iter().enumerate() {
        // The scan is still where it was ingested from (`sohoa process`): read it there
        // if it is unchanged, instead of copying it back out of the store.
        if let Some(path) = services.local_original(&f.blake3) {
            let p = path.clone();
            if tokio::task::spawn_blocking(move || hash_file(&p)).await.ok().and_then(Result::ok).as_deref() == Some(f.blake3.as_str()) {
                paths.push(path.clone());
                continue;
            }
        }
        let local = work.join(format!("{i:05}-{}", sanitize(&f.name)));
        services.store.get_file_verified(&f.key, &f.blake3, &local).await?;
        paths.push(local);
    }
    let input = Input::from_files(PathBuf::from(&job.source), &paths)?;

    // Heartbeat while the batch runs, so a dead worker's job can be reclaimed.
    let (stop_tx, mut stop_rx) = tokio::sync::oneshot::channel::<()>();
    let hb = {
        let catalog = services.catalog.clone();
        let (job_id, worker) = (job.id.clone(), worker_id.to_string());
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = &mut stop_rx => break,
                    _ = tokio::time::sleep(heartbeat) => {
                        if let Err(e) = catalog.heartbeat(&job_id, &worker).await {
                            tracing::warn!(error = %e, "Heartbeat failed.");
                        }
                    }
                }
            }
        })
    };
    let (store, opts, source, scanned_at, batch_id) =
        (services.store.clone(), opts.clone(), job.source.clone(), manifest.scanned_at.clone(), job.batch_id.clone());
    let rt = tokio::runtime::Handle::current();
    let outcome = tokio::task::spawn_blocking(move || {
        pipeline::run_batch(&batch_id, &source, &scanned_at, &input, &store, &rt, &opts)
    })
    .await;
    let _ = stop_tx.send(());
    let _ = hb.await;
    let _ = tokio::fs::remove_dir_all(&work).await;
    match outcome {
        Ok(r) => Ok(r?),
        // A panic in the pipeline is a job failure, not a worker crash.
        Err(e) => Err(WorkerError::Pipeline(pipeline::PipelineError::Internal(e.to_string()))),
    }
}

fn sanitize(name: &str) -> String {
    name.chars().map(|c| if c.is_alphanumeric() || ".-_".contains(c) { c } else { '_' }).collect()
}

/// Claims and runs the jobs of `batch_ids` until each is done or failed for good.
pub async fn run_batches(
    services: &Services,
    batch_ids: &[String],
    worker_id: &str,
    opts: &PipelineOptions,
    stale_after: Duration,
) -> Result<Vec<Option<BatchOutcome>>, WorkerError> {
    let mut outcomes = Vec::new();
    for batch_id in batch_ids {
        let mut outcome = None;
        loop {
            match services.catalog.batch_state(batch_id).await?.as_deref() {
                Some("done") | Some("failed") | None => break,
                _ => {}
            }
            match services.catalog.claim_job_for_batch(batch_id, worker_id, stale_after).await? {
                Some(job) => match run_job(services, job, worker_id, opts, stale_after).await {
                    Ok(o) => outcome = Some(o),
                    Err(e) if e.is_retryable() => tokio::time::sleep(Duration::from_millis(500)).await,
                    Err(_) => break,
                },
                // Someone else holds it (or it waits for its retry time).
                None => tokio::time::sleep(Duration::from_millis(500)).await,
            }
        }
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

/// How a long-running worker behaves.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    pub worker_id: String,
    /// A running job whose heartbeat is older than this is taken over by another worker.
    pub stale_after: Duration,
    /// Wait between polls of an empty queue.
    pub poll: Duration,
    /// Stop once no job is queued or running anywhere (tests, cron-style runs).
    pub exit_when_idle: bool,
}

/// `sohoa worker`: claims and runs jobs until `shutdown` resolves (the job in hand is
/// finished first) or, with `exit_when_idle`, until the queue is empty. Returns the
/// number of jobs run here.
pub async fn run_worker(
    services: &Services,
    opts: &PipelineOptions,
    wopts: &WorkerOptions,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<usize, WorkerError> {
    tokio::pin!(shutdown);
    let mut ran = 0;
    tracing::info!(worker_id = %wopts.worker_id, "Worker started.");
    loop {
        let claimed = tokio::select! {
            _ = &mut shutdown => break,
            claimed = services.catalog.claim_job(&wopts.worker_id, wopts.stale_after) => claimed,
        };
        match claimed {
            Ok(Some(job)) => {
                // Failures are recorded on the job (retry with backoff, or parked as failed).
                if let Err(e) = run_job(services, job, &wopts.worker_id, opts, wopts.stale_after).await {
                    tracing::warn!(error = %e, code = e.code(), "Job did not complete.");
                }
                ran += 1;
                continue;
            }
            Ok(None) => {
                if wopts.exit_when_idle {
                    let c = services.catalog.queue_counts().await?;
                    if c.queued == 0 && c.running == 0 {
                        break;
                    }
                }
            }
            // The catalog may be restarting: keep polling.
            Err(e) if e.is_retryable() => tracing::warn!(error = %e, "Cannot reach the catalog; retrying."),
            Err(e) => return Err(e.into()),
        }
        tokio::select! {
            _ = &mut shutdown => break,
            _ = tokio::time::sleep(wopts.poll) => {}
        }
    }
    tracing::info!(worker_id = %wopts.worker_id, jobs = ran, "Worker stopped.");
    Ok(ran)
}
