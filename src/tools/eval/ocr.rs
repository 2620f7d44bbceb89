//! OCR after the image stage: Tesseract reads each cleaned content page and its straight
//! twin, one engine per thread; CER per page and in summary.

use super::*;

/// What Tesseract reads in the OCR comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OcrInput {
    /// `prepare_for_ocr` of the cleaned page (`--ocr`).
    Prepared,
    /// The cleaned page itself, `CleanPage::gray` (`--ocr --ocr-plain`).
    Cleaned,
}

impl OcrInput {
    /// What the pipeline's Tesseract reads on content pages (`pipeline::process_page`).
    pub const PIPELINE: OcrInput = OcrInput::Prepared;
}

/// One content page read after the image stage, and its straight twin.
#[derive(Debug, Clone, Serialize)]
pub struct PageOcr {
    pub name: String,
    pub dpi: f32,
    /// Characters of the ground-truth text (the CER weight).
    pub chars: usize,
    /// CER of the skewed and turned page.
    pub cer: f64,
    /// CER of the straight twin (when the set has it).
    pub cer_straight: Option<f64>,
    /// CPU time of `prepare_for_ocr`, summed over the reads of this page, seconds.
    pub prepare_s: f64,
    /// Tesseract's CPU time, summed over the reads of this page, seconds.
    pub ocr_s: f64,
    /// Tesseract reads of this page (1, or 2 with the straight twin).
    pub reads: usize,
}

/// OCR character error rates after the image stage (fractions, character-weighted over
/// the pages; "worst" is the worst single page).
#[derive(Debug, Clone, Serialize)]
pub struct OcrScore {
    pub input: OcrInput,
    pub pages: usize,
    /// Over the skewed and turned pages.
    pub cer_skewed: f64,
    /// The same pages rendered straight (when the set has the straight twins).
    pub cer_straight: Option<f64>,
    pub cer_skewed_200dpi: f64,
    pub cer_straight_200dpi: Option<f64>,
    pub cer_skewed_300dpi: f64,
    pub cer_straight_300dpi: Option<f64>,
    pub worst_page_cer: f64,
    pub worst_page: String,
    pub worst_page_cer_straight: Option<f64>,
    /// Largest `cer − cer_straight` of a page: what skew cost the worst-hit page.
    pub worst_page_excess: Option<f64>,
    /// CPU time of `prepare_for_ocr` per read on one thread, milliseconds (0 when plain).
    pub prepare_ms_mean: f64,
    /// Tesseract's CPU time per read, milliseconds.
    pub ocr_ms_mean: f64,
}

impl OcrScore {
    /// Aggregates per-page results (pure). Straight figures are `None` unless every page
    /// has its straight twin.
    pub fn from_pages(input: OcrInput, pages: &[PageOcr]) -> OcrScore {
        let twins = !pages.is_empty() && pages.iter().all(|p| p.cer_straight.is_some());
        let rate = |keep: &dyn Fn(&PageOcr) -> bool, straight: bool| -> f64 {
            let (mut err, mut n) = (0.0, 0.0);
            for p in pages.iter().filter(|p| keep(p)) {
                let c = if straight { p.cer_straight.unwrap_or(0.0) } else { p.cer };
                err += c * p.chars as f64;
                n += p.chars as f64;
            }
            if n > 0.0 { err / n } else { 0.0 }
        };
        let all = |_: &PageOcr| true;
        let low = |p: &PageOcr| p.dpi < 250.0;
        let high = |p: &PageOcr| p.dpi >= 250.0;
        let worst = pages.iter().max_by(|a, b| a.cer.total_cmp(&b.cer));
        let reads = pages.iter().map(|p| p.reads).sum::<usize>().max(1) as f64;
        OcrScore {
            input,
            pages: pages.len(),
            cer_skewed: rate(&all, false),
            cer_straight: twins.then(|| rate(&all, true)),
            cer_skewed_200dpi: rate(&low, false),
            cer_straight_200dpi: twins.then(|| rate(&low, true)),
            cer_skewed_300dpi: rate(&high, false),
            cer_straight_300dpi: twins.then(|| rate(&high, true)),
            worst_page_cer: worst.map_or(0.0, |p| p.cer),
            worst_page: worst.map_or(String::new(), |p| p.name.clone()),
            worst_page_cer_straight: twins.then(|| pages.iter().filter_map(|p| p.cer_straight).fold(0.0, f64::max)),
            worst_page_excess: twins.then(|| pages.iter().map(|p| p.cer - p.cer_straight.unwrap_or(0.0)).fold(f64::NEG_INFINITY, f64::max)),
            prepare_ms_mean: pages.iter().map(|p| p.prepare_s).sum::<f64>() * 1000.0 / reads,
            ocr_ms_mean: pages.iter().map(|p| p.ocr_s).sum::<f64>() * 1000.0 / reads,
        }
    }
}

/// Reads every content page (after `clean_page`) and its straight twin with Tesseract and
/// fills the CER fields, on `threads` threads (one engine each).
pub(super) fn add_ocr(report: &mut EvalReport, set: &[EvalPage], data: &Path, input: OcrInput, threads: usize) -> Result<(), String> {
    let models = crate::stages::ocr::models::materialize_models(data).map_err(|e| e.to_string())?;
    let pages = ocr_pages(set, &models, input, threads, |p| {
        eprintln!("{}: CER {:.3}% (straight {})", p.name, p.cer * 100.0, p.cer_straight.map_or("not read".into(), |s| format!("{:.3}%", s * 100.0)));
    })?;
    for p in &pages {
        if let Some(res) = report.pages.iter_mut().find(|r| r.name == p.name) {
            res.cer = Some(p.cer);
            res.cer_straight = p.cer_straight;
        }
    }
    report.ocr = Some(OcrScore::from_pages(input, &pages));
    Ok(())
}

/// Reads the content pages of `set` after the image stage (and their straight twins where
/// the set has them) with Tesseract `vie` and the models in `models`, on `threads` threads
/// with one engine and a one-thread rayon pool each (so each thread's CPU clock holds all
/// of its page's work); `done` is told each page as it finishes. Results are in set order.
/// A failed read is retried once (a transient `Tesseract returned -1`, on a page that
/// reads fine again, was seen once while measuring), then fails the whole run. The
/// recognition deadline is an hour, not the pipeline's: the eval scores accuracy.
pub fn ocr_pages(set: &[EvalPage], models: &Path, input: OcrInput, threads: usize, done: impl Fn(&PageOcr) + Sync) -> Result<Vec<PageOcr>, String> {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let content: Vec<(&EvalPage, &str)> = set
        .iter()
        .filter_map(|p| match &p.truth {
            Truth::Content { text, .. } => Some((p, text.as_str())),
            _ => None,
        })
        .collect();
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, Result<PageOcr, String>)>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..threads.clamp(1, content.len().max(1)) {
            s.spawn(|| {
                let mut worker = match OcrWorker::new(models) {
                    Ok(w) => w,
                    Err(e) => {
                        let i = next.fetch_add(content.len(), Ordering::Relaxed);
                        if i < content.len() {
                            results.lock().unwrap_or_else(|e| e.into_inner()).push((i, Err(e)));
                        }
                        return;
                    }
                };
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&(page, text)) = content.get(i) else {
                        break;
                    };
                    let r = worker.page(page, text, input);
                    if let Ok(p) = &r {
                        done(p);
                    }
                    results.lock().unwrap_or_else(|e| e.into_inner()).push((i, r));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    results.sort_by_key(|r| r.0);
    if results.len() < content.len() {
        return Err("an OCR thread stopped before reading its pages".into());
    }
    results.into_iter().map(|r| r.1).collect()
}

/// One thread's Tesseract engine and one-thread rayon pool.
struct OcrWorker {
    engine: crate::stages::ocr::tesseract::TesseractEngine,
    pool: rayon::ThreadPool,
}

impl OcrWorker {
    fn new(models: &Path) -> Result<OcrWorker, String> {
        use crate::stages::ocr::OcrConfig;
        let config = OcrConfig {
            models: Some(models.to_path_buf()),
            // The pipeline's deadline is wall time; on a shared machine, under `nice`, a
            // page can take longer than that without being any harder to read.
            deadline_ms: 3_600_000,
            ..Default::default()
        };
        Ok(OcrWorker {
            engine: crate::stages::ocr::tesseract::TesseractEngine::new(&config).map_err(|e| e.to_string())?,
            pool: rayon::ThreadPoolBuilder::new().num_threads(1).build().map_err(|e| e.to_string())?,
        })
    }

    fn page(&mut self, p: &EvalPage, text: &str, input: OcrInput) -> Result<PageOcr, String> {
        let (mut prepare_s, mut ocr_s, mut reads) = (0.0, 0.0, 0);
        let mut read = |img: &GrayImage| -> Result<f64, String> {
            use crate::stages::ocr::OcrEngine;
            let (engine, pool) = (&mut self.engine, &self.pool);
            let (ocr, prep, rec) = pool.install(|| {
                let gray =
                    clean_page(PageImage { index: 0, image: DynamicImage::ImageLuma8(img.clone()), color: ColorMode::Gray, dpi: p.dpi, warnings: Vec::new() })
                        .gray;
                let c0 = crate::timing::thread_cpu_seconds();
                let gray = match input {
                    OcrInput::Prepared => prepare_for_ocr(&gray),
                    OcrInput::Cleaned => gray,
                };
                let c1 = crate::timing::thread_cpu_seconds();
                let ocr = engine.recognize(&gray, p.dpi).or_else(|_| engine.recognize(&gray, p.dpi));
                (ocr, c1 - c0, crate::timing::thread_cpu_seconds() - c1)
            });
            prepare_s += prep;
            ocr_s += rec;
            reads += 1;
            let ocr = ocr.map_err(|e| format!("{}: {e}", p.name))?;
            Ok(synth::cer(text, &ocr.text))
        };
        let cer = read(&p.image)?;
        let cer_straight = p.straight.as_ref().map(&mut read).transpose()?;
        Ok(PageOcr { name: p.name.clone(), dpi: p.dpi, chars: text.chars().count(), cer, cer_straight, prepare_s, ocr_s, reads })
    }
}
