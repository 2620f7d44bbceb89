//! Feeding the page threads: `pages` jobs (parts of a batch) streamed through one set of
//! page threads, the next part claimed only when the threads are about to run dry; each
//! part's processed pages stored as one object when its last page is back, and the
//! batch's `assemble` job handed to a thread of its own when the last part is done.

use super::jobs::JobContext;
use super::part::StoredPart;
use super::scratch::{Fetched, fetch_originals};
use crate::runtime::catalog::{ClaimFilter, Job, JobKind};
use crate::runtime::error::Error;
use crate::runtime::pipeline::{self, PageDone, PageWork};
use crate::runtime::store::Store;
use crate::stages::ocr::OcrEngine;
use crate::timing::{CpuClock, add_times};
use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A `pages` job whose pages are on the page threads.
struct InFlight {
    job: Job,
    expected: usize,
    pages: Vec<PageDone>,
    /// The job's lease on the pages its threads are on.
    lease: Arc<JobLease>,
}

impl JobContext {
    /// `first` and then every further `pages` job this worker can claim, streamed through
    /// one set of page threads (no pause between jobs). Each job's pages are stored as one
    /// object when its last page is done; the worker completing a batch's last part
    /// assembles it on a thread of its own while the page threads go on.
    pub(super) fn run_pages_jobs(&self, first: Job, engines: &mut [Box<dyn OcrEngine>]) {
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
                    add_times(self.summary.lock().expect("summary").times.entry(entry.job.batch_id.clone()).or_default(), &done.times);
                    crate::timing::add_process_times(&done.times);
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
                let e = Error::Pipeline(pipeline::PipelineError::Internal(format!("{} of {} pages came back", f.pages.len(), f.expected)));
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
        let result = StoredPart { batch_id: f.job.batch_id.clone(), start, end, pages: f.pages };
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
        crate::timing::add_process_times(&crate::timing::StageTimes { hash_s, store_s: t.elapsed().as_secs_f64(), ..Default::default() });
        if let Err(e) = stored {
            return self.fail(&f.job, &Error::Store(e));
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
}

type PageIter = Box<dyn Iterator<Item = Result<crate::model::PageImage, crate::stages::intake::PageFailure>> + Send>;

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

    fn input_for(&mut self, job: &Job) -> Result<Arc<Fetched>, Error> {
        if let Some((_, f)) = self.inputs.iter().find(|(b, _)| *b == job.batch_id) {
            return Ok(f.clone());
        }
        let manifest = super::manifest::manifest(job)?;
        let fetched = Arc::new(self.ctx.rt.block_on(fetch_originals(&self.ctx.services, job, &manifest, &self.ctx.worker_id))?);
        self.inputs.push((job.batch_id.clone(), fetched.clone()));
        if self.inputs.len() > 2 {
            self.inputs.remove(0);
        }
        Ok(fetched)
    }
}

impl Feeder<'_> {
    /// The next `pages` job to feed: the one the worker was started with, then one claimed
    /// only when the page threads are about to run dry (one page waiting beyond the one
    /// each is on: a part claimed early sits here while another worker may be idle).
    /// `None` ends the stream: nothing left to claim, the catalog failed, or stopping.
    fn claim_part(&mut self) -> Option<Job> {
        if let Some(job) = self.first.take() {
            return Some(job);
        }
        if !self.wait_for_room(self.ctx.opts.workers.max(1) + 1) {
            return None;
        }
        let filter = ClaimFilter { batches: self.ctx.only.as_deref(), pages_only: true };
        match self.ctx.rt.block_on(self.ctx.services.catalog.claim(filter, &self.ctx.worker_id, self.ctx.stale_after)) {
            Ok(Some(job)) => {
                self.ctx.summary.lock().expect("summary").jobs += 1;
                Some(job)
            }
            Ok(None) => None,
            Err(e) => {
                tracing::warn!(error = %e, "Cannot claim more pages.");
                None
            }
        }
    }

    /// Opens a claimed part: its originals fetched (or reused), its pages registered as in
    /// flight under a new tag. A part that cannot be opened is handed back with the reason.
    fn open_part(&mut self, job: Job) -> Result<(u64, usize, PageIter), Box<(Job, Error)>> {
        let JobKind::Pages { start, end } = job.kind else {
            return Err(Box::new((job, Error::Internal("a job of another kind was claimed as pages".into()))));
        };
        super::faults::pause_at_part(start);
        let fetched = match self.input_for(&job) {
            Ok(f) => f,
            Err(e) => return Err(Box::new((job, e))),
        };
        let total = fetched.input.page_count();
        if end > total {
            return Err(Box::new((job, Error::CorruptJob(format!("pages {start}..{end} asked of a batch of {total} pages")))));
        }
        let tag = self.next_tag;
        self.next_tag += 1;
        let pages = part_pages(&fetched.input, start..end, &job.poison_pages);
        if !job.poison_pages.is_empty() {
            tracing::warn!(pages = ?job.poison_pages, "Pages their worker died on twice are not run again; they fail alone.");
        }
        let lease = Arc::new(JobLease {
            job_id: job.id.clone(),
            worker_id: self.ctx.worker_id.clone(),
            catalog: self.ctx.services.catalog.clone(),
            rt: self.ctx.rt.clone(),
            on_threads: Mutex::default(),
        });
        self.inflight.lock().expect("inflight").insert(tag, InFlight { job, expected: end - start, pages: Vec::new(), lease });
        Ok((tag, total, pages))
    }
}

/// The lease of one `pages` job on the pages its threads are on: written to the catalog as
/// each page starts and ends, so a worker that dies leaves the pages it died on there.
struct JobLease {
    job_id: String,
    worker_id: String,
    catalog: crate::runtime::catalog::Catalog,
    rt: tokio::runtime::Handle,
    on_threads: Mutex<BTreeSet<usize>>,
}

impl JobLease {
    fn write(&self, change: impl FnOnce(&mut BTreeSet<usize>)) {
        // Held while writing: two threads' writes land in the order of their changes.
        let mut set = self.on_threads.lock().expect("on_threads");
        change(&mut set);
        let pages: Vec<usize> = set.iter().copied().collect();
        if let Err(e) = self.rt.block_on(self.catalog.lease_pages(&self.job_id, &self.worker_id, &pages)) {
            tracing::warn!(error = %e, "Could not record the pages in progress in the lease.");
        }
    }
}

impl pipeline::PageLease for JobLease {
    fn started(&self, index: usize) {
        self.write(|s| {
            s.insert(index);
        });
        super::faults::abort_on_page(index);
    }

    fn finished(&self, index: usize) {
        self.write(|s| {
            s.remove(&index);
        });
    }
}

/// The pages `range` of `input`, decoded in order, except `poison`: those are not decoded
/// at all and fail with [`pipeline::WORKER_STOPPED`].
fn part_pages(input: &crate::stages::intake::Input, range: std::ops::Range<usize>, poison: &[usize]) -> PageIter {
    let mut it: PageIter = Box::new(std::iter::empty());
    let mut lo = range.start;
    for &p in poison.iter().filter(|p| range.contains(*p)) {
        if lo < p {
            it = Box::new(it.chain(input.pages_range(lo..p)));
        }
        let failure = crate::stages::intake::PageFailure { index: p, message: pipeline::WORKER_STOPPED.to_string() };
        it = Box::new(it.chain(std::iter::once(Err(failure))));
        lo = p + 1;
    }
    if lo < range.end {
        it = Box::new(it.chain(input.pages_range(lo..range.end)));
    }
    it
}

/// The page threads' source: the pages of the part in hand, then of the next part claimed.
/// A part that cannot be opened is failed in the catalog (retried or not, as its error
/// says) and the stream goes on with the next.
impl Iterator for Feeder<'_> {
    type Item = PageWork;

    fn next(&mut self) -> Option<PageWork> {
        loop {
            if let Some((tag, total, pages)) = &mut self.current {
                if let Some(page) = pages.next() {
                    let mut work = PageWork::new(*tag, page, *total, self.ctx.opts.workers.max(1));
                    work.lease = self.inflight.lock().expect("inflight").get(tag).map(|f| f.lease.clone() as Arc<dyn pipeline::PageLease>);
                    return Some(work);
                }
                self.current = None;
            }
            let job = self.claim_part()?;
            match self.open_part(job) {
                Ok(part) => self.current = Some(part),
                Err(failed) => self.ctx.fail(&failed.0, &failed.1),
            }
        }
    }
}
