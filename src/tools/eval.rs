//! `sohoa eval-imaging`: scores the image stage against generated pages with known truth.
//!
//! Owns the evaluation set and its scoring, shared by the CLI command and the accuracy
//! tests. The set is deterministic in `(pages, seed, defects)`:
//! - `pages` content pages (Decree-30 documents from `crate::tools::synth`), alternately at 200
//!   and 300 dpi, skewed uniformly in [-15, +15] degrees (the first two at ±14.9), turned
//!   by a random quarter turn, with scanner defects drawn per page (see [`Defects`]):
//!   blur, black rotation wedges, paper tint, dark scanner bands, gaussian noise, dust
//!   specks, JPEG artefacts;
//! - `pages / 3` (at least 5) blank sheets cycling through the hard cases: plain noise,
//!   bleed-through from a printed back, edge shadows, skewed sheet with scanner bands, dust;
//! - `pages / 6` (at least 2) nearly empty pages carrying one short line of text, which
//!   must not be called blank.
//!
//! Every page goes through [`clean_page`] exactly as in the pipeline, on a one-thread rayon
//! pool, so the timings are one-core figures. With `ocr`, Tesseract reads each content
//! page after cleaning, and the same page rendered straight (same defects, no skew, no
//! turn), so the CER of skewed pages can be compared with that of straight ones. With
//! `compare`, the content pages are written as PNG to a temporary folder and
//! `scripts/compare_deskew.py` runs the PyPI packages `jdeskew` and `deskew` on them.

use std::path::{Path, PathBuf};
use std::time::Instant;

use image::{DynamicImage, GrayImage, ImageFormat};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use crate::model::{ColorMode, PageImage};
use crate::stages::imaging::{clean_page, prepare_for_ocr};
use crate::tools::synth::{self, Edge, GenOptions, Line, PageSpec};

/// How hard the scanner defects of the content pages are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Defects {
    /// Deliberately degraded (the default, for the geometry scores): box blur on 40% of
    /// pages (radius 2 at 300 dpi), tint 0.88-1.0, noise σ 4-14, 300 specks, JPEG quality
    /// 50-90 on half of them, dark bands on 30%, black rotation wedges on 30%.
    #[default]
    Heavy,
    /// What an office scanner gives at 200-300 dpi: slight blur (box radius 1) on 30% of
    /// pages, paper tint 0.92-1.0, noise σ 3-6, 100 small dust specks, JPEG quality 75-90
    /// on half of them, dark scanner bands on 20%, black rotation wedges on 30%; skew and
    /// quarter turns as in the heavy set.
    Realistic,
}

impl std::str::FromStr for Defects {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "heavy" => Ok(Defects::Heavy),
            "realistic" => Ok(Defects::Realistic),
            _ => Err(format!("unknown defects {s:?}: use heavy or realistic")),
        }
    }
}

/// What a page of the set is.
#[derive(Debug, Clone, PartialEq)]
pub enum Truth {
    /// A text page skewed by `skew_deg` then turned counter-clockwise by `rotation`.
    Content { skew_deg: f32, rotation: u16, text: String },
    /// A blank sheet (the name says which kind of hard case).
    Blank,
    /// One short line of text on an otherwise empty sheet: not blank.
    OneLine,
}

/// One page of the evaluation set.
#[derive(Debug, Clone)]
pub struct EvalPage {
    pub name: String,
    pub image: GrayImage,
    pub dpi: f32,
    pub truth: Truth,
    /// For content pages: the same page, straight and upright, with the same defects.
    pub straight: Option<GrayImage>,
}

impl EvalPage {
    /// The page as intake hands it to the pipeline: gray, numbered `index`, at its dpi.
    pub fn page_image(&self, index: usize) -> PageImage {
        PageImage { index, image: DynamicImage::ImageLuma8(self.image.clone()), color: ColorMode::Gray, dpi: self.dpi, warnings: Vec::new() }
    }

    /// The page as the OCR stage reads it: cleaned, then its OCR copy.
    pub fn ocr_copy(&self) -> GrayImage {
        prepare_for_ocr(&clean_page(self.page_image(0)).gray)
    }
}

/// Builds the evaluation set with the heavy defects (see the module doc).
/// `with_straight` also renders the straight twin of every content page (needed for the
/// OCR comparison only).
pub fn build_set(pages: usize, seed: u64, with_straight: bool) -> Vec<EvalPage> {
    build_set_with(pages, seed, Defects::Heavy, with_straight)
}

/// [`build_set`] with the given content-page defects.
pub fn build_set_with(pages: usize, seed: u64, defects: Defects, with_straight: bool) -> Vec<EvalPage> {
    let mut out = Vec::new();
    let per_dpi = [(200.0f32, pages.div_ceil(2)), (300.0, pages / 2)];
    let mut rng = StdRng::seed_from_u64(seed);
    let mut k = 0usize;
    for (j, &(dpi, n)) in per_dpi.iter().enumerate() {
        if n == 0 {
            continue;
        }
        let texts = content_pages(seed.wrapping_add(j as u64 * 7919), dpi, n);
        for (clean, text) in texts {
            let deg: f32 = match k {
                0 => 14.9,
                1 => -14.9,
                _ => (rng.random_range(-15.0f32..=15.0) * 100.0).round() / 100.0,
            };
            let quarter: u32 = rng.random_range(0..4);
            let defect_seed: u64 = rng.random();
            let image = degrade(&clean, dpi, deg, quarter, defect_seed, defects);
            let straight = with_straight.then(|| degrade(&clean, dpi, 0.0, 0, defect_seed, defects));
            out.push(EvalPage {
                name: format!("content-{k:03}-{}dpi", dpi as u32),
                image,
                dpi,
                truth: Truth::Content { skew_deg: deg, rotation: (quarter * 90) as u16, text },
                straight,
            });
            k += 1;
        }
    }
    let blanks = (pages / 3).max(5);
    for b in 0..blanks {
        let dpi = if b % 2 == 0 { 300 } else { 200 };
        let kind = ["noise", "bleed", "shadow", "border", "dust"][b % 5];
        let image = blank_page(kind, dpi, rng.random(), (b / 5) as u64);
        out.push(EvalPage { name: format!("blank-{b:03}-{kind}-{dpi}dpi"), image, dpi: dpi as f32, truth: Truth::Blank, straight: None });
    }
    const LINES: &[&str] = &["Trang này để trống", "Số: 12/UBND-VP", "Ghi chú: đã kiểm tra", "Hết./."];
    for i in 0..(pages / 6).max(2) {
        let dpi = if i % 2 == 0 { 200.0 } else { 300.0 };
        let spec = PageSpec::a4(dpi, synth::pt_to_px(13.0, dpi));
        let text = LINES[i % LINES.len()];
        let mut img = synth::render_page(&spec, &[Line::left(text)]);
        let s: u64 = rng.random();
        img = synth::rotate_gray(&img, rng.random_range(-5.0..5.0), 255);
        synth::tint(&mut img, 0.95);
        synth::add_noise(&mut img, s, 10.0);
        synth::add_specks(&mut img, s + 1, 400, dpi / 100.0);
        out.push(EvalPage { name: format!("oneline-{i:03}-{}dpi", dpi as u32), image: img, dpi, truth: Truth::OneLine, straight: None });
    }
    out
}

/// `n` clean, upright content pages at `dpi` with their exact text.
fn content_pages(seed: u64, dpi: f32, n: usize) -> Vec<(GrayImage, String)> {
    let mut got = Vec::new();
    let mut s = seed;
    while got.len() < n {
        let opts =
            GenOptions { seed: s, dpi, dossiers: n.div_ceil(4).clamp(1, 8), max_skew_deg: 0.0, noise_sigma: 0.0, blank_backs: false, ..Default::default() };
        let batch = synth::generate_batch(&opts);
        for (p, t) in batch.pages.into_iter().zip(batch.truth.pages) {
            if got.len() < n && t.kind == "content" {
                got.push((p.image, t.text.unwrap_or_default()));
            }
        }
        s = s.wrapping_add(1);
    }
    got
}

/// Skews (corners filled with white paper or a black scanner lid), then adds the defects
/// drawn from `seed`, then turns the page counter-clockwise by `quarter` quarter turns.
/// The draws depend on `seed` only, so a page and its straight twin get the same defects.
fn degrade(clean: &GrayImage, dpi: f32, deg: f32, quarter: u32, seed: u64, defects: Defects) -> GrayImage {
    let heavy = defects == Defects::Heavy;
    let mut rng = StdRng::seed_from_u64(seed);
    let mut img = clean.clone();
    if heavy {
        if rng.random_bool(0.4) {
            img = synth::box_blur(&img, if dpi >= 300.0 { 2 } else { 1 });
        }
    } else if rng.random_bool(0.3) {
        img = synth::box_blur(&img, 1);
    }
    let wedge = rng.random_bool(0.3);
    if deg != 0.0 {
        img = synth::rotate_gray(&img, deg, if wedge { 25 } else { 255 });
    }
    let paper = if heavy { 0.88 } else { 0.92 };
    synth::tint(&mut img, rng.random_range(paper..1.0));
    if rng.random_bool(if heavy { 0.3 } else { 0.2 }) {
        let d = (dpi / 5.0) as u32;
        synth::add_border(&mut img, d, 0, 0, d / 2, 20);
    }
    let (noise, specks, speck_radius) = if heavy { (4.0..14.0, 300, dpi / 100.0) } else { (3.0..6.0, 100, dpi / 200.0) };
    synth::add_noise(&mut img, seed, rng.random_range(noise));
    synth::add_specks(&mut img, seed ^ 1, specks, speck_radius);
    let (jpeg_p, quality) = if heavy { (0.5, 50..=90) } else { (0.5, 75..=90) };
    if rng.random_bool(jpeg_p) {
        img = jpeg_round_trip(&img, rng.random_range(quality));
    }
    synth::rotate_quarter(&img, quarter)
}

/// Encodes as JPEG at `quality` and decodes again (block and ringing artefacts).
pub fn jpeg_round_trip(img: &GrayImage, quality: u8) -> GrayImage {
    let mut buf = Vec::new();
    let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut buf, quality);
    if img.write_with_encoder(enc).is_err() {
        return img.clone();
    }
    image::load_from_memory_with_format(&buf, ImageFormat::Jpeg).map(|d| d.into_luma8()).unwrap_or_else(|_| img.clone())
}

/// A4 blank sheet of the given hard-case `kind`.
fn blank_page(kind: &str, dpi: u32, seed: u64, variant: u64) -> GrayImage {
    let d = dpi as f32;
    let w = (synth::A4_WIDTH_IN * d) as u32;
    let h = (synth::A4_HEIGHT_IN * d) as u32;
    let mut img = GrayImage::from_pixel(w, h, image::Luma([243]));
    synth::add_noise(&mut img, seed, 10.0);
    synth::add_specks(&mut img, seed + 1, 400, d / 100.0);
    match kind {
        "bleed" => {
            // Show-through of a printed back, mirrored as it would be, up to 30 %.
            let back = synth::render_admin_page(d, synth::pt_to_px(13.0, d), variant);
            let back = image::imageops::flip_horizontal(&back);
            synth::add_bleed_through(&mut img, &back, 0.3);
        }
        "shadow" => {
            synth::add_edge_shadow(&mut img, Edge::Left, (0.5 * d) as u32, 90);
            synth::add_edge_shadow(&mut img, Edge::Bottom, (0.3 * d) as u32, 120);
        }
        "border" => {
            img = synth::rotate_gray(&img, 2.0, 20);
            synth::add_border(&mut img, dpi / 6, dpi / 10, 0, 0, 15);
        }
        "dust" => synth::add_specks(&mut img, seed + 2, 40, d / 30.0),
        _ => {}
    }
    img
}

/// One page's result.
#[derive(Debug, Clone, Serialize)]
pub struct PageResult {
    pub name: String,
    pub dpi: f32,
    pub truth_skew_deg: Option<f32>,
    pub truth_rotation: Option<u16>,
    pub truth_blank: bool,
    pub skew_deg: f32,
    pub rotation: u16,
    pub blank: bool,
    /// `clean_page` CPU time on one core (the thread's own CPU clock, so other processes
    /// on a busy machine do not count), milliseconds.
    pub ms: f64,
    /// `clean_page` wall time on one core, milliseconds.
    pub wall_ms: f64,
    /// Character error rate after the image stage (with `--ocr`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cer: Option<f64>,
    /// Character error rate of the straight twin (with `--ocr`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cer_straight: Option<f64>,
}

/// Error figures of one skew estimator over the content pages.
#[derive(Debug, Clone, Serialize)]
pub struct SkewScore {
    pub pages: usize,
    pub mae_deg: f64,
    pub max_err_deg: f64,
    /// Mean time per page, milliseconds (0 where not measured).
    pub mean_ms: f64,
}

/// The scores of a run.
#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    pub seed: u64,
    pub defects: Defects,
    pub content_pages: usize,
    pub blank_pages: usize,
    pub one_line_pages: usize,
    pub skew: SkewScore,
    pub skew_200dpi: SkewScore,
    pub skew_300dpi: SkewScore,
    /// Over the content pages and the one-line pages (which must stay as they are).
    pub orientation_accuracy: f64,
    pub orientation_wrong: Vec<String>,
    pub blank_accuracy: f64,
    /// Content or one-line pages called blank (must be 0).
    pub content_called_blank: usize,
    /// Blank pages not called blank.
    pub blank_missed: usize,
    /// `clean_page` CPU time on one core: mean and max over the 300 dpi content pages.
    pub clean_ms_300dpi_mean: f64,
    /// The same in wall time (includes waiting for the CPU on a busy machine).
    pub clean_wall_ms_300dpi_mean: f64,
    pub clean_ms_300dpi_max: f64,
    pub clean_ms_200dpi_mean: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ocr: Option<OcrScore>,
    /// Other estimators on the same content pages (`--compare`), by name.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub compare: Vec<(String, SkewScore)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compare_error: Option<String>,
    pub pages: Vec<PageResult>,
}

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

/// Runs `clean_page` on every page (one-thread pool) and scores the results.
pub fn evaluate(set: &[EvalPage], seed: u64) -> EvalReport {
    evaluate_with(set, seed, Defects::Heavy)
}

/// [`evaluate`] on a set built with `defects` (recorded in the report).
pub fn evaluate_with(set: &[EvalPage], seed: u64, defects: Defects) -> EvalReport {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().ok();
    let run = |p: &EvalPage| -> PageResult {
        let input = p.page_image(0);
        let timed = || {
            let c0 = thread_cpu_s();
            let t = Instant::now();
            let clean = clean_page(input);
            (clean, t.elapsed().as_secs_f64() * 1000.0, (thread_cpu_s() - c0) * 1000.0)
        };
        let (clean, wall_ms, ms) = match &pool {
            Some(pool) => pool.install(timed),
            None => timed(),
        };
        let (ts, tr) = match &p.truth {
            Truth::Content { skew_deg, rotation, .. } => (Some(*skew_deg), Some(*rotation)),
            // Upright, skewed a little: must not be turned (its skew is not scored).
            Truth::OneLine => (None, Some(0)),
            Truth::Blank => (None, None),
        };
        PageResult {
            name: p.name.clone(),
            dpi: p.dpi,
            truth_skew_deg: ts,
            truth_rotation: tr,
            truth_blank: p.truth == Truth::Blank,
            skew_deg: clean.skew_deg,
            rotation: clean.rotation,
            blank: clean.blank,
            ms,
            wall_ms,
            cer: None,
            cer_straight: None,
        }
    };
    let pages: Vec<PageResult> = set.iter().map(run).collect();
    score(pages, seed, defects)
}

/// CPU time consumed by the calling thread, seconds.
fn thread_cpu_s() -> f64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec; the call only writes into it.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return 0.0;
    }
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

fn skew_score<'a>(it: impl Iterator<Item = &'a PageResult>) -> SkewScore {
    let errs: Vec<(f64, f64)> = it.filter_map(|p| p.truth_skew_deg.map(|t| ((p.skew_deg - t).abs() as f64, p.ms))).collect();
    let n = errs.len().max(1) as f64;
    SkewScore {
        pages: errs.len(),
        mae_deg: errs.iter().map(|e| e.0).sum::<f64>() / n,
        max_err_deg: errs.iter().map(|e| e.0).fold(0.0, f64::max),
        mean_ms: errs.iter().map(|e| e.1).sum::<f64>() / n,
    }
}

fn score(pages: Vec<PageResult>, seed: u64, defects: Defects) -> EvalReport {
    let content: Vec<&PageResult> = pages.iter().filter(|p| p.truth_skew_deg.is_some()).collect();
    let turned: Vec<&PageResult> = pages.iter().filter(|p| p.truth_rotation.is_some()).collect();
    let wrong: Vec<String> = turned
        .iter()
        .filter(|p| Some(p.rotation) != p.truth_rotation)
        .map(|p| format!("{}: true {} got {}", p.name, p.truth_rotation.unwrap_or(0), p.rotation))
        .collect();
    let blank_ok = pages.iter().filter(|p| p.blank == p.truth_blank).count();
    let ms = |dpi: f32| -> Vec<f64> { content.iter().filter(|p| p.dpi == dpi).map(|p| p.ms).collect() };
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let (m300, m200) = (ms(300.0), ms(200.0));
    EvalReport {
        seed,
        defects,
        content_pages: content.len(),
        blank_pages: pages.iter().filter(|p| p.truth_blank).count(),
        one_line_pages: pages.len() - content.len() - pages.iter().filter(|p| p.truth_blank).count(),
        skew: skew_score(pages.iter()),
        skew_200dpi: skew_score(pages.iter().filter(|p| p.dpi == 200.0)),
        skew_300dpi: skew_score(pages.iter().filter(|p| p.dpi == 300.0)),
        orientation_accuracy: (turned.len() - wrong.len()) as f64 / turned.len().max(1) as f64,
        orientation_wrong: wrong,
        blank_accuracy: blank_ok as f64 / pages.len().max(1) as f64,
        content_called_blank: pages.iter().filter(|p| p.blank && !p.truth_blank).count(),
        blank_missed: pages.iter().filter(|p| !p.blank && p.truth_blank).count(),
        clean_ms_300dpi_mean: mean(&m300),
        clean_wall_ms_300dpi_mean: mean(&content.iter().filter(|p| p.dpi == 300.0).map(|p| p.wall_ms).collect::<Vec<_>>()),
        clean_ms_300dpi_max: m300.iter().cloned().fold(0.0, f64::max),
        clean_ms_200dpi_mean: mean(&m200),
        ocr: None,
        compare: Vec::new(),
        compare_error: None,
        pages,
    }
}

/// Reads every content page (after `clean_page`) and its straight twin with Tesseract and
/// fills the CER fields, on `threads` threads (one engine each).
fn add_ocr(report: &mut EvalReport, set: &[EvalPage], data: &Path, input: OcrInput, threads: usize) -> Result<(), String> {
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
                let c0 = thread_cpu_s();
                let gray = match input {
                    OcrInput::Prepared => prepare_for_ocr(&gray),
                    OcrInput::Cleaned => gray,
                };
                let c1 = thread_cpu_s();
                let ocr = engine.recognize(&gray, p.dpi).or_else(|_| engine.recognize(&gray, p.dpi));
                (ocr, c1 - c0, thread_cpu_s() - c1)
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

/// One line of `scripts/compare_deskew.py` output.
#[derive(Debug, serde::Deserialize)]
struct ToolAngle {
    file: String,
    tool: String,
    /// Degrees in sohoa's convention (positive = content counter-clockwise), or null.
    angle_deg: Option<f64>,
    ms: f64,
}

/// Difference of two line angles, modulo a quarter turn (the tools estimate skew only).
fn skew_diff(a: f64, b: f64) -> f64 {
    let d = (a - b).rem_euclid(90.0);
    d.min(90.0 - d)
}

/// Writes the content pages as PNG and runs the comparison script on them.
fn add_compare(report: &mut EvalReport, set: &[EvalPage], script: &Path) -> Result<(), String> {
    let dir = tempfile_dir()?;
    let mut truth = std::collections::HashMap::new();
    let mut list = String::new();
    for p in set {
        if let Truth::Content { skew_deg, .. } = p.truth {
            let file = format!("{}.png", p.name);
            p.image.save_with_format(dir.join(&file), ImageFormat::Png).map_err(|e| format!("writing {file}: {e}"))?;
            truth.insert(file.clone(), (skew_deg as f64, p.dpi));
            list.push_str(&file);
            list.push('\n');
        }
    }
    std::fs::write(dir.join("pages.txt"), list).map_err(|e| e.to_string())?;
    eprintln!("Pages written to {}; running {}", dir.display(), script.display());
    let out = std::process::Command::new(std::env::var("PYTHON").unwrap_or("python3".into()))
        .arg(script)
        .arg(&dir)
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| format!("could not run python3: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!("{} failed ({}): {}", script.display(), out.status, stdout.trim()));
    }
    let mut by_tool: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
    for line in stdout.lines().filter(|l| l.starts_with('{')) {
        let t: ToolAngle = serde_json::from_str(line).map_err(|e| format!("{e}: {line}"))?;
        let Some(&(true_deg, _)) = truth.get(&t.file) else {
            continue;
        };
        // A tool that gives no angle is scored as if it had said 0.
        let err = skew_diff(t.angle_deg.unwrap_or(0.0), true_deg);
        match by_tool.iter_mut().find(|(n, _)| *n == t.tool) {
            Some((_, v)) => v.push((err, t.ms)),
            None => by_tool.push((t.tool.clone(), vec![(err, t.ms)])),
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    for (tool, v) in by_tool {
        let n = v.len().max(1) as f64;
        report.compare.push((
            tool,
            SkewScore {
                pages: v.len(),
                mae_deg: v.iter().map(|e| e.0).sum::<f64>() / n,
                max_err_deg: v.iter().map(|e| e.0).fold(0.0, f64::max),
                mean_ms: v.iter().map(|e| e.1).sum::<f64>() / n,
            },
        ));
    }
    Ok(())
}

fn tempfile_dir() -> Result<PathBuf, String> {
    let dir = std::env::temp_dir().join(format!("sohoa-eval-imaging-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(dir)
}

/// Arguments of `sohoa eval-imaging`.
#[derive(Debug, Clone)]
pub struct EvalArgs {
    pub pages: usize,
    pub seed: u64,
    pub json: bool,
    pub compare: bool,
    pub ocr: bool,
    /// With `ocr`: Tesseract reads the cleaned page as is, not `prepare_for_ocr` of it.
    pub ocr_plain: bool,
    /// With `ocr`: pages read at once, one Tesseract engine each (`--ocr-threads`).
    pub ocr_threads: usize,
    /// Content-page defects (`--defects heavy|realistic`).
    pub defects: Defects,
    /// Data folder (models for `--ocr`).
    pub data: PathBuf,
    /// The comparison script (default `scripts/compare_deskew.py`).
    pub script: PathBuf,
}

/// `sohoa eval-imaging`: builds the set, scores it, prints a summary or one JSON object.
/// Exit code 0, or 2 when a requested part (`--ocr`, `--compare`) could not run.
pub fn run(args: &EvalArgs) -> u8 {
    let t = Instant::now();
    let set = build_set_with(args.pages.max(1), args.seed, args.defects, args.ocr);
    eprintln!("Generated {} pages in {:.1} s; cleaning them on one core...", set.len(), t.elapsed().as_secs_f64());
    let mut report = evaluate_with(&set, args.seed, args.defects);
    let mut code = 0;
    if args.ocr
        && let Err(e) = add_ocr(&mut report, &set, &args.data, if args.ocr_plain { OcrInput::Cleaned } else { OcrInput::Prepared }, args.ocr_threads)
    {
        eprintln!("error: OCR comparison could not run: {e}");
        code = 2;
    }
    if args.compare
        && let Err(e) = add_compare(&mut report, &set, &args.script)
    {
        eprintln!("error: comparison with jdeskew/deskew could not run: {e}");
        report.compare_error = Some(e);
        code = 2;
    }
    if args.json {
        match serde_json::to_string(&report) {
            Ok(s) => println!("{s}"),
            Err(e) => eprintln!("error: {e}"),
        }
    } else {
        print_summary(&report);
    }
    code
}

fn print_summary(r: &EvalReport) {
    println!(
        "eval-imaging seed {}: {} content pages (200/300 dpi, skew ±15°, quarter turns, {} defects: noise, blur, JPEG, borders), {} blank, {} one-line",
        r.seed,
        r.content_pages,
        match r.defects {
            Defects::Heavy => "heavy",
            Defects::Realistic => "realistic",
        },
        r.blank_pages,
        r.one_line_pages
    );
    let row =
        |name: &str, s: &SkewScore| println!("  {name:<22} pages {:3}  MAE {:.4}°  max {:.4}°  {:7.1} ms/page", s.pages, s.mae_deg, s.max_err_deg, s.mean_ms);
    println!("skew (sohoa clean_page, one core):");
    row("all", &r.skew);
    row("200 dpi", &r.skew_200dpi);
    row("300 dpi", &r.skew_300dpi);
    for (name, s) in &r.compare {
        row(name, s);
    }
    if let Some(e) = &r.compare_error {
        println!("  comparison not run: {e}");
    }
    println!(
        "orientation: {:.2}% right ({} wrong){}",
        r.orientation_accuracy * 100.0,
        r.orientation_wrong.len(),
        if r.orientation_wrong.is_empty() { String::new() } else { format!(": {}", r.orientation_wrong.join("; ")) }
    );
    println!("blank: {:.2}% right; content called blank {}; blank missed {}", r.blank_accuracy * 100.0, r.content_called_blank, r.blank_missed);
    println!(
        "clean_page one core, CPU time: 300 dpi mean {:.1} ms (max {:.1}), 200 dpi mean {:.1} ms; 300 dpi wall {:.1} ms",
        r.clean_ms_300dpi_mean, r.clean_ms_300dpi_max, r.clean_ms_200dpi_mean, r.clean_wall_ms_300dpi_mean
    );
    if let Some(o) = &r.ocr {
        let pct = |v: f64| format!("{:.3}%", v * 100.0);
        let opt = |v: Option<f64>| v.map_or("-".into(), pct);
        println!(
            "OCR after the image stage, Tesseract reads {}, {} pages (CER, character-weighted):",
            match o.input {
                OcrInput::Prepared => "prepare_for_ocr(cleaned page)",
                OcrInput::Cleaned => "the cleaned page (--ocr-plain)",
            },
            o.pages
        );
        println!(
            "  skewed and turned: mean {}, worst page {} ({}); 200 dpi {}, 300 dpi {}",
            pct(o.cer_skewed),
            pct(o.worst_page_cer),
            o.worst_page,
            pct(o.cer_skewed_200dpi),
            pct(o.cer_skewed_300dpi)
        );
        println!(
            "  straight twins:    mean {}, worst page {}; 200 dpi {}, 300 dpi {}",
            opt(o.cer_straight),
            opt(o.worst_page_cer_straight),
            opt(o.cer_straight_200dpi),
            opt(o.cer_straight_300dpi)
        );
        println!("  worst page skewed minus straight: {}", o.worst_page_excess.map_or("-".into(), |v| format!("{:+.3} points", v * 100.0)));
        println!("  CPU time per read (one thread): Tesseract {:.0} ms, prepare_for_ocr {:.1} ms", o.ocr_ms_mean, o.prepare_ms_mean);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skew_difference_is_modulo_a_quarter_turn() {
        assert!((skew_diff(3.0, 2.5) - 0.5).abs() < 1e-9);
        assert!((skew_diff(-87.0, 3.0) - 0.0).abs() < 1e-9);
        assert!((skew_diff(44.0, -44.0) - 2.0).abs() < 1e-9);
    }

    #[test]
    fn jpeg_round_trip_keeps_size() {
        let img = GrayImage::from_fn(64, 48, |x, _| image::Luma([(x * 4) as u8]));
        let j = jpeg_round_trip(&img, 60);
        assert_eq!(j.dimensions(), (64, 48));
    }

    fn page(name: &str, dpi: f32, chars: usize, cer: f64, straight: Option<f64>) -> PageOcr {
        PageOcr { name: name.into(), dpi, chars, cer, cer_straight: straight, prepare_s: 0.001, ocr_s: 1.0, reads: if straight.is_some() { 2 } else { 1 } }
    }

    #[test]
    fn ocr_score_is_character_weighted_per_resolution() {
        let pages = [page("a", 200.0, 1000, 0.01, Some(0.005)), page("b", 300.0, 3000, 0.002, Some(0.004))];
        let s = OcrScore::from_pages(OcrInput::Cleaned, &pages);
        assert_eq!(s.pages, 2);
        assert!((s.cer_skewed - (10.0 + 6.0) / 4000.0).abs() < 1e-12);
        assert!((s.cer_straight.unwrap() - (5.0 + 12.0) / 4000.0).abs() < 1e-12);
        assert!((s.cer_skewed_200dpi - 0.01).abs() < 1e-12);
        assert!((s.cer_straight_300dpi.unwrap() - 0.004).abs() < 1e-12);
        assert_eq!(s.worst_page, "a");
        assert!((s.worst_page_cer_straight.unwrap() - 0.005).abs() < 1e-12);
        assert!((s.worst_page_excess.unwrap() - 0.005).abs() < 1e-12);
        assert!((s.ocr_ms_mean - 500.0).abs() < 1e-9);
        assert!((s.prepare_ms_mean - 0.5).abs() < 1e-9);
    }

    #[test]
    fn ocr_score_without_every_twin_has_no_straight_figures() {
        let pages = [page("a", 200.0, 10, 0.1, Some(0.0)), page("b", 300.0, 10, 0.0, None)];
        let s = OcrScore::from_pages(OcrInput::Prepared, &pages);
        assert!(s.cer_straight.is_none() && s.worst_page_excess.is_none());
        assert!((s.cer_skewed - 0.05).abs() < 1e-12);
        let empty = OcrScore::from_pages(OcrInput::Prepared, &[]);
        assert_eq!((empty.pages, empty.cer_skewed), (0, 0.0));
    }
}
