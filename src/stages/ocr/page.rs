//! One cleaned content page read by OCR: [`read_page`], the path the pipeline and
//! `sohoa eval-ocr` share, so what the eval scores is what the pipeline stores.
//!
//! Owns what Tesseract is given for a page ([`ocr_input`]: the resolution and the copy of
//! the page) and how it is read ([`ReadOptions`]: whole or in bands). The stored page keeps
//! the scan's pixels and resolution; only Tesseract's input changes, and the words come
//! back in the stored page's coordinates.
//!
//! Every choice here is held to one rule, checked by `sohoa eval-ocr` and the
//! `ocr_fidelity` integration test: the text read is never worse (CER, WER, tone and vowel
//! marks) than bare Tesseract's on the cleaned page with the same model. What the defaults
//! are, and why, is in docs/performance.md ("OCR fidelity").

use super::bands::{self, BandPool};
use super::{Deadline, OcrEngine, OcrError};
use crate::model::OcrPage;
use crate::timing::CpuClock;
use image::GrayImage;
use std::borrow::Cow;

/// Pages scanned below this resolution are scaled up before OCR, to this resolution:
/// 10-13 pt text at 150 dpi has an x-height of 10-12 pixels, where Tesseract starts
/// losing letters and marks. Scaled further (150 or 100 dpi to 300), Tesseract read
/// more Vietnamese marks wrong (`giấy` → `giẫy`, `quyền` → `quyên`) than at 200
/// (docs/performance.md, "Low-resolution pages").
pub const MIN_OCR_DPI: f32 = 200.0;
/// Pages below this resolution are scaled up to [`UPSCALE_DPI`] instead: at 72 dpi a
/// stroke is about one pixel, and scaled to 200 dpi full stops came back as commas.
pub const TINY_DPI: f32 = 100.0;
/// The resolution a page below [`TINY_DPI`] is scaled up to.
pub const UPSCALE_DPI: f32 = 300.0;

/// The copy of the cleaned page Tesseract reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OcrCopy {
    /// The cleaned page as stored.
    Cleaned,
    /// Levels stretched (paper white, ink black), strokes and marks untouched.
    Levels,
    /// Levels and a 3x3 median (`prepare_for_ocr`): removes specks, and with them parts of
    /// the hook above and the dot below at 200 dpi.
    LevelsMedian,
}

/// How a content page is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadOptions {
    pub copy: OcrCopy,
    /// Cut the page in bands (`bands::page_cuts`) and read them one by one.
    pub bands: bool,
    /// Scale pages below [`MIN_OCR_DPI`] up first (see [`upscale_factor`]).
    pub upscale: bool,
}

impl Default for ReadOptions {
    /// What the pipeline uses (docs/performance.md, "OCR fidelity"): the level-stretched
    /// copy (the median cost tone marks), the whole page (bands cost words, and on a
    /// two-column page the column order), low-resolution pages scaled up.
    fn default() -> Self {
        ReadOptions { copy: OcrCopy::Levels, bands: false, upscale: true }
    }
}

/// The factor a page at `dpi` is scaled by before OCR (1 = as is): to [`MIN_OCR_DPI`]
/// from below it, to [`UPSCALE_DPI`] from below [`TINY_DPI`].
pub fn upscale_factor(dpi: f32, opts: &ReadOptions) -> f32 {
    if !opts.upscale || !dpi.is_finite() || dpi <= 0.0 || dpi >= MIN_OCR_DPI {
        return 1.0;
    }
    if dpi < TINY_DPI { UPSCALE_DPI / dpi } else { MIN_OCR_DPI / dpi }
}

/// What Tesseract reads for the cleaned page `gray` at `dpi`: the copy, at the resolution
/// returned (the page's, or the one [`upscale_factor`] brings it to), and the scale factor
/// applied.
pub fn ocr_input<'a>(gray: &'a GrayImage, dpi: f32, opts: &ReadOptions) -> (Cow<'a, GrayImage>, f32, f32) {
    use crate::stages::imaging::prepare_for_ocr_with;
    let copy: Cow<GrayImage> = match opts.copy {
        OcrCopy::Cleaned => Cow::Borrowed(gray),
        OcrCopy::Levels => Cow::Owned(prepare_for_ocr_with(gray, false)),
        OcrCopy::LevelsMedian => Cow::Owned(prepare_for_ocr_with(gray, true)),
    };
    let f = upscale_factor(dpi, opts);
    if f <= 1.0 || gray.width() == 0 || gray.height() == 0 {
        return (copy, dpi, 1.0);
    }
    let (w, h) = ((gray.width() as f32 * f).round() as u32, (gray.height() as f32 * f).round() as u32);
    let big = image::imageops::resize(copy.as_ref(), w.max(1), h.max(1), image::imageops::FilterType::CatmullRom);
    (Cow::Owned(big), dpi * f, f)
}

/// Word boxes read on a copy scaled by `f`, back in the page's coordinates.
pub fn unscale_words(page: &mut OcrPage, f: f32) {
    if f == 1.0 {
        return;
    }
    for w in &mut page.words {
        let (l, t) = (w.left as f32 / f, w.top as f32 / f);
        let (r, b) = ((w.left + w.width) as f32 / f, (w.top + w.height) as f32 / f);
        w.left = l.round() as u32;
        w.top = t.round() as u32;
        w.width = (r.round() as u32).saturating_sub(w.left).max(1);
        w.height = (b.round() as u32).saturating_sub(w.top).max(1);
    }
}

/// Reads the cleaned content page `gray` at `dpi` on `engine` as `opts` say, by the page's
/// `deadline`; a late page's bands are shared through `pool` when given. Returns the page
/// (words in `gray`'s coordinates) and the CPU seconds it took on the calling thread and
/// on the engines that read its bands.
pub fn read_page(
    engine: &mut dyn OcrEngine,
    gray: &GrayImage,
    dpi: f32,
    opts: &ReadOptions,
    pool: Option<&BandPool>,
    deadline: Deadline,
) -> (Result<OcrPage, OcrError>, f64) {
    let t = CpuClock::start();
    let (input, ocr_dpi, f) = ocr_input(gray, dpi, opts);
    let cuts = if opts.bands { bands::page_cuts(&input, ocr_dpi, bands::PAGE_BANDS) } else { Vec::new() };
    let prepared_s = t.seconds();
    let (result, bands_s) = match pool {
        Some(pool) => pool.recognize_split(engine, &input, ocr_dpi, &cuts, deadline),
        None => bands::recognize_in_bands(engine, &input, ocr_dpi, &cuts, deadline),
    };
    (
        result.map(|mut p| {
            unscale_words(&mut p, f);
            p
        }),
        prepared_s + bands_s,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::OcrWord;

    #[test]
    fn only_low_resolution_pages_are_scaled_up() {
        let on = ReadOptions::default();
        let off = ReadOptions { upscale: false, ..on };
        // 72 dpi to 300; 100 and 150 dpi to 200.
        assert_eq!(upscale_factor(72.0, &on), 300.0 / 72.0);
        assert_eq!(upscale_factor(99.0, &on), 300.0 / 99.0);
        assert_eq!(upscale_factor(100.0, &on), 2.0);
        assert_eq!(upscale_factor(150.0, &on), 200.0 / 150.0);
        for dpi in [200.0, 300.0, 600.0, 0.0, f32::NAN] {
            assert_eq!(upscale_factor(dpi, &on), 1.0, "{dpi}");
        }
        assert_eq!(upscale_factor(72.0, &off), 1.0);
        let gray = GrayImage::from_pixel(100, 50, image::Luma([255]));
        let (img, dpi, f) = ocr_input(&gray, 100.0, &on);
        assert_eq!((img.dimensions(), dpi, f), ((200, 100), 200.0, 2.0));
        let (img, dpi, f) = ocr_input(&gray, 75.0, &on);
        assert_eq!((img.dimensions(), dpi, f), ((400, 200), 300.0, 4.0));
        let (img, dpi, f) = ocr_input(&gray, 150.0, &on);
        assert_eq!((img.dimensions(), dpi.round(), f), ((133, 67), 200.0, 200.0 / 150.0));
        let (img, dpi, f) = ocr_input(&gray, 300.0, &on);
        assert_eq!((img.dimensions(), dpi, f), ((100, 50), 300.0, 1.0));
    }

    #[test]
    fn word_boxes_come_back_to_page_coordinates() {
        let w = OcrWord { text: "bổ".into(), left: 300, top: 150, width: 90, height: 45, confidence: 90.0, line: (0, 0, 0) };
        let mut page = OcrPage { words: vec![w], confidence: Some(90.0), text: "bổ".into() };
        unscale_words(&mut page, 3.0);
        let w = &page.words[0];
        assert_eq!((w.left, w.top, w.width, w.height), (100, 50, 30, 15));
        assert_eq!(page.text, "bổ");
    }
}
