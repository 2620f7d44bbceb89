//! Barcode detection on cleaned pages (rxing).
//!
//! Owns reading separator-sheet barcodes (QR, Code 128, Code 39, Data Matrix) off a page
//! image. What a barcode *means* is decided by [`crate::split::classify_barcode`]. Callers:
//! the pipeline, once per non-blank page, after deskew and orientation.
//!
//! rxing is slow on full-resolution pages and has known pathological inputs that loop, so
//! the page is read at a reduced resolution and every rxing call runs on a helper thread
//! under a time budget: a call that overruns is abandoned (its thread is left to finish on
//! its own) and the page gets a warning instead of hanging a worker.

use image::{GrayImage, imageops};
use rxing::{BarcodeFormat, DecodeHints};
use std::collections::HashSet;
use std::sync::mpsc;
use std::time::Duration;

/// A barcode read from a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Barcode {
    pub text: String,
    pub format: String,
}

/// Outcome of reading a page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BarcodeScan {
    pub barcodes: Vec<Barcode>,
    pub warnings: Vec<String>,
}

/// Resolution the page is reduced to before decoding: separator codes are printed large
/// (modules of at least 0.5 mm), which stay several pixels wide at this resolution.
const READ_DPI: f32 = 150.0;
/// Time budget for one rxing call.
pub const BUDGET: Duration = Duration::from_secs(3);

/// Reads every separator-capable barcode on the page.
pub fn scan_page(gray: &GrayImage, dpi: f32) -> BarcodeScan {
    let reduced = reduce(gray, dpi);
    let mut scan = BarcodeScan::default();
    match decode_with_budget(reduced, BUDGET) {
        Some(found) => scan.barcodes = found,
        None => scan.warnings.push(format!(
            "barcode reading gave up after {} s; page treated as having no barcode",
            BUDGET.as_secs()
        )),
    }
    scan
}

/// Shrinks the page to about [`READ_DPI`] by an integer factor (area average).
fn reduce(gray: &GrayImage, dpi: f32) -> GrayImage {
    let factor = (dpi / READ_DPI).floor().max(1.0) as u32;
    if factor == 1 {
        return gray.clone();
    }
    let (w, h) = (gray.width() / factor, gray.height() / factor);
    imageops::resize(gray, w.max(1), h.max(1), imageops::FilterType::Triangle)
}

fn hints() -> DecodeHints {
    let formats: HashSet<BarcodeFormat> = [
        BarcodeFormat::QR_CODE,
        BarcodeFormat::CODE_128,
        BarcodeFormat::CODE_39,
        BarcodeFormat::DATA_MATRIX,
    ]
    .into_iter()
    .collect();
    DecodeHints { PossibleFormats: Some(formats), TryHarder: Some(true), ..Default::default() }
}

/// Runs rxing on its own thread; `None` if it did not answer within `budget`.
fn decode_with_budget(img: GrayImage, budget: Duration) -> Option<Vec<Barcode>> {
    let (tx, rx) = mpsc::sync_channel(1);
    let spawned = std::thread::Builder::new().name("rxing".into()).spawn(move || {
        let (w, h) = img.dimensions();
        let found = rxing::helpers::detect_multiple_in_luma_with_hints(img.into_raw(), w, h, &mut hints())
            .unwrap_or_default();
        let mut out: Vec<Barcode> = Vec::new();
        for r in found {
            let b = Barcode { text: r.getText().to_string(), format: format!("{:?}", r.getBarcodeFormat()) };
            if !out.contains(&b) {
                out.push(b);
            }
        }
        let _ = tx.send(out);
    });
    if spawned.is_err() {
        return None;
    }
    rx.recv_timeout(budget).ok()
}

/// Encodes `text` as a barcode image (`format` QR_CODE, CODE_128, CODE_39 or
/// DATA_MATRIX), `module_px` pixels per module, with a white quiet zone. Used to print
/// separator sheets and to generate test batches.
pub fn render_barcode(text: &str, format: BarcodeFormat, module_px: u32, bar_height_px: u32) -> Result<GrayImage, String> {
    use rxing::Writer;
    let writer = rxing::MultiFormatWriter;
    let matrix = writer.encode(text, &format, 0, 0).map_err(|e| format!("cannot encode {text:?}: {e}"))?;
    let (mw, mh) = (matrix.getWidth(), matrix.getHeight());
    let one_d = mh == 1 || !matches!(format, BarcodeFormat::QR_CODE | BarcodeFormat::DATA_MATRIX);
    let quiet = if one_d { 10 } else { 4 } * module_px;
    let (w, h) = if one_d {
        (mw * module_px + 2 * quiet, bar_height_px + 2 * quiet)
    } else {
        (mw * module_px + 2 * quiet, mh * module_px + 2 * quiet)
    };
    let mut img = GrayImage::from_pixel(w, h, image::Luma([255]));
    for (x, y, px) in img.enumerate_pixels_mut() {
        if x < quiet || y < quiet || x >= w - quiet || y >= h - quiet {
            continue;
        }
        let mx = (x - quiet) / module_px;
        let my = if one_d { 0 } else { (y - quiet) / module_px };
        if matrix.get(mx, my) {
            *px = image::Luma([0]);
        }
    }
    Ok(img)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page_with(code: &GrayImage, dpi: f32, x: u32, y: u32) -> GrayImage {
        let (w, h) = ((8.27 * dpi) as u32, (11.69 * dpi) as u32);
        let mut page = GrayImage::from_pixel(w, h, image::Luma([250]));
        imageops::overlay(&mut page, code, x as i64, y as i64);
        page
    }

    #[test]
    fn reads_qr_and_code128_at_300_dpi() {
        let qr = render_barcode("HS:000.00.15.H40-250301-0007", BarcodeFormat::QR_CODE, 12, 0).unwrap();
        let c128 = render_barcode("TP:CCCD", BarcodeFormat::CODE_128, 6, 250).unwrap();
        for (code, text) in [(&qr, "HS:000.00.15.H40-250301-0007"), (&c128, "TP:CCCD")] {
            let scan = scan_page(&page_with(code, 300.0, 200, 300), 300.0);
            assert_eq!(scan.barcodes.iter().map(|b| b.text.as_str()).collect::<Vec<_>>(), vec![text]);
        }
    }

    #[test]
    fn an_empty_page_has_no_barcode() {
        let page = GrayImage::from_pixel(1240, 1754, image::Luma([255]));
        assert_eq!(scan_page(&page, 150.0), BarcodeScan::default());
    }
}
