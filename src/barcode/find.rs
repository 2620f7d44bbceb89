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

/// Resolution the page is reduced to for the search.
pub const WORK_DPI: f32 = 150.0;
const CELL_MM: f32 = 2.5;
/// A region must be at least this large in both directions (a 21-module QR code with
/// 0.5 mm modules is 10.5 mm; linear codes are at least 8 mm tall).
const MIN_SIDE_MM: f32 = 7.5;
/// Ink fraction of a symbol cell.
const INK_MIN: f32 = 0.3;
const INK_MAX: f32 = 0.85;
/// Mean ink over a region's box, and the share of its cells that look like a symbol
/// (a QR code turned 15° fills 2/3 of its box).
const REGION_INK_MIN: f32 = 0.25;
const REGION_MARKED_MIN: f32 = 0.4;
/// Colour changes per cell row (or column) of a symbol cell, per mm.
const TRANSITIONS_PER_MM: f32 = 0.5;

/// The page reduced for searching, with its ink threshold. At a factor of 1 (pages of
/// up to 225 dpi) the page's own pixels, borrowed.
pub struct Work<'a> {
    pub w: u32,
    pub h: u32,
    /// Reduction factor from the page (working pixel = factor x factor page pixels).
    pub factor: u32,
    pub dpi: f32,
    pub pix: Cow<'a, [u8]>,
    /// A pixel is ink when its value is below this.
    pub threshold: u8,
}

impl<'a> Work<'a> {
    pub fn new(gray: &'a GrayImage, dpi: f32) -> Work<'a> {
        let factor = ((dpi / WORK_DPI).round() as u32).max(1);
        let (w, h) = (gray.width() / factor, gray.height() / factor);
        let pix = reduce(gray, factor, w, h);
        let threshold = ink_threshold(&pix);
        Work { w, h, factor, dpi: dpi / factor as f32, pix, threshold }
    }

    pub fn mm(&self, mm: f32) -> f32 {
        mm * self.dpi / 25.4
    }

    #[inline]
    pub fn ink(&self, x: u32, y: u32) -> bool {
        self.pix[(y * self.w + x) as usize] < self.threshold
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

/// Division by a fixed `d` as a multiply and a shift: exact for every `n < 2^18` and
/// `d <= 2^10` (a box sum of 8-bit samples), so it gives the same bytes as `n / d`.
#[derive(Clone, Copy)]
struct Reciprocal {
    m: u64,
}

impl Reciprocal {
    fn new(d: u32) -> Reciprocal {
        let d = d.max(1) as u64;
        Reciprocal { m: (1u64 << 32).div_ceil(d) }
    }

    #[inline]
    fn of(self, n: u32) -> u32 {
        ((n as u64 * self.m) >> 32) as u32
    }
}

/// Midway between paper (the 90th percentile) and ink (the 1st percentile), but at least
/// 50 gray levels below paper so that noise on a blank page is never ink.
fn ink_threshold(pix: &[u8]) -> u8 {
    let mut hist = [0usize; 256];
    for &v in pix {
        hist[v as usize] += 1;
    }
    let n = pix.len().max(1);
    let pct = |p: f64| {
        let target = (n as f64 * p) as usize;
        let mut acc = 0;
        for (v, &c) in hist.iter().enumerate() {
            acc += c;
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

/// Candidate regions of `work`, in no particular order.
pub fn candidates(work: &Work) -> Vec<Region> {
    let cell = work.mm(CELL_MM).round().max(4.0) as u32;
    let (cw, ch) = (work.w / cell, work.h / cell);
    if cw == 0 || ch == 0 {
        return Vec::new();
    }
    let cells: Vec<Cell> = (0..ch)
        .into_par_iter()
        .flat_map_iter(|cy| band_cells(work, cy, cell, cw))
        .collect();
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
    close(&mut mark, cw as usize, ch as usize);
    let min_cells = (work.mm(MIN_SIDE_MM) / cell as f32).round().max(2.0) as u32;
    components(&mark, cw as usize, ch as usize)
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
        .collect()
}

/// Counts for the cells of cell row `cy`.
fn band_cells(work: &Work, cy: u32, cell: u32, cw: u32) -> Vec<Cell> {
    let mut out = vec![Cell::default(); cw as usize];
    let t = work.threshold;
    let w = work.w as usize;
    for y in cy * cell..(cy + 1) * cell {
        let row = &work.pix[y as usize * w..y as usize * w + (cw * cell) as usize];
        let above = (y > 0).then(|| &work.pix[(y as usize - 1) * w..(y as usize - 1) * w + (cw * cell) as usize]);
        for (ci, c) in out.iter_mut().enumerate() {
            let x0 = ci * cell as usize;
            let mut prev = row[x0] < t;
            let (mut ink, mut ht, mut vt) = (prev as u32, 0, 0);
            for x in x0 + 1..x0 + cell as usize {
                let d = row[x] < t;
                ink += d as u32;
                ht += (d != prev) as u32;
                prev = d;
            }
            if let Some(above) = above.filter(|_| y > cy * cell) {
                for x in x0..x0 + cell as usize {
                    vt += ((row[x] < t) != (above[x] < t)) as u32;
                }
            }
            c.ink += ink;
            c.h_trans += ht;
            c.v_trans += vt;
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

    #[test]
    fn reciprocal_division_is_exact_for_box_sums() {
        for d in (1..=64).chain([100, 255, 256, 1000, 1024]) {
            let r = Reciprocal::new(d);
            for n in 0..=255 * d {
                assert_eq!(r.of(n), n / d, "{n} / {d}");
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
