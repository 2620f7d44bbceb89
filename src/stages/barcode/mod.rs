//! Barcode detection on cleaned pages, and separator-sheet printing.
//!
//! Owns reading separator barcodes off a page image: QR, Code 128, Code 39 and Data Matrix
//! (decoded by zxing-cpp, then rxing) and Kodak patch codes (read by our own detector,
//! [`patch`]). What a barcode *means* is decided by [`crate::stages::split::rules`]. Callers:
//! the pipeline, once per non-blank page after deskew and orientation; `sohoa separators`
//! ([`sheets`]).
//!
//! Two decoders, because measured side by side on the generated separator set neither reads
//! everything the other does: zxing-cpp (crate `zxing-cpp`, its C++ library built from the
//! crate's bundled sources) reads more of the four symbologies, faster, and rxing (the
//! design card's reader) still reads some blurred and low-contrast crops that zxing-cpp
//! misses. The README's "Separator sheets" section has the figures.
//!
//! How a page is read ([`scan_page`]):
//! 1. [`find`] reduces the page to about 150 dpi, binarises it and marks 2.5 mm cells that
//!    look like a symbol (half ink, many black/white transitions); connected groups of
//!    cells become candidate regions, and the page's text share is measured. A page
//!    without candidates that is not sheet-like costs a few milliseconds and no decoder
//!    call at all: this is the fast path for content pages.
//! 2. Otherwise zxing-cpp reads the whole page (at most [`ZXING_MAX_DPI`]), trying harder
//!    and at reduced scales; on a sheet-like page also with linear symbols turned a
//!    quarter (a content page was already turned upright by the imaging stage).
//! 3. If zxing-cpp read nothing, each candidate is cropped from the full-resolution page
//!    with a quiet-zone margin and brought to [`DECODE_DPI`]; a linear-looking region
//!    (strongly oriented gradients) is turned so its bars are vertical, whatever the skew
//!    or a 180° turn, and rxing decodes the crop, limited to the four symbologies.
//!    Every decoder call runs on a helper thread under [`BUDGET`] (rxing has known
//!    pathological inputs that loop): a call that overruns is abandoned (its thread is
//!    left to finish on its own), the page gets a warning, and once [`MAX_STUCK`] calls
//!    are stuck no decoder is called any more (the page gets a warning instead of more
//!    stuck threads).
//! 4. The binarised page is also scanned for patch codes.
//! 5. A page that looks like a separator sheet (its [`find::Candidates::text_share`] at most
//!    [`SHEET_TEXT_SHARE`]: a few lines of text) and yielded no barcode is searched harder
//!    ([`search_harder`]): the whole page at 100 and 150 dpi with both rxing binarisers,
//!    then every candidate with the global-histogram binariser and doubled. Content pages
//!    (full of text) never pay for it. If a candidate region of such a page still yields
//!    nothing, the scan says [`BarcodeScan::unread_sheet`] (the split marks the dossier
//!    for review).
//!
//! Invariant: a page yields each (text, format) at most once, in reading order of regions.

pub mod find;
pub mod patch;
pub mod sheets;

use image::{GrayImage, imageops};
use rxing::{BarcodeFormat, DecodeHints};
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A barcode read from a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Barcode {
    /// Decoded text; `PATCH1`, `PATCH2`, `PATCH3`, `PATCH4`, `PATCH6` or `PATCHT` for a
    /// patch code.
    pub text: String,
    /// The format's name as rxing spells it (`QR_CODE`, `CODE_128`, `CODE_39`,
    /// `DATA_MATRIX`; zxing-cpp's reads are named the same) or `PATCH_CODE`.
    pub format: String,
}

/// Outcome of reading a page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BarcodeScan {
    pub barcodes: Vec<Barcode>,
    pub warnings: Vec<String>,
    /// The page looks like a separator sheet (little text, a symbol-like region) but a
    /// symbol-like region on it yielded no barcode: the pipeline marks the batch for review
    /// instead of taking the page as content in silence.
    pub unread_sheet: bool,
}

/// Resolution crops are decoded at: separator codes are printed with modules of at least
/// 0.33 mm (2.6 px here), which rxing reads well, and small crops decode fast.
pub const DECODE_DPI: f32 = 200.0;
/// Resolutions of the whole-page reads of [`search_harder`].
const HARD_DPIS: [f32; 2] = [100.0, 150.0];
/// Time budget for one decoder call.
pub const BUDGET: Duration = Duration::from_secs(2);
/// Time budget for all decoder calls on one page; later candidates are skipped.
pub const PAGE_BUDGET: Duration = Duration::from_secs(4);
/// Decoder calls left running past their budget before no decoder is called any more.
pub const MAX_STUCK: usize = 4;
/// Candidates decoded per page at most (largest first).
const MAX_CANDIDATES: usize = 8;
/// Margin added around a candidate before decoding (quiet zone: 10 modules of 0.4 mm).
const MARGIN_MM: f32 = 5.0;

/// Largest [`find::Candidates::text_share`] of a page that may be a separator sheet.
pub const SHEET_TEXT_SHARE: f32 = 0.08;

/// Decoder threads currently past their budget.
static STUCK: AtomicUsize = AtomicUsize::new(0);

/// Reads every separator-capable barcode on the page (`dpi` is the page's resolution).
pub fn scan_page(gray: &GrayImage, dpi: f32) -> BarcodeScan {
    let dpi = if dpi.is_finite() && dpi >= 50.0 { dpi } else { 200.0 };
    let mut scan = BarcodeScan::default();
    let work = find::Work::new(gray, dpi);
    let found = find::candidates(&work);
    let sheet_like = found.text_share <= SHEET_TEXT_SHARE;
    let mut candidates = found.regions;
    candidates.sort_by_key(|c| std::cmp::Reverse(c.w * c.h));
    if candidates.len() > MAX_CANDIDATES {
        tracing::debug!(candidates = candidates.len(), "Many barcode candidates; decoding the largest.");
        candidates.truncate(MAX_CANDIDATES);
    }
    // Reading order: top to bottom, then left to right.
    candidates.sort_by_key(|c| (c.y, c.x));
    let started = Instant::now();
    let mut unread = 0usize;
    // zxing-cpp reads the whole page first; the candidates go to rxing only when it found
    // nothing (see the module doc).
    if sheet_like || !candidates.is_empty() {
        match read_page_zxing(gray, dpi, sheet_like) {
            Ok(found) => scan.barcodes.extend(found),
            Err(warning) => scan.warnings.push(warning),
        }
    }
    let rxing_candidates: &[find::Region] = if scan.barcodes.is_empty() { &candidates } else { &[] };
    for (i, cand) in rxing_candidates.iter().enumerate() {
        if started.elapsed() > PAGE_BUDGET {
            scan.warnings.push(format!("barcode reading stopped after {} s; {} candidate regions not read", PAGE_BUDGET.as_secs(), rxing_candidates.len() - i));
            break;
        }
        match decode_candidate(gray, dpi, &work, cand) {
            Ok(found) if found.is_empty() => unread += 1,
            Ok(found) => {
                for b in found {
                    if !scan.barcodes.contains(&b) {
                        scan.barcodes.push(b);
                    }
                }
            }
            Err(warning) => {
                if !scan.warnings.contains(&warning) {
                    scan.warnings.push(warning);
                }
            }
        }
    }
    for p in patch::find_patches(&work) {
        let b = Barcode { text: p.kind.text().to_string(), format: patch::FORMAT.to_string() };
        if !scan.barcodes.contains(&b) {
            scan.barcodes.push(b);
        }
    }
    if sheet_like && scan.barcodes.is_empty() {
        match search_harder(gray, dpi, &work, &candidates, started) {
            Ok(found) => {
                if !found.is_empty() {
                    unread = 0;
                }
                scan.barcodes.extend(found);
            }
            Err(warning) => scan.warnings.push(warning),
        }
    }
    scan.unread_sheet = sheet_like && unread > 0;
    scan
}

/// Crops a candidate from the full page, scales it to [`DECODE_DPI`], straightens linear
/// symbols and decodes it; a second try at the page's own resolution (up to 300 dpi) if
/// the first read nothing. `Err` carries a page warning (budget overrun).
fn decode_candidate(gray: &GrayImage, dpi: f32, work: &find::Work, cand: &find::Region) -> Result<Vec<Barcode>, String> {
    let margin = (MARGIN_MM * dpi / 25.4).round() as u32;
    let f = work.factor;
    let x0 = (cand.x * f).saturating_sub(margin);
    let y0 = (cand.y * f).saturating_sub(margin);
    let x1 = ((cand.x + cand.w) * f + margin).min(gray.width());
    let y1 = ((cand.y + cand.h) * f + margin).min(gray.height());
    if x1 <= x0 + 8 || y1 <= y0 + 8 {
        return Ok(Vec::new());
    }
    let crop = imageops::crop_imm(gray, x0, y0, x1 - x0, y1 - y0).to_image();
    let mut tries = vec![DECODE_DPI.min(dpi)];
    if dpi > DECODE_DPI * 1.2 {
        tries.push(dpi.min(300.0));
    }
    for target in tries {
        let scaled = scale(&crop, dpi, target);
        let img = match cand.bar_angle_deg {
            Some(angle) if angle.abs() > 1.0 => level(&scaled, angle),
            _ => scaled,
        };
        let found = decode_with_budget(img, BUDGET, Binarizer::Hybrid)?;
        if !found.is_empty() {
            return Ok(found);
        }
    }
    Ok(Vec::new())
}

/// The harder search of a sheet-like page that yielded no barcode (see the module doc):
/// the whole page at [`HARD_DPIS`] (large modules, symbols the cell search split or
/// missed), then each candidate region again with the global-histogram binariser (blurred
/// and low-contrast symbols) and doubled (small modules).
fn search_harder(gray: &GrayImage, dpi: f32, work: &find::Work, candidates: &[find::Region], started: Instant) -> Result<Vec<Barcode>, String> {
    for target in HARD_DPIS {
        if started.elapsed() > PAGE_BUDGET {
            return Ok(Vec::new());
        }
        let img = scale(gray, dpi, target.min(dpi));
        for binarizer in [Binarizer::Hybrid, Binarizer::Global] {
            let found = decode_with_budget(img.clone(), BUDGET, binarizer)?;
            if !found.is_empty() {
                return Ok(found);
            }
        }
    }
    let margin = (MARGIN_MM * dpi / 25.4).round() as u32;
    let f = work.factor;
    for cand in candidates {
        if started.elapsed() > PAGE_BUDGET {
            break;
        }
        let x0 = (cand.x * f).saturating_sub(margin);
        let y0 = (cand.y * f).saturating_sub(margin);
        let x1 = ((cand.x + cand.w) * f + margin).min(gray.width());
        let y1 = ((cand.y + cand.h) * f + margin).min(gray.height());
        if x1 <= x0 + 8 || y1 <= y0 + 8 {
            continue;
        }
        let crop = imageops::crop_imm(gray, x0, y0, x1 - x0, y1 - y0).to_image();
        let base = match cand.bar_angle_deg {
            Some(angle) if angle.abs() > 1.0 => level(&crop, angle),
            _ => crop,
        };
        for (target, binarizer) in
            [(dpi.min(300.0), Binarizer::Global), ((dpi * 2.0).min(400.0), Binarizer::Hybrid), ((dpi * 2.0).min(400.0), Binarizer::Global)]
        {
            let found = decode_with_budget(scale(&base, dpi, target), BUDGET, binarizer)?;
            if !found.is_empty() {
                return Ok(found);
            }
        }
    }
    Ok(Vec::new())
}

/// Resolution at most that the whole-page zxing-cpp read works at: separator modules of
/// 0.25 mm are still 2.4 px there; finer scans are reduced first.
pub const ZXING_MAX_DPI: f32 = 300.0;

/// Reads the whole page with zxing-cpp (the four symbologies, trying harder, reduced),
/// under [`BUDGET`]. `turned` also tries linear symbols at a quarter turn, which doubles
/// the time: a sheet-like page pays it, a content page (already turned upright by the
/// imaging stage) does not.
fn read_page_zxing(gray: &GrayImage, dpi: f32, turned: bool) -> Result<Vec<Barcode>, String> {
    let img = if dpi > ZXING_MAX_DPI * 1.05 { scale(gray, dpi, ZXING_MAX_DPI) } else { gray.clone() };
    run_with_budget(BUDGET, move || decode_zxing(&img, turned))
}

/// zxing-cpp on one image, limited to the separator symbologies; format names as rxing's.
/// `turned`: also look for linear symbols turned a quarter.
pub fn decode_zxing(img: &GrayImage, turned: bool) -> Vec<Barcode> {
    use zxingcpp::{BarcodeFormat as Zf, ImageFormat, ImageView};
    let (w, h) = img.dimensions();
    if w == 0 || h == 0 {
        return Vec::new();
    }
    let Ok(view) = ImageView::from_slice(img.as_raw(), w, h, ImageFormat::Lum) else { return Vec::new() };
    let reader = zxingcpp::read()
        .formats([Zf::QRCode, Zf::Code128, Zf::Code39, Zf::DataMatrix])
        .try_harder(true)
        .try_rotate(turned)
        .try_downscale(true)
        .try_invert(false);
    let found = reader.from(view).unwrap_or_default();
    let mut out: Vec<Barcode> = Vec::new();
    for r in found {
        if !r.is_valid() {
            continue;
        }
        let format = match r.format() {
            Zf::QRCode => "QR_CODE",
            Zf::Code128 => "CODE_128",
            Zf::Code39 => "CODE_39",
            Zf::DataMatrix => "DATA_MATRIX",
            _ => continue,
        };
        let b = Barcode { text: r.text(), format: format.to_string() };
        if !out.contains(&b) {
            out.push(b);
        }
    }
    out
}

/// Resizes `img` from `dpi` to `target` dpi (area-averaging when shrinking).
fn scale(img: &GrayImage, dpi: f32, target: f32) -> GrayImage {
    if (dpi - target).abs() < 1.0 {
        return img.clone();
    }
    let k = target / dpi;
    let (w, h) = (((img.width() as f32) * k).round().max(1.0) as u32, ((img.height() as f32) * k).round().max(1.0) as u32);
    let filter = if k < 1.0 { imageops::FilterType::Triangle } else { imageops::FilterType::CatmullRom };
    imageops::resize(img, w, h, filter)
}

/// Turns `img` so that content at `angle` degrees (counter-clockwise) lies level, into a
/// canvas that holds all of it; the uncovered area is white.
fn level(img: &GrayImage, angle: f32) -> GrayImage {
    let (out, w, h) = crate::stages::imaging::transform::rotate_expand(img.as_raw(), img.width(), img.height(), angle, [255]);
    GrayImage::from_raw(w, h, out).unwrap_or_else(|| img.clone())
}

fn hints() -> DecodeHints {
    let formats: HashSet<BarcodeFormat> =
        [BarcodeFormat::QR_CODE, BarcodeFormat::CODE_128, BarcodeFormat::CODE_39, BarcodeFormat::DATA_MATRIX].into_iter().collect();
    DecodeHints { PossibleFormats: Some(formats), TryHarder: Some(true), ..Default::default() }
}

/// rxing's binarisers: hybrid (local thresholds, the default) or global histogram (one
/// threshold per row: better on blurred and low-contrast bars).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binarizer {
    Hybrid,
    Global,
}

/// Runs rxing on its own thread under `budget`. `Err` is the page warning when the call
/// overran (the thread is abandoned) or rxing is disabled by too many stuck calls.
pub fn decode_with_budget(img: GrayImage, budget: Duration, binarizer: Binarizer) -> Result<Vec<Barcode>, String> {
    run_with_budget(budget, move || {
        use rxing::common::{GlobalHistogramBinarizer, HybridBinarizer};
        use rxing::multi::{GenericMultipleBarcodeReader, MultipleBarcodeReader};
        let (w, h) = img.dimensions();
        if w == 0 || h == 0 {
            return Vec::new();
        }
        let Ok(source) = rxing::Luma8LuminanceSource::new(img.into_raw(), w, h) else { return Vec::new() };
        let mut reader = GenericMultipleBarcodeReader::new(rxing::MultiUseMultiFormatReader::default());
        let found = match binarizer {
            Binarizer::Hybrid => reader.decode_multiple_with_hints(&mut rxing::BinaryBitmap::new(HybridBinarizer::new(source)), &hints()),
            Binarizer::Global => reader.decode_multiple_with_hints(&mut rxing::BinaryBitmap::new(GlobalHistogramBinarizer::new(source)), &hints()),
        }
        .unwrap_or_default();
        let mut out: Vec<Barcode> = Vec::new();
        for r in found {
            let b = Barcode { text: r.getText().to_string(), format: format!("{:?}", r.getBarcodeFormat()) };
            if !out.contains(&b) {
                out.push(b);
            }
        }
        out
    })
}

/// Runs `work` on a helper thread and waits at most `budget` for it (see the module doc).
fn run_with_budget<T: Send + 'static>(budget: Duration, work: impl FnOnce() -> T + Send + 'static) -> Result<T, String> {
    let stuck = STUCK.load(Ordering::Relaxed);
    if stuck >= MAX_STUCK {
        return Err(format!("barcode reading disabled: {stuck} earlier barcode decoder calls never returned; restart the worker"));
    }
    let (tx, rx) = mpsc::sync_channel(1);
    let spawned = std::thread::Builder::new().name("rxing".into()).spawn(move || {
        let out = work();
        if tx.send(out).is_err() {
            // Our caller gave up on us: we are no longer stuck.
            STUCK.fetch_sub(1, Ordering::Relaxed);
        }
    });
    if let Err(e) = spawned {
        return Err(format!("barcode reading skipped: cannot start a thread ({e})"));
    }
    match rx.recv_timeout(budget) {
        Ok(found) => Ok(found),
        Err(_) => {
            STUCK.fetch_add(1, Ordering::Relaxed);
            // Close the channel so a late answer is counted back (see the thread).
            drop(rx);
            tracing::warn!(budget_ms = budget.as_millis() as u64, "A barcode decoder call overran its budget; call abandoned.");
            Err(format!("barcode reading gave up after {} ms on a region; page may have an unread barcode", budget.as_millis()))
        }
    }
}

/// Encodes `text` as a barcode image (`format` QR_CODE, CODE_128, CODE_39 or
/// DATA_MATRIX), `module_px` pixels per module, with a white quiet zone. Used to print
/// separator sheets and to generate test pages.
pub fn render_barcode(text: &str, format: BarcodeFormat, module_px: u32, bar_height_px: u32) -> Result<GrayImage, String> {
    use rxing::Writer;
    let writer = rxing::MultiFormatWriter;
    let matrix = writer.encode(text, &format, 0, 0).map_err(|e| format!("cannot encode {text:?}: {e}"))?;
    let [left, top, mw, mh] = matrix.getEnclosingRectangle().ok_or_else(|| format!("cannot encode {text:?}: empty symbol"))?;
    let one_d = !matches!(format, BarcodeFormat::QR_CODE | BarcodeFormat::DATA_MATRIX);
    let quiet = if one_d { 10 } else { 4 } * module_px;
    let (w, h) = if one_d { (mw * module_px + 2 * quiet, bar_height_px + 2 * quiet) } else { (mw * module_px + 2 * quiet, mh * module_px + 2 * quiet) };
    let mut img = GrayImage::from_pixel(w, h, image::Luma([255]));
    for (x, y, px) in img.enumerate_pixels_mut() {
        if x < quiet || y < quiet || x >= w - quiet || y >= h - quiet {
            continue;
        }
        let mx = left + (x - quiet) / module_px;
        let my = if one_d { top } else { top + (y - quiet) / module_px };
        if matrix.get(mx, my) {
            *px = image::Luma([0]);
        }
    }
    Ok(img)
}

#[cfg(test)]
mod tests;
