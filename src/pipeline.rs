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
//! Pages stream through: at most a few pages per thread are in flight, and a document's
//! pages are held (encoded, with their OCR) only until the document is closed and stored.
//! A page that cannot be decoded or recognised degrades to a page warning; only storage
//! failures fail the batch. Callers: the worker (`crate::worker`), which owns the job
//! queue and commits the returned [`BatchReport`] to the catalog.

use crate::barcode;
use crate::imaging;
use crate::intake::{Input, PageFailure};
use crate::model::*;
use crate::ocr::{OcrConfig, OcrEngine, OcrError, tesseract::TesseractEngine};
use crate::pdf;
use crate::split::{self, SplitEvent, SplitOptions, Splitter};
use crate::store::Store;
use sha2::Digest;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, sync_channel};
use std::time::Instant;

/// Lowest resolution of a digitized copy under Decree 30/2020, Appendix I.
pub const MIN_ARCHIVE_DPI: f32 = 199.5;

/// How to run a batch.
#[derive(Clone)]
pub struct PipelineOptions {
    pub split: SplitOptions,
    /// Which barcodes are separators and what they ask for (`--separators FILE`).
    pub separators: Arc<split::rules::SeparatorRules>,
    /// Page threads (each with its own OCR engine); defaults to the number of cores.
    pub workers: usize,
    pub ocr: OcrConfig,
    /// Called after each page is finished, with (pages done, pages total).
    pub progress: Option<Arc<dyn Fn(usize, usize) + Send + Sync>>,
    /// Makes OCR engines; tests swap in recorded or failing engines.
    pub engine_factory: Arc<dyn Fn(&OcrConfig) -> Result<Box<dyn OcrEngine>, OcrError> + Send + Sync>,
}

impl PipelineOptions {
    pub fn new(ocr: OcrConfig) -> Self {
        PipelineOptions {
            split: SplitOptions::default(),
            separators: Arc::new(split::rules::SeparatorRules::default()),
            workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
            ocr,
            progress: None,
            engine_factory: Arc::new(|cfg| Ok(Box::new(TesseractEngine::new(cfg)?) as Box<dyn OcrEngine>)),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Ocr(#[from] OcrError),
    #[error("storing document failed: {0}")]
    Store(#[from] crate::store::StoreError),
    #[error("writing PDF failed: {0}")]
    Pdf(String),
    #[error("input unreadable: {0}")]
    Input(#[from] crate::intake::IntakeError),
    #[error("a pipeline thread stopped unexpectedly: {0}")]
    Internal(String),
}

impl PipelineError {
    pub fn code(&self) -> &'static str {
        match self {
            PipelineError::Ocr(e) => e.code(),
            PipelineError::Store(e) => e.code(),
            PipelineError::Pdf(_) => "pdf-write",
            PipelineError::Input(e) => e.code(),
            PipelineError::Internal(_) => "internal",
        }
    }

    /// Whether running the job again may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            PipelineError::Store(e) => e.is_retryable(),
            PipelineError::Internal(_) => true,
            _ => false,
        }
    }
}

/// CPU time of the calling thread (`CLOCK_THREAD_CPUTIME_ID`): what a stage cost, not
/// how long it waited for a core. Stages that fan out to rayon (clean) or wait on I/O
/// (store) are timed by the wall clock instead.
pub struct CpuClock(f64);

impl CpuClock {
    pub fn start() -> CpuClock {
        CpuClock(thread_cpu_seconds())
    }
    pub fn seconds(&self) -> f64 {
        (thread_cpu_seconds() - self.0).max(0.0)
    }
}

pub fn thread_cpu_seconds() -> f64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: a valid out-pointer for the duration of the call.
    if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) } != 0 {
        return 0.0;
    }
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

/// Per-stage time accumulated over a batch (for `sohoa bench`): thread CPU seconds for
/// decode, OCR, encode, PDF and hash; wall seconds for clean (rayon inside), barcode (its
/// own watchdog thread) and store (I/O).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct StageTimes {
    pub decode_s: f64,
    pub clean_s: f64,
    pub barcode_s: f64,
    pub ocr_s: f64,
    pub encode_s: f64,
    pub pdf_s: f64,
    pub hash_s: f64,
    pub store_s: f64,
}

/// A finished batch: the report plus what the bench wants to know.
#[derive(Debug, Clone)]
pub struct BatchOutcome {
    pub report: BatchReport,
    pub times: StageTimes,
    /// Pages that failed to decode or OCR (exit code 1 when non-zero).
    pub page_errors: usize,
}

/// What a page thread hands to the collector.
struct PageDone {
    report: PageReport,
    signal: PageSignal,
    /// Present for content pages and kept separator sheets.
    pdf_page: Option<PdfPage>,
    times: StageTimes,
    failed: bool,
}

/// Runs one batch. Blocking: call from a blocking context (`spawn_blocking`); storage
/// calls go through `rt`.
pub fn run_batch(
    batch_id: &str,
    source: &str,
    scan_time: &str,
    input: &Input,
    store: &Store,
    rt: &tokio::runtime::Handle,
    opts: &PipelineOptions,
) -> Result<BatchOutcome, PipelineError> {
    let total = input.page_count();
    let workers = opts.workers.max(1);
    // Start every engine before reading pages: a missing language fails the batch now.
    let engines = (0..workers).map(|_| (opts.engine_factory)(&opts.ocr)).collect::<Result<Vec<_>, _>>()?;

    std::thread::scope(|scope| {
        let (page_tx, page_rx) = sync_channel::<(Result<PageImage, PageFailure>, f64)>(workers * 2);
        let page_rx = Arc::new(std::sync::Mutex::new(page_rx));
        let (done_tx, done_rx) = sync_channel::<PageDone>(workers * 2);

        scope.spawn(move || {
            let mut pages = input.pages();
            loop {
                let t = CpuClock::start();
                let Some(page) = pages.next() else { break };
                if page_tx.send((page, t.seconds())).is_err() {
                    break;
                }
            }
        });
        for mut engine in engines {
            let page_rx = Arc::clone(&page_rx);
            let done_tx = done_tx.clone();
            let keep_separators = opts.split.keep_separators;
            let rules = Arc::clone(&opts.separators);
            scope.spawn(move || {
                loop {
                    let next = page_rx.lock().map(|rx| rx.recv());
                    let Ok(Ok((page, decode_s))) = next else { break };
                    let mut done = process_page(page, engine.as_mut(), &rules, keep_separators);
                    done.times.decode_s = decode_s;
                    if done_tx.send(done).is_err() {
                        break;
                    }
                }
            });
        }
        drop(done_tx);
        collect(batch_id, source, scan_time, total, done_rx, store, rt, opts)
    })
}

/// Everything that happens to one page on a page thread.
fn process_page(
    page: Result<PageImage, PageFailure>,
    engine: &mut dyn OcrEngine,
    rules: &split::rules::SeparatorRules,
    keep_separators: bool,
) -> PageDone {
    let mut times = StageTimes::default();
    let page = match page {
        Ok(p) => p,
        Err(failure) => {
            tracing::warn!(page = failure.index, error = %failure.message, "Page could not be decoded.");
            return PageDone {
                report: PageReport {
                    index: failure.index,
                    kind: PageKind::Content,
                    barcode: None,
                    skew_deg: 0.0,
                    rotation: 0,
                    ocr_confidence: None,
                    warnings: vec![format!("error: page could not be decoded: {}", failure.message)],
                },
                // A lost page joins no document; the batch goes on.
                signal: PageSignal { index: failure.index, kind: PageKind::Blank, action: None, keep: None },
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
    }
    let kind = if action.is_some() {
        PageKind::Separator
    } else if clean.blank {
        PageKind::Blank
    } else {
        PageKind::Content
    };

    let mut failed = false;
    let mut ocr = OcrPage::default();
    if kind == PageKind::Content {
        let t = CpuClock::start();
        match engine.recognize(&clean.gray, clean.dpi) {
            Ok(page) => ocr = page,
            Err(e) => {
                tracing::warn!(page = index, error = %e, "OCR failed; page stored without text.");
                warnings.push(format!("error: {e}; page stored without a text layer"));
                failed = true;
            }
        }
        times.ocr_s = t.seconds();
    }
    let pdf_page = (kind == PageKind::Content || (kind == PageKind::Separator && keep.unwrap_or(keep_separators))).then(|| {
        let t = CpuClock::start();
        let image = pdf::encode_page_image(&clean.image, clean.color);
        times.encode_s = t.seconds();
        PdfPage { image, dpi: clean.dpi, ocr: ocr.clone() }
    });
    PageDone {
        report: PageReport {
            index,
            kind,
            barcode: barcode_text,
            skew_deg: clean.skew_deg,
            rotation: clean.rotation,
            ocr_confidence: (kind == PageKind::Content).then_some(ocr.confidence).flatten(),
            warnings,
        },
        signal: PageSignal { index, kind, action, keep },
        pdf_page,
        times,
        failed,
    }
}

/// Reorders finished pages, runs the splitter and stores each document as it closes.
#[allow(clippy::too_many_arguments)]
fn collect(
    batch_id: &str,
    source: &str,
    scan_time: &str,
    total: usize,
    done_rx: Receiver<PageDone>,
    store: &Store,
    rt: &tokio::runtime::Handle,
    opts: &PipelineOptions,
) -> Result<BatchOutcome, PipelineError> {
    let mut splitter = Splitter::new(opts.split);
    let mut waiting: BTreeMap<usize, PageDone> = BTreeMap::new();
    let mut held: BTreeMap<usize, PdfPage> = BTreeMap::new();
    let mut report = BatchReport {
        batch_id: batch_id.to_string(),
        source: source.to_string(),
        pages: Vec::with_capacity(total),
        dossiers: Vec::new(),
        warnings: Vec::new(),
    };
    let mut times = StageTimes::default();
    let mut page_errors = 0;
    let mut next = 0usize;
    let mut finished = 0usize;

    let handle = |events: Vec<SplitEvent>,
                      report: &mut BatchReport,
                      held: &mut BTreeMap<usize, PdfPage>,
                      times: &mut StageTimes|
     -> Result<(), PipelineError> {
        for event in events {
            match event {
                SplitEvent::DossierOpened { code, .. } => report.dossiers.push(DossierReport { code, documents: Vec::new() }),
                SplitEvent::Warning(w) => report.warnings.push(w),
                SplitEvent::DocumentClosed(doc) => {
                    let pages: Vec<PdfPage> = doc.pages.iter().filter_map(|i| held.remove(i)).collect();
                    let dossier = &mut report.dossiers[doc.dossier];
                    let seq = dossier.documents.len();
                    let meta = DocumentMeta {
                        dossier_code: dossier.code.clone(),
                        document_type: doc.doc_type.clone(),
                        page_count: pages.len(),
                        source_batch: batch_id.to_string(),
                        scan_time: scan_time.to_string(),
                        title: document_title(dossier.code.as_deref(), doc.doc_type.as_deref(), seq),
                    };
                    let stored = store_document(batch_id, doc.dossier, seq, &doc, &pages, &meta, store, rt, times)?;
                    report.dossiers[doc.dossier].documents.push(stored);
                }
            }
        }
        Ok(())
    };

    for done in done_rx.iter() {
        waiting.insert(done.report.index, done);
        while let Some(done) = waiting.remove(&next) {
            next += 1;
            finished += 1;
            add_times(&mut times, &done.times);
            page_errors += done.failed as usize;
            if let Some(p) = done.pdf_page {
                held.insert(done.report.index, p);
            }
            let events = splitter.push(&done.signal);
            report.pages.push(done.report);
            handle(events, &mut report, &mut held, &mut times)?;
            if let Some(progress) = &opts.progress {
                progress(finished, total);
            }
        }
    }
    if !waiting.is_empty() || next != total {
        // Fewer pages arrived than the input announced (a page thread died).
        return Err(PipelineError::Internal(format!("{} of {total} pages came back", next)));
    }
    let events = splitter.finish();
    handle(events, &mut report, &mut held, &mut times)?;
    if page_errors > 0 {
        report.warnings.push(format!("{page_errors} page(s) had errors; see the pages' warnings"));
    }
    Ok(BatchOutcome { report, times, page_errors })
}

fn add_times(sum: &mut StageTimes, t: &StageTimes) {
    sum.decode_s += t.decode_s;
    sum.clean_s += t.clean_s;
    sum.barcode_s += t.barcode_s;
    sum.ocr_s += t.ocr_s;
    sum.encode_s += t.encode_s;
}

fn document_title(dossier: Option<&str>, doc_type: Option<&str>, seq: usize) -> String {
    format!(
        "Hồ sơ {} - {} {}",
        dossier.unwrap_or("(không mã)"),
        doc_type.unwrap_or("tài liệu"),
        seq + 1
    )
}

/// Stable document id: the same batch, dossier and position always give the same id, so
/// a job that is run again after a crash replaces rather than duplicates.
pub fn document_id(batch_id: &str, dossier: usize, seq: usize) -> String {
    let h = blake3::hash(format!("{batch_id}/{dossier}/{seq}").as_bytes());
    format!("doc_{}", &h.to_hex()[..20])
}

#[allow(clippy::too_many_arguments)]
fn store_document(
    batch_id: &str,
    dossier: usize,
    seq: usize,
    doc: &split::PlannedDocument,
    pages: &[PdfPage],
    meta: &DocumentMeta,
    store: &Store,
    rt: &tokio::runtime::Handle,
    times: &mut StageTimes,
) -> Result<DocumentReport, PipelineError> {
    let t = CpuClock::start();
    let bytes = pdf::write_searchable_pdf(pages, meta).map_err(|e| PipelineError::Pdf(e.to_string()))?;
    times.pdf_s += t.seconds();
    let t = CpuClock::start();
    let b3 = blake3::hash(&bytes).to_hex().to_string();
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
        ocr_text,
    })
}
