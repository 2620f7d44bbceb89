//! Running one claimed job on a blocking thread: a `batch` job through the whole pipeline,
//! an `assemble` job from the stored parts; every outcome and failure is recorded in the
//! catalog. (`pages` jobs stream through the page threads: see `feeder`.)

use super::part::StoredPart;
use super::scratch::fetch_originals;
use super::{PREFETCH_PARTS, Services, WorkSummary};
use crate::runtime::catalog::{Job, JobKind};
use crate::runtime::error::Error;
use crate::runtime::pipeline::{self, BatchOutcome, PipelineOptions};
use crate::stages::ocr::OcrEngine;
use crate::timing::{StageTimes, add_times};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Everything a job needs, owned, for the blocking thread that runs it.
pub(super) struct JobContext {
    pub(super) services: Services,
    pub(super) opts: PipelineOptions,
    pub(super) worker_id: String,
    pub(super) stale_after: Duration,
    pub(super) only: Option<Vec<String>>,
    pub(super) stop: Arc<AtomicBool>,
    pub(super) summary: Arc<Mutex<WorkSummary>>,
    pub(super) rt: tokio::runtime::Handle,
}

impl JobContext {
    /// Runs a claimed job (blocking); every outcome and failure is recorded in the catalog.
    pub(super) fn run(&self, job: Job, engines: &mut Option<Vec<Box<dyn OcrEngine>>>) {
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

    pub(super) fn with_engines<T>(
        &self,
        engines: &mut Option<Vec<Box<dyn OcrEngine>>>,
        f: impl FnOnce(&mut [Box<dyn OcrEngine>]) -> Result<T, Error>,
    ) -> Result<T, Error> {
        if engines.as_ref().is_none_or(|e| e.len() != self.opts.workers.max(1)) {
            *engines = Some(pipeline::start_engines(&self.opts)?);
        }
        f(engines.as_mut().expect("engines started"))
    }

    /// Commits a finished batch's report (already done by `assemble`) or records a failure.
    pub(super) fn record(&self, job: &Job, result: Result<Option<BatchOutcome>, Error>) {
        match result {
            Ok(Some(outcome)) => {
                tracing::info!(pages = outcome.report.pages.len(), "Batch done.");
                self.summary.lock().expect("summary").outcomes.insert(job.batch_id.clone(), outcome);
            }
            Ok(None) => {}
            Err(e) => self.fail(job, &e),
        }
    }

    pub(super) fn fail(&self, job: &Job, e: &Error) {
        tracing::error!(error = %e, code = e.code(), "Job failed.");
        if let Err(err) = self.rt.block_on(self.services.catalog.fail_job(&job.id, &self.worker_id, &format!("{}: {e}", e.code()), e.is_retryable())) {
            tracing::warn!(error = %err, code = err.code(), "Could not record the failure; the job will be taken over when its heartbeat goes stale.");
        }
    }

    /// A `batch` job: the whole batch through the pipeline, then the report committed.
    fn run_batch_job(&self, job: &Job, engines: &mut [Box<dyn OcrEngine>]) -> Result<Option<BatchOutcome>, Error> {
        let manifest = super::manifest::manifest(job)?;
        let fetched = self.rt.block_on(fetch_originals(&self.services, job, &manifest, &self.worker_id))?;
        let outcome =
            pipeline::run_batch_with(engines, &job.batch_id, &job.source, &manifest.scanned_at, &fetched.input, &self.services.store, &self.rt, &self.opts);
        drop(fetched);
        let outcome = outcome?;
        self.rt.block_on(self.services.catalog.complete_job(&job.id, &self.worker_id, &outcome.report))?;
        Ok(Some(outcome))
    }

    /// An `assemble` job: the stored parts of a batch, in page order, cut into documents,
    /// stored, and the report committed. An unreadable part is queued again (and assembly
    /// starts over when it is done).
    pub(super) fn assemble(&self, job: &Job) -> Result<Option<BatchOutcome>, Error> {
        let manifest = super::manifest::manifest(job)?;
        let started = std::time::Instant::now();
        let catalog = &self.services.catalog;
        let parts = self.rt.block_on(catalog.part_records(&job.batch_id))?;
        let total = parts.last().map_or(0, |p| p.end);
        if parts.first().is_none_or(|p| p.start != 0) || parts.windows(2).any(|w| w[0].end != w[1].start) {
            return Err(Error::Catalog(crate::runtime::catalog::CatalogError::Corrupt(format!("batch {} has gaps between its parts", job.batch_id))));
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
            let fetched = self.rt.block_on(fetched).map_err(|e| Error::Internal(format!("part fetch: {e}")))?;
            let bytes = match fetched {
                Ok(b) => b,
                Err(e) if e.is_retryable() => return Err(e.into()),
                Err(e) => {
                    tracing::warn!(error = %e, key = %part.key, "Part of the batch unreadable.");
                    self.rt.block_on(catalog.reopen_pages_job(&job.id, &self.worker_id, &part.job_id, &format!("stored part unreadable: {e}")))?;
                    return Ok(None);
                }
            };
            let result = match StoredPart::from_bytes(&bytes) {
                Ok(r) if r.start == part.start && r.end == part.end && r.batch_id == job.batch_id && r.pages.len() == r.end - r.start => r,
                Ok(r) => {
                    tracing::warn!(key = %part.key, pages = ?(r.start..r.end), "Part of the batch holds other pages than its job; the part is redone.");
                    let error = format!("stored part holds pages {}..{}, its job {}..{}", r.start, r.end, part.start, part.end);
                    self.rt.block_on(catalog.reopen_pages_job(&job.id, &self.worker_id, &part.job_id, &error))?;
                    return Ok(None);
                }
                Err(e) => {
                    tracing::warn!(error = %e, key = %part.key, "Part of the batch cannot be read; the part is redone.");
                    self.rt.block_on(catalog.reopen_pages_job(&job.id, &self.worker_id, &part.job_id, &e.to_string()))?;
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
            add_times(summary.times.entry(job.batch_id.clone()).or_default(), &outcome.times);
        }
        crate::timing::add_process_times(&outcome.times);
        Ok(Some(BatchOutcome { times: StageTimes::default(), ..outcome }))
    }
}
