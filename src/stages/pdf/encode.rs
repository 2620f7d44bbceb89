//! Page image encoding for the PDF: JPEG for gray and colour pages, CCITT Group 4 for
//! bilevel pages (1-bit all the way: a bilevel scan is never stored as 8-bit). Pure, no
//! I/O.

use std::io::Write;

use flate2::{Compression, write::ZlibEncoder};
use image::DynamicImage;

use crate::model::{ColorMode, EncodedImage, ImageFilter};

/// JPEG quality for gray and colour pages: visually lossless for scanned paper at
/// 200-300 dpi, a quarter of the size of quality 95.
pub const JPEG_QUALITY: u8 = 85;

/// Encodes a page image the way the PDF stores it.
///
/// - `Gray` / `Rgb`: baseline JPEG, quality [`JPEG_QUALITY`], 1 or 3 components (the image
///   is converted to Luma8 / Rgb8 first if it is not already).
/// - `Bilevel`: pixels `>= 128` are white; CCITT Group 4 (ITU-T T.6, `/K -1`,
///   `/BlackIs1 false`: 0 = black, DeviceGray's default decode). A page wider than 65,535
///   pixels (G4's limit here) is stored as 1-bit packed Flate instead.
///
/// Never fails: if the JPEG encoder refuses the image (for example a zero-sized one), the
/// samples are stored 8-bit Flate-compressed instead, which the writer also accepts.
pub fn encode_page_image(img: &DynamicImage, color: ColorMode) -> EncodedImage {
    let (width, height) = (img.width(), img.height());
    match color {
        ColorMode::Bilevel => {
            let gray: std::borrow::Cow<'_, image::GrayImage> = match img {
                DynamicImage::ImageLuma8(g) => std::borrow::Cow::Borrowed(g),
                _ => std::borrow::Cow::Owned(img.to_luma8()),
            };
            match g4(gray.as_raw(), width, height) {
                Some(data) => EncodedImage { width, height, color, filter: ImageFilter::Ccitt, data, mask: None },
                None => EncodedImage { width, height, color, filter: ImageFilter::Flate, data: zlib(&pack_bilevel(gray.as_raw(), width as usize)), mask: None },
            }
        }
        ColorMode::Gray | ColorMode::Rgb => {
            // Borrow the samples when they already have the right layout (the usual case).
            let converted: std::borrow::Cow<'_, [u8]> = match (color, img) {
                (ColorMode::Gray, DynamicImage::ImageLuma8(g)) => g.as_raw().as_slice().into(),
                (ColorMode::Rgb, DynamicImage::ImageRgb8(c)) => c.as_raw().as_slice().into(),
                (ColorMode::Gray, _) => img.to_luma8().into_raw().into(),
                _ => img.to_rgb8().into_raw().into(),
            };
            // libjpeg-turbo (SIMD) is about 3x faster than the pure-Rust jpeg-encoder on a
            // scanned page; JPEG is limited to 65,535 pixels a side.
            let encoded = if width == 0 || height == 0 || width > 65_535 || height > 65_535 {
                Err(format!("{width}x{height} is outside JPEG's limits"))
            } else {
                jpeg(&converted, width as usize, height as usize, color == ColorMode::Gray, JPEG_QUALITY, false)
            };
            match encoded {
                Ok(data) => EncodedImage { width, height, color, filter: ImageFilter::Dct, data, mask: None },
                Err(error) => {
                    tracing::warn!(%error, width, height, "JPEG encoding failed, storing Flate samples");
                    EncodedImage { width, height, color, filter: ImageFilter::Flate, data: zlib(&converted), mask: None }
                }
            }
        }
    }
}

/// Packs 8-bit samples (row-major, `width` per row) into 1 bit per pixel, MSB first,
/// each row padded to a whole byte; bit 1 = white (sample >= 128).
pub(crate) fn pack_bilevel(samples: &[u8], width: usize) -> Vec<u8> {
    if width == 0 {
        return Vec::new();
    }
    let stride = width.div_ceil(8);
    let rows = samples.len() / width;
    let mut out = vec![0u8; stride * rows];
    for (row, dst) in samples.chunks_exact(width).zip(out.chunks_exact_mut(stride)) {
        for (x, &v) in row.iter().enumerate() {
            if v >= 128 {
                dst[x / 8] |= 0x80 >> (x % 8);
            }
        }
    }
    out
}

/// CCITT Group 4 of 8-bit samples (`>= 128` white), `None` when a side is 0 or over
/// 65,535 pixels.
pub(crate) fn g4(samples: &[u8], width: u32, height: u32) -> Option<Vec<u8>> {
    use fax::{Color, VecWriter, encoder::Encoder};
    let w = u16::try_from(width).ok().filter(|&w| w > 0)?;
    if height == 0 || height > u32::from(u16::MAX) || samples.len() < width as usize * height as usize {
        return None;
    }
    // A text page codes to about 1/40 of its packed size; start there.
    let mut encoder = Encoder::new(VecWriter::with_capacity(samples.len() / 40));
    for row in samples.chunks_exact(width as usize).take(height as usize) {
        let pels = row.iter().map(|&v| if v >= 128 { Color::White } else { Color::Black });
        // Writing into a Vec cannot fail.
        encoder.encode_line(pels, w).ok()?;
    }
    Some(encoder.finish().ok()?.finish())
}

/// Decodes CCITT Group 4 data (as [`g4`] writes it: every row, then the end-of-block)
/// back into 0/255 samples, `width * height` of them; `None` if the data does not decode
/// to exactly `height` rows.
pub(crate) fn decode_g4(data: &[u8], width: u32, height: u32) -> Option<Vec<u8>> {
    let w = u16::try_from(width).ok()?;
    u16::try_from(height).ok()?;
    let mut out = Vec::with_capacity(width as usize * height as usize);
    let mut rows = 0usize;
    fax::decoder::decode_g4(data.iter().copied(), w, None, |transitions| {
        rows += 1;
        if rows <= height as usize {
            out.extend(fax::decoder::pels(transitions, w).map(|c| if c == fax::Color::Black { 0u8 } else { 255 }));
        }
    })?;
    (rows == height as usize && out.len() == width as usize * height as usize).then_some(out)
}

/// Baseline JPEG at `quality`: one component for gray, YCbCr for colour, its chroma at
/// half resolution each way (4:2:0) or, with `full_chroma`, at full resolution (4:4:4).
/// The compressor is made once per thread (pages are encoded on the page threads).
pub(crate) fn jpeg(samples: &[u8], width: usize, height: usize, gray: bool, quality: u8, full_chroma: bool) -> Result<Vec<u8>, String> {
    use turbojpeg::{Compressor, Image, PixelFormat, Subsamp};
    thread_local! {
        static COMPRESSOR: std::cell::RefCell<Option<Compressor>> = const { std::cell::RefCell::new(None) };
    }
    let (format, subsamp) = match (gray, full_chroma) {
        (true, _) => (PixelFormat::GRAY, Subsamp::Gray),
        (false, false) => (PixelFormat::RGB, Subsamp::Sub2x2),
        (false, true) => (PixelFormat::RGB, Subsamp::None),
    };
    if samples.len() < width * height * format.size() {
        return Err(format!("{} samples for a {width}x{height} image", samples.len()));
    }
    COMPRESSOR.with(|cell| {
        let mut cell = cell.borrow_mut();
        if cell.is_none() {
            *cell = Some(Compressor::new().map_err(|e| e.to_string())?);
        }
        let compressor = cell.as_mut().expect("compressor just made");
        compressor.set_quality(i32::from(quality.clamp(1, 100)));
        compressor.set_subsamp(subsamp);
        let image = Image { pixels: samples, width, pitch: width * format.size(), height, format };
        compressor.compress_to_vec(image).map_err(|e| e.to_string())
    })
}

pub(crate) fn zlib(data: &[u8]) -> Vec<u8> {
    let mut enc = ZlibEncoder::new(Vec::with_capacity(data.len() / 8 + 64), Compression::new(6));
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(data);
    enc.finish().unwrap_or_default()
}

/// Expected length of the decoded samples of an encoded image (for Flate checks).
pub(crate) fn expected_sample_len(img: &EncodedImage) -> usize {
    let (w, h) = (img.width as usize, img.height as usize);
    match img.color {
        ColorMode::Bilevel => w.div_ceil(8) * h,
        ColorMode::Gray => w * h,
        ColorMode::Rgb => w * h * 3,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pack_bilevel_msb_first_white_is_one() {
        // 10 px wide: W B W B W B W B | W W ; second row all black.
        let mut s = vec![255, 0, 255, 0, 255, 0, 255, 0, 255, 255];
        s.extend([0u8; 10]);
        let packed = pack_bilevel(&s, 10);
        assert_eq!(packed, vec![0b1010_1010, 0b1100_0000, 0, 0]);
    }

    #[test]
    fn gray_and_rgb_encode_to_jpeg_of_right_kind() {
        let img = DynamicImage::ImageRgb8(image::RgbImage::from_pixel(20, 10, image::Rgb([200, 30, 30])));
        let rgb = encode_page_image(&img, ColorMode::Rgb);
        assert_eq!(rgb.filter, ImageFilter::Dct);
        assert_eq!((rgb.width, rgb.height), (20, 10));
        let back = image::load_from_memory(&rgb.data).unwrap();
        assert_eq!(back.color(), image::ColorType::Rgb8);
        let gray = encode_page_image(&img, ColorMode::Gray);
        let back = image::load_from_memory(&gray.data).unwrap();
        assert_eq!(back.color(), image::ColorType::L8);
    }

    #[test]
    fn bilevel_round_trips_through_g4() {
        let mut g = image::GrayImage::from_pixel(13, 3, image::Luma([255]));
        g.put_pixel(0, 0, image::Luma([0]));
        g.put_pixel(12, 2, image::Luma([10]));
        let enc = encode_page_image(&DynamicImage::ImageLuma8(g.clone()), ColorMode::Bilevel);
        assert_eq!(enc.filter, ImageFilter::Ccitt);
        let back = decode_g4(&enc.data, 13, 3).unwrap();
        let want: Vec<u8> = g.as_raw().iter().map(|&v| if v >= 128 { 255 } else { 0 }).collect();
        assert_eq!(back, want);
    }

    /// Noise, runs of every length, black and white edges: G4 is lossless on all of it.
    #[test]
    fn g4_is_lossless_on_random_pages() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(25);
        for (w, h, p_black) in [(1u32, 5u32, 0.5f64), (8, 8, 0.5), (333, 40, 0.05), (2550, 12, 0.3), (64, 64, 0.97)] {
            let px: Vec<u8> = (0..w * h).map(|_| if rng.random_bool(p_black) { 0 } else { 255 }).collect();
            let data = g4(&px, w, h).unwrap();
            assert_eq!(decode_g4(&data, w, h).as_deref(), Some(px.as_slice()), "{w}x{h}");
        }
        // Blocks: long runs across rows (vertical and pass modes).
        let (w, h) = (1000u32, 300u32);
        let px: Vec<u8> = (0..w * h).map(|i| if ((i % w) / 37 + (i / w) / 23) % 3 == 0 { 0 } else { 255 }).collect();
        let data = g4(&px, w, h).unwrap();
        assert!(data.len() < px.len() / 50, "{} bytes", data.len());
        assert_eq!(decode_g4(&data, w, h).unwrap(), px);
        // The wrong height is caught, not padded or cut.
        assert!(decode_g4(&data, w, h + 1).is_none());
        assert!(decode_g4(&data, w, h - 1).is_none());
    }

    #[test]
    fn g4_refuses_what_it_cannot_code() {
        assert!(g4(&[], 0, 0).is_none());
        assert!(g4(&[255; 10], 70_000, 1).is_none());
        assert!(g4(&[255; 10], 5, 3).is_none(), "short samples");
    }
}
