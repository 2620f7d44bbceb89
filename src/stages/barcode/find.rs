//! Cheap search for regions of a page that may hold a barcode.
//!
//! Owns the working image (the page reduced by an integer factor to about 150 dpi and its
//! ink threshold) and the cell statistics that pick candidate regions. A cell (2.5 mm
//! square) looks like part of a symbol when about half of it is ink and its rows or
//! columns change colour often: body text has far less ink, solid areas far fewer
//! transitions. Neighbouring symbol cells (8-connected, after closing one-cell gaps) form a
//! region; regions smaller than the smallest separator code are dropped.
//!
//! Everything here is pure and proportional to the page area; rows are processed in
//! parallel bands with rayon. Callers: [`super::scan_page`], [`super::patch`].

use image::GrayImage;
use rayon::prelude::*;
use std::borrow::Cow;

use crate::stages::imaging::Reciprocal;

/// Resolution the page is reduced to for the search.
pub const WORK_DPI: f32 = 150.0;
const CELL_MM: f32 = 2.5;
/// A region must be at least this large in both directions (a 21-module QR code with
/// 0.25 mm modules is 5.25 mm; linear codes are at least 8 mm tall).
const MIN_SIDE_MM: f32 = 5.0;
/// Ink fraction of a symbol cell.
const INK_MIN: f32 = 0.3;
const INK_MAX: f32 = 0.85;
/// Mean ink over a region's box, and the share of its cells that look like a symbol
/// (a QR code turned 15° fills 2/3 of its box).
const REGION_INK_MIN: f32 = 0.25;
const REGION_MARKED_MIN: f32 = 0.4;
/// Colour changes per cell row (or column) of a symbol cell, per mm.
const TRANSITIONS_PER_MM: f32 = 0.5;

/// The page reduced for searching, with its ink threshold and its ink as bits. At a
/// factor of 1 (pages of up to 225 dpi) the page's own pixels, borrowed.
pub struct Work<'a> {
    pub w: u32,
    pub h: u32,
    /// Reduction factor from the page (working pixel = factor x factor page pixels).
    pub factor: u32,
    pub dpi: f32,
    pub pix: Cow<'a, [u8]>,
    /// The ink: `pix` below the page's ink threshold, one bit per pixel. What the cell
    /// counts and the patch finder read.
    pub bits: InkBits,
}

impl<'a> Work<'a> {
    pub fn new(gray: &'a GrayImage, dpi: f32) -> Work<'a> {
        let factor = ((dpi / WORK_DPI).round() as u32).max(1);
        let (w, h) = (gray.width() / factor, gray.height() / factor);
        let pix = reduce(gray, factor, w, h);
        let threshold = ink_threshold(&pix, w as usize);
        let bits = InkBits::of(&pix, w, h, threshold);
        Work { w, h, factor, dpi: dpi / factor as f32, pix, bits }
    }

    pub fn mm(&self, mm: f32) -> f32 {
        mm * self.dpi / 25.4
    }

    #[inline]
    pub fn ink(&self, x: u32, y: u32) -> bool {
        self.bits.get(x, y)
    }
}

/// A binary image, 64 pixels to a word: pixel (x, y) is bit `x % 64` of word
/// `y * words + x / 64`. Bits past the width in a row's last word are clear.
#[derive(Debug, Clone, PartialEq)]
pub struct InkBits {
    pub w: u32,
    pub h: u32,
    /// Words per row.
    pub words: usize,
    pub bits: Vec<u64>,
}

impl InkBits {
    /// The pixels of the `w` x `h` image `pix` darker than `threshold`, rows in parallel.
    pub fn of(pix: &[u8], w: u32, h: u32, threshold: u8) -> InkBits {
        let words = (w as usize).div_ceil(64);
        let mut bits = vec![0u64; words * h as usize];
        if words > 0 {
            bits.par_chunks_mut(words).zip(pix.par_chunks(w as usize)).for_each(|(out, row)| pack_row(row, threshold, out));
        }
        InkBits { w, h, words, bits }
    }

    #[inline]
    pub fn row(&self, y: u32) -> &[u64] {
        &self.bits[y as usize * self.words..(y as usize + 1) * self.words]
    }

    #[inline]
    pub fn get(&self, x: u32, y: u32) -> bool {
        self.bits[y as usize * self.words + x as usize / 64] >> (x % 64) & 1 == 1
    }

    /// The image turned about its diagonal: columns become rows (64 x 64 bit blocks).
    pub fn transpose(&self) -> InkBits {
        let (w, h) = (self.h, self.w);
        let words = (w as usize).div_ceil(64);
        let mut bits = vec![0u64; words * h as usize];
        let mut block = [0u64; 64];
        for by in 0..words {
            for bx in 0..self.words {
                for (i, b) in block.iter_mut().enumerate() {
                    let y = by * 64 + i;
                    *b = if y < self.h as usize { self.bits[y * self.words + bx] } else { 0 };
                }
                transpose64(&mut block);
                for (j, &b) in block.iter().enumerate() {
                    let x = bx * 64 + j;
                    if x < h as usize {
                        bits[x * words + by] = b;
                    }
                }
            }
        }
        InkBits { w, h, words, bits }
    }
}

/// Bit `j` of word `i` becomes bit `i` of word `j` (Hacker's Delight 7-3, for bits
/// numbered from the least significant).
fn transpose64(a: &mut [u64; 64]) {
    let mut j = 32;
    let mut m: u64 = 0x0000_0000_FFFF_FFFF;
    while j != 0 {
        let mut k = 0;
        while k < 64 {
            let t = ((a[k] >> j) ^ a[k + j]) & m;
            a[k] ^= t << j;
            a[k + j] ^= t;
            k = (k + j + 1) & !j;
        }
        j >>= 1;
        m ^= m << j;
    }
}

/// Sets bit x of `out` where `row[x] < threshold`.
fn pack_row(row: &[u8], threshold: u8, out: &mut [u64]) {
    let mut chunks = row.chunks_exact(64);
    let mut k = 0;
    for chunk in chunks.by_ref() {
        out[k] = pack64(chunk.try_into().expect("64 pixels"), threshold);
        k += 1;
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        out[k] = pack_portable(rest, threshold);
    }
}

/// Bit i set where `px[i] < threshold` (at most 64 pixels).
fn pack_portable(px: &[u8], threshold: u8) -> u64 {
    px.iter().enumerate().fold(0u64, |m, (i, &v)| m | ((v < threshold) as u64) << i)
}

#[cfg(target_arch = "x86_64")]
#[inline]
fn pack64(px: &[u8; 64], threshold: u8) -> u64 {
    use std::arch::x86_64::*;
    // v < t  <=>  min(v, t - 1) == v, for t >= 1 (t = 0: no pixel is ink).
    // SAFETY: SSE2 is part of x86_64; the four 16-byte loads are inside the 64 bytes.
    unsafe {
        let t1 = _mm_set1_epi8(threshold.saturating_sub(1) as i8);
        let mut m = 0u64;
        for i in 0..4 {
            let v = _mm_loadu_si128(px.as_ptr().add(16 * i) as *const __m128i);
            let lt = _mm_cmpeq_epi8(_mm_min_epu8(v, t1), v);
            m |= (_mm_movemask_epi8(lt) as u16 as u64) << (16 * i);
        }
        if threshold == 0 { 0 } else { m }
    }
}

#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn pack64(px: &[u8; 64], threshold: u8) -> u64 {
    pack_portable(px, threshold)
}

/// Set bits of `row` in `[x0, x1)`.
#[inline]
pub fn count_ones(row: &[u64], x0: usize, x1: usize) -> u32 {
    if x1 <= x0 {
        return 0;
    }
    let (k0, k1) = (x0 / 64, (x1 - 1) / 64);
    let lo = !0u64 << (x0 % 64);
    let hi = !0u64 >> (63 - (x1 - 1) % 64);
    if k0 == k1 {
        return (row[k0] & lo & hi).count_ones();
    }
    let mut n = (row[k0] & lo).count_ones() + (row[k1] & hi).count_ones();
    for &word in &row[k0 + 1..k1] {
        n += word.count_ones();
    }
    n
}

/// The runs (ink, length) of the first `len` bits of `row`, in order.
pub fn runs_of(row: &[u64], len: usize, out: &mut Vec<(bool, u32)>) {
    out.clear();
    if len == 0 {
        return;
    }
    let mut p = 0usize;
    let mut cur = row[0] & 1 == 1;
    while p < len {
        // First position at or after p whose bit is not `cur` (or len).
        let flip = if cur { !0u64 } else { 0 };
        let mut k = p / 64;
        let mut word = (row[k] ^ flip) & (!0u64 << (p % 64));
        let q = loop {
            if word != 0 {
                break (k * 64 + word.trailing_zeros() as usize).min(len);
            }
            k += 1;
            if k * 64 >= len {
                break len;
            }
            word = row[k] ^ flip;
        };
        out.push((cur, (q - p) as u32));
        p = q;
        cur = !cur;
    }
}

/// Box average by `factor` (truncating, as `sum / factor²`).
fn reduce(gray: &GrayImage, factor: u32, w: u32, h: u32) -> Cow<'_, [u8]> {
    if factor == 1 {
        return Cow::Borrowed(gray.as_raw());
    }
    let src = gray.as_raw();
    let sw = gray.width() as usize;
    let f = factor as usize;
    let div = Reciprocal::new(factor * factor);
    let mut out = vec![0u8; (w * h) as usize];
    out.par_chunks_mut(w as usize).enumerate().for_each_init(
        || (Vec::new(), Vec::new()),
        |(cols, acc): &mut (Vec<u32>, Vec<u32>), (y, row)| {
            // Column sums over the block's rows (vectorises), then `f` columns at a time.
            cols.clear();
            cols.resize(row.len() * f, 0);
            for sy in y * f..(y + 1) * f {
                for (c, &v) in cols.iter_mut().zip(&src[sy * sw..sy * sw + row.len() * f]) {
                    *c += v as u32;
                }
            }
            acc.clear();
            acc.extend(cols.chunks_exact(f).map(|c| c.iter().sum::<u32>()));
            for (o, &a) in row.iter_mut().zip(acc.iter()) {
                *o = div.of(a) as u8;
            }
        },
    );
    Cow::Owned(out)
}

/// Midway between paper (the 90th percentile) and ink (the 1st percentile), but at least
/// 50 gray levels below paper so that noise on a blank page is never ink. The levels are
/// counted on every other row of the `w`-wide image (a page has millions of pixels).
fn ink_threshold(pix: &[u8], w: usize) -> u8 {
    let mut hist = [[0u32; 256]; 4];
    let mut n = 0usize;
    for row in pix.chunks(w.max(1)).step_by(2) {
        n += row.len();
        let mut quads = row.chunks_exact(4);
        for q in quads.by_ref() {
            for (h, &v) in hist.iter_mut().zip(q) {
                h[v as usize] += 1;
            }
        }
        for &v in quads.remainder() {
            hist[0][v as usize] += 1;
        }
    }
    let n = n.max(1);
    let pct = |p: f64| {
        let target = (n as f64 * p) as usize;
        let mut acc = 0;
        for v in 0..256 {
            acc += hist.iter().map(|h| h[v] as usize).sum::<usize>();
            if acc > target {
                return v as i32;
            }
        }
        255
    };
    let (ink, paper) = (pct(0.01), pct(0.90));
    ((ink + paper) / 2).min(paper - 50).clamp(1, 255) as u8
}

/// A candidate region in working-image pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct Region {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
    /// For a linear-looking region: the direction of the bars' normal (the gradient),
    /// degrees in (-90, 90], 0 = vertical bars. None for 2D symbols.
    pub bar_angle_deg: Option<f32>,
}

/// Per-cell counts.
#[derive(Clone, Copy, Default)]
struct Cell {
    ink: u32,
    h_trans: u32,
    v_trans: u32,
}

/// What the search found on a page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Candidates {
    /// Candidate regions, in no particular order.
    pub regions: Vec<Region>,
    /// Share of the page's cells that hold some ink (at least 2%) but do not look like a
    /// symbol: text, rules, pictures. About 0.2 and more on a page of body text, a few
    /// hundredths on a separator sheet.
    pub text_share: f32,
}

/// Cells with at least this share of ink count as inked in [`Candidates::text_share`].
const INKED_CELL: f32 = 0.02;

/// Candidate regions of `work` and the page's text share.
pub fn candidates(work: &Work) -> Candidates {
    let cell = work.mm(CELL_MM).round().max(4.0) as u32;
    let (cw, ch) = (work.w / cell, work.h / cell);
    if cw == 0 || ch == 0 {
        return Candidates::default();
    }
    let cells: Vec<Cell> = (0..ch).into_par_iter().flat_map_iter(|cy| band_cells(work, cy, cell, cw)).collect();
    let area = (cell * cell) as f32;
    let min_trans = TRANSITIONS_PER_MM * CELL_MM * cell as f32;
    let mut mark: Vec<bool> = cells
        .iter()
        .map(|c| {
            let ink = c.ink as f32 / area;
            (INK_MIN..=INK_MAX).contains(&ink) && (c.h_trans.max(c.v_trans) as f32) >= min_trans
        })
        .collect();
    let raw = mark.clone();
    let inked = cells.iter().zip(&raw).filter(|(c, m)| !**m && c.ink as f32 / area >= INKED_CELL).count();
    let text_share = inked as f32 / cells.len() as f32;
    close(&mut mark, cw as usize, ch as usize);
    let min_cells = (work.mm(MIN_SIDE_MM) / cell as f32).round().max(2.0) as u32;
    let regions = components(&mark, cw as usize, ch as usize)
        .into_iter()
        .filter(|&(x0, y0, x1, y1, n)| {
            let (w, h) = (x1 - x0 + 1, y1 - y0 + 1);
            if w < min_cells || h < min_cells || n * 3 < w * h {
                return false;
            }
            // Over the box: symbols are about half ink and mostly symbol cells; text
            // (even bold headings) has far less ink and few symbol cells.
            let (mut ink, mut marked) = (0f32, 0u32);
            for y in y0..=y1 {
                for x in x0..=x1 {
                    let i = (y * cw + x) as usize;
                    ink += cells[i].ink as f32 / area;
                    marked += raw[i] as u32;
                }
            }
            let boxed = (w * h) as f32;
            ink / boxed >= REGION_INK_MIN && marked as f32 / boxed >= REGION_MARKED_MIN
        })
        .map(|(x0, y0, x1, y1, _)| {
            let (x, y, w, h) = (x0 * cell, y0 * cell, (x1 - x0 + 1) * cell, (y1 - y0 + 1) * cell);
            let bar_angle_deg = bar_angle(work, x, y, w, h);
            Region { x, y, w, h, bar_angle_deg }
        })
        .collect();
    Candidates { regions, text_share }
}

/// Counts for the cells of cell row `cy`, from the ink bits: ink is a popcount of the
/// row, colour changes along the row a popcount of the row xor itself shifted by one
/// pixel, changes down a column a popcount of the row xor the row above (inside the cell).
fn band_cells(work: &Work, cy: u32, cell: u32, cw: u32) -> Vec<Cell> {
    let mut out = vec![Cell::default(); cw as usize];
    let bits = &work.bits;
    let words = bits.words;
    let (mut along, mut down) = (vec![0u64; words], vec![0u64; words]);
    let cell = cell as usize;
    for y in cy * cell as u32..(cy + 1) * cell as u32 {
        let row = bits.row(y);
        for k in 0..words {
            let next = row.get(k + 1).copied().unwrap_or(0);
            along[k] = row[k] ^ (row[k] >> 1 | next << 63);
        }
        let inside = y > cy * cell as u32;
        if inside {
            for ((d, &r), &a) in down.iter_mut().zip(row).zip(bits.row(y - 1)) {
                *d = r ^ a;
            }
        }
        for (ci, c) in out.iter_mut().enumerate() {
            let x0 = ci * cell;
            c.ink += count_ones(row, x0, x0 + cell);
            // Changes between x and x + 1 for x in x0..x0 + cell - 1.
            c.h_trans += count_ones(&along, x0, x0 + cell - 1);
            if inside {
                c.v_trans += count_ones(&down, x0, x0 + cell);
            }
        }
    }
    out
}

/// Morphological closing by one cell (dilate, then erode), so symbols with white patches
/// stay one region.
fn close(mark: &mut [bool], w: usize, h: usize) {
    let at = |m: &[bool], x: i64, y: i64| x >= 0 && y >= 0 && (x as usize) < w && (y as usize) < h && m[y as usize * w + x as usize];
    let mut dilated = vec![false; mark.len()];
    for y in 0..h as i64 {
        for x in 0..w as i64 {
            dilated[y as usize * w + x as usize] = (-1..=1).any(|dy| (-1..=1).any(|dx| at(mark, x + dx, y + dy)));
        }
    }
    for y in 0..h as i64 {
        for x in 0..w as i64 {
            let inside = |xx: i64, yy: i64| xx < 0 || yy < 0 || xx as usize >= w || yy as usize >= h || dilated[yy as usize * w + xx as usize];
            mark[y as usize * w + x as usize] = (-1..=1).all(|dy| (-1..=1).all(|dx| inside(x + dx, y + dy)));
        }
    }
}

/// 8-connected components: (x0, y0, x1, y1, cells), inclusive cell bounds.
fn components(mark: &[bool], w: usize, h: usize) -> Vec<(u32, u32, u32, u32, u32)> {
    let mut seen = vec![false; mark.len()];
    let mut out = Vec::new();
    let mut stack = Vec::new();
    for start in 0..mark.len() {
        if !mark[start] || seen[start] {
            continue;
        }
        seen[start] = true;
        stack.push(start);
        let (mut x0, mut y0, mut x1, mut y1, mut n) = (usize::MAX, usize::MAX, 0, 0, 0u32);
        while let Some(i) = stack.pop() {
            let (x, y) = (i % w, i / w);
            (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
            n += 1;
            for dy in -1i64..=1 {
                for dx in -1i64..=1 {
                    let (nx, ny) = (x as i64 + dx, y as i64 + dy);
                    if nx < 0 || ny < 0 || nx as usize >= w || ny as usize >= h {
                        continue;
                    }
                    let j = ny as usize * w + nx as usize;
                    if mark[j] && !seen[j] {
                        seen[j] = true;
                        stack.push(j);
                    }
                }
            }
        }
        out.push((x0 as u32, y0 as u32, x1 as u32, y1 as u32, n));
    }
    out
}

/// Dominant gradient direction of the region (structure tensor), if the region is
/// strongly oriented (a linear symbol): degrees in (-90, 90], 0 = vertical bars,
/// positive = bars turned counter-clockwise on screen.
fn bar_angle(work: &Work, x: u32, y: u32, w: u32, h: u32) -> Option<f32> {
    let (mut jxx, mut jyy, mut jxy) = (0f64, 0f64, 0f64);
    let stride = work.w as usize;
    for yy in y.max(1)..(y + h).min(work.h - 1) {
        for xx in x.max(1)..(x + w).min(work.w - 1) {
            let i = yy as usize * stride + xx as usize;
            let gx = work.pix[i + 1] as f64 - work.pix[i - 1] as f64;
            let gy = work.pix[i + stride] as f64 - work.pix[i - stride] as f64;
            jxx += gx * gx;
            jyy += gy * gy;
            jxy += gx * gy;
        }
    }
    let trace = jxx + jyy;
    if trace <= 0.0 {
        return None;
    }
    let coherence = ((jxx - jyy).powi(2) + 4.0 * jxy * jxy).sqrt() / trace;
    if coherence < 0.6 {
        return None;
    }
    // Gradient angle with y pointing down; on screen, counter-clockwise is negative y.
    let theta = 0.5 * (2.0 * jxy).atan2(jxx - jyy);
    let deg = -theta.to_degrees() as f32;
    Some(if deg <= -90.0 { deg + 180.0 } else { deg })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A noisy image with ink blobs and runs of every length, `w` not a multiple of 64.
    fn speckled(w: u32, h: u32, seed: u32) -> GrayImage {
        GrayImage::from_fn(w, h, |x, y| {
            let r = (x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503) ^ seed).wrapping_mul(2_246_822_519) >> 24;
            let bar = (x / 7 + y / 5) % 3 == 0;
            image::Luma([if bar { (r % 90) as u8 } else { 160 + (r % 96) as u8 }])
        })
    }

    #[test]
    fn ink_bits_are_the_pixels_below_the_threshold() {
        for (w, h) in [(1u32, 1u32), (63, 2), (64, 3), (65, 5), (200, 17), (131, 70)] {
            let img = speckled(w, h, w ^ h);
            for t in [1u8, 90, 128, 200, 255] {
                let bits = InkBits::of(img.as_raw(), w, h, t);
                for y in 0..h {
                    for x in 0..w {
                        assert_eq!(bits.get(x, y), img.get_pixel(x, y)[0] < t, "{w}x{h} t={t} at {x},{y}");
                    }
                    // Past the width, nothing.
                    let last = bits.row(y)[bits.words - 1];
                    let used = w as usize - 64 * (bits.words - 1);
                    assert!(used == 64 || last >> used == 0);
                }
            }
        }
    }

    #[test]
    fn transposed_bits_swap_rows_and_columns() {
        for (w, h) in [(1u32, 1u32), (64, 64), (70, 130), (131, 9), (200, 129)] {
            let img = speckled(w, h, 7);
            let bits = InkBits::of(img.as_raw(), w, h, 128);
            let t = bits.transpose();
            assert_eq!((t.w, t.h), (h, w));
            for y in 0..h {
                for x in 0..w {
                    assert_eq!(t.get(y, x), bits.get(x, y), "{w}x{h} at {x},{y}");
                }
            }
            assert_eq!(t.transpose(), bits);
        }
    }

    #[test]
    fn counts_and_runs_off_the_bits_are_the_pixel_counts() {
        let (w, h) = (203u32, 3u32);
        let img = speckled(w, h, 3);
        let bits = InkBits::of(img.as_raw(), w, h, 128);
        let ink = |x: usize, y: u32| img.get_pixel(x as u32, y)[0] < 128;
        let mut runs = Vec::new();
        for y in 0..h {
            let row = bits.row(y);
            for x0 in 0..w as usize {
                for x1 in x0..=w as usize {
                    assert_eq!(count_ones(row, x0, x1) as usize, (x0..x1).filter(|&x| ink(x, y)).count(), "[{x0}, {x1})");
                }
            }
            for len in [0usize, 1, 63, 64, 65, 128, 203] {
                runs_of(row, len, &mut runs);
                let mut want: Vec<(bool, u32)> = Vec::new();
                for x in 0..len {
                    match want.last_mut() {
                        Some((c, n)) if *c == ink(x, y) => *n += 1,
                        _ => want.push((ink(x, y), 1)),
                    }
                }
                assert_eq!(runs, want, "row {y}, len {len}");
            }
        }
    }

    #[test]
    fn cell_counts_are_the_pixel_counts() {
        let img = speckled(211, 60, 5);
        let work = Work::new(&img, 150.0);
        let cell = 20u32;
        let cw = work.w / cell;
        for cy in 0..work.h / cell {
            let got = band_cells(&work, cy, cell, cw);
            for (ci, c) in got.iter().enumerate() {
                let (x0, y0) = (ci as u32 * cell, cy * cell);
                let (mut ink, mut ht, mut vt) = (0, 0, 0);
                for y in y0..y0 + cell {
                    for x in x0..x0 + cell {
                        ink += work.ink(x, y) as u32;
                        if x > x0 {
                            ht += (work.ink(x, y) != work.ink(x - 1, y)) as u32;
                        }
                        if y > y0 {
                            vt += (work.ink(x, y) != work.ink(x, y - 1)) as u32;
                        }
                    }
                }
                assert_eq!((c.ink, c.h_trans, c.v_trans), (ink, ht, vt), "cell {ci},{cy}");
            }
        }
    }

    #[test]
    fn reduce_is_the_truncated_box_average() {
        let (sw, sh) = (61u32, 37u32);
        let gray = GrayImage::from_fn(sw, sh, |x, y| image::Luma([((x * 31 + y * 17 + x * y) % 256) as u8]));
        for f in [2u32, 3, 4] {
            let (w, h) = (sw / f, sh / f);
            let got = reduce(&gray, f, w, h);
            for y in 0..h {
                for x in 0..w {
                    let mut sum = 0u32;
                    for dy in 0..f {
                        for dx in 0..f {
                            sum += gray.get_pixel(x * f + dx, y * f + dy)[0] as u32;
                        }
                    }
                    assert_eq!(got[(y * w + x) as usize] as u32, sum / (f * f), "f={f} at {x},{y}");
                }
            }
        }
    }
}
