//! `sohoa eval-size`: bytes per stored page and legibility, per page encoder, on generated
//! sets at 200 and 300 dpi, gray and colour, noisy and clean; beside OCRmyPDF's output on
//! the same pages when `ocrmypdf` is installed.
//!
//! Each page of a set is a Decree-30 document page from `crate::tools::synth` (straight:
//! the eval measures storage, not deskew). Colour pages get cream paper, blue-black ink,
//! a red stamp and a blue signature stroke; noisy pages a paper tint, gaussian noise
//! (σ [`NOISE_SIGMA`] gray levels) and dust specks. Every page goes through `clean_page`
//! as in the pipeline; then for each encoder:
//! - **bytes**: the one-page PDF/A-2b the pipeline would store (image, invisible text
//!   layer, metadata, ICC profile);
//! - **legibility**: Tesseract, through the pipeline's reader (`ocr_gray`, then
//!   `read_page`), reads the stored page image (the page as the PDF shows it,
//!   [`crate::stages::pdf::mrc::render`]) and the cleaned page; the CER difference, in
//!   points, is the legibility cost of the encoding.
//!
//! OCRmyPDF (when on the PATH) gets the cleaned page as a PNG at its dpi
//! (`--output-type pdfa --optimize 3`); its PDF is measured as is and read back through
//! `pdftoppm` at the scan's dpi.

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use image::{DynamicImage, GrayImage, RgbImage};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use crate::model::{ColorMode, DocumentMeta, OcrPage, PageImage, PdfPage};
use crate::stages::imaging::{clean_page, ocr_gray, ocr_page_gray};
use crate::stages::pdf::{self, PageEncoding, PdfOptions, PdfProfile};
use crate::tools::synth;

/// Noise of the noisy sets, standard deviation in gray levels.
pub const NOISE_SIGMA: f32 = 8.0;

/// The encoders compared, by name.
pub const ENCODERS: &[&str] = &["jpeg-q85", "jpeg-q85-denoised", "mrc"];

/// One generated set.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SetSpec {
    pub dpi: u32,
    pub colour: bool,
    pub noisy: bool,
}

impl SetSpec {
    pub fn name(&self) -> String {
        format!("{}dpi-{}-{}", self.dpi, if self.colour { "colour" } else { "gray" }, if self.noisy { "noisy" } else { "clean" })
    }
}

/// All eight sets.
pub fn sets() -> Vec<SetSpec> {
    let mut out = Vec::new();
    for dpi in [200, 300] {
        for colour in [false, true] {
            for noisy in [true, false] {
                out.push(SetSpec { dpi, colour, noisy });
            }
        }
    }
    out
}

/// One encoder on one set.
#[derive(Debug, Clone, Serialize)]
pub struct EncoderScore {
    pub encoder: String,
    /// Mean bytes of the one-page stored PDF.
    pub bytes_per_page: f64,
    /// Tesseract's CER on the stored page image (fraction, character-weighted).
    pub cer_stored: f64,
    /// `cer_stored` minus the CER on the cleaned page, percentage points.
    pub cer_cost_points: f64,
    /// Encoding CPU time per page, milliseconds (one thread).
    pub encode_ms: f64,
    /// How the pages were stored (for `mrc`: how many went MRC, JPEG or bilevel).
    pub stored_as: Vec<(String, usize)>,
}

/// One set's results.
#[derive(Debug, Clone, Serialize)]
pub struct SetScore {
    pub set: String,
    pub dpi: u32,
    pub colour: bool,
    pub noisy: bool,
    pub pages: usize,
    /// Tesseract's CER on the cleaned pages (the reference).
    pub cer_cleaned: f64,
    pub encoders: Vec<EncoderScore>,
}

/// The whole report (`--json`).
#[derive(Debug, Clone, Serialize)]
pub struct SizeReport {
    pub seed: u64,
    pub pages_per_set: usize,
    pub sets: Vec<SetScore>,
    /// Why there is no `ocrmypdf` row, when there is none.
    pub ocrmypdf: Option<String>,
}

/// A generated page: the scan and its text.
struct SetPage {
    page: PageImage,
    text: String,
}

/// The pages of `spec`, deterministic in `seed`.
fn build(spec: SetSpec, pages: usize, seed: u64) -> Vec<SetPage> {
    let dpi = spec.dpi as f32;
    let mut out = Vec::new();
    let mut s = seed.wrapping_mul(1_000_003).wrapping_add(u64::from(spec.dpi));
    while out.len() < pages {
        let opts = synth::GenOptions { seed: s, dpi, dossiers: 1, max_skew_deg: 0.0, noise_sigma: 0.0, blank_backs: false, ..Default::default() };
        let batch = synth::generate_batch(&opts);
        for (p, t) in batch.pages.into_iter().zip(batch.truth.pages) {
            if out.len() >= pages || t.kind != "content" {
                continue;
            }
            let k = out.len() as u64;
            let mut rng = StdRng::seed_from_u64(s ^ (k << 32) ^ u64::from(spec.colour));
            let mut gray = p.image;
            if spec.noisy {
                synth::tint(&mut gray, rng.random_range(0.9..0.97));
                synth::add_noise(&mut gray, rng.random(), NOISE_SIGMA);
                synth::add_specks(&mut gray, rng.random(), 100, dpi / 200.0);
            }
            let page = if spec.colour {
                let rgb = colourise(&gray, dpi, spec.noisy, rng.random());
                PageImage { index: 0, image: DynamicImage::ImageRgb8(rgb), color: ColorMode::Rgb, dpi, warnings: Vec::new() }
            } else {
                PageImage { index: 0, image: DynamicImage::ImageLuma8(gray), color: ColorMode::Gray, dpi, warnings: Vec::new() }
            };
            out.push(SetPage { page, text: t.text.unwrap_or_default() });
        }
        s = s.wrapping_add(1);
    }
    out
}

/// A gray page in colour: cream paper, blue-black ink, a red stamp (a ring with a star
/// inside) and a blue signature stroke beside it, and a little chroma noise when `noisy`.
pub fn colourise(gray: &GrayImage, dpi: f32, noisy: bool, seed: u64) -> RgbImage {
    let (w, h) = gray.dimensions();
    let (cx, cy, r) = (w as f32 * 0.68, h as f32 * 0.8, dpi * 0.65);
    let ring = dpi * 0.03;
    let mut rng = StdRng::seed_from_u64(seed);
    let paper = [250.0f32, 245.0, 228.0];
    let ink = [22.0f32, 26.0, 58.0];
    let mut out = RgbImage::from_fn(w, h, |x, y| {
        let v = f32::from(gray.get_pixel(x, y)[0]) / 255.0;
        let mut p: [f32; 3] = std::array::from_fn(|c| ink[c] + (paper[c] - ink[c]) * v);
        let (dx, dy) = (x as f32 - cx, y as f32 - cy);
        let d = (dx * dx + dy * dy).sqrt();
        let angle = dy.atan2(dx);
        let star = d < r * 0.45 && (d - r * 0.45 * (0.6 + 0.4 * (5.0 * angle).cos())).abs() < ring;
        if (d - r).abs() < ring || (d - r * 0.85).abs() < ring * 0.5 || star {
            // Stamp ink multiplies the paper (the text shows through).
            p = [p[0] * 0.86, p[1] * 0.22, p[2] * 0.2];
        }
        // The signature: a slanted sine stroke left of the stamp.
        let sx = x as f32 - (cx - r * 2.2);
        if (0.0..r * 1.6).contains(&sx) {
            let sy = cy - r * 0.2 + (sx / (dpi * 0.12)).sin() * dpi * 0.08 - sx * 0.3;
            if (y as f32 - sy).abs() < dpi * 0.008 + 1.0 {
                p = [40.0, 60.0, 170.0];
            }
        }
        image::Rgb(p.map(|c| c.round().clamp(0.0, 255.0) as u8))
    });
    if noisy {
        for px in out.pixels_mut() {
            for c in px.0.iter_mut() {
                let n: f32 = rng.random_range(-3.0..3.0);
                *c = (f32::from(*c) + n).round().clamp(0.0, 255.0) as u8;
            }
        }
    }
    out
}

/// Encodes a cleaned page with the named encoder.
pub fn encode_with(encoder: &str, img: &DynamicImage, color: ColorMode, dpi: f32) -> crate::model::EncodedImage {
    match encoder {
        "jpeg-q85" => pdf::mrc::encode_as(img, color, dpi, Some(PageEncoding::Jpeg)),
        "jpeg-q85-denoised" => {
            let smooth = match img {
                DynamicImage::ImageRgb8(c) => DynamicImage::ImageRgb8(image::imageops::blur(c, 0.8)),
                other => DynamicImage::ImageLuma8(image::imageops::blur(&other.to_luma8(), 0.8)),
            };
            pdf::mrc::encode_as(&smooth, color, dpi, Some(PageEncoding::Jpeg))
        }
        _ => pdf::encode_archival(img, color, dpi),
    }
}

/// Per page, per encoder: (bytes, CER stored, encode seconds, stored as); and the
/// cleaned page's CER; and OCRmyPDF's (bytes, CER) when it ran.
struct PageOutcome {
    chars: usize,
    cer_cleaned: f64,
    encoders: Vec<(usize, f64, f64, PageEncoding)>,
    ocrmypdf: Option<(usize, f64)>,
}

/// A measured page: (set index, work index, outcome).
type Measured = (usize, usize, Result<PageOutcome, String>);

/// Runs the eval: `pages` per set, `threads` pages at once (one Tesseract engine each).
/// With `keep`, each page's images and texts are written there (see [`keep_page`]).
pub fn run(
    pages: usize,
    seed: u64,
    threads: usize,
    data: &Path,
    sets_wanted: &[String],
    keep: Option<&Path>,
    done: impl Fn(&str) + Sync,
) -> Result<SizeReport, String> {
    let models = crate::stages::ocr::models::materialize_models(data).map_err(|e| e.to_string())?;
    let specs: Vec<SetSpec> = sets().into_iter().filter(|s| sets_wanted.is_empty() || sets_wanted.iter().any(|n| *n == s.name())).collect();
    if specs.is_empty() {
        return Err(format!("no such set; the sets are {}", sets().iter().map(SetSpec::name).collect::<Vec<_>>().join(", ")));
    }
    if let Some(dir) = keep {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let with_ocrmypdf = std::process::Command::new("ocrmypdf").arg("--version").output().is_ok_and(|o| o.status.success());
    let work: Vec<(usize, SetPage)> = specs.iter().enumerate().flat_map(|(i, s)| build(*s, pages.max(1), seed).into_iter().map(move |p| (i, p))).collect();
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Measured>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..threads.clamp(1, work.len().max(1)) {
            scope.spawn(|| {
                let config = crate::stages::ocr::OcrConfig { models: Some(models.clone()), deadline_ms: 3_600_000, ..Default::default() };
                let mut engine = match crate::stages::ocr::tesseract::TesseractEngine::new(&config) {
                    Ok(e) => e,
                    Err(e) => {
                        results.lock().unwrap_or_else(|p| p.into_inner()).push((usize::MAX, 0, Err(e.to_string())));
                        return;
                    }
                };
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((set, page)) = work.get(i) else { break };
                    let label = format!("{}-p{}", specs[*set].name(), i);
                    let r = measure(&mut engine, page, with_ocrmypdf, keep.map(|d| (d, label.as_str())));
                    done(&format!("{} page {i}", specs[*set].name()));
                    results.lock().unwrap_or_else(|p| p.into_inner()).push((*set, i, r));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap_or_else(|p| p.into_inner());
    results.sort_by_key(|r| (r.0, r.1));
    let mut sets_out = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        let mut outcomes = Vec::new();
        for (set, _, r) in results.iter().filter(|r| r.0 == i || r.0 == usize::MAX) {
            match r {
                Ok(o) if *set == i => outcomes.push(o),
                Err(e) => return Err(e.clone()),
                _ => {}
            }
        }
        sets_out.push(score_set(*spec, &outcomes, with_ocrmypdf));
    }
    let ocrmypdf = (!with_ocrmypdf).then(|| "ocrmypdf is not installed (apt install ocrmypdf pngquant): no row".to_string());
    Ok(SizeReport { seed, pages_per_set: pages.max(1), sets: sets_out, ocrmypdf })
}

/// Aggregates a set's pages (pure).
fn score_set(spec: SetSpec, pages: &[&PageOutcome], with_ocrmypdf: bool) -> SetScore {
    let chars: f64 = pages.iter().map(|p| p.chars as f64).sum::<f64>().max(1.0);
    let n = pages.len().max(1) as f64;
    let cer_cleaned = pages.iter().map(|p| p.cer_cleaned * p.chars as f64).sum::<f64>() / chars;
    let mut encoders = Vec::new();
    for (k, name) in ENCODERS.iter().enumerate() {
        let bytes = pages.iter().map(|p| p.encoders[k].0 as f64).sum::<f64>() / n;
        let cer = pages.iter().map(|p| p.encoders[k].1 * p.chars as f64).sum::<f64>() / chars;
        let ms = pages.iter().map(|p| p.encoders[k].2).sum::<f64>() / n * 1000.0;
        let mut stored_as: Vec<(String, usize)> = Vec::new();
        for p in pages {
            let kind = format!("{:?}", p.encoders[k].3).to_lowercase();
            match stored_as.iter_mut().find(|(k, _)| *k == kind) {
                Some(e) => e.1 += 1,
                None => stored_as.push((kind, 1)),
            }
        }
        encoders.push(EncoderScore {
            encoder: name.to_string(),
            bytes_per_page: bytes,
            cer_stored: cer,
            cer_cost_points: (cer - cer_cleaned) * 100.0,
            encode_ms: ms,
            stored_as,
        });
    }
    if with_ocrmypdf && pages.iter().all(|p| p.ocrmypdf.is_some()) {
        let bytes = pages.iter().filter_map(|p| p.ocrmypdf).map(|o| o.0 as f64).sum::<f64>() / n;
        let cer = pages.iter().filter_map(|p| p.ocrmypdf.map(|o| o.1 * p.chars as f64)).sum::<f64>() / chars;
        encoders.push(EncoderScore {
            encoder: "ocrmypdf".into(),
            bytes_per_page: bytes,
            cer_stored: cer,
            cer_cost_points: (cer - cer_cleaned) * 100.0,
            encode_ms: 0.0,
            stored_as: vec![],
        });
    }
    SetScore { set: spec.name(), dpi: spec.dpi, colour: spec.colour, noisy: spec.noisy, pages: pages.len(), cer_cleaned, encoders }
}

fn read(engine: &mut crate::stages::ocr::tesseract::TesseractEngine, gray: &GrayImage, dpi: f32) -> Result<OcrPage, String> {
    let opts = crate::stages::ocr::page::ReadOptions::default();
    let (r, _) = crate::stages::ocr::page::read_page(engine, gray, dpi, &opts, None, crate::stages::ocr::Deadline::after_ms(3_600_000));
    r.map_err(|e| e.to_string())
}

/// Writes `<label>-<what>.png` and `<label>-<what>.txt` (the text Tesseract read) into
/// `dir`; `what` is `truth` (text only), `cleaned` or an encoder's name.
fn keep_page(dir: &Path, label: &str, what: &str, img: Option<&DynamicImage>, text: &str) -> Result<(), String> {
    if let Some(img) = img {
        img.save(dir.join(format!("{label}-{what}.png"))).map_err(|e| e.to_string())?;
    }
    std::fs::write(dir.join(format!("{label}-{what}.txt")), text).map_err(|e| e.to_string())
}

fn measure(
    engine: &mut crate::stages::ocr::tesseract::TesseractEngine,
    page: &SetPage,
    with_ocrmypdf: bool,
    keep: Option<(&Path, &str)>,
) -> Result<PageOutcome, String> {
    let clean = clean_page(page.page.clone());
    let dpi = clean.dpi;
    let reference = read(engine, &ocr_page_gray(&clean), dpi)?;
    let cer_cleaned = synth::cer(&page.text, &reference.text);
    if let Some((dir, label)) = keep {
        keep_page(dir, label, "truth", None, &page.text)?;
        keep_page(dir, label, "cleaned", Some(&clean.image), &reference.text)?;
    }
    let meta = DocumentMeta {
        page_count: 1,
        source_batch: "eval-size".into(),
        scan_time: "2026-01-05T08:00:00+07:00".into(),
        title: "eval-size".into(),
        ..Default::default()
    };
    let mut encoders = Vec::new();
    for name in ENCODERS {
        let t = crate::timing::thread_cpu_seconds();
        let enc = encode_with(name, &clean.image, clean.color, dpi);
        let encode_s = crate::timing::thread_cpu_seconds() - t;
        let kind = match (&enc.mask, enc.color) {
            (Some(_), _) => PageEncoding::Mrc,
            (None, ColorMode::Bilevel) => PageEncoding::Bilevel,
            _ => PageEncoding::Jpeg,
        };
        let shown = pdf::mrc::render(&enc).ok_or("a stored page does not decode")?;
        let pdf_page = PdfPage { image: enc, dpi, ocr: reference.clone() };
        let bytes = pdf::write_pdf(&[pdf_page], &meta, &PdfOptions { languages: pdf::language_tags("vie"), profile: PdfProfile::Pdfa2b })
            .map_err(|e| e.to_string())?
            .len();
        let stored = read(engine, &ocr_gray(&shown), dpi)?;
        if let Some((dir, label)) = keep {
            keep_page(dir, label, name, Some(&shown), &stored.text)?;
        }
        encoders.push((bytes, synth::cer(&page.text, &stored.text), encode_s, kind));
    }
    let ocrmypdf = if with_ocrmypdf { Some(ocrmypdf(engine, &clean.image, dpi, &page.text)?) } else { None };
    Ok(PageOutcome { chars: page.text.chars().filter(|c| !c.is_whitespace()).count(), cer_cleaned, encoders, ocrmypdf })
}

/// OCRmyPDF on the cleaned page: its PDF's bytes, and the CER of Tesseract reading the
/// page image rendered back from that PDF.
fn ocrmypdf(engine: &mut crate::stages::ocr::tesseract::TesseractEngine, img: &DynamicImage, dpi: f32, text: &str) -> Result<(usize, f64), String> {
    let dir = std::env::temp_dir().join(format!("sohoa-eval-size-{}-{:?}", std::process::id(), std::thread::current().id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let result = (|| {
        let png = dir.join("page.png");
        save_png_with_dpi(img, dpi, &png)?;
        let out_pdf = dir.join("out.pdf");
        let out = std::process::Command::new("ocrmypdf")
            .args(["-l", "vie", "--jobs", "1", "--output-type", "pdfa", "--optimize", "3", "--image-dpi"])
            .arg(format!("{}", dpi.round()))
            .arg(&png)
            .arg(&out_pdf)
            .output()
            .map_err(|e| format!("ocrmypdf: {e}"))?;
        if !out.status.success() {
            return Err(format!("ocrmypdf failed: {}", String::from_utf8_lossy(&out.stderr).lines().last().unwrap_or("")));
        }
        let bytes = std::fs::metadata(&out_pdf).map_err(|e| e.to_string())?.len() as usize;
        let prefix = dir.join("back");
        let status = std::process::Command::new("pdftoppm")
            .args(["-r"])
            .arg(format!("{}", dpi.round()))
            .arg("-singlefile")
            .arg(&out_pdf)
            .arg(&prefix)
            .status()
            .map_err(|e| format!("pdftoppm: {e}"))?;
        if !status.success() {
            return Err("pdftoppm failed on OCRmyPDF's output".into());
        }
        let back = ocr_gray(&image::open(dir.join("back.ppm")).map_err(|e| e.to_string())?);
        let ocr = read(engine, &back, dpi)?;
        Ok((bytes, synth::cer(text, &ocr.text)))
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// A PNG with its resolution (pHYs), so OCRmyPDF sizes the page right.
fn save_png_with_dpi(img: &DynamicImage, dpi: f32, path: &Path) -> Result<(), String> {
    let mut bytes = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png).map_err(|e| e.to_string())?;
    // Insert a pHYs chunk after IHDR (8-byte signature + 25-byte IHDR chunk).
    let ppm = (dpi / 0.0254).round() as u32;
    let mut chunk = Vec::with_capacity(21);
    chunk.extend(9u32.to_be_bytes());
    let mut body = b"pHYs".to_vec();
    body.extend(ppm.to_be_bytes());
    body.extend(ppm.to_be_bytes());
    body.push(1);
    chunk.extend(&body);
    chunk.extend(crc32(&body).to_be_bytes());
    bytes.splice(33..33, chunk);
    std::fs::write(path, bytes).map_err(|e| e.to_string())
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// `sohoa eval-size`: runs, prints the table (or the JSON report), returns the exit code
/// (0; 2 when the eval could not run).
pub fn run_cli(pages: usize, seed: u64, threads: usize, sets: &[String], data: &Path, keep: Option<&Path>, json: bool) -> u8 {
    let t = std::time::Instant::now();
    let report = match run(pages, seed, threads, data, sets, keep, |what| eprintln!("{what} done")) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: eval-size could not run: {e}");
            return 2;
        }
    };
    super::emit(&report, t.elapsed().as_secs_f64(), json, print);
    0
}

/// The report as the table in docs/performance.md.
pub fn print(r: &SizeReport) {
    println!("| set | encoder | KB/page | CER stored | CER cost (points) | encode ms |");
    println!("|---|---|---:|---:|---:|---:|");
    for s in &r.sets {
        for e in &s.encoders {
            println!(
                "| {} | {} | {:.0} | {:.2}% | {:+.2} | {:.0} |",
                s.set,
                e.encoder,
                e.bytes_per_page / 1000.0,
                e.cer_stored * 100.0,
                e.cer_cost_points,
                e.encode_ms
            );
        }
    }
    if let Some(why) = &r.ocrmypdf {
        println!("\n{why}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eight_sets_with_distinct_names() {
        let s = sets();
        assert_eq!(s.len(), 8);
        let mut names: Vec<String> = s.iter().map(SetSpec::name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 8);
        assert!(names.contains(&"300dpi-colour-noisy".to_string()));
    }

    #[test]
    fn png_with_dpi_carries_its_resolution() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.png");
        save_png_with_dpi(&DynamicImage::ImageLuma8(GrayImage::new(3, 2)), 300.0, &p).unwrap();
        let page = crate::stages::intake::image_file::decode(&p, crate::stages::intake::FileKind::Png, 0).unwrap();
        assert!((page.dpi - 300.0).abs() < 0.5, "{}", page.dpi);
    }

    #[test]
    fn score_set_weights_by_characters() {
        let a = PageOutcome { chars: 100, cer_cleaned: 0.01, encoders: vec![(1000, 0.02, 0.01, PageEncoding::Mrc); 3], ocrmypdf: None };
        let b = PageOutcome { chars: 300, cer_cleaned: 0.03, encoders: vec![(3000, 0.03, 0.03, PageEncoding::Jpeg); 3], ocrmypdf: None };
        let s = score_set(SetSpec { dpi: 300, colour: false, noisy: true }, &[&a, &b], false);
        assert!((s.cer_cleaned - 0.025).abs() < 1e-9);
        let mrc = &s.encoders[2];
        assert_eq!(mrc.bytes_per_page, 2000.0);
        assert!((mrc.cer_stored - 0.0275).abs() < 1e-9);
        assert!((mrc.cer_cost_points - 0.25).abs() < 1e-9);
        assert_eq!(mrc.stored_as, vec![("mrc".to_string(), 1), ("jpeg".to_string(), 1)]);
    }
}
