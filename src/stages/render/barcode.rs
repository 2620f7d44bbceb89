//! Barcode symbols for drawing: [`Symbology`], encoding a payload with rxing's writer,
//! and a [`BarcodeItem`] with whole-pixel modules sized for the dpi.

use rxing::{BarcodeFormat, EncodeHints, MultiFormatWriter, Writer};

use super::{BarcodeItem, mm_to_px};

/// Symbology of a separator barcode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Symbology {
    Qr,
    Code128,
}

/// Module size: `mm` at `dpi`, rounded to whole pixels, at least 3 px.
fn module_px(mm: f32, dpi: f32) -> u32 {
    (mm_to_px(mm, dpi).round() as u32).max(3)
}

/// Encodes `payload` with rxing's writer; returns (cols, rows, bits) cropped to the
/// symbol (no quiet zone).
fn encode(payload: &str, sym: Symbology) -> Option<(u32, u32, Vec<bool>)> {
    let (format, hints) = match sym {
        Symbology::Qr => (BarcodeFormat::QR_CODE, EncodeHints { ErrorCorrection: Some("M".to_string()), ..Default::default() }),
        Symbology::Code128 => (BarcodeFormat::CODE_128, EncodeHints::default()),
    };
    let m = MultiFormatWriter.encode_with_hints(payload, &format, 0, 0, &hints).ok()?;
    let [left, top, width, height] = m.getEnclosingRectangle()?;
    let mut bits = Vec::with_capacity((width * height) as usize);
    for y in top..top + height {
        for x in left..left + width {
            bits.push(m.get(x, y));
        }
    }
    Some((width, height, bits))
}

/// A barcode item with its top-left corner at (x_mm, y_mm), plus its size in mm.
pub fn barcode(payload: &str, sym: Symbology, dpi: f32, x_mm: f32, y_mm: f32) -> Option<(BarcodeItem, f32, f32)> {
    let (cols, rows, bits) = encode(payload, sym)?;
    let (module_px, bar_height_px) = match sym {
        Symbology::Qr => (module_px(0.8, dpi), None),
        Symbology::Code128 => (module_px(0.4, dpi), Some(mm_to_px(16.0, dpi).round() as u32)),
    };
    let w_mm = (cols * module_px) as f32 * 25.4 / dpi;
    let h_mm = bar_height_px.unwrap_or(rows * module_px) as f32 * 25.4 / dpi;
    Some((BarcodeItem { x_mm, y_mm, module_px, cols, rows, bits, bar_height_px }, w_mm, h_mm))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn barcodes_have_whole_pixel_modules_of_at_least_3px() {
        for dpi in [150.0, 200.0, 300.0] {
            let (b, _, _) = barcode("TP:CCCD", Symbology::Code128, dpi, 0.0, 0.0).unwrap();
            assert!(b.module_px >= 3 && b.rows == 1 && b.bar_height_px.is_some());
            let (q, w, h) = barcode("HS:000.00.15.H40-250301-0007", Symbology::Qr, dpi, 0.0, 0.0).unwrap();
            assert!(q.module_px >= 3 && q.rows == q.cols && q.cols >= 21);
            assert!((w - h).abs() < 1e-3);
        }
    }
}
