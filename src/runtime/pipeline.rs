//! The pipeline: one batch from decoded pages to stored, catalogued documents.
//!
//! Owns composing the stages with bounded concurrency:
//!
//! ```text
//! decode thread ─(bounded)─> N page threads ─(bounded)─> collector
//!  (intake)                   clean, barcodes,            reorders pages, split plan,
//!                             OCR (own engine),           PDF per closed document,
//!                             encode image                hash, store (verified)
//! ```
//!
//! The two halves are separate so a batch can be split across workers: [`run_pages`] is
//! the page stage (decode thread and page threads, fed by any page source: a whole
//! batch, or the parts a worker claims one after another), and [`Assembler`] is the
//! collector (fed by the page stage of a whole batch, or by the stored parts
//! of a split batch's parts, in page order).
//!
//! Pages stream through: at most a few pages per thread are in flight, and a document's
//! pages are held (encoded, with their OCR) only until the document is closed and stored.
//! A page that cannot be decoded or recognised degrades to a page warning; only storage
//! failures fail the batch. Callers: the worker (`crate::runtime::worker`), which owns the job
//! queue and commits the returned [`BatchReport`] to the catalog.

use crate::model::*;
use crate::runtime::store::Store;
use crate::stages::barcode;
use crate::stages::imaging;
use crate::stages::intake::{Input, PageFailure};
use crate::stages::ocr::{OcrConfig, OcrEngine, OcrError, bands::BandPool, tesseract::TesseractEngine};
use crate::stages::pdf;
use crate::stages::split::{self, SplitEvent, SplitOptions, Splitter};
use crate::timing::{CpuClock, StageTimes, add_times};
use sha2::Digest;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::mpsc::sync_channel;
use std::time::Instant;

/// Lowest resolution of a digitized copy under Decree 30/2020, Appendix I.
pub const MIN_ARCHIVE_DPI: f32 = 199.5;

/// How to run a batch.
#[derive(Clone)]
pub struct PipelineOptions {
    pub split: SplitOptions,
    /// Which barcodes are separators and what they ask for (`--separators FILE`).
    pub separators: Arc<split::rules::SeparatorRules>,
    /// What each procedure's dossiers must contain (`--procedures FILE`).
    pub procedures: Arc<crate::stages::dossier::procedures::ProcedureCatalog>,
    /// Page threads (each with its own OCR engine); defaults to the number of cores.
    pub workers: usize,
    pub ocr: OcrConfig,
    /// The standard the stored PDFs claim (`--pdf-profile`; default PDF/A-2b).
    pub pdf_profile: pdf::PdfProfile,
    /// Called with the number of pages just finished (for a progress bar).
    pub progress: Option<Arc<dyn Fn(usize) + Send + Sync>>,
    /// Makes OCR engines; tests swap in recorded or failing engines.
    pub engine_factory: EngineFactory,
    /// Scan signing: each stored document is signed before it is hashed and stored.
    pub signing: Option<crate::runtime::signing::ScanSigning>,
    /// Engines being started ahead of the first job ([`PipelineOptions::prestart_engines`]).
    prestarted: Arc<std::sync::Mutex<Option<Prestart>>>,
}

/// Makes one OCR engine from the configuration.
pub type EngineFactory = Arc<dyn Fn(&OcrConfig) -> Result<Box<dyn OcrEngine>, OcrError> + Send + Sync>;
type Engines = Vec<Box<dyn OcrEngine>>;
type Prestart = std::thread::JoinHandle<Result<Engines, OcrError>>;

impl PipelineOptions {
    pub fn new(ocr: OcrConfig) -> Self {
        PipelineOptions {
            split: SplitOptions::default(),
            separators: Arc::new(split::rules::SeparatorRules::default()),
            procedures: Arc::new(crate::stages::dossier::procedures::ProcedureCatalog::sample()),
            workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
            ocr,
            pdf_profile: pdf::PdfProfile::default(),
            progress: None,
            engine_factory: Arc::new(|cfg| Ok(Box::new(TesseractEngine::new(cfg)?) as Box<dyn OcrEngine>)),
            signing: None,
            prestarted: Arc::default(),
        }
    }

    /// Starts this many page threads' engines on a thread of their own (one after the
    /// other: Tesseract's initialisation is not known to be safe in parallel), so loading
    /// the models overlaps whatever the caller does next (ingest, the first claim, fetching
    /// the originals); [`start_engines`] then takes them. Call after the last change to
    /// `workers`, `ocr` or `engine_factory`.
    pub fn prestart_engines(&self) {
        let (n, ocr, factory) = (self.workers.max(1), self.ocr.clone(), Arc::clone(&self.engine_factory));
        let handle = std::thread::Builder::new().name("ocr-init".into()).spawn(move || (0..n).map(|_| factory(&ocr)).collect::<Result<Engines, _>>()).ok();
        *self.prestarted.lock().expect("prestarted engines") = handle;
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Ocr(#[from] OcrError),
    #[error("storing document failed: {0}")]
    Store(#[from] crate::runtime::store::StoreError),
    #[error("writing PDF failed: {0}")]
    Pdf(String),
    #[error("input unreadable: {0}")]
    Input(#[from] crate::stages::intake::IntakeError),
    #[error("a pipeline thread stopped unexpectedly: {0}")]
    Internal(String),
    #[error("signing the document failed: {0}")]
    Sign(#[from] crate::stages::sign::SignError),
}

impl PipelineError {
    pub fn code(&self) -> &'static str {
        match self {
            PipelineError::Ocr(e) => e.code(),
            PipelineError::Store(e) => e.code(),
            PipelineError::Pdf(_) => "pdf-write",
            PipelineError::Input(e) => e.code(),
            PipelineError::Internal(_) => "internal",
            PipelineError::Sign(e) => e.code(),
        }
    }

    /// Whether running the job again may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            PipelineError::Store(e) => e.is_retryable(),
            PipelineError::Internal(_) => true,
            PipelineError::Sign(e) => e.is_retryable(),
            _ => false,
        }
    }
}

/// A finished batch: the report plus what the bench wants to know.
#[derive(Debug, Clone)]
pub struct BatchOutcome {
    pub report: BatchReport,
    pub times: StageTimes,
    /// Pages that failed to decode or OCR (exit code 1 when non-zero).
    pub page_errors: usize,
}

/// One processed page: what a page thread hands to the collector, and what a `pages` job
/// stores for the job that assembles the batch (see [`PagesResult`]).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct PageDone {
    /// Which unit of work the page belongs to (the worker's own bookkeeping).
    #[serde(skip)]
    pub tag: u64,
    pub report: PageReport,
    pub signal: PageSignal,
    /// Present for content pages and kept separator sheets.
    pub pdf_page: Option<PdfPage>,
    #[serde(skip)]
    pub times: StageTimes,
    pub failed: bool,
}

/// A page to process, as the decode side hands it over.
pub struct PageWork {
    pub tag: u64,
    pub page: Result<PageImage, PageFailure>,
    /// One of the batch's last pages ([`is_late`]): the bands of its OCR are shared with
    /// the page threads that have no page left (see [`crate::stages::ocr::bands`]).
    pub late: bool,
    /// Told by the page thread that takes the page when it starts on it and when it is
    /// done with it, before handing it back (the worker's lease on the page's job).
    pub lease: Option<Arc<dyn PageLease>>,
}

/// What a page thread reports of the pages it works on (see `PageWork::lease`).
pub trait PageLease: Send + Sync {
    fn started(&self, index: usize);
    fn finished(&self, index: usize);
}

/// The failure of a page not run again because its worker died on it (see
/// `catalog::queue::MAX_PAGE_DEATHS`).
pub const WORKER_STOPPED: &str = "the worker stopped while processing this page";

/// Pages per page thread, counted back from a batch's end, whose bands are shared between
/// the page threads. One per thread left the other threads idle whenever the page before
/// the last was a content page still being read by one thread (in a batch, about half the
/// pages are separators or blanks and take milliseconds): with four per thread, every
/// content page that can still be running at the end is shared, and the wait at the end
/// is at most a band.
pub const LATE_PAGES_PER_THREAD: usize = 4;

/// Whether page `index` of a batch of `total` pages, read by `threads` page threads, is
/// one of its last ones: its bands are shared. Only the page index decides, so a batch is
/// always cut the same way, however the threads are scheduled; one thread has no one to
/// share bands with.
pub fn is_late(index: usize, total: usize, threads: usize) -> bool {
    threads > 1 && index + LATE_PAGES_PER_THREAD * threads >= total
}

impl PageWork {
    /// Page `page` of a batch of `total` pages, for `threads` page threads.
    pub fn new(tag: u64, page: Result<PageImage, PageFailure>, total: usize, threads: usize) -> PageWork {
        let index = match &page {
            Ok(p) => p.index,
            Err(f) => f.index,
        };
        PageWork { tag, page, late: is_late(index, total, threads), lease: None }
    }
}

/// Starts one OCR engine per page thread. A missing language fails here, before any page.
/// Takes the engines of [`PipelineOptions::prestart_engines`] when there are (as many as
/// page threads); otherwise starts them here.
pub fn start_engines(opts: &PipelineOptions) -> Result<Vec<Box<dyn OcrEngine>>, PipelineError> {
    let prestarted = opts.prestarted.lock().expect("prestarted engines").take();
    if let Some(Ok(Ok(engines))) = prestarted.map(|h| h.join())
        && engines.len() == opts.workers.max(1)
    {
        return Ok(engines);
    }
    Ok((0..opts.workers.max(1)).map(|_| (opts.engine_factory)(&opts.ocr)).collect::<Result<Vec<_>, _>>()?)
}

/// Runs one whole batch (a `batch` job) on the caller's engines (see [`start_engines`]):
/// every page, the split plan, the documents. Blocking: call from a blocking context
/// (`spawn_blocking`); storage calls go through `rt`.
#[allow(clippy::too_many_arguments)]
pub fn run_batch_with(
    engines: &mut [Box<dyn OcrEngine>],
    batch_id: &str,
    source: &str,
    scan_time: &str,
    input: &Input,
    store: &Store,
    rt: &tokio::runtime::Handle,
    opts: &PipelineOptions,
) -> Result<BatchOutcome, PipelineError> {
    let mut assembler = Assembler::new(batch_id, source, scan_time, input.page_count(), store, rt, opts);
    let (total, threads) = (input.page_count(), engines.len());
    let pages = input.pages().map(|page| PageWork::new(0, page, total, threads));
    run_pages(engines, pages, opts, |done| assembler.push(done))?;
    assembler.finish()
}

/// The page stage: pages from `source` (pulled on a decode thread of its own) go through
/// one page thread per engine; `sink` gets every processed page on the calling thread, in
/// the order they finish (not page order). Channels between the three are bounded, so at
/// most a few pages per thread are in flight. Returns when `source` is exhausted and
/// every page reached `sink`, or with `sink`'s first error.
pub fn run_pages<I, F>(engines: &mut [Box<dyn OcrEngine>], source: I, opts: &PipelineOptions, mut sink: F) -> Result<(), PipelineError>
where
    I: Iterator<Item = PageWork> + Send,
    F: FnMut(PageDone) -> Result<(), PipelineError>,
{
    let workers = engines.len().max(1);
    let bands = BandPool::new();
    std::thread::scope(|scope| {
        let (page_tx, page_rx) = sync_channel::<(PageWork, f64)>(workers * 2);
        let page_rx = Arc::new(std::sync::Mutex::new(page_rx));
        let (done_tx, done_rx) = sync_channel::<PageDone>(workers * 2);

        scope.spawn(move || {
            let mut source = source;
            loop {
                let t = CpuClock::start();
                let Some(work) = source.next() else { break };
                if page_tx.send((work, t.seconds())).is_err() {
                    break;
                }
            }
        });
        // Bands of the last pages, read by whichever page thread is free. Every thread
        // is registered before any starts, so none leaves while another may still cut.
        let bands = &bands;
        let registered: Vec<_> = engines.iter().map(|_| bands.enter()).collect();
        for (engine, taking_pages) in engines.iter_mut().zip(registered) {
            let page_rx = Arc::clone(&page_rx);
            let done_tx = done_tx.clone();
            let keep_separators = opts.split.keep_separators;
            let rules = Arc::clone(&opts.separators);
            let ocr_budget_ms = opts.ocr.deadline_ms;
            scope.spawn(move || {
                loop {
                    let next = page_rx.lock().map(|rx| rx.recv());
                    let Ok(Ok((mut work, decode_s))) = next else { break };
                    let lease = work.lease.take().zip(work.page.as_ref().ok().map(|p| p.index));
                    if let Some((lease, index)) = &lease {
                        lease.started(*index);
                    }
                    let t = Instant::now();
                    let pool = work.late.then_some(bands);
                    let mut done = process_page(work.page, engine.as_mut(), pool, &rules, keep_separators, ocr_budget_ms);
                    tracing::debug!(page = done.report.index, kind = ?done.report.kind, ms = t.elapsed().as_millis() as u64, ocr_ms = (done.times.ocr_s * 1000.0) as u64, "Page processed.");
                    done.tag = work.tag;
                    done.times.decode_s = decode_s;
                    if let Some((lease, index)) = &lease {
                        lease.finished(*index);
                    }
                    if done_tx.send(done).is_err() {
                        break;
                    }
                }
                drop(taking_pages);
                bands.help_until_done(engine.as_mut());
            });
        }
        drop(done_tx);
        // On a sink error, dropping the receiver stops the page threads and the decoder.
        for done in done_rx.iter() {
            sink(done)?;
        }
        Ok(())
    })
}

/// How the warning of a page that could not be decoded begins (after the error prefix).
const DECODE_FAILED: &str = "page could not be decoded: ";

/// Everything that happens to one page on a page thread.
fn process_page(
    page: Result<PageImage, PageFailure>,
    engine: &mut dyn OcrEngine,
    bands: Option<&BandPool>,
    rules: &split::rules::SeparatorRules,
    keep_separators: bool,
    ocr_budget_ms: u32,
) -> PageDone {
    let mut times = StageTimes::default();
    let page = match page {
        Ok(p) => p,
        Err(failure) => {
            tracing::warn!(page = failure.index, error = %failure.message, "Page could not be decoded.");
            return PageDone {
                tag: 0,
                report: PageReport {
                    index: failure.index,
                    kind: PageKind::Content,
                    barcode: None,
                    skew_deg: 0.0,
                    rotation: 0,
                    ocr_confidence: None,
                    warnings: vec![if failure.message == WORKER_STOPPED {
                        page_error(format_args!("{WORKER_STOPPED}"))
                    } else {
                        page_error(format_args!("{DECODE_FAILED}{}", failure.message))
                    }],
                },
                // A lost page joins no document; the batch goes on.
                signal: PageSignal { index: failure.index, kind: PageKind::Blank, action: None, keep: None, unread_sheet: false },
                pdf_page: None,
                times,
                failed: true,
            };
        }
    };
    let index = page.index;
    let t = Instant::now();
    let clean = imaging::clean_page(page);
    times.clean_s = t.elapsed().as_secs_f64();
    let mut warnings = clean.warnings.clone();
    if clean.dpi < MIN_ARCHIVE_DPI {
        warnings.push(format!(
            "scanned at {:.0} dpi, below the {MIN_ARCHIVE_DPI:.0} dpi Decree 30/2020 asks of digitized copies; rescan this page to certify it",
            clean.dpi
        ));
    }

    let mut barcode_text = None;
    let mut action = None;
    let mut keep = None;
    let mut unread_sheet = false;
    if !clean.blank {
        // Wall clock: the decoder runs on a watchdog thread of its own.
        let t = Instant::now();
        let scan = barcode::scan_page(&clean.gray, clean.dpi);
        times.barcode_s = t.elapsed().as_secs_f64();
        warnings.extend(scan.warnings);
        // The first barcode that is a separator decides; otherwise report the first one.
        for b in &scan.barcodes {
            if let Some(c) = rules.classify(&b.text) {
                barcode_text = Some(b.text.clone());
                action = Some(c.action);
                keep = c.keep;
                break;
            }
        }
        if barcode_text.is_none() {
            barcode_text = scan.barcodes.first().map(|b| b.text.clone());
        }
        unread_sheet = scan.unread_sheet && action.is_none();
    }
    let kind = if action.is_some() {
        PageKind::Separator
    } else if clean.blank {
        PageKind::Blank
    } else {
        PageKind::Content
    };

    // An intake error the page came through (an image cut short) fails the page.
    let mut failed = warnings.iter().any(|w| crate::model::page_error_message(w).is_some());
    let mut ocr = OcrPage::default();
    if kind == PageKind::Content {
        // One budget for the page, however many bands it is read in (see `Deadline`).
        let deadline = crate::stages::ocr::Deadline::after_ms(ocr_budget_ms);
        // Tesseract reads a levelled copy (coloured ink dropped, low-resolution pages
        // scaled up), in bands; a
        // late page's bands are shared with threads that have no page left. The stored
        // image stays as cleaned (see `crate::stages::ocr::page`).
        let opts = crate::stages::ocr::page::ReadOptions::default();
        let gray = crate::stages::imaging::ocr_page_gray(&clean);
        let (result, engines_s) = crate::stages::ocr::page::read_page(engine, &gray, clean.dpi, &opts, bands, deadline);
        match result {
            Ok(page) => ocr = page,
            Err(e) => {
                tracing::warn!(page = index, error = %e, "OCR failed; page stored without text.");
                warnings.push(page_error(format_args!("{e}; page stored without a text layer")));
                failed = true;
            }
        }
        times.ocr_s = engines_s;
    }
    let pdf_page = (kind == PageKind::Content || (kind == PageKind::Separator && keep.unwrap_or(keep_separators))).then(|| {
        let t = CpuClock::start();
        let image = pdf::encode_archival(&clean.image, clean.color, clean.dpi);
        times.encode_s = t.seconds();
        PdfPage { image, dpi: clean.dpi, ocr: ocr.clone() }
    });
    PageDone {
        tag: 0,
        report: PageReport {
            index,
            kind,
            barcode: barcode_text,
            skew_deg: clean.skew_deg,
            rotation: clean.rotation,
            ocr_confidence: (kind == PageKind::Content).then_some(ocr.confidence).flatten(),
            warnings,
        },
        signal: PageSignal { index, kind, action, keep, unread_sheet },
        pdf_page,
        times,
        failed,
    }
}

/// Reorders processed pages, runs the splitter and stores each document as it closes:
/// the second half of a batch, fed by the page stage (a `batch` job) or by the stored
/// results of the batch's `pages` jobs (an `assemble` job). Holds only the pages of the
/// documents still open.
pub struct Assembler<'a> {
    batch_id: String,
    scan_time: String,
    total: usize,
    store: &'a Store,
    rt: &'a tokio::runtime::Handle,
    opts: &'a PipelineOptions,
    splitter: Splitter,
    waiting: BTreeMap<usize, PageDone>,
    held: BTreeMap<usize, PdfPage>,
    report: BatchReport,
    times: StageTimes,
    page_errors: usize,
    next: usize,
    /// Report pages to `opts.progress` as they are split (when they were not reported as
    /// they were processed).
    pub report_progress: bool,
}

impl<'a> Assembler<'a> {
    pub fn new(
        batch_id: &str,
        source: &str,
        scan_time: &str,
        total: usize,
        store: &'a Store,
        rt: &'a tokio::runtime::Handle,
        opts: &'a PipelineOptions,
    ) -> Assembler<'a> {
        Assembler {
            batch_id: batch_id.to_string(),
            scan_time: scan_time.to_string(),
            total,
            store,
            rt,
            opts,
            splitter: Splitter::new(opts.split),
            waiting: BTreeMap::new(),
            held: BTreeMap::new(),
            report: BatchReport {
                batch_id: batch_id.into(),
                source: source.to_string(),
                pages: Vec::with_capacity(total),
                dossiers: Vec::new(),
                warnings: Vec::new(),
            },
            times: StageTimes::default(),
            page_errors: 0,
            next: 0,
            report_progress: true,
        }
    }

    /// Takes one processed page (in any order); pages are split in page order.
    pub fn push(&mut self, done: PageDone) -> Result<(), PipelineError> {
        let index = done.report.index;
        if index < self.next || index >= self.total || self.waiting.contains_key(&index) {
            return Err(PipelineError::Internal(format!("page {index} arrived twice or out of range (batch of {})", self.total)));
        }
        self.waiting.insert(index, done);
        while let Some(done) = self.waiting.remove(&self.next) {
            self.next += 1;
            add_times(&mut self.times, &done.times);
            self.page_errors += done.failed as usize;
            // A page lost with a damaged file says so for the whole batch too, once.
            for w in done.report.warnings.iter().filter_map(|w| crate::model::page_error_message(w)) {
                let w = w.strip_prefix(DECODE_FAILED).unwrap_or(w);
                if w.contains(crate::stages::intake::DAMAGED_FILE) && !self.report.warnings.iter().any(|b| b == w) {
                    self.report.warnings.push(w.to_string());
                }
            }
            if let Some(p) = done.pdf_page {
                self.held.insert(done.report.index, p);
            }
            let events = self.splitter.push(&done.signal);
            self.report.pages.push(done.report);
            self.handle(events)?;
            if let (true, Some(progress)) = (self.report_progress, &self.opts.progress) {
                progress(1);
            }
        }
        Ok(())
    }

    /// Adds stage times spent elsewhere (pages processed by `pages` jobs).
    pub fn add_times(&mut self, t: &StageTimes) {
        add_times(&mut self.times, t);
    }

    /// Closes the last documents; every page must have arrived.
    pub fn finish(mut self) -> Result<BatchOutcome, PipelineError> {
        if !self.waiting.is_empty() || self.next != self.total {
            // Fewer pages arrived than the input announced (a page thread died).
            return Err(PipelineError::Internal(format!("{} of {} pages came back", self.next, self.total)));
        }
        let events = self.splitter.finish();
        self.handle(events)?;
        // Completeness: every dossier is checked against its procedure before the batch
        // is committed (and so before any agency sees it).
        for d in &mut self.report.dossiers {
            let types: Vec<Option<&str>> = d.documents.iter().map(|doc| doc.doc_type.as_deref()).collect();
            let check = self.opts.procedures.check(d.procedure.as_deref(), d.code.as_deref(), &types);
            if let Some(w) = check.warning {
                self.report.warnings.push(w);
            }
            if let Some(w) = crate::stages::dossier::procedures::citizen_warning(d.code.as_deref(), d.citizen_id.as_deref()) {
                self.report.warnings.push(w);
            }
            if !check.missing.is_empty() {
                self.report.warnings.push(format!(
                    "dossier {} is incomplete for procedure {}: missing {}",
                    d.code.as_deref().unwrap_or("(no code)"),
                    check.procedure.as_deref().unwrap_or("?"),
                    check.missing.join(", ")
                ));
            }
            (d.procedure, d.complete, d.missing) = (check.procedure, check.complete, check.missing);
        }
        if self.page_errors > 0 {
            self.report.warnings.push(format!("{} page(s) had errors; see the pages' warnings", self.page_errors));
        }
        Ok(BatchOutcome { report: self.report, times: self.times, page_errors: self.page_errors })
    }

    fn handle(&mut self, events: Vec<SplitEvent>) -> Result<(), PipelineError> {
        for event in events {
            match event {
                SplitEvent::DossierOpened { code, procedure, citizen_id, .. } => {
                    self.report.dossiers.push(DossierReport { code, procedure, citizen_id, ..Default::default() })
                }
                SplitEvent::NeedsReview { dossier } => self.report.dossiers[dossier].needs_review = true,
                SplitEvent::Warning(w) => self.report.warnings.push(w),
                SplitEvent::DocumentClosed(doc) => {
                    let pages: Vec<PdfPage> = doc.pages.iter().filter_map(|i| self.held.remove(i)).collect();
                    let dossier = &self.report.dossiers[doc.dossier];
                    let seq = dossier.documents.len();
                    let meta = DocumentMeta {
                        dossier_code: dossier.code.clone(),
                        document_type: doc.doc_type.clone(),
                        page_count: pages.len(),
                        source_batch: self.batch_id.clone(),
                        scan_time: self.scan_time.clone(),
                        title: document_title(dossier.code.as_deref(), doc.doc_type.as_deref(), seq),
                        fields: document_fields(&pages),
                    };
                    let stored = store_document(&self.batch_id, doc.dossier, seq, &doc, &pages, &meta, self.opts, self.store, self.rt, &mut self.times)?;
                    self.report.dossiers[doc.dossier].documents.push(stored);
                }
            }
        }
        Ok(())
    }
}

fn document_title(dossier: Option<&str>, doc_type: Option<&str>, seq: usize) -> String {
    format!("Hồ sơ {} - {} {}", dossier.unwrap_or("(không mã)"), doc_type.unwrap_or("tài liệu"), seq + 1)
}

/// The header fields and CCCD numbers of a closed document, read from its pages' OCR (and
/// the pages' widths, for the lines' geometry): what the PDF's XMP, the report and the
/// catalog carry, and what `sohoa eval-fields` scores.
pub fn document_fields(pages: &[PdfPage]) -> DocumentFields {
    crate::stages::fields::extract_from_ocr(pages.iter().map(|p| (&p.ocr, p.image.width)))
}

/// Stable document id: the same batch, dossier and position always give the same id, so
/// a job that is run again after a crash replaces rather than duplicates.
pub fn document_id(batch_id: &str, dossier: usize, seq: usize) -> DocumentId {
    DocumentId::for_place(batch_id, dossier, seq)
}

#[allow(clippy::too_many_arguments)]
fn store_document(
    batch_id: &str,
    dossier: usize,
    seq: usize,
    doc: &split::PlannedDocument,
    pages: &[PdfPage],
    meta: &DocumentMeta,
    opts: &PipelineOptions,
    store: &Store,
    rt: &tokio::runtime::Handle,
    times: &mut StageTimes,
) -> Result<DocumentReport, PipelineError> {
    let t = CpuClock::start();
    // `/Lang` and the XMP language follow the OCR languages (`--lang`).
    let pdf_opts = pdf::PdfOptions { languages: pdf::language_tags(&opts.ocr.langs), profile: opts.pdf_profile };
    let bytes = pdf::write_pdf(pages, meta, &pdf_opts).map_err(|e| PipelineError::Pdf(e.to_string()))?;
    // Scan signing (Circular 01/2023/TT-VPCP, Art. 8): the signed bytes are the ones
    // hashed, stored and catalogued.
    times.pdf_s += t.seconds();
    let t = CpuClock::start();
    let bytes = match &opts.signing {
        Some(signing) => signing.sign(&bytes)?,
        None => bytes,
    };
    times.sign_s += t.seconds();
    let t = CpuClock::start();
    let b3 = ContentHash::of(&bytes);
    let sha = hex::encode(sha2::Sha256::digest(&bytes));
    times.hash_s += t.seconds();
    let key = Store::document_key(&b3);
    let len = bytes.len() as u64;
    let t = Instant::now();
    rt.block_on(store.put_verified(&key, bytes::Bytes::from(bytes)))?;
    times.store_s += t.elapsed().as_secs_f64();
    let ocr_text = pages.iter().map(|p| p.ocr.text.as_str()).collect::<Vec<_>>().join("\n\n");
    Ok(DocumentReport {
        id: document_id(batch_id, dossier, seq),
        doc_type: doc.doc_type.clone(),
        source_pages: doc.pages.clone(),
        page_count: pages.len(),
        blake3: b3,
        sha256: sha,
        bytes: len,
        object_key: key,
        fields: meta.fields.clone(),
        ocr_text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stages::ocr::Deadline;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Idle;
    impl OcrEngine for Idle {
        fn recognize(&mut self, _: &image::GrayImage, _: f32) -> Result<OcrPage, OcrError> {
            Ok(OcrPage::default())
        }
    }

    fn counting_opts(workers: usize) -> (PipelineOptions, Arc<AtomicUsize>) {
        let made = Arc::new(AtomicUsize::new(0));
        let mut opts = PipelineOptions::new(OcrConfig::default());
        opts.workers = workers;
        let m = Arc::clone(&made);
        opts.engine_factory = Arc::new(move |_| {
            m.fetch_add(1, Ordering::SeqCst);
            Ok(Box::new(Idle) as Box<dyn OcrEngine>)
        });
        (opts, made)
    }

    /// Would take 200 ms a page and reads nothing; stops at the page's deadline, as
    /// Tesseract's monitor does.
    struct Slow;
    impl OcrEngine for Slow {
        fn recognize(&mut self, _: &image::GrayImage, _: f32) -> Result<OcrPage, OcrError> {
            std::thread::sleep(std::time::Duration::from_millis(200));
            Ok(OcrPage::default())
        }
        fn recognize_rows(&mut self, _: &image::GrayImage, _: u32, _: u32, _: f32, deadline: Deadline) -> Result<OcrPage, OcrError> {
            let left = deadline.remaining_ms().min(200);
            std::thread::sleep(std::time::Duration::from_millis(left as u64));
            if deadline.passed() { Err(deadline.timed_out()) } else { Ok(OcrPage::default()) }
        }
    }

    #[test]
    fn a_page_over_its_ocr_budget_fails_alone_and_is_stored_as_scanned() {
        use crate::tools::eval::{self, Truth};
        let content: Vec<_> =
            eval::build_set_with(6, 3, eval::Defects::Realistic, false).into_iter().filter(|p| matches!(p.truth, Truth::Content { .. })).take(2).collect();
        assert_eq!(content.len(), 2);
        let run = |budget_ms: u32| {
            let mut opts = PipelineOptions::new(OcrConfig { deadline_ms: budget_ms, ..OcrConfig::default() });
            opts.workers = 1;
            let mut engines: Vec<Box<dyn OcrEngine>> = vec![Box::new(Slow)];
            let pages = content.iter().enumerate().map(|(i, p)| PageWork::new(i as u64, Ok(p.page_image(i)), 2, 1));
            let mut done = Vec::new();
            run_pages(&mut engines, pages, &opts, |d| {
                done.push(d);
                Ok(())
            })
            .unwrap();
            done
        };
        // A 40 ms budget runs out on every page; the pages still come back, as content
        // with their image and no text.
        let done = run(40);
        assert_eq!(done.len(), 2);
        for d in &done {
            assert!(d.failed);
            assert_eq!(d.report.kind, PageKind::Content);
            assert!(
                d.report.warnings.iter().any(|w| w == "error: OCR failed on this page: timed out after 40 ms; page stored without a text layer"),
                "{:?}",
                d.report.warnings
            );
            let pdf = d.pdf_page.as_ref().expect("stored as scanned");
            assert!(pdf.ocr.words.is_empty());
        }
        // With time enough, the same pages pass.
        assert!(run(60_000).iter().all(|d| !d.failed && !d.report.warnings.iter().any(|w| w.starts_with("error:"))));
    }

    #[test]
    fn the_last_pages_per_thread_are_late() {
        // 50 pages, 2 threads: the last 8 are read in bands.
        let late: Vec<usize> = (0..50).filter(|&i| is_late(i, 50, 2)).collect();
        assert_eq!(late, (42..50).collect::<Vec<_>>());
        assert_eq!((0..50).filter(|&i| is_late(i, 50, 4)).count(), 16);
        // A short batch is all late; one thread never is.
        assert!((0..5).all(|i| is_late(i, 5, 2)));
        assert!(!(0..50).any(|i| is_late(i, 50, 1)));
    }

    #[test]
    fn prestarted_engines_are_taken_once_then_started_anew() {
        let (opts, made) = counting_opts(3);
        opts.prestart_engines();
        // A clone (what each job gets) shares the engines being started.
        let engines = start_engines(&opts.clone()).unwrap();
        assert_eq!((engines.len(), made.load(Ordering::SeqCst)), (3, 3));
        // Taken: the next call starts its own.
        assert_eq!(start_engines(&opts).unwrap().len(), 3);
        assert_eq!(made.load(Ordering::SeqCst), 6);
    }

    #[test]
    fn prestarted_engines_of_another_count_are_not_used() {
        let (mut opts, made) = counting_opts(2);
        opts.prestart_engines();
        opts.workers = 1;
        assert_eq!(start_engines(&opts).unwrap().len(), 1);
        assert_eq!(made.load(Ordering::SeqCst), 3);
    }
}
