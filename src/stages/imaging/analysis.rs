//! The shared working copy every estimator reads: a ~100 dpi box-averaged gray image,
//! its paper/ink levels, and the connected components of its ink.
//!
//! Invariants: `small` is `gray` reduced by an integer `factor` (partial blocks at the
//! right/bottom edge are averaged over the pixels they have); dark scanner borders have
//! already been painted with the paper level (see `border`), so no estimator sees them.
//! Runs are stored row by row in increasing `y` then `x`; each run knows its component.

use image::GrayImage;
use rayon::prelude::*;

use super::border::{self, Borders};

/// Resolution the estimators work at.
pub(crate) const WORK_DPI: f32 = 100.0;
/// Used when a page reports a resolution that cannot be right.
pub(crate) const FALLBACK_DPI: f32 = 300.0;

/// `dpi` if plausible for a scan, else [`FALLBACK_DPI`].
pub(crate) fn sane_dpi(dpi: f32) -> f32 {
    if dpi.is_finite() && (30.0..=4800.0).contains(&dpi) { dpi } else { FALLBACK_DPI }
}

/// Integer reduction that brings `dpi` closest to [`WORK_DPI`] (at least 1).
pub(crate) fn reduction_factor(dpi: f32) -> u32 {
    ((sane_dpi(dpi) / WORK_DPI).round() as u32).clamp(1, 48)
}

/// Box-average reduction by `f` of a buffer with `N` interleaved channels, producing gray
/// (rounded to nearest; partial blocks at the right and bottom edges average what they
/// have). For `N == 3` the luma weights are ITU-R BT.601 in 8-bit fixed point (77, 150,
/// 29). Each output row first sums its `f` input rows column by column in 16-bit lanes
/// (f x 255 fits), then `f` columns at a time, and divides by a reciprocal multiply.
pub(crate) fn downscale<const N: usize>(src: &[u8], w: u32, h: u32, f: u32) -> GrayImage {
    let f = f.clamp(1, 128) as usize;
    let (w, h) = (w as usize, h as usize);
    let sw = w.div_ceil(f);
    let sh = h.div_ceil(f);
    let mut out = vec![0u8; sw * sh];
    if sw == 0 || sh == 0 || src.len() < w * h * N {
        return GrayImage::new(sw as u32, sh as u32);
    }
    out.par_chunks_mut(sw).enumerate().for_each_init(
        || (vec![0u16; w], vec![0u8; w]),
        |(acc, lum), (sy, orow)| {
            let rows = sy * f..(sy * f + f).min(h);
            #[cfg(target_arch = "x86_64")]
            if std::is_x86_feature_detected!("avx2") {
                // SAFETY: AVX2 is available (checked just above).
                return unsafe { downscale_row_avx2::<N>(src, w, rows, f, acc, lum, orow) };
            }
            downscale_row::<N>(src, w, rows, f, acc, lum, orow)
        },
    );
    GrayImage::from_raw(sw as u32, sh as u32, out).unwrap_or_default()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn downscale_row_avx2<const N: usize>(src: &[u8], w: usize, rows: std::ops::Range<usize>, f: usize, acc: &mut [u16], lum: &mut [u8], orow: &mut [u8]) {
    downscale_row::<N>(src, w, rows, f, acc, lum, orow)
}

/// One output row of [`downscale`]: the column sums of `rows`, then blocks of `f`.
#[inline(always)]
fn downscale_row<const N: usize>(src: &[u8], w: usize, rows: std::ops::Range<usize>, f: usize, acc: &mut [u16], lum: &mut [u8], orow: &mut [u8]) {
    acc.fill(0);
    let n_rows = rows.len();
    for y in rows {
        let row = &src[y * w * N..(y + 1) * w * N];
        let row: &[u8] = if N == 1 {
            row
        } else {
            luma_row(row, lum);
            lum
        };
        for (a, &v) in acc.iter_mut().zip(row) {
            *a += v as u16;
        }
    }
    let full = orow.len().min(w / f);
    let n = (n_rows * f) as u32;
    let div = Reciprocal::new(n);
    let round = |s: u32| if f <= 32 { div.of(s + n / 2) } else { (s + n / 2) / n } as u8;
    // Whole blocks, with the common factors spelled out so the sums vectorise.
    match f {
        2 => block_sums::<2>(&acc[..full * 2], &mut orow[..full], round),
        3 => block_sums::<3>(&acc[..full * 3], &mut orow[..full], round),
        4 => block_sums::<4>(&acc[..full * 4], &mut orow[..full], round),
        _ => {
            for (o, block) in orow[..full].iter_mut().zip(acc.chunks_exact(f)) {
                *o = round(block.iter().map(|&v| v as u32).sum());
            }
        }
    }
    // The partial block at the right edge.
    if full < orow.len() {
        let block = &acc[full * f..];
        let n = (n_rows * block.len()) as u32;
        let s: u32 = block.iter().map(|&v| v as u32).sum();
        orow[full] = ((s + n / 2) / n) as u8;
    }
}

#[inline(always)]
fn block_sums<const F: usize>(acc: &[u16], orow: &mut [u8], round: impl Fn(u32) -> u8) {
    for (o, block) in orow.iter_mut().zip(acc.chunks_exact(F)) {
        let s: u32 = block.iter().map(|&v| v as u32).sum();
        *o = round(s);
    }
}

/// Division by a fixed `d` as a multiply and a shift: exact for every `n < 2^18` and
/// `d <= 2^10` (a box sum of 8-bit samples, plus rounding), so it gives the same bytes as
/// `n / d`.
#[derive(Clone, Copy)]
pub(crate) struct Reciprocal {
    m: u64,
}

impl Reciprocal {
    pub(crate) fn new(d: u32) -> Reciprocal {
        let d = d.max(1) as u64;
        Reciprocal { m: (1u64 << 32).div_ceil(d) }
    }

    #[inline]
    pub(crate) fn of(self, n: u32) -> u32 {
        ((n as u64 * self.m) >> 32) as u32
    }
}

/// BT.601 luma of packed RGB pixels, `(77·R + 150·G + 29·B) >> 8`, into `dst` (as many
/// pixels as both hold). Compiled twice, the second time for AVX2 (chosen at run time):
/// the same integer arithmetic, so both give the same bytes.
pub(crate) fn luma_row(src: &[u8], dst: &mut [u8]) {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        // SAFETY: AVX2 is available (checked just above).
        return unsafe { luma_row_avx2(src, dst) };
    }
    luma_row_portable(src, dst)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn luma_row_avx2(src: &[u8], dst: &mut [u8]) {
    luma_row_portable(src, dst)
}

#[inline(always)]
fn luma_row_portable(src: &[u8], dst: &mut [u8]) {
    let n = dst.len().min(src.len() / 3);
    let (src, dst) = (&src[..n * 3], &mut dst[..n]);
    for (i, d) in dst.iter_mut().enumerate() {
        // 16-bit lanes suffice: 77 + 150 + 29 = 256, so the sum is at most 255 · 256.
        let (r, g, b) = (src[3 * i] as u16, src[3 * i + 1] as u16, src[3 * i + 2] as u16);
        *d = ((77 * r + 150 * g + 29 * b) >> 8) as u8;
    }
}

/// Paper and ink levels of a page and the thresholds derived from them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Levels {
    /// Paper (background) gray level.
    pub bg: u8,
    /// Loose threshold: anything darker may be ink (used for blank detection).
    pub weak: u8,
    /// Binarization threshold for skew and orientation.
    pub mid: u8,
    /// A component must reach this darkness somewhere to count as real ink.
    pub strong: u8,
}

impl Levels {
    /// Estimates levels from the histogram: paper is the 60th percentile, ink the 0.3rd;
    /// the contrast used is at least 120 levels so that a blank page's noise or a faint
    /// show-through never sets the scale. Thresholds are fractions of that contrast below
    /// the paper: weak 0.22, mid 0.45, strong 0.55 (and at least 90 levels).
    pub(crate) fn estimate(img: &GrayImage) -> Levels {
        let mut hist = [0u64; 256];
        for &v in img.as_raw() {
            hist[v as usize] += 1;
        }
        Self::from_histogram(&hist)
    }

    pub(crate) fn from_histogram(hist: &[u64; 256]) -> Levels {
        let total: u64 = hist.iter().sum();
        if total == 0 {
            return Levels { bg: 255, weak: 229, mid: 201, strong: 189 };
        }
        let pct = |q: f64| percentile(hist, total, q);
        let bg = pct(0.60).max(40);
        let dark = pct(0.003);
        let contrast = (bg.saturating_sub(dark) as f32).max(120.0).min(bg as f32);
        let at = |k: f32| (bg as f32 - k * contrast).round().clamp(0.0, 255.0) as u8;
        Levels { bg, weak: at(0.22), mid: at(0.45), strong: at(0.55) }
    }
}

/// A horizontal run of ink pixels `[x0, x1)` on row `y`, belonging to component `comp`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Run {
    pub y: u16,
    pub x0: u16,
    pub x1: u16,
    pub comp: u32,
}

/// An 8-connected ink component: bounding box `[x0, x1) x [y0, y1)`, pixel count and how
/// many of its pixels are darker than the labelling's `dark` threshold.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Comp {
    pub x0: u16,
    pub y0: u16,
    pub x1: u16,
    pub y1: u16,
    pub area: u32,
    pub dark: u32,
}

impl Comp {
    pub fn w(&self) -> u32 {
        (self.x1 - self.x0) as u32
    }
    pub fn h(&self) -> u32 {
        (self.y1 - self.y0) as u32
    }
}

/// Rectangle `[x0, x1) x [y0, y1)` in small-image pixels.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rect {
    pub x0: u32,
    pub y0: u32,
    pub x1: u32,
    pub y1: u32,
}

#[derive(Debug, Default)]
pub(crate) struct Components {
    pub runs: Vec<Run>,
    pub comps: Vec<Comp>,
}

/// The smallest level at or below which a fraction `q` of the histogram's `total` pixels
/// lie (at least one pixel); 255 when the histogram holds fewer than that.
pub(crate) fn percentile(hist: &[u64; 256], total: u64, q: f64) -> u8 {
    let target = (total as f64 * q).ceil().max(1.0) as u64;
    let mut acc = 0;
    for (v, &c) in hist.iter().enumerate() {
        acc += c;
        if acc >= target {
            return v as u8;
        }
    }
    255
}

fn find(parent: &mut [u32], mut i: u32) -> u32 {
    while parent[i as usize] != i {
        let p = parent[parent[i as usize] as usize];
        parent[i as usize] = p;
        i = p;
    }
    i
}

/// Run-based 8-connected labelling of the pixels `< thr` inside `rect`; each component
/// also counts its pixels `< dark`.
pub(crate) fn label(img: &GrayImage, thr: u8, dark: u8, rect: Rect) -> Components {
    let (w, h) = img.dimensions();
    let x0 = rect.x0.min(w);
    let x1 = rect.x1.min(w);
    let y0 = rect.y0.min(h);
    let y1 = rect.y1.min(h);
    let raw = img.as_raw();
    let mut runs: Vec<Run> = Vec::new();
    let mut run_dark: Vec<u32> = Vec::new();
    let mut parent: Vec<u32> = Vec::new();
    let mut prev = 0..0usize;
    for y in y0..y1 {
        let row = &raw[(y * w) as usize..((y + 1) * w) as usize];
        let start = runs.len();
        let mut x = x0 as usize;
        while x < x1 as usize {
            // Paper is most of a page: skip it 16 pixels at a time (a min over 16 bytes
            // is a few vector instructions).
            if x + 16 <= x1 as usize && row[x..x + 16].iter().fold(255u8, |m, &v| m.min(v)) >= thr {
                x += 16;
                continue;
            }
            if row[x] < thr {
                let s = x;
                let mut m = 0u32;
                while x < x1 as usize && row[x] < thr {
                    m += (row[x] < dark) as u32;
                    x += 1;
                }
                let id = runs.len() as u32;
                runs.push(Run { y: y as u16, x0: s as u16, x1: x as u16, comp: id });
                run_dark.push(m);
                parent.push(id);
            } else {
                x += 1;
            }
        }
        // Union with the previous row's runs that touch (8-connectivity).
        let mut j = prev.start;
        for i in start..runs.len() {
            let (cx0, cx1) = (runs[i].x0, runs[i].x1);
            while j < prev.end && runs[j].x1 < cx0 {
                j += 1;
            }
            let mut k = j;
            while k < prev.end && runs[k].x0 <= cx1 {
                let a = find(&mut parent, i as u32);
                let b = find(&mut parent, k as u32);
                if a != b {
                    let (lo, hi) = if a < b { (a, b) } else { (b, a) };
                    parent[hi as usize] = lo;
                }
                k += 1;
            }
        }
        prev = start..runs.len();
    }
    let mut map = vec![u32::MAX; runs.len()];
    let mut comps: Vec<Comp> = Vec::new();
    for i in 0..runs.len() {
        let root = find(&mut parent, i as u32) as usize;
        if map[root] == u32::MAX {
            map[root] = comps.len() as u32;
            let r = runs[i];
            comps.push(Comp { x0: r.x0, y0: r.y, x1: r.x1, y1: r.y + 1, area: 0, dark: 0 });
        }
        let c = map[root];
        let r = &mut runs[i];
        r.comp = c;
        let comp = &mut comps[c as usize];
        comp.x0 = comp.x0.min(r.x0);
        comp.x1 = comp.x1.max(r.x1);
        comp.y0 = comp.y0.min(r.y);
        comp.y1 = comp.y1.max(r.y + 1);
        comp.area += (r.x1 - r.x0) as u32;
        comp.dark += run_dark[i];
    }
    Components { runs, comps }
}

/// Everything the estimators need about one page, computed once.
#[derive(Debug)]
pub(crate) struct Analysis {
    /// Reduced gray image with dark borders painted over.
    pub small: GrayImage,
    /// Resolution of `small`.
    pub dpi: f32,
    pub levels: Levels,
    /// Ink components at `levels.mid`.
    pub ink: Components,
    /// Which components look like text (glyphs, words, marks of glyph size).
    pub text: Vec<bool>,
}

impl Analysis {
    /// Reduces `gray`, paints dark borders and labels ink. Returns the borders found (in
    /// small-image pixels) so the caller can paint them on the full image too.
    pub(crate) fn new(gray: &GrayImage, dpi: f32) -> (Analysis, Borders) {
        let dpi = sane_dpi(dpi);
        let factor = reduction_factor(dpi);
        let small = downscale::<1>(gray.as_raw(), gray.width(), gray.height(), factor);
        Self::from_small(small, factor, dpi)
    }

    /// As [`Analysis::new`] from an already reduced image (`dpi` is the full-size one).
    pub(crate) fn from_small(mut small: GrayImage, factor: u32, dpi: f32) -> (Analysis, Borders) {
        let dpi_small = sane_dpi(dpi) / factor as f32;
        let levels0 = Levels::estimate(&small);
        let borders = border::detect(&small, levels0.bg);
        border::paint_small(&mut small, &borders, levels0.bg);
        let levels = if borders.any() { Levels::estimate(&small) } else { levels0 };
        let rect = Rect { x0: 0, y0: 0, x1: small.width(), y1: small.height() };
        let ink = label(&small, levels.mid, levels.strong, rect);
        let (w, h) = (small.width(), small.height());
        let max_h = (0.6 * dpi_small).max(4.0) as u32;
        let max_w = (2.0 * dpi_small).max(8.0) as u32;
        let text = ink
            .comps
            .iter()
            .map(|c| {
                let touches = c.x0 == 0 || c.y0 == 0 || c.x1 as u32 == w || c.y1 as u32 == h;
                !touches && c.area >= 2 && c.h() <= max_h && c.w() <= max_w && c.dark > 0
            })
            .collect();
        (Analysis { small, dpi: dpi_small, levels, ink, text }, borders)
    }

    /// Number of text-like components.
    pub(crate) fn text_count(&self) -> usize {
        self.text.iter().filter(|&&t| t).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luma_row_is_the_bt601_formula_for_every_colour() {
        let mut src = vec![0u8; 256 * 256 * 3];
        let mut dst = vec![0u8; 256 * 256];
        for b in 0..=255u8 {
            for (i, p) in src.chunks_exact_mut(3).enumerate() {
                p.copy_from_slice(&[(i >> 8) as u8, i as u8, b]);
            }
            luma_row(&src, &mut dst);
            for (p, &l) in src.chunks_exact(3).zip(&dst) {
                let want = (77 * p[0] as u32 + 150 * p[1] as u32 + 29 * p[2] as u32) >> 8;
                assert_eq!(l as u32, want, "{p:?}");
            }
        }
    }

    #[test]
    fn reciprocal_division_is_exact_for_box_sums() {
        for d in (1..=64).chain([100, 255, 256, 1000, 1024]) {
            let r = Reciprocal::new(d);
            for n in 0..=255 * d + d / 2 {
                assert_eq!(r.of(n), n / d, "{n} / {d}");
            }
        }
    }

    #[test]
    fn downscale_is_the_rounded_box_average_of_the_luma() {
        let (w, h) = (97u32, 41u32);
        let rgb: Vec<u8> = (0..w * h * 3).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        let gray: Vec<u8> = rgb.chunks(3).map(|p| p[1]).collect();
        let luma: Vec<u8> = rgb.chunks(3).map(|p| ((77 * p[0] as u32 + 150 * p[1] as u32 + 29 * p[2] as u32) >> 8) as u8).collect();
        for f in [1u32, 2, 3, 4, 5, 6, 7, 17, 40, 100] {
            for (got, px) in [(downscale::<1>(&gray, w, h, f), &gray), (downscale::<3>(&rgb, w, h, f), &luma)] {
                let (sw, sh) = (w.div_ceil(f), h.div_ceil(f));
                assert_eq!(got.dimensions(), (sw, sh));
                for sy in 0..sh {
                    for sx in 0..sw {
                        let (mut s, mut n) = (0u32, 0u32);
                        for y in sy * f..(sy * f + f).min(h) {
                            for x in sx * f..(sx * f + f).min(w) {
                                s += px[(y * w + x) as usize] as u32;
                                n += 1;
                            }
                        }
                        assert_eq!(got.get_pixel(sx, sy)[0] as u32, (s + n / 2) / n, "f={f} at {sx},{sy}");
                    }
                }
            }
        }
    }

    #[test]
    fn downscale_averages_blocks_and_partial_edges() {
        let img = GrayImage::from_fn(5, 3, |x, _| image::Luma([if x < 2 { 0 } else { 200 }]));
        let s = downscale::<1>(img.as_raw(), 5, 3, 2);
        assert_eq!(s.dimensions(), (3, 2));
        assert_eq!(s.get_pixel(0, 0).0[0], 0);
        assert_eq!(s.get_pixel(1, 1).0[0], 200);
        assert_eq!(s.get_pixel(2, 1).0[0], 200);
    }

    #[test]
    fn labels_match_a_flood_fill_on_a_wide_speckled_page() {
        // Wide rows of paper with blobs at every offset, so the 16-pixel paper skip starts
        // and stops everywhere; the components must be those of a plain flood fill.
        let (w, h) = (203u32, 61u32);
        let img = GrayImage::from_fn(w, h, |x, y| {
            let r = (x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503)).wrapping_mul(2_246_822_519) >> 26;
            image::Luma([if r < 5 || (x % 37 < 3 && y % 11 < 6) { (r * 40) as u8 } else { 230 }])
        });
        let rect = Rect { x0: 3, y0: 2, x1: w - 5, y1: h };
        let got = label(&img, 128, 60, rect);
        let ink = |x: u32, y: u32| (rect.x0..rect.x1).contains(&x) && (rect.y0..rect.y1).contains(&y) && img.get_pixel(x, y)[0] < 128;
        let mut seen = vec![false; (w * h) as usize];
        let mut want = Vec::new();
        for y in 0..h {
            for x in 0..w {
                if !ink(x, y) || seen[(y * w + x) as usize] {
                    continue;
                }
                let (mut b, mut area, mut dark) = ((x, y, x + 1, y + 1), 0u32, 0u32);
                let mut stack = vec![(x, y)];
                seen[(y * w + x) as usize] = true;
                while let Some((px, py)) = stack.pop() {
                    area += 1;
                    dark += (img.get_pixel(px, py)[0] < 60) as u32;
                    b = (b.0.min(px), b.1.min(py), b.2.max(px + 1), b.3.max(py + 1));
                    for (dx, dy) in [(-1i32, -1i32), (0, -1), (1, -1), (-1, 0), (1, 0), (-1, 1), (0, 1), (1, 1)] {
                        let (nx, ny) = (px as i32 + dx, py as i32 + dy);
                        if nx >= 0 && ny >= 0 && ink(nx as u32, ny as u32) && !seen[(ny as u32 * w + nx as u32) as usize] {
                            seen[(ny as u32 * w + nx as u32) as usize] = true;
                            stack.push((nx as u32, ny as u32));
                        }
                    }
                }
                want.push((b.0 as u16, b.1 as u16, b.2 as u16, b.3 as u16, area, dark));
            }
        }
        let mut got: Vec<_> = got.comps.iter().map(|c| (c.x0, c.y0, c.x1, c.y1, c.area, c.dark)).collect();
        got.sort();
        want.sort();
        assert!(want.len() > 50, "a test page with components");
        assert_eq!(got, want);
    }

    #[test]
    fn labels_eight_connected_components() {
        // Two diagonal-touching pixels are one component; a separate blob is another.
        let mut img = GrayImage::from_pixel(8, 6, image::Luma([255]));
        img.put_pixel(1, 1, image::Luma([0]));
        img.put_pixel(2, 2, image::Luma([10]));
        for x in 5..8 {
            img.put_pixel(x, 4, image::Luma([0]));
            img.put_pixel(x, 5, image::Luma([0]));
        }
        let c = label(&img, 128, 5, Rect { x0: 0, y0: 0, x1: 8, y1: 6 });
        assert_eq!(c.comps.len(), 2);
        assert_eq!((c.comps[0].area, c.comps[0].dark), (2, 1));
        assert_eq!((c.comps[1].w(), c.comps[1].h(), c.comps[1].area), (3, 2, 6));
        // A U shape merges late: both arms must end up in one component.
        let mut u = GrayImage::from_pixel(5, 4, image::Luma([255]));
        for y in 0..4 {
            u.put_pixel(0, y, image::Luma([0]));
            u.put_pixel(4, y, image::Luma([0]));
        }
        for x in 0..5 {
            u.put_pixel(x, 3, image::Luma([0]));
        }
        let c = label(&u, 128, 128, Rect { x0: 0, y0: 0, x1: 5, y1: 4 });
        assert_eq!(c.comps.len(), 1);
        assert!(c.runs.iter().all(|r| r.comp == 0));
    }

    #[test]
    fn bad_dpi_falls_back() {
        assert_eq!(sane_dpi(f32::NAN), FALLBACK_DPI);
        assert_eq!(sane_dpi(0.0), FALLBACK_DPI);
        assert_eq!(reduction_factor(300.0), 3);
        assert_eq!(reduction_factor(200.0), 2);
        assert_eq!(reduction_factor(72.0), 1);
    }
}
