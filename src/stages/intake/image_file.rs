//! Single-image files (PNG, JPEG): decoding and resolution (PNG pHYs; JPEG EXIF
//! XResolution, else JFIF density). The page budget ([`super::limits`]) is checked on the
//! header's size, resolution and decoded bytes before the pixels are decoded. A JPEG whose
//! scan data ends before its end marker (a file cut short) decodes with the missing rows
//! filled; the page gets an error warning that the image is incomplete.

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
    if kind == FileKind::Jpeg && !jpeg_complete(&bytes) {
        warnings.push(crate::model::page_error(INCOMPLETE_JPEG));
    }
    let dpi = declared.unwrap_or_else(|| {
        warnings.push(format!("no resolution in the file; assumed {DEFAULT_DPI} dpi"));
        DEFAULT_DPI
    });
    let (image, color) = normalise(img);
    Ok(PageImage { index, image, color, dpi, warnings })
}

/// Gray stays gray, colour stays colour; alpha is composited onto white; 16-bit to 8-bit.
/// A page of only two neutral colours (a 2-colour palette, black and white) is bilevel
/// ([`super::two_tone`]). 8-bit gray and RGB pages of more colours are kept as they are
/// (no copy of the page).
pub fn normalise(img: DynamicImage) -> (DynamicImage, ColorMode) {
    let (img, color) = normalise_colour(img);
    match super::two_tone::two_tone(&img) {
        Some(bilevel) => (DynamicImage::ImageLuma8(bilevel), ColorMode::Bilevel),
        None => (img, color),
    }
}

fn normalise_colour(img: DynamicImage) -> (DynamicImage, ColorMode) {
    match img {
        DynamicImage::ImageRgb8(_) => return (img, ColorMode::Rgb),
        DynamicImage::ImageLuma8(_) => return (img, ColorMode::Gray),
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
        (DynamicImage::ImageLuma8(gray), ColorMode::Gray)
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

/// The page warning of a JPEG cut short.
pub const INCOMPLETE_JPEG: &str =
    "the image is incomplete: its JPEG data ends before the end marker (the file was cut short); the rows after the break are blank";

/// The segments of a JPEG before its first scan (marker, payload), and where the scan's
/// entropy-coded data begins (`None` if there is no scan).
fn jpeg_segments(bytes: &[u8]) -> (Vec<(u8, &[u8])>, Option<usize>) {
    let mut segments = Vec::new();
    let mut pos = 2;
    while pos + 4 <= bytes.len() {
        if bytes[pos] != 0xFF {
            return (segments, None);
        }
        let marker = bytes[pos + 1];
        if marker == 0xFF {
            pos += 1; // fill byte
            continue;
        }
        let len = u16::from_be_bytes([bytes[pos + 2], bytes[pos + 3]]) as usize;
        let Some(payload) = bytes.get(pos + 4..pos + 2 + len.max(2)) else {
            return (segments, None);
        };
        pos += 2 + len;
        if marker == 0xDA {
            return (segments, Some(pos));
        }
        segments.push((marker, payload));
    }
    (segments, None)
}

/// A JPEG holds its end-of-image marker after its first scan. In entropy-coded data a
/// 0xFF byte is followed by 0x00 or a restart marker, so 0xFF 0xD9 there is the end.
pub fn jpeg_complete(bytes: &[u8]) -> bool {
    match jpeg_segments(bytes).1 {
        Some(scan) => bytes[scan..].windows(2).any(|w| w == [0xFF, 0xD9]),
        None => false,
    }
}

/// JPEG resolution: EXIF XResolution with its unit (inch or cm), else JFIF APP0 density
/// (unit 1 = dpi, 2 = dots per cm). Values outside 50..=4800 dpi are not believed.
pub fn jpeg_dpi(bytes: &[u8]) -> Option<f32> {
    let plausible = |dpi: f32| (dpi.is_finite() && (50.0..=4800.0).contains(&dpi)).then_some(dpi);
    let (segments, _) = jpeg_segments(bytes);
    let exif = segments.iter().find_map(|&(m, p)| (m == 0xE1 && p.starts_with(b"Exif\0\0")).then(|| exif_dpi(&p[6..])).flatten());
    let jfif = segments.iter().find_map(|&(m, p)| {
        if m != 0xE0 || p.len() < 12 || &p[..5] != b"JFIF\0" {
            return None;
        }
        let x = u16::from_be_bytes([p[8], p[9]]) as f32;
        match p[7] {
            1 => Some(x),
            2 => Some(x * 2.54),
            _ => None,
        }
    });
    exif.and_then(plausible).or_else(|| jfif.and_then(plausible))
}

/// XResolution and ResolutionUnit (default inch) of an EXIF block's first directory.
fn exif_dpi(t: &[u8]) -> Option<f32> {
    let le = match t.get(..4)? {
        b"II*\0" => true,
        b"MM\0*" => false,
        _ => return None,
    };
    let u16_at = |o: usize| t.get(o..o + 2).map(|b| if le { u16::from_le_bytes([b[0], b[1]]) } else { u16::from_be_bytes([b[0], b[1]]) });
    let u32_at =
        |o: usize| t.get(o..o + 4).map(|b| if le { u32::from_le_bytes([b[0], b[1], b[2], b[3]]) } else { u32::from_be_bytes([b[0], b[1], b[2], b[3]]) });
    let ifd = u32_at(4)? as usize;
    let (mut x, mut unit) = (None, 2u16);
    for i in 0..u16_at(ifd)? as usize {
        let e = ifd + 2 + 12 * i;
        match (u16_at(e)?, u16_at(e + 2)?) {
            (0x011A, 5) => {
                let at = u32_at(e + 8)? as usize;
                let (n, d) = (u32_at(at)?, u32_at(at + 4)?);
                x = (d != 0).then(|| n as f32 / d as f32);
            }
            (0x0128, 3) => unit = u16_at(e + 8)?,
            _ => {}
        }
    }
    match unit {
        2 => x,
        3 => x.map(|v| v * 2.54),
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

    fn jpeg(w: u32, h: u32) -> Vec<u8> {
        let img = image::GrayImage::from_fn(w, h, |x, y| image::Luma([((x * 7 + y * 3) % 256) as u8]));
        let mut out = std::io::Cursor::new(Vec::new());
        image::DynamicImage::ImageLuma8(img).write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
        out.into_inner()
    }

    /// `jpeg` with an APP1 EXIF block (little-endian) saying `x` per `unit` right after SOI.
    fn with_exif(jpeg: &[u8], x: (u32, u32), unit: u16) -> Vec<u8> {
        let mut exif = b"Exif\0\0II*\0\x08\0\0\0\x02\0".to_vec();
        exif.extend([0x1A, 0x01, 5, 0, 1, 0, 0, 0, 38, 0, 0, 0]);
        exif.extend([0x28, 0x01, 3, 0, 1, 0, 0, 0]);
        exif.extend(unit.to_le_bytes());
        exif.extend([0, 0, 0, 0, 0, 0]);
        exif.extend(x.0.to_le_bytes());
        exif.extend(x.1.to_le_bytes());
        let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
        out.extend(((exif.len() + 2) as u16).to_be_bytes());
        out.extend(&exif);
        out.extend(&jpeg[2..]);
        out
    }

    #[test]
    fn a_jpeg_resolution_comes_from_exif_or_jfif() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.jpg");
        let plain = jpeg(40, 30);
        // The image crate writes a JFIF block of unit 0 (no resolution): assumed, and said.
        std::fs::write(&path, &plain).unwrap();
        let page = decode(&path, FileKind::Jpeg, 0).unwrap();
        assert_eq!(page.dpi, DEFAULT_DPI);
        assert!(page.warnings.iter().any(|w| w.contains("assumed 300 dpi")), "{:?}", page.warnings);
        // EXIF: 200 per inch, 80 per cm.
        std::fs::write(&path, with_exif(&plain, (400, 2), 2)).unwrap();
        let page = decode(&path, FileKind::Jpeg, 0).unwrap();
        assert_eq!(page.dpi, 200.0);
        assert!(page.warnings.is_empty(), "{:?}", page.warnings);
        std::fs::write(&path, with_exif(&plain, (80, 1), 3)).unwrap();
        assert_eq!(decode(&path, FileKind::Jpeg, 0).unwrap().dpi, 203.2);
        // A JFIF density found after an EXIF block with no usable unit.
        let mut jfif = plain.clone();
        assert_eq!(&jfif[6..11], b"JFIF\0");
        jfif[13] = 1;
        jfif[14..18].copy_from_slice(&[1, 144, 1, 144]); // 400 x 400 dpi
        std::fs::write(&path, with_exif(&jfif, (72, 1), 1)).unwrap();
        assert_eq!(decode(&path, FileKind::Jpeg, 0).unwrap().dpi, 400.0);
    }

    #[test]
    fn a_jpeg_cut_short_is_an_incomplete_page() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.jpg");
        let whole = jpeg(300, 400);
        assert!(jpeg_complete(&whole));
        std::fs::write(&path, &whole).unwrap();
        let page = decode(&path, FileKind::Jpeg, 0).unwrap();
        assert!(page.warnings.iter().all(|w| crate::model::page_error_message(w).is_none()), "{:?}", page.warnings);
        std::fs::write(&path, &whole[..whole.len() * 55 / 100]).unwrap();
        let page = decode(&path, FileKind::Jpeg, 0).expect("the rows that are there decode");
        assert_eq!(page.image.height(), 400);
        assert!(page.warnings.contains(&crate::model::page_error(INCOMPLETE_JPEG)), "{:?}", page.warnings);
    }
}
