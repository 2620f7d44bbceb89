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

/// Ends an eval command: its time on stderr, then one JSON object on stdout with `--json`, or
/// the table `print` makes.
pub(crate) fn emit<R: Serialize>(report: &R, seconds: f64, json: bool, print: impl FnOnce(&R)) {
    eprintln!("Done in {seconds:.0} s.");
    if json {
        match serde_json::to_string(report) {
            Ok(s) => println!("{s}"),
            Err(e) => eprintln!("error: {e}"),
        }
    } else {
        print(report);
    }
}

pub mod fidelity;
pub mod fields;
mod ocr;
mod set;
pub mod size;

pub use ocr::{OcrInput, OcrScore, PageOcr, ocr_pages};
pub use set::{Defects, EvalPage, Truth, build_set, build_set_with, jpeg_round_trip};

use crate::model::{ColorMode, PageImage};
use crate::stages::imaging::{clean_page, prepare_for_ocr};
use crate::tools::synth::{self, Edge, GenOptions, Line, PageSpec};
use ocr::add_ocr;

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
            let c0 = crate::timing::thread_cpu_seconds();
            let t = Instant::now();
            let clean = clean_page(input);
            (clean, t.elapsed().as_secs_f64() * 1000.0, (crate::timing::thread_cpu_seconds() - c0) * 1000.0)
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
