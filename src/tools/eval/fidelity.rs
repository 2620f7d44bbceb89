//! `sohoa eval-ocr`: is sohoa's text layer as good as the engine alone?
//!
//! Owns the OCR fidelity sets and their scoring. Every page is generated with its exact
//! text (`synth::text::eval_paragraphs`: administrative prose, names, places, addresses,
//! numbers, dates, CCCD numbers, row lists; or English prose), drawn in one or two columns
//! at 72-300 dpi, gray or colour, clean or with scanner defects, and cleaned by
//! `clean_page` as in the pipeline. Then each reader reads the cleaned page:
//!
//! - `sohoa`: `stages::ocr::page::read_page` with the pipeline's options and models, the
//!   words the searchable PDF gets;
//! - `bare`: Tesseract with the same language and model and nothing of sohoa's (no
//!   configuration, word list or patterns, no OCR copy, no bands, no upscaling, its own
//!   word order) on the same cleaned page at the page's resolution: what
//!   `tesseract page.png out --dpi N -l vie` gives;
//! - `ocrmypdf`, when `ocrmypdf` is on the PATH: its sidecar text for the cleaned page;
//! - with `ablation`, sohoa's path with one choice changed at a time, so each speed or
//!   accuracy choice is measured on its own.
//!
//! Scores per set and reader: CER (`synth::cer`), WER (word edit distance over reference
//! words), mark errors (a reference word read with the same letters but other tone or
//! vowel marks: `thẩm` read `thấm`; split into tone and vowel-mark errors), and errors on
//! protected words (names, places, numbers, codes, dates, every English word: where a
//! diacritic correction must change nothing).

use std::collections::{HashMap, HashSet};
use std::path::Path;

use image::{DynamicImage, GrayImage};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use unicode_normalization::UnicodeNormalization;

use crate::model::{ColorMode, PageImage};
use crate::stages::imaging::clean_page;
use crate::stages::ocr::page::{OcrCopy, ReadOptions, read_page};
use crate::stages::ocr::tesseract::TesseractEngine;
use crate::stages::ocr::{Deadline, OcrConfig};
use crate::stages::render::{self, PageLayout, Style};
use crate::tools::synth::{self, text::EvalParagraph};

use super::set::{Defects, degrade};

/// One page set of the fidelity eval.
#[derive(Debug, Clone, PartialEq)]
pub struct SetSpec {
    pub name: &'static str,
    /// Tesseract language and text language: `vie` or `eng`.
    pub lang: &'static str,
    pub dpi: f32,
    pub color: bool,
    /// Scanner defects; None: a clean render (low-resolution sets get light noise only).
    pub defects: Option<Defects>,
    pub columns: usize,
    pub font_pt: f32,
}

const fn set(name: &'static str, lang: &'static str, dpi: f32, color: bool, defects: Option<Defects>, columns: usize) -> SetSpec {
    SetSpec { name, lang, dpi, color, defects, columns, font_pt: 13.0 }
}

/// The page sets, in report order.
pub const SETS: &[SetSpec] = &[
    set("vie-200-clean", "vie", 200.0, false, None, 1),
    set("vie-200-scan", "vie", 200.0, false, Some(Defects::Realistic), 1),
    set("vie-300-scan", "vie", 300.0, false, Some(Defects::Realistic), 1),
    set("vie-200-degraded", "vie", 200.0, false, Some(Defects::Heavy), 1),
    set("vie-300-color", "vie", 300.0, true, Some(Defects::Realistic), 1),
    set("vie-200-color", "vie", 200.0, true, Some(Defects::Realistic), 1),
    set("vie-300-2col", "vie", 300.0, false, Some(Defects::Realistic), 2),
    set("vie-150-low", "vie", 150.0, false, None, 1),
    set("vie-100-low", "vie", 100.0, false, None, 1),
    set("eng-300-scan", "eng", 300.0, false, Some(Defects::Realistic), 1),
    set("eng-150-low", "eng", 150.0, false, None, 1),
    set("eng-72-low", "eng", 72.0, false, None, 1),
];

/// The small sets of the CI test: 200 and 300 dpi Vietnamese, a low-resolution English
/// page, two columns.
pub const CI_SETS: &[&str] = &["vie-200-scan", "vie-300-scan", "eng-72-low", "vie-300-2col"];

/// One generated page: the page as intake hands it over, its text, its protected words.
pub struct FidelityPage {
    pub set: &'static str,
    pub lang: &'static str,
    pub name: String,
    pub page: PageImage,
    pub text: String,
    pub protected: HashSet<String>,
}

/// Draws `paras` on an A4 page at `dpi` in `columns` columns (8 mm apart), filling each
/// column top to bottom before the next; returns the page and the text of the rows drawn,
/// column after column, one row a line.
pub fn render_columns(paras: &[EvalParagraph], dpi: f32, font_pt: f32, columns: usize) -> (GrayImage, String) {
    let columns = columns.max(1);
    let gutter = 8.0;
    let col_w = (render::TEXT_W_MM - gutter * (columns - 1) as f32) / columns as f32;
    let step = font_pt * render::MM_PER_PT * 1.3;
    let mut layout = PageLayout::default();
    let mut rows_out: Vec<String> = Vec::new();
    let (mut col, mut baseline) = (0usize, render::MARGIN_T_MM + font_pt * render::MM_PER_PT);
    'paras: for p in paras {
        for row in render::wrap(&p.text, Style::Regular, font_pt, col_w, 0.0) {
            if baseline > render::BOTTOM_MM {
                col += 1;
                baseline = render::MARGIN_T_MM + font_pt * render::MM_PER_PT;
                if col >= columns {
                    break 'paras;
                }
            }
            let x = render::MARGIN_L_MM + col as f32 * (col_w + gutter);
            layout.text_at(row.clone(), Style::Regular, font_pt, x, baseline);
            rows_out.push(row);
            baseline += step;
        }
        // A paragraph gap of half a line.
        baseline += step / 2.0;
    }
    (render::render(&layout, dpi), rows_out.join("\n"))
}

/// The pages of `spec`: `pages` of them, drawn from `seed`.
pub fn build_pages(spec: &SetSpec, pages: usize, seed: u64) -> Vec<FidelityPage> {
    let mut rng = StdRng::seed_from_u64(seed ^ fxhash(spec.name));
    (0..pages)
        .map(|i| {
            let paras = synth::text::eval_paragraphs(&mut rng, spec.lang, 40);
            let protected: HashSet<String> = paras.iter().flat_map(|p| p.protected.iter().map(|w| trim_punct(w).to_string())).collect();
            let (clean, text) = render_columns(&paras, spec.dpi, spec.font_pt, spec.columns);
            let defect_seed: u64 = rng.random();
            let gray = match spec.defects {
                Some(d) => degrade(&clean, spec.dpi, rng.random_range(-2.0f32..=2.0), 0, defect_seed, d),
                None => {
                    let mut img = clean;
                    synth::tint(&mut img, 0.96);
                    synth::add_noise(&mut img, defect_seed, 3.0);
                    img
                }
            };
            let (image, color) = if spec.color {
                (DynamicImage::ImageRgb8(synth::to_warm_rgb(&gray)), ColorMode::Rgb)
            } else {
                (DynamicImage::ImageLuma8(gray), ColorMode::Gray)
            };
            FidelityPage {
                set: spec.name,
                lang: spec.lang,
                name: format!("{}-{i}", spec.name),
                page: PageImage { index: i, image, color, dpi: spec.dpi, warnings: Vec::new() },
                text,
                protected,
            }
        })
        .collect()
}

/// A stable hash of a set name, so each set draws its own texts from the same seed.
fn fxhash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3))
}

fn trim_punct(w: &str) -> &str {
    w.trim_matches(|c: char| matches!(c, ',' | '.' | ';' | ':' | '(' | ')' | '"'))
}

/// Who reads the cleaned pages.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reader {
    /// sohoa's OCR path with these options; `models`: sohoa's configuration, word list
    /// and patterns.
    Sohoa { name: &'static str, opts: ReadOptions, models: bool, diacritics: bool },
    /// Tesseract alone.
    Bare,
    /// OCRmyPDF's sidecar text.
    Ocrmypdf,
}

impl Reader {
    pub fn name(&self) -> &'static str {
        match self {
            Reader::Sohoa { name, .. } => name,
            Reader::Bare => "bare",
            Reader::Ocrmypdf => "ocrmypdf",
        }
    }
}

/// sohoa as the pipeline reads (`ReadOptions::default()`, checked by a test).
pub const SOHOA: Reader = Reader::Sohoa { name: "sohoa", opts: PIPELINE_OPTS, models: true, diacritics: true };
const PIPELINE_OPTS: ReadOptions = ReadOptions { copy: OcrCopy::Levels, bands: false, upscale: true };

/// sohoa's path with one choice changed at a time (`--ablation`).
pub const ABLATION: &[Reader] = &[
    Reader::Sohoa { name: "median-copy", opts: ReadOptions { copy: OcrCopy::LevelsMedian, ..PIPELINE_OPTS }, models: true, diacritics: true },
    Reader::Sohoa { name: "cleaned-copy", opts: ReadOptions { copy: OcrCopy::Cleaned, ..PIPELINE_OPTS }, models: true, diacritics: true },
    Reader::Sohoa { name: "bands", opts: ReadOptions { bands: true, ..PIPELINE_OPTS }, models: true, diacritics: true },
    Reader::Sohoa { name: "no-upscale", opts: ReadOptions { upscale: false, ..PIPELINE_OPTS }, models: true, diacritics: true },
    Reader::Sohoa { name: "no-models", opts: PIPELINE_OPTS, models: false, diacritics: true },
    Reader::Sohoa { name: "no-diacritics", opts: PIPELINE_OPTS, models: true, diacritics: false },
    Reader::Sohoa { name: "previous", opts: ReadOptions { copy: OcrCopy::LevelsMedian, bands: true, upscale: false }, models: true, diacritics: true },
];

/// How one reader did on one page or a set of pages (sums; rates are computed from them).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Counts {
    pub pages: usize,
    pub chars: usize,
    pub char_errors: usize,
    pub words: usize,
    pub word_errors: usize,
    /// Reference words read with the same letters and other marks.
    pub mark_errors: usize,
    /// ... of which the vowel marks (ă â ê ô ơ ư đ) are right and the tone wrong.
    pub tone_errors: usize,
    pub protected_words: usize,
    pub protected_errors: usize,
    /// CPU seconds of the reads (the thread's clock).
    pub cpu_s: f64,
    /// The mark errors, `reference→read`.
    pub marks: Vec<String>,
    /// Every word edit, `reference→read` (`∅` for a word missing or added), for
    /// `--show-errors`; not in the JSON.
    #[serde(skip)]
    pub edits: Vec<String>,
}

impl Counts {
    fn add(&mut self, o: &Counts) {
        self.pages += o.pages;
        self.chars += o.chars;
        self.char_errors += o.char_errors;
        self.words += o.words;
        self.word_errors += o.word_errors;
        self.mark_errors += o.mark_errors;
        self.tone_errors += o.tone_errors;
        self.protected_words += o.protected_words;
        self.protected_errors += o.protected_errors;
        self.cpu_s += o.cpu_s;
        self.marks.extend(o.marks.iter().cloned());
        self.edits.extend(o.edits.iter().cloned());
    }
    pub fn cer(&self) -> f64 {
        self.char_errors as f64 / self.chars.max(1) as f64
    }
    pub fn wer(&self) -> f64 {
        self.word_errors as f64 / self.words.max(1) as f64
    }
}

/// Scores `hyp` against the page's text.
pub fn score(reference: &str, hyp: &str, protected: &HashSet<String>) -> Counts {
    let r: Vec<&str> = reference.split_whitespace().collect();
    let h: Vec<&str> = hyp.split_whitespace().collect();
    let chars = r.join(" ").chars().count();
    let char_errors = (synth::cer(reference, hyp) * chars as f64).round() as usize;
    let ops = align(&r, &h);
    let mut c = Counts { pages: 1, chars, char_errors, words: r.len(), ..Default::default() };
    for op in &ops {
        let (ri, hi) = *op;
        let wrong = match (ri, hi) {
            (Some(i), Some(j)) => r[i] != h[j],
            _ => true,
        };
        if wrong {
            c.word_errors += 1;
            let side = |k: Option<usize>, ws: &[&str]| k.map_or("∅".to_string(), |k| ws[k].to_string());
            c.edits.push(format!("{}→{}", side(ri, &r), side(hi, &h)));
        }
        if let (Some(i), Some(j)) = (ri, hi)
            && r[i] != h[j]
            && strip_marks(r[i], true) == strip_marks(h[j], true)
        {
            c.mark_errors += 1;
            c.marks.push(format!("{}→{}", r[i], h[j]));
            if strip_marks(r[i], false) == strip_marks(h[j], false) {
                c.tone_errors += 1;
            }
        }
        if let Some(i) = ri {
            let w = trim_punct(r[i]);
            if protected.contains(w) || w.chars().any(|ch| ch.is_ascii_digit()) {
                c.protected_words += 1;
                c.protected_errors += usize::from(wrong);
            }
        }
    }
    c
}

/// `w` without its tone marks (and, with `vowel_marks`, without the marks of ă â ê ô ơ ư
/// and the bar of đ too), NFC.
pub fn strip_marks(w: &str, vowel_marks: bool) -> String {
    const TONES: &[char] = &['\u{300}', '\u{301}', '\u{303}', '\u{309}', '\u{323}'];
    let stripped: String = w
        .nfd()
        .filter(|c| !(TONES.contains(c) || vowel_marks && ('\u{300}'..='\u{36f}').contains(c)))
        .map(|c| match c {
            'đ' if vowel_marks => 'd',
            'Đ' if vowel_marks => 'D',
            c => c,
        })
        .collect();
    stripped.nfc().collect()
}

/// Word alignment with the fewest edits: pairs (reference index, hypothesis index), None
/// for an insertion or a deletion; substitutions and matches pair both.
pub fn align(r: &[&str], h: &[&str]) -> Vec<(Option<usize>, Option<usize>)> {
    let (n, m) = (r.len(), h.len());
    let mut d = vec![0u32; (n + 1) * (m + 1)];
    let at = |i: usize, j: usize| i * (m + 1) + j;
    for i in 0..=n {
        d[at(i, 0)] = i as u32;
    }
    for j in 0..=m {
        d[at(0, j)] = j as u32;
    }
    for i in 1..=n {
        for j in 1..=m {
            let sub = d[at(i - 1, j - 1)] + u32::from(r[i - 1] != h[j - 1]);
            d[at(i, j)] = sub.min(d[at(i - 1, j)] + 1).min(d[at(i, j - 1)] + 1);
        }
    }
    let (mut i, mut j) = (n, m);
    let mut ops = Vec::with_capacity(n.max(m));
    while i > 0 || j > 0 {
        if i > 0 && j > 0 && d[at(i, j)] == d[at(i - 1, j - 1)] + u32::from(r[i - 1] != h[j - 1]) {
            ops.push((Some(i - 1), Some(j - 1)));
            (i, j) = (i - 1, j - 1);
        } else if i > 0 && d[at(i, j)] == d[at(i - 1, j)] + 1 {
            ops.push((Some(i - 1), None));
            i -= 1;
        } else {
            ops.push((None, Some(j - 1)));
            j -= 1;
        }
    }
    ops.reverse();
    ops
}

/// One reader's totals over one set.
#[derive(Debug, Clone, Serialize)]
pub struct ReaderScore {
    pub reader: String,
    pub cer: f64,
    pub wer: f64,
    #[serde(flatten)]
    pub counts: Counts,
}

/// A set's results, readers in the order asked.
#[derive(Debug, Clone, Serialize)]
pub struct SetScore {
    pub set: String,
    pub lang: String,
    pub dpi: f32,
    pub readers: Vec<ReaderScore>,
}

impl SetScore {
    pub fn reader(&self, name: &str) -> Option<&ReaderScore> {
        self.readers.iter().find(|r| r.reader == name)
    }
}

/// The eval's result.
#[derive(Debug, Clone, Serialize)]
pub struct FidelityReport {
    pub seed: u64,
    pub pages_per_set: usize,
    pub sets: Vec<SetScore>,
    /// Totals of every reader over the Vietnamese sets.
    pub vie_total: Vec<ReaderScore>,
    /// Sets where sohoa made more character or word errors than bare Tesseract.
    pub worse_than_bare: Vec<String>,
    /// Why there is no `ocrmypdf` column, when there is none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ocrmypdf: Option<String>,
}

/// What to run.
#[derive(Debug, Clone)]
pub struct FidelityArgs {
    pub pages_per_set: usize,
    pub seed: u64,
    /// Set names (all when empty).
    pub sets: Vec<String>,
    pub ablation: bool,
    /// Only these ablation readers (all when empty).
    pub readers: Vec<String>,
    pub threads: usize,
    /// Print each page's word edits per reader on stderr (`--show-errors`).
    pub show_errors: bool,
}

/// Engines of one thread, by (language, with sohoa's models, Tesseract's word order).
struct Engines<'a> {
    models: &'a Path,
    map: HashMap<(&'static str, bool, bool, bool), TesseractEngine>,
}

impl Engines<'_> {
    fn get(&mut self, lang: &'static str, models: bool, bare: bool, diacritics: bool) -> Result<&mut TesseractEngine, String> {
        use std::collections::hash_map::Entry;
        match self.map.entry((lang, models, bare, diacritics)) {
            Entry::Occupied(e) => Ok(e.into_mut()),
            Entry::Vacant(v) => {
                let config = OcrConfig {
                    langs: lang.into(),
                    models: models.then(|| self.models.to_path_buf()),
                    deadline_ms: 3_600_000,
                    diacritics,
                    ..Default::default()
                };
                let engine = TesseractEngine::new(&config).map_err(|e| e.to_string())?;
                Ok(v.insert(if bare { engine.with_tesseract_order() } else { engine }))
            }
        }
    }
}

/// Reads one cleaned page with `reader`: the text and the CPU seconds.
fn read(engines: &mut Engines, reader: &Reader, lang: &'static str, gray: &GrayImage, dpi: f32) -> Result<(String, f64), String> {
    let t = crate::timing::CpuClock::start();
    match reader {
        Reader::Sohoa { opts, models, diacritics, .. } => {
            let engine = engines.get(lang, *models, false, *diacritics)?;
            let (page, cpu) = read_page(engine, gray, dpi, opts, None, Deadline::after_ms(3_600_000));
            Ok((page.map_err(|e| e.to_string())?.text, cpu))
        }
        Reader::Bare => {
            use crate::stages::ocr::OcrEngine;
            let page = engines.get(lang, false, true, false)?.recognize(gray, dpi).map_err(|e| e.to_string())?;
            Ok((page.text, t.seconds()))
        }
        Reader::Ocrmypdf => {
            let text = ocrmypdf(gray, dpi, lang)?;
            Ok((text, t.seconds()))
        }
    }
}

/// OCRmyPDF on the cleaned page (a PNG at `dpi`): its sidecar text.
fn ocrmypdf(gray: &GrayImage, dpi: f32, lang: &str) -> Result<String, String> {
    let dir = std::env::temp_dir().join(format!("sohoa-eval-ocr-{}-{:?}", std::process::id(), std::thread::current().id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let png = dir.join("page.png");
    gray.save(&png).map_err(|e| e.to_string())?;
    let txt = dir.join("page.txt");
    let out = std::process::Command::new("ocrmypdf")
        .args(["-l", lang, "--jobs", "1", "--output-type", "pdf", "--image-dpi"])
        .arg(format!("{}", dpi.round()))
        .arg("--sidecar")
        .arg(&txt)
        .arg(&png)
        .arg(dir.join("out.pdf"))
        .output();
    let text = std::fs::read_to_string(&txt);
    let _ = std::fs::remove_dir_all(&dir);
    let out = out.map_err(|e| format!("ocrmypdf: {e}"))?;
    if !out.status.success() {
        return Err(format!("ocrmypdf failed: {}", String::from_utf8_lossy(&out.stderr).lines().last().unwrap_or("")));
    }
    text.map_err(|e| e.to_string())
}

/// Is `ocrmypdf` on the PATH?
fn ocrmypdf_installed() -> bool {
    std::process::Command::new("ocrmypdf").arg("--version").output().is_ok_and(|o| o.status.success())
}

/// One page's scores by reader, or why it could not be read.
type PageResult = Result<Vec<(String, Counts)>, String>;

/// Runs the eval: builds the sets, cleans every page, reads it with every reader on
/// `threads` threads (one engine per reader kind and language each), and scores.
/// `done` is told each page's scores as they come.
pub fn run(args: &FidelityArgs, data: &Path, done: impl Fn(&str, &[(String, Counts)]) + Sync) -> Result<FidelityReport, String> {
    let models = crate::stages::ocr::models::materialize_models(data).map_err(|e| e.to_string())?;
    let specs: Vec<&SetSpec> = SETS.iter().filter(|s| args.sets.is_empty() || args.sets.iter().any(|n| n == s.name)).collect();
    if specs.is_empty() {
        return Err(format!("no such set; the sets are {}", SETS.iter().map(|s| s.name).collect::<Vec<_>>().join(", ")));
    }
    let mut readers = vec![SOHOA, Reader::Bare];
    let ocrmypdf = if ocrmypdf_installed() {
        readers.push(Reader::Ocrmypdf);
        None
    } else {
        Some("ocrmypdf is not installed (pip install ocrmypdf): no column".to_string())
    };
    if args.ablation {
        if let Some(unknown) = args.readers.iter().find(|n| !ABLATION.iter().any(|r| r.name() == n.as_str())) {
            return Err(format!("no reader {unknown:?}; the ablation's readers are {}", ABLATION.iter().map(|r| r.name()).collect::<Vec<_>>().join(", ")));
        }
        readers.extend(ABLATION.iter().filter(|r| args.readers.is_empty() || args.readers.iter().any(|n| n == r.name())));
    }
    let pages: Vec<FidelityPage> = specs.iter().flat_map(|s| build_pages(s, args.pages_per_set, args.seed)).collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: std::sync::Mutex<Vec<(usize, PageResult)>> = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..args.threads.clamp(1, pages.len().max(1)) {
            s.spawn(|| {
                let mut engines = Engines { models: &models, map: HashMap::new() };
                // One-thread rayon pool: the CPU clock of this thread holds all the page's work.
                let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build();
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(p) = pages.get(i) else { break };
                    let mut work = || -> Result<Vec<(String, Counts)>, String> {
                        let clean = clean_page(p.page.clone());
                        let ocr_gray = crate::stages::imaging::ocr_page_gray(&clean);
                        let mut out = Vec::new();
                        for r in &readers {
                            // sohoa's readers get the pipeline's input; bare Tesseract and
                            // OCRmyPDF the cleaned page's luma.
                            let gray = if matches!(r, Reader::Sohoa { .. }) { &ocr_gray } else { &clean.gray };
                            let (text, cpu) = read(&mut engines, r, p.lang, gray, clean.dpi).map_err(|e| format!("{}: {}: {e}", p.name, r.name()))?;
                            let mut c = score(&p.text, &text, &p.protected);
                            c.cpu_s = cpu;
                            out.push((r.name().to_string(), c));
                        }
                        Ok(out)
                    };
                    let r = match &pool {
                        Ok(pool) => pool.install(work),
                        Err(_) => work(),
                    };
                    if let Ok(scores) = &r {
                        done(&p.name, scores);
                    }
                    results.lock().unwrap_or_else(|e| e.into_inner()).push((i, r));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    results.sort_by_key(|r| r.0);
    let mut sets: Vec<SetScore> = Vec::new();
    for (i, r) in results {
        let page_scores = r?;
        let p = &pages[i];
        if sets.last().is_none_or(|s| s.set != p.set) {
            let spec = specs.iter().find(|s| s.name == p.set).expect("the page's set");
            sets.push(SetScore { set: p.set.to_string(), lang: p.lang.to_string(), dpi: spec.dpi, readers: Vec::new() });
        }
        let set = sets.last_mut().expect("a set");
        for (name, c) in page_scores {
            match set.readers.iter_mut().find(|r| r.reader == name) {
                Some(r) => r.counts.add(&c),
                None => set.readers.push(ReaderScore { reader: name, cer: 0.0, wer: 0.0, counts: c }),
            }
        }
    }
    let mut vie_total: Vec<ReaderScore> = Vec::new();
    for s in &mut sets {
        for r in &mut s.readers {
            r.cer = r.counts.cer();
            r.wer = r.counts.wer();
            if s.lang == "vie" {
                match vie_total.iter_mut().find(|t| t.reader == r.reader) {
                    Some(t) => t.counts.add(&r.counts),
                    None => vie_total.push(r.clone()),
                }
            }
        }
    }
    for t in &mut vie_total {
        t.cer = t.counts.cer();
        t.wer = t.counts.wer();
    }
    let worse_than_bare = sets
        .iter()
        .filter(|s| match (s.reader("sohoa"), s.reader("bare")) {
            (Some(a), Some(b)) => a.counts.char_errors > b.counts.char_errors || a.counts.word_errors > b.counts.word_errors,
            _ => false,
        })
        .map(|s| s.set.clone())
        .collect();
    Ok(FidelityReport { seed: args.seed, pages_per_set: args.pages_per_set, sets, vie_total, worse_than_bare, ocrmypdf })
}

/// `sohoa eval-ocr`: runs, prints the table (or the JSON report) and returns the exit
/// code: 0, 1 when sohoa is worse than bare Tesseract on a set, 2 when the eval could not run.
pub fn run_cli(args: &FidelityArgs, data: &Path, json: bool) -> u8 {
    let t = std::time::Instant::now();
    let report = run(args, data, |name, scores| {
        let line: Vec<String> =
            scores.iter().map(|(r, c)| format!("{r} CER {:.3}% WER {:.2}% marks {}", c.cer() * 100.0, c.wer() * 100.0, c.mark_errors)).collect();
        eprintln!("{name}: {}", line.join("; "));
        if args.show_errors {
            for (r, c) in scores {
                eprintln!("  {name} {r}: {}", if c.edits.is_empty() { "no word errors".to_string() } else { c.edits.join(", ") });
            }
        }
    });
    let report = match report {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: eval-ocr could not run: {e}");
            return 2;
        }
    };
    super::emit(&report, t.elapsed().as_secs_f64(), json, print);
    u8::from(!report.worse_than_bare.is_empty())
}

/// The report as a table (the one in docs/performance.md).
pub fn print(r: &FidelityReport) {
    println!(
        "OCR fidelity, {} page(s) per set, seed {}: CER, WER, mark errors (words with the right letters and wrong marks; tone only), protected words wrong, CPU s/page",
        r.pages_per_set, r.seed
    );
    println!("| set | reader | CER | WER | mark errors (tone) | protected wrong | CPU s/page |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    let row = |set: &str, x: &ReaderScore| {
        let c = &x.counts;
        println!(
            "| {set} | {} | {:.3}% | {:.2}% | {} ({}) | {}/{} | {:.2} |",
            x.reader,
            x.cer * 100.0,
            x.wer * 100.0,
            c.mark_errors,
            c.tone_errors,
            c.protected_errors,
            c.protected_words,
            c.cpu_s / c.pages.max(1) as f64
        );
    };
    for s in &r.sets {
        for x in &s.readers {
            row(&s.set, x);
        }
    }
    for x in &r.vie_total {
        row("all Vietnamese", x);
    }
    if let Some(why) = &r.ocrmypdf {
        println!("{why}");
    }
    if r.worse_than_bare.is_empty() {
        println!("sohoa is never worse than bare Tesseract (character and word errors, every set).");
    } else {
        println!("sohoa is worse than bare Tesseract on: {}", r.worse_than_bare.join(", "));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sohoa_reader_reads_as_the_pipeline() {
        assert_eq!(PIPELINE_OPTS, ReadOptions::default());
    }

    #[test]
    fn marks_are_told_from_letters() {
        assert_eq!(strip_marks("thẩm", false), "thâm");
        assert_eq!(strip_marks("thẩm", true), "tham");
        assert_eq!(strip_marks("Đường", true), "Duong");
        let none = HashSet::new();
        // thẩm→thấm is a tone error; bổ→bô a tone error; ư→u a vowel-mark error; a
        // different letter is a word error but no mark error.
        let c = score("thẩm định bổ sung người", "thấm định bô sung nguời", &none);
        assert_eq!((c.words, c.word_errors, c.mark_errors, c.tone_errors), (4 + 1, 3, 3, 2));
        let c = score("hồ sơ", "hồ so", &none);
        assert_eq!((c.mark_errors, c.tone_errors), (1, 0));
        let c = score("hồ sơ", "hồ xơ", &none);
        assert_eq!((c.word_errors, c.mark_errors), (1, 0));
    }

    #[test]
    fn protected_words_are_names_and_numbers() {
        let protected: HashSet<String> = ["Nguyễn".to_string()].into();
        let c = score("Ông Nguyễn, CCCD số 052012345678.", "Ông Nguyên, CCCD số 052012345678.", &protected);
        assert_eq!((c.protected_words, c.protected_errors, c.word_errors), (2, 1, 1));
    }

    #[test]
    fn alignment_counts_insertions_and_deletions() {
        let (r, h) = (["a", "b", "c"], ["a", "c", "d"]);
        let ops = align(&r, &h);
        let edits = ops
            .iter()
            .filter(|op| match **op {
                (Some(i), Some(j)) => r[i] != h[j],
                _ => true,
            })
            .count();
        assert_eq!(edits, 2, "{ops:?}");
        let ops = align(&["a", "b", "c"], &["a", "c"]);
        assert_eq!(ops, vec![(Some(0), Some(0)), (Some(1), None), (Some(2), Some(1))]);
        let c = score("một hai ba", "", &HashSet::new());
        assert_eq!((c.word_errors, c.char_errors, c.chars), (3, 10, 10));
        // Each word edit is listed, a missing or added word against `∅`.
        let c = score("một hai ba", "một hải ba bốn", &HashSet::new());
        assert_eq!(c.edits, ["hai→hải", "∅→bốn"]);
    }

    #[test]
    fn pages_carry_the_text_they_show() {
        let spec = SETS.iter().find(|s| s.columns == 2).unwrap();
        let pages = build_pages(spec, 1, 3);
        let p = &pages[0];
        assert_eq!((p.page.dpi, p.page.color), (spec.dpi, ColorMode::Gray));
        assert!(p.text.lines().count() > 60, "{} rows", p.text.lines().count());
        assert!(p.text.chars().any(|c| "ẩổểảỏ".contains(c)));
        assert!(p.protected.iter().any(|w| w.chars().all(|c| c.is_ascii_digit()) && w.len() == 12), "a CCCD number");
        // Deterministic.
        let again = build_pages(spec, 1, 3);
        assert_eq!(again[0].text, p.text);
    }
}
