//! Single-image files (PNG, JPEG): decoding and resolution (PNG pHYs, JPEG JFIF density).
//! The page budget ([`super::limits`]) is checked on the header's size, resolution and
//! decoded bytes before the pixels are decoded.

use super::{DEFAULT_DPI, FileKind, limits};
use crate::model::{ColorMode, PageImage};
use image::{DynamicImage, ImageDecoder, ImageReader};
use std::path::Path;

pub fn decode(path: &Path, kind: FileKind, index: usize) -> Result<PageImage, String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    let format = if kind == FileKind::Png { image::ImageFormat::Png } else { image::ImageFormat::Jpeg };
    let unreadable = |e: image::ImageError| format!("image data unreadable: {e}");
    let mut reader = ImageReader::with_format(std::io::Cursor::new(&bytes), format);
    reader.limits(limits::image_limits());
    let decoder = reader.into_decoder().map_err(unreadable)?;
    let (w, h) = decoder.dimensions();
    let declared = match kind {
        FileKind::Png => png_dpi(&bytes),
        _ => jpeg_dpi(&bytes),
    };
    limits::check_pixels(u64::from(w), u64::from(h))?;
    if let Some(dpi) = declared {
        limits::check_dpi(u64::from(w), u64::from(h), f64::from(dpi), f64::from(dpi))?;
    }
    limits::check_bytes(u64::from(w), u64::from(h), decoder.total_bytes())?;
    let img = DynamicImage::from_decoder(decoder).map_err(unreadable)?;
    let mut warnings = Vec::new();
    let dpi = declared.unwrap_or_else(|| {
        warnings.push(format!("no resolution in the file; assumed {DEFAULT_DPI} dpi"));
        DEFAULT_DPI
    });
    let (image, color) = normalise(img);
    Ok(PageImage { index, image, color, dpi, warnings })
}

/// Gray stays gray, colour stays colour; alpha is composited onto white; 16-bit to 8-bit.
/// A gray image holding only pure black and white is bilevel. 8-bit gray and RGB are kept
/// as they are (no copy of the page).
pub fn normalise(img: DynamicImage) -> (DynamicImage, ColorMode) {
    match img {
        DynamicImage::ImageRgb8(_) => return (img, ColorMode::Rgb),
        DynamicImage::ImageLuma8(ref gray) => {
            let bilevel = gray.pixels().all(|p| p[0] == 0 || p[0] == 255);
            return (img, if bilevel { ColorMode::Bilevel } else { ColorMode::Gray });
        }
        _ => {}
    }
    if img.color().has_color() {
        let rgba = img.to_rgba8();
        let rgb = image::RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
            let p = rgba.get_pixel(x, y).0;
            let a = p[3] as u32;
            let f = |v: u8| ((v as u32 * a + 255 * (255 - a) + 127) / 255) as u8;
            image::Rgb([f(p[0]), f(p[1]), f(p[2])])
        });
        (DynamicImage::ImageRgb8(rgb), ColorMode::Rgb)
    } else {
        let la = img.to_luma_alpha8();
        let gray = image::GrayImage::from_fn(la.width(), la.height(), |x, y| {
            let [v, a] = la.get_pixel(x, y).0;
            image::Luma([((v as u32 * a as u32 + 255 * (255 - a as u32) + 127) / 255) as u8])
        });
        let bilevel = gray.pixels().all(|p| p[0] == 0 || p[0] == 255);
        (DynamicImage::ImageLuma8(gray), if bilevel { ColorMode::Bilevel } else { ColorMode::Gray })
    }
}

/// PNG pHYs chunk (pixels per metre, unit 1).
fn png_dpi(bytes: &[u8]) -> Option<f32> {
    let mut pos = 8;
    while pos + 8 <= bytes.len() {
        let len = u32::from_be_bytes(bytes[pos..pos + 4].try_into().ok()?) as usize;
        let ty = &bytes[pos + 4..pos + 8];
        if ty == b"pHYs" && pos + 8 + 9 <= bytes.len() {
            let d = &bytes[pos + 8..pos + 17];
            let ppm = u32::from_be_bytes(d[0..4].try_into().ok()?) as f32;
            return (d[8] == 1 && ppm > 0.0).then(|| (ppm * 0.0254 * 10.0).round() / 10.0);
        }
        if ty == b"IDAT" || ty == b"IEND" {
            return None;
        }
        pos += 12 + len;
    }
    None
}

/// JPEG JFIF APP0 density (unit 1 = dpi, 2 = dots per cm).
fn jpeg_dpi(bytes: &[u8]) -> Option<f32> {
    let app0 = bytes.get(2..20)?;
    if app0[0] != 0xFF || app0[1] != 0xE0 || &app0[4..9] != b"JFIF\0" {
        return None;
    }
    let unit = app0[11];
    let x = u16::from_be_bytes([app0[12], app0[13]]) as f32;
    match unit {
        1 if x > 1.0 => Some(x),
        2 if x > 1.0 => Some(x * 2.54),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_png_resolution_and_colour_modes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.png");
        let img = image::RgbImage::from_pixel(20, 10, image::Rgb([200, 10, 10]));
        img.save(&path).unwrap();
        let page = decode(&path, FileKind::Png, 3).unwrap();
        assert_eq!((page.index, page.color, page.dpi), (3, ColorMode::Rgb, DEFAULT_DPI));
        assert_eq!(page.warnings.len(), 1, "a missing resolution is a warning");
        let bw = image::GrayImage::from_fn(8, 8, |x, _| image::Luma([if x < 4 { 0 } else { 255 }]));
        bw.save(&path).unwrap();
        assert_eq!(decode(&path, FileKind::Png, 0).unwrap().color, ColorMode::Bilevel);
    }

    #[test]
    fn a_truncated_png_is_a_page_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.png");
        image::GrayImage::from_fn(200, 200, |x, y| image::Luma([(x ^ y) as u8])).save(&path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        assert!(decode(&path, FileKind::Png, 0).is_err());
    }
}
