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

use image::GrayImage;
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
    fn flat_and_tiny_images_are_safe() {
        let flat = GrayImage::from_pixel(50, 40, image::Luma([200]));
        assert_eq!(prepare_for_ocr(&flat), flat);
        for (w, h) in [(0, 0), (1, 5), (2, 2), (5, 1)] {
            let img = GrayImage::from_pixel(w, h, image::Luma([128]));
            assert_eq!(prepare_for_ocr(&img).dimensions(), (w, h));
        }
    }
}
