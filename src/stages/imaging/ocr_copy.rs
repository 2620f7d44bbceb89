//! The copy of a cleaned page that OCR reads: [`prepare_for_ocr`].
//!
//! Owns one pure function of the pixels. The stored page (`CleanPage::image`) and the
//! barcode input (`CleanPage::gray`) are not touched; only Tesseract's input changes.
//! Called by the pipeline on content pages just before recognition, and by
//! `sohoa eval-imaging --ocr`.
//!
//! Two steps, both cheap (one pass over the page, rows in parallel):
//! - levels: paper and everything within two noise deviations of it become white (255),
//!   the darkest ink (0.3rd percentile) black, linear between. Tesseract's recogniser
//!   reads the gray image, so paper grain and JPEG speckle it would otherwise see are gone;
//! - a 3x3 median, which removes isolated noise pixels and JPEG ringing but keeps strokes
//!   two pixels wide or more (at 200 dpi a 10 pt stroke is 2-3 px).
//!
//! The level map is monotonic, and a median commutes with monotonic maps, so the order of
//! the two steps does not matter; the median is computed on the input and the map applied
//! as each output pixel is stored. Both lower the CER on `eval-imaging` sets, skewed and
//! straight, and Tesseract spends less time on the cleaner page than the copy costs
//! (docs/performance.md, "OCR after the image stage").
//!
//! Before either step, a colour page's gray drops its coloured ink ([`drop_colour_ink`],
//! applied by `ocr_page_gray` before `read_page`): a red seal or a blue signature is dark in luma and, where it
//! crosses text lines, made Tesseract drop or merge whole lines.

use image::{GrayImage, RgbImage};
use rayon::prelude::*;

use super::transform::zeroed_page_buffer;

/// The image Tesseract should read for a cleaned page (`gray` is `CleanPage::gray`):
/// levels stretched so paper is white and ink black, then a 3x3 median. Same size as the
/// input. Images smaller than 3x3, or with less than 16 levels between ink and paper,
/// are returned with the level map alone or unchanged.
pub fn prepare_for_ocr(gray: &GrayImage) -> GrayImage {
    prepare_for_ocr_with(gray, true)
}

/// [`prepare_for_ocr`] with the 3x3 median (`median`) or the level map alone (`false`):
/// paper white and ink black, every stroke and mark kept as the scan has it.
pub fn prepare_for_ocr_with(gray: &GrayImage, median: bool) -> GrayImage {
    let (w, h) = (gray.width() as usize, gray.height() as usize);
    let map = LevelMap::estimate(gray);
    let src = gray.as_raw();
    let mut out = zeroed_page_buffer(w * h);
    if w < 3 || h < 3 || !median {
        for (o, &v) in out.iter_mut().zip(src) {
            *o = map.apply(v);
        }
        return GrayImage::from_raw(w as u32, h as u32, out).unwrap_or_else(|| gray.clone());
    }
    out.par_chunks_mut(w).enumerate().for_each_init(
        || vec![0u8; 3 * w],
        |sorted, (y, o)| {
            let row = |y: usize| &src[y * w..(y + 1) * w];
            if y == 0 || y + 1 == h {
                map_row(map, row(y), o);
            } else {
                median_row(map, row(y - 1), row(y), row(y + 1), sorted, o);
            }
        },
    );
    GrayImage::from_raw(w as u32, h as u32, out).unwrap_or_else(|| gray.clone())
}

/// Chroma (`max − min` of the channels) at and below which a pixel is left as it is:
/// paper, black and gray ink, cream paper (about 20).
pub const DROPOUT_CHROMA_FROM: u8 = 24;
/// Chroma from which a pixel takes its brightest channel: printed seal red is 150-180, a
/// blue ballpoint 100-130, a faint pink impression 60-80.
pub const DROPOUT_CHROMA_FULL: u8 = 64;

/// Drops coloured ink from the gray of a colour page, in place (`gray` is `rgb`'s luma,
/// same size): the colour dropout of document scanners, done in software. Decree 30/2020
/// Art. 33 has seals impressed in red ink over the signer's title and name, and signatures
/// are mostly blue ballpoint; both are as dark as text to Tesseract in luma. A coloured ink
/// absorbs some channels and lets its own hue's through, so the brightest channel is what
/// the paper under it looks like: a pixel of chroma [`DROPOUT_CHROMA_FULL`] or more takes
/// its brightest channel (never darker than its luma), blended linearly down to
/// [`DROPOUT_CHROMA_FROM`]. Text under a translucent seal or highlighter is dark in every
/// channel and stays dark; a dark coloured stroke (navy, dark red, brown: brightest channel
/// at most about 120) stays dark enough to read. Bright coloured print (a red urgency mark,
/// a form's coloured background) fades like the seal. Rows in parallel.
pub fn drop_colour_ink(rgb: &RgbImage, gray: &mut GrayImage) {
    if rgb.dimensions() != gray.dimensions() || rgb.width() == 0 {
        return;
    }
    let w = rgb.width() as usize;
    gray.par_chunks_mut(w).zip(rgb.as_raw().par_chunks(3 * w)).for_each(|(g, c)| {
        for (v, p) in g.iter_mut().zip(c.chunks_exact(3)) {
            *v = dropout(*v, p[0], p[1], p[2]);
        }
    });
}

/// One pixel of [`drop_colour_ink`]: `luma` moved toward the brightest channel by the
/// pixel's chroma.
#[inline(always)]
fn dropout(luma: u8, r: u8, g: u8, b: u8) -> u8 {
    let (hi, lo) = (r.max(g).max(b), r.min(g).min(b));
    let chroma = i32::from(hi - lo);
    let from = i32::from(DROPOUT_CHROMA_FROM);
    if chroma <= from {
        return luma;
    }
    let range = i32::from(DROPOUT_CHROMA_FULL - DROPOUT_CHROMA_FROM);
    let lift = i32::from(hi.max(luma) - luma);
    (i32::from(luma) + (lift * (chroma - from).min(range) + range / 2) / range) as u8
}

/// `v ↦ min(255, (max(v − ink, 0) · k + 128) >> 8)`, with `k` = 255·256 / (white − ink)
/// rounded; the identity when `k == 256` and `ink == 0`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct LevelMap {
    ink: u8,
    k: u32,
}

impl LevelMap {
    const IDENTITY: LevelMap = LevelMap { ink: 0, k: 256 };

    /// From a sparse sample of the page: paper = 60th percentile, its noise = 90th
    /// percentile minus paper (at least 1), white = paper − 2·noise, ink = 0.3rd
    /// percentile. Pages with less than 16 levels between ink and white keep their levels.
    fn estimate(gray: &GrayImage) -> LevelMap {
        let (w, raw) = (gray.width() as usize, gray.as_raw());
        let mut hist = [0u64; 256];
        // Every third pixel of every fourth row: ~700 000 samples on an A4 300 dpi page.
        for row in raw.chunks(w.max(1)).step_by(4) {
            for &v in row.iter().step_by(3) {
                hist[v as usize] += 1;
            }
        }
        let total: u64 = hist.iter().sum();
        if total == 0 {
            return LevelMap::IDENTITY;
        }
        let pct = |q: f64| i32::from(super::analysis::percentile(&hist, total, q));
        let paper = pct(0.60);
        let noise = (pct(0.90) - paper).max(1);
        let white = paper - 2 * noise;
        let ink = pct(0.003);
        if white - ink < 16 {
            return LevelMap::IDENTITY;
        }
        LevelMap { ink: ink as u8, k: ((255.0 * 256.0) / (white - ink) as f64).round() as u32 }
    }

    #[inline(always)]
    fn apply(self, v: u8) -> u8 {
        (((v.saturating_sub(self.ink) as u32) * self.k + 128) >> 8).min(255) as u8
    }
}

fn map_row(map: LevelMap, src: &[u8], out: &mut [u8]) {
    for (o, &v) in out.iter_mut().zip(src) {
        *o = map.apply(v);
    }
}

/// One output row: the 3x3 median of rows `a`, `b`, `c` (the row itself is `b`), mapped;
/// the first and last pixel take `b`'s value, mapped. `sorted` is scratch of `3 · w`.
/// Compiled twice, the second time for AVX2 (chosen at run time); both give the same
/// bytes (integer min/max and the same arithmetic).
fn median_row(map: LevelMap, a: &[u8], b: &[u8], c: &[u8], sorted: &mut [u8], out: &mut [u8]) {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        // SAFETY: AVX2 is available (checked just above).
        return unsafe { median_row_avx2(map, a, b, c, sorted, out) };
    }
    median_row_portable(map, a, b, c, sorted, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn median_row_avx2(map: LevelMap, a: &[u8], b: &[u8], c: &[u8], sorted: &mut [u8], out: &mut [u8]) {
    median_row_portable(map, a, b, c, sorted, out)
}

#[inline(always)]
fn median_row_portable(map: LevelMap, a: &[u8], b: &[u8], c: &[u8], sorted: &mut [u8], out: &mut [u8]) {
    let w = out.len();
    let (a, b, c) = (&a[..w], &b[..w], &c[..w]);
    let (lo, rest) = sorted[..3 * w].split_at_mut(w);
    let (mi, hi) = rest.split_at_mut(w);
    // Each column's three values sorted: lo <= mi <= hi.
    for x in 0..w {
        let (p, q, r) = (a[x], b[x], c[x]);
        let (l, h) = (p.min(q), p.max(q));
        lo[x] = l.min(r);
        mi[x] = l.max(h.min(r));
        hi[x] = h.max(r);
    }
    // The median of nine is the median of (largest low, median of middles, smallest high).
    for x in 1..w - 1 {
        let l = lo[x - 1].max(lo[x]).max(lo[x + 1]);
        let h = hi[x - 1].min(hi[x]).min(hi[x + 1]);
        let (m0, m1, m2) = (mi[x - 1], mi[x], mi[x + 1]);
        let m = m0.min(m1).max(m0.max(m1).min(m2));
        let med = l.min(m).max(l.max(m).min(h));
        out[x] = (((med.saturating_sub(map.ink) as u32) * map.k + 128) >> 8).min(255) as u8;
    }
    out[0] = map.apply(b[0]);
    out[w - 1] = map.apply(b[w - 1]);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition, slowly: sort each 3x3 neighbourhood, take the middle, map it.
    fn reference(img: &GrayImage) -> GrayImage {
        let map = LevelMap::estimate(img);
        let (w, h) = img.dimensions();
        GrayImage::from_fn(w, h, |x, y| {
            let v = if x == 0 || y == 0 || x + 1 == w || y + 1 == h {
                img.get_pixel(x, y).0[0]
            } else {
                let mut n: Vec<u8> = (0..9).map(|i| img.get_pixel(x + i % 3 - 1, y + i / 3 - 1).0[0]).collect();
                n.sort_unstable();
                n[4]
            };
            image::Luma([map.apply(v)])
        })
    }

    #[test]
    fn matches_the_sorting_definition() {
        let img = GrayImage::from_fn(301, 77, |x, y| image::Luma([((x * 7919 + y * 104_729) % 256) as u8]));
        assert_eq!(prepare_for_ocr(&img), reference(&img));
        // A page-like image: paper with noise, some ink.
        let page = GrayImage::from_fn(200, 150, |x, y| {
            let ink = (40..160).contains(&x) && y % 20 < 4;
            let grain = ((x * 31 + y * 17) % 11) as u8;
            image::Luma([if ink { 30 + grain } else { 225 + grain }])
        });
        assert_eq!(prepare_for_ocr(&page), reference(&page));
    }

    #[test]
    fn paper_goes_white_ink_black_specks_away_strokes_stay() {
        let mut img = GrayImage::from_fn(120, 90, |x, y| image::Luma([232 + ((x * 13 + y * 7) % 9) as u8]));
        // A 3-pixel horizontal stroke and an isolated dark speck.
        for x in 10..110 {
            for y in 40..43 {
                img.put_pixel(x, y, image::Luma([25]));
            }
        }
        img.put_pixel(60, 15, image::Luma([20]));
        let out = prepare_for_ocr(&img);
        assert_eq!(out.get_pixel(60, 15).0[0], 255, "speck removed");
        assert_eq!(out.get_pixel(30, 70).0[0], 255, "paper white");
        assert!(out.get_pixel(50, 41).0[0] < 10, "stroke kept dark");
        assert_eq!(out.dimensions(), img.dimensions());
    }

    #[test]
    fn seal_and_signature_fade_text_under_them_stays() {
        // Cream paper, blue-black ink, a red seal multiplying both (as in eval-size).
        let paper = [250u8, 245, 228];
        let ink = [22u8, 26, 58];
        let seal = |p: [u8; 3]| [(p[0] as f32 * 0.86) as u8, (p[1] as f32 * 0.22) as u8, (p[2] as f32 * 0.2) as u8];
        let luma = |p: [u8; 3]| ((77 * p[0] as u32 + 150 * p[1] as u32 + 29 * p[2] as u32 + 128) >> 8) as u8;
        let at = |p: [u8; 3]| dropout(luma(p), p[0], p[1], p[2]);
        assert_eq!(at(paper), luma(paper), "paper untouched");
        assert_eq!(at([30, 30, 30]), 30, "black ink untouched");
        assert!(at(ink) < 45, "blue-black ink stays dark: {}", at(ink));
        assert!(luma(seal(paper)) < 110, "the seal is dark in luma");
        assert!(at(seal(paper)) >= 210, "the seal on paper reads as paper: {}", at(seal(paper)));
        assert!(at(seal(ink)) < 30, "ink under the seal stays dark: {}", at(seal(ink)));
        assert!(luma([40, 60, 170]) < 80 && at([40, 60, 170]) >= 165, "a blue ballpoint signature fades: {}", at([40, 60, 170]));
        // Yellowed paper gets lighter, never darker; dark coloured strokes stay dark.
        assert!(at([245, 230, 200]) >= luma([245, 230, 200]));
        for p in [[120, 20, 20], [20, 30, 110], [110, 80, 50]] {
            assert!(at(p) <= 120, "{p:?}: {}", at(p));
        }
        // Never darker than the luma, never lighter than the brightest channel.
        for r in (0..=255u8).step_by(15) {
            for g in (0..=255u8).step_by(15) {
                for b in (0..=255u8).step_by(15) {
                    let (l, v) = (luma([r, g, b]), at([r, g, b]));
                    assert!(v >= l && v <= r.max(g).max(b).max(l), "{r} {g} {b}: {v} (luma {l})");
                }
            }
        }
    }

    #[test]
    fn drop_colour_ink_matches_the_pixel_rule_and_skips_mismatched_sizes() {
        let rgb = RgbImage::from_fn(37, 11, |x, y| image::Rgb([(x * 7) as u8, (y * 23) as u8, ((x + y) * 5) as u8]));
        let gray0 = GrayImage::from_fn(37, 11, |x, y| image::Luma([((x * 3 + y) % 256) as u8]));
        let mut gray = gray0.clone();
        drop_colour_ink(&rgb, &mut gray);
        for (x, y, v) in gray.enumerate_pixels() {
            let p = rgb.get_pixel(x, y).0;
            assert_eq!(v.0[0], dropout(gray0.get_pixel(x, y).0[0], p[0], p[1], p[2]));
        }
        let mut other = GrayImage::new(5, 5);
        drop_colour_ink(&rgb, &mut other);
        assert_eq!(other, GrayImage::new(5, 5));
    }

    #[test]
    fn flat_and_tiny_images_are_safe() {
        let flat = GrayImage::from_pixel(50, 40, image::Luma([200]));
        assert_eq!(prepare_for_ocr(&flat), flat);
        for (w, h) in [(0, 0), (1, 5), (2, 2), (5, 1)] {
            let img = GrayImage::from_pixel(w, h, image::Luma([128]));
            assert_eq!(prepare_for_ocr(&img).dimensions(), (w, h));
        }
    }
}
