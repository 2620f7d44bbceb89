//! Image cleaning: dark border removal, blank detection, orientation and deskew.
//!
//! Owns the step between decoding and OCR/barcodes. Called by the pipeline, one page per
//! rayon task, through [`clean_page`]; the estimators are public for tools and tests.
//! Everything here is a pure function of the pixels and the resolution: no I/O, no
//! global state, no panics on odd input (empty images, absurd dpi: a dpi outside
//! 30..=4800 is taken as 300 and a page warning says so).
//!
//! How it works: the page is box-averaged down to about 100 dpi once (`analysis`); every
//! estimate reads that small image. Only the final rotation touches the full-size image,
//! in a single bilinear pass that undoes the quarter turn and the skew together
//! (`transform`), rows in parallel.
//!
//! - `border`: dark scanner bands and wedges along the edges, painted with the paper
//!   colour (the page keeps its size);
//! - `blank`: component-based blank test that ignores the margin band, specks, shading
//!   and show-through;
//! - `orientation`: 0/90/180/270 from line direction and ascender/mark asymmetry;
//! - `deskew`: coarse-to-fine projection-profile search over [-15, +15] degrees;
//! - `ocr_copy`: [`prepare_for_ocr`], the copy of a cleaned page Tesseract reads (paper
//!   levels to white, 3x3 median); the pipeline calls it on content pages, after
//!   [`ocr_page_gray`] has dropped a colour page's coloured ink ([`drop_colour_ink`]).
//!
//! Conventions: angles in degrees, positive = content turned counter-clockwise on screen;
//! `rotation` = how far the content was turned counter-clockwise from upright.

mod analysis;
mod blank;
mod border;
mod deskew;
mod ocr_copy;
mod orientation;
pub(crate) mod transform;

#[cfg(test)]
mod sparse_tests;
#[cfg(test)]
mod tests;

pub use blank::{BlankVerdict, blank_note, blank_verdict};
pub use deskew::{SkewEstimate, estimate_skew};
pub use ocr_copy::{DROPOUT_CHROMA_FROM, DROPOUT_CHROMA_FULL, drop_colour_ink, prepare_for_ocr, prepare_for_ocr_with};
pub use orientation::{OrientationEstimate, detect_orientation};

use image::{DynamicImage, GrayImage, RgbImage};
use rayon::prelude::*;

use crate::model::{CleanPage, ColorMode, PageImage};
pub(crate) use analysis::Reciprocal;
use analysis::{Analysis, downscale, reduction_factor, sane_dpi};

/// Skews smaller than this (degrees) are reported but not corrected: the resampling blur
/// would cost more than the straightening gains.
pub const MIN_APPLIED_SKEW: f32 = 0.05;

enum Pixels {
    Gray(GrayImage),
    Rgb(RgbImage),
}

/// Cleans one decoded page: paints dark borders with the paper colour, decides blank,
/// turns the page upright and deskews it, keeping the input's colour mode.
///
/// Blank pages are only border-cleaned (never rotated). Low-confidence skew or
/// orientation leaves the page as scanned; an uncertain orientation on a page with text
/// adds a warning.
pub fn clean_page(page: PageImage) -> CleanPage {
    let PageImage { index, image, color, dpi, mut warnings } = page;
    let dpi_used = sane_dpi(dpi);
    if dpi_used != dpi {
        warnings.push(format!("imaging: implausible resolution {dpi} dpi, assumed {dpi_used}"));
    }
    let mut pixels = match color {
        ColorMode::Rgb => Pixels::Rgb(image.into_rgb8()),
        ColorMode::Gray | ColorMode::Bilevel => Pixels::Gray(image.into_luma8()),
    };
    let factor = reduction_factor(dpi_used);
    let small = match &pixels {
        Pixels::Gray(g) => downscale::<1>(g.as_raw(), g.width(), g.height(), factor),
        Pixels::Rgb(c) => downscale::<3>(c.as_raw(), c.width(), c.height(), factor),
    };
    let (a, borders) = Analysis::from_small(small, factor, dpi_used);
    let bg = a.levels.bg;
    let fill_rgb = match &pixels {
        Pixels::Rgb(c) => paper_colour(c, bg, factor),
        Pixels::Gray(_) => [bg; 3],
    };
    if borders.any() {
        match &mut pixels {
            Pixels::Gray(g) => {
                let (w, h) = g.dimensions();
                border::paint::<1>(g, w, h, &borders, factor, [bg]);
            }
            Pixels::Rgb(c) => {
                let (w, h) = c.dimensions();
                border::paint::<3>(c, w, h, &borders, factor, fill_rgb);
            }
        }
    }
    let mut verdict = blank::verdict(&a);
    if verdict.blank {
        verdict = match &pixels {
            Pixels::Gray(g) => blank::fine_verdict(g.as_raw(), g.width(), g.height(), 1, dpi_used, verdict),
            Pixels::Rgb(c) => blank::fine_verdict(c.as_raw(), c.width(), c.height(), 3, dpi_used, verdict),
        };
    }
    let (skew, rotation) = if verdict.blank {
        warnings.push(blank::blank_note(&verdict));
        (0.0, 0)
    } else {
        let fit = deskew::fit_lines(&a);
        let est = fit.estimate();
        let orient = orientation::detect(&a, &fit);
        let rotation = if orient.confidence >= orientation::MIN_CONFIDENCE {
            orient.rotation
        } else {
            if fit.text_comps >= 40 {
                warnings.push("imaging: orientation uncertain, page left as scanned".to_string());
            }
            0
        };
        (est.angle_deg, rotation)
    };
    let apply_skew = if skew.abs() >= MIN_APPLIED_SKEW { skew } else { 0.0 };
    // The luma of a rotated RGB page, computed during the rotation.
    let mut luma_done = None;
    if rotation != 0 || apply_skew != 0.0 {
        pixels = match pixels {
            Pixels::Gray(g) => {
                let (w, h) = g.dimensions();
                let (mut buf, ow, oh) = transform::rotate::<1>(&g, w, h, rotation, apply_skew, [bg]);
                if color == ColorMode::Bilevel && apply_skew != 0.0 {
                    buf.par_iter_mut().for_each(|v| *v = if *v >= 128 { 255 } else { 0 });
                }
                Pixels::Gray(GrayImage::from_raw(ow, oh, buf).unwrap_or(g))
            }
            Pixels::Rgb(c) => {
                let (w, h) = c.dimensions();
                let (buf, gray, ow, oh) = transform::rotate_rgb_with_luma(&c, w, h, rotation, apply_skew, fill_rgb);
                luma_done = GrayImage::from_raw(ow, oh, gray);
                Pixels::Rgb(RgbImage::from_raw(ow, oh, buf).unwrap_or(c))
            }
        };
    }
    tracing::debug!(page = index, skew_deg = skew, rotation, blank = verdict.blank, ink_fraction = verdict.ink_fraction, "Cleaned page");
    let (image, gray) = match pixels {
        Pixels::Gray(g) => {
            let mut copy = transform::zeroed_page_buffer(g.as_raw().len());
            copy.copy_from_slice(g.as_raw());
            let copy = GrayImage::from_raw(g.width(), g.height(), copy).unwrap_or_else(|| g.clone());
            (DynamicImage::ImageLuma8(copy), g)
        }
        Pixels::Rgb(c) => {
            let gray = match luma_done {
                Some(g) if g.dimensions() == c.dimensions() => g,
                _ => luma(&c),
            };
            (DynamicImage::ImageRgb8(c), gray)
        }
    };
    CleanPage { index, image, gray, color, dpi, skew_deg: skew, rotation, blank: verdict.blank, warnings }
}

/// Mean colour of the full-size pixels whose luma is within 12 levels of the paper level,
/// sampled on a sparse grid.
fn paper_colour(img: &RgbImage, bg: u8, factor: u32) -> [u8; 3] {
    let step = (factor * 2).max(2) as usize;
    let (w, h) = (img.width() as usize, img.height() as usize);
    let raw = img.as_raw();
    let mut sum = [0u64; 3];
    let mut n = 0u64;
    for y in (0..h).step_by(step) {
        for x in (0..w).step_by(step) {
            let i = (y * w + x) * 3;
            let p = &raw[i..i + 3];
            let l = (77 * p[0] as u32 + 150 * p[1] as u32 + 29 * p[2] as u32) >> 8;
            if l.abs_diff(bg as u32) <= 12 {
                for c in 0..3 {
                    sum[c] += p[c] as u64;
                }
                n += 1;
            }
        }
    }
    sum.map(|s| s.checked_div(n).map_or(bg, |v| v as u8))
}

/// The gray Tesseract reads for a cleaned page: `CleanPage::gray` on a gray page; on a
/// colour page that luma with coloured ink (seals, signatures) dropped
/// ([`drop_colour_ink`]). Barcodes read `CleanPage::gray` itself.
pub fn ocr_page_gray(clean: &CleanPage) -> std::borrow::Cow<'_, GrayImage> {
    match &clean.image {
        DynamicImage::ImageRgb8(c) if c.dimensions() == clean.gray.dimensions() => {
            let mut gray = clean.gray.clone();
            ocr_copy::drop_colour_ink(c, &mut gray);
            std::borrow::Cow::Owned(gray)
        }
        _ => std::borrow::Cow::Borrowed(&clean.gray),
    }
}

/// [`ocr_page_gray`] for a page image the pipeline did not clean, such as a stored page
/// rendered back: a gray image as it is, a colour one's luma with coloured ink dropped.
pub fn ocr_gray(img: &DynamicImage) -> GrayImage {
    match img {
        DynamicImage::ImageLuma8(g) => g.clone(),
        DynamicImage::ImageRgb8(c) => {
            let mut gray = luma(c);
            ocr_copy::drop_colour_ink(c, &mut gray);
            gray
        }
        other => ocr_gray(&DynamicImage::ImageRgb8(other.to_rgb8())),
    }
}

/// BT.601 luma (same weights as the analysis reduction), rows in parallel.
fn luma(img: &RgbImage) -> GrayImage {
    let (w, h) = img.dimensions();
    let mut out = transform::zeroed_page_buffer((w as usize) * (h as usize));
    if w > 0 {
        out.par_chunks_mut(w as usize).zip(img.as_raw().par_chunks(w as usize * 3)).for_each(|(o, src)| analysis::luma_row(src, o));
    }
    GrayImage::from_raw(w, h, out).unwrap_or_default()
}
