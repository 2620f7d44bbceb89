//! The page budget: how large a page intake decodes, checked before its pixels are
//! allocated.
//!
//! Every decoder (TIFF, PNG/JPEG, a PDF's embedded image, the PDF rasterizer) and every
//! resample (a PDF scan with non-square pixels) asks these functions first, with the size
//! it is about to allocate, and fails the page (a [`super::PageFailure`], the batch goes on)
//! if it is over:
//! - [`MAX_PAGE_PIXELS`]: 260 Mpx a page, so A0 at 400 dpi (13244 x 18724 px, 248 Mpx)
//!   passes; it bounds the output of a resample too, not only its input;
//! - [`MAX_DECODED_BYTES`]: what one decoder may hold for one page, 4 bytes a pixel
//!   (8-bit RGBA, or 16-bit gray with alpha) of that many pixels;
//! - [`MAX_DPI`]: 1200 dpi. A page whose file says it is finer than this (a PDF image of
//!   15000 x 15000 px drawn on a Letter page is 1765 dpi) is refused rather than decoded
//!   and downscaled: the decoders cannot decode at a lower resolution, so the work would
//!   be the full image's, and no document scanner scans finer. Pages with no resolution
//!   in the file are taken as 300 dpi and bounded by the pixel limit alone.

/// Most pixels of one page, decoded or resampled: A0 at 400 dpi (248 Mpx) must pass.
pub const MAX_PAGE_PIXELS: u64 = 260_000_000;
/// Most bytes one decoder may allocate for one page's pixels (4 bytes a pixel).
pub const MAX_DECODED_BYTES: u64 = MAX_PAGE_PIXELS * 4;
/// Finest resolution accepted, dots per inch, along either axis.
pub const MAX_DPI: f64 = 1200.0;

const PIXEL_LIMIT: &str = "the limit of 260 Mpx a page (A0 at 400 dpi)";

fn mpx(pixels: u64) -> String {
    let m = pixels as f64 / 1e6;
    if m >= 10.0 { format!("{m:.0} Mpx") } else { format!("{m:.1} Mpx") }
}

/// A page of `w` x `h` pixels may be decoded.
pub fn check_pixels(w: u64, h: u64) -> Result<(), String> {
    let n = w.saturating_mul(h);
    if n > MAX_PAGE_PIXELS {
        return Err(format!("the page is {w}×{h} pixels ({}), over {PIXEL_LIMIT}", mpx(n)));
    }
    Ok(())
}

/// A decoder may allocate `bytes` for a page of `w` x `h` pixels.
pub fn check_bytes(w: u64, h: u64, bytes: u64) -> Result<(), String> {
    if bytes > MAX_DECODED_BYTES {
        return Err(format!(
            "the page is {w}×{h} pixels and would take {} MB to decode, over the limit of {} MB a page",
            bytes / 1_000_000,
            MAX_DECODED_BYTES / 1_000_000
        ));
    }
    Ok(())
}

/// A page of `w` x `h` pixels at `dpi_x` x `dpi_y` is not finer than [`MAX_DPI`].
pub fn check_dpi(w: u64, h: u64, dpi_x: f64, dpi_y: f64) -> Result<(), String> {
    if dpi_x.max(dpi_y) > MAX_DPI {
        return Err(format!(
            "the page is {w}×{h} pixels at {} dpi, finer than the limit of {MAX_DPI:.0} dpi; rescan it at 600 dpi or less",
            dpi_pair(dpi_x, dpi_y)
        ));
    }
    Ok(())
}

/// An image of `w` x `h` pixels that a page of `page_w` x `page_h` inches draws among other
/// things (the page is rasterized, and the rasterizer decodes the image whole): it holds no
/// more pixels than the page budget, nor than the whole page has at [`MAX_DPI`].
pub fn check_image_on_page(w: u64, h: u64, page_w: f64, page_h: f64) -> Result<(), String> {
    let at_max_dpi = (page_w * MAX_DPI).ceil() * (page_h * MAX_DPI).ceil();
    let cap = (MAX_PAGE_PIXELS as f64).min(at_max_dpi);
    let n = w.saturating_mul(h);
    if n as f64 > cap {
        return Err(format!(
            "an image on the page is {w}×{h} pixels ({}), more than the limit for this page of {:.1}×{:.1} in ({}: {MAX_DPI:.0} dpi, at most 260 Mpx)",
            mpx(n),
            page_w,
            page_h,
            mpx(cap as u64)
        ));
    }
    Ok(())
}

/// A Flate stream that should hold at most `max` bytes does not inflate to more (counted,
/// not kept: a few kilobytes can inflate to gigabytes, which the PDF library would hold).
pub fn check_inflated(data: &[u8], max: u64) -> Result<(), String> {
    use std::io::Read;
    fn count(mut r: impl Read, max: u64) -> Result<u64, u64> {
        let mut buf = vec![0u8; 1 << 16];
        let mut total = 0u64;
        loop {
            match r.read(&mut buf) {
                Ok(0) => return Ok(total),
                Ok(n) => total += n as u64,
                // Broken data: the decoder proper reports it.
                Err(_) => return if total == 0 { Err(0) } else { Ok(total) },
            }
            if total > max {
                return Ok(total);
            }
        }
    }
    // As the PDF library: zlib, else raw deflate.
    let total = count(flate2::read::ZlibDecoder::new(data), max).or_else(|_| count(flate2::read::DeflateDecoder::new(data), max)).unwrap_or(0);
    if total > max {
        return Err(format!("the image data inflates to more than {} MB, more than its declared size holds; not decoded", max / 1_000_000));
    }
    Ok(())
}

/// The size of a `w` x `h` image with non-square pixels (`dpi_x` x `dpi_y`) once its rows
/// are resampled to `dpi_x`, if that is within [`MAX_PAGE_PIXELS`].
pub fn check_square_resample(w: u32, h: u32, dpi_x: f64, dpi_y: f64) -> Result<(u32, u32), String> {
    let new_h = (f64::from(h) * dpi_x / dpi_y).round().max(1.0);
    let pixels = f64::from(w) * new_h;
    if !(new_h.is_finite() && new_h <= f64::from(u32::MAX) && pixels <= MAX_PAGE_PIXELS as f64) {
        return Err(format!(
            "the page is {w}×{h} pixels at {} dpi: resampled to square pixels it would be {w}×{new_h:.0} pixels ({}), over {PIXEL_LIMIT}",
            dpi_pair(dpi_x, dpi_y),
            if pixels.is_finite() { mpx(pixels.min(u64::MAX as f64) as u64) } else { "unbounded".into() },
        ));
    }
    Ok((w, new_h as u32))
}

/// The image crate's limits for one page: no decoder allocates more than
/// [`MAX_DECODED_BYTES`].
pub fn image_limits() -> image::Limits {
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(MAX_DECODED_BYTES);
    limits
}

fn dpi_pair(x: f64, y: f64) -> String {
    let f = |v: f64| if v >= 10.0 { format!("{v:.0}") } else { format!("{v:.2}") };
    if ((x - y) / x).abs() <= 0.02 { f(x) } else { format!("{}×{}", f(x), f(y)) }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::stages::intake::Input;
    use sohoa_testkit::hostile::{pdf_with_image, pdf_with_image_and, png_of_size, zlib_zeros};

    const LETTER: (f32, f32) = (612.0, 792.0);

    /// Opens `bytes` as a one-page file and returns its page's failure message.
    fn failure(name: &str, bytes: &[u8]) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let input = Input::open(&path).unwrap();
        let pages: Vec<_> = input.pages().collect();
        assert_eq!(pages.len(), 1);
        let err = pages.into_iter().next().unwrap().expect_err("the page is over the budget");
        assert_eq!(err.index, 0);
        err.message
    }

    #[test]
    fn a_100000_by_1_image_on_a_letter_page_fails_its_page() {
        let bytes = pdf_with_image(100_000, 1, false, LETTER.0, LETTER.1);
        assert!(bytes.len() < 2_000, "a tiny file: {}", bytes.len());
        let m = failure("line.pdf", &bytes);
        assert!(m.contains("100000×1 pixels at 11765×0.09 dpi, finer than the limit of 1200 dpi"), "{m}");
    }

    #[test]
    fn a_resample_over_the_budget_fails_before_allocating() {
        // 1000 x 10 dpi on a 20-inch square page: 4 Mpx stored, 400 Mpx once squared.
        let m = failure("fax.pdf", &pdf_with_image(20_000, 200, false, 1440.0, 1440.0));
        assert!(m.contains("resampled to square pixels it would be 20000×20000 pixels (400 Mpx), over the limit of 260 Mpx"), "{m}");
    }

    #[test]
    fn a_15000_square_rgb_image_on_a_letter_page_is_refused_undecoded() {
        let bytes = pdf_with_image(15_000, 15_000, true, LETTER.0, LETTER.1);
        assert!(bytes.len() < 2_000_000, "{}", bytes.len());
        let m = failure("big.pdf", &bytes);
        assert!(m.contains("15000×15000 pixels at 1765×1364 dpi, finer than the limit of 1200 dpi"), "{m}");
    }

    #[test]
    fn a_huge_image_on_a_page_to_rasterize_is_refused_before_the_rasterizer_decodes_it() {
        // A stroked line makes the page more than a scan: it goes to the rasterizer.
        let bytes = pdf_with_image_and(15_000, 15_000, true, LETTER.0, LETTER.1, "0 0 m 100 100 l S");
        let m = failure("mixed.pdf", &bytes);
        assert!(m.contains("an image on the page is 15000×15000 pixels (225 Mpx), more than the limit for this page of 8.5×11.0 in (135 Mpx"), "{m}");
        // A reasonable image on such a page is rasterized.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ok.pdf");
        std::fs::write(&path, pdf_with_image_and(850, 1100, false, LETTER.0, LETTER.1, "0 0 m 100 100 l S")).unwrap();
        let page = Input::open(&path).unwrap().pages().next().unwrap().unwrap();
        assert_eq!((page.image.width(), page.image.height(), page.dpi), (2550, 3300, 300.0));
    }

    #[test]
    fn a_flate_bomb_in_a_small_image_is_refused_before_it_is_inflated() {
        use lopdf::{Document, Object, Stream, dictionary};
        // A 100 x 100 gray image whose stream inflates to 64 MB (a real bomb: gigabytes).
        let mut doc = Document::with_version("1.5");
        let pages_id = doc.new_object_id();
        let image = Stream::new(
            dictionary! {
                "Type" => "XObject", "Subtype" => "Image", "Width" => 100, "Height" => 100,
                "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8, "Filter" => "FlateDecode",
            },
            zlib_zeros(64 << 20),
        )
        .with_compression(false);
        let image_id = doc.add_object(image);
        let content_id = doc.add_object(Stream::new(lopdf::Dictionary::new(), b"q 612 0 0 792 0 0 cm /Im0 Do Q".to_vec()));
        let page = doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages_id,
            "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
            "Resources" => dictionary! { "XObject" => dictionary! { "Im0" => image_id } },
            "Contents" => content_id,
        });
        doc.objects.insert(pages_id, Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1 }));
        let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
        doc.trailer.set("Root", catalog);
        let mut bytes = Vec::new();
        doc.save_to(&mut bytes).unwrap();
        let m = failure("bomb.pdf", &bytes);
        assert!(m.contains("the image data inflates to more than 1 MB"), "{m}");
        // An honest stream passes.
        assert!(check_inflated(&zlib_zeros(101 * 100), 2 * 101 * 100).is_ok());
    }

    #[test]
    fn a_20000_square_png_is_refused_undecoded_and_the_next_file_decodes() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = png_of_size(20_000, 20_000);
        assert!(bytes.len() < 1_000_000, "{}", bytes.len());
        std::fs::write(dir.path().join("a.png"), &bytes).unwrap();
        std::fs::write(dir.path().join("b.png"), &bytes).unwrap();
        image::GrayImage::from_pixel(30, 40, image::Luma([200])).save(dir.path().join("c.png")).unwrap();
        let input = Input::open(dir.path()).unwrap();
        let pages: Vec<_> = input.pages().collect();
        assert_eq!(pages.len(), 3);
        for p in &pages[..2] {
            let m = &p.as_ref().expect_err("over the budget").message;
            assert!(m.contains("20000×20000 pixels (400 Mpx), over the limit of 260 Mpx a page (A0 at 400 dpi)"), "{m}");
        }
        assert_eq!(pages[2].as_ref().unwrap().image.width(), 30);
    }

    #[test]
    fn a0_at_400_dpi_passes_and_more_does_not() {
        // A0 is 841 x 1189 mm.
        let (w, h) = ((841.0f64 / 25.4 * 400.0).round() as u64, (1189.0f64 / 25.4 * 400.0).round() as u64);
        assert_eq!((w, h), (13244, 18724));
        assert!(check_pixels(w, h).is_ok());
        assert!(check_bytes(w, h, w * h * 4).is_ok());
        assert!(check_dpi(w, h, 400.0, 400.0).is_ok());
        let e = check_pixels(20_000, 20_000).unwrap_err();
        assert!(e.contains("20000×20000 pixels (400 Mpx)") && e.contains("260 Mpx"), "{e}");
        assert!(check_dpi(15_000, 15_000, 1765.0, 1364.0).unwrap_err().contains("1765×1364 dpi"));
        assert!(check_dpi(10_200, 13_200, 1200.0, 1200.0).is_ok());
    }

    #[test]
    fn a_resample_is_checked_on_its_output() {
        assert_eq!(check_square_resample(1728, 1100, 204.0, 98.0).unwrap(), (1728, 2290));
        let e = check_square_resample(100_000, 1, 11_765.0, 0.09).unwrap_err();
        assert!(e.contains("100000×1 pixels at 11765×0.09 dpi") && e.contains("over the limit of 260 Mpx"), "{e}");
        assert!(check_square_resample(10, 10, 300.0, 0.0).is_err());
    }
}
