//! Page orientation (0/90/180/270) without OCR.
//!
//! 1. Lines or columns: the line search in `deskew` projects component centres along both
//!    axes; text lines give a much sharper profile along the way they run. Rows mean the
//!    page is at 0 or 180, columns at 90 or 270. The page's aspect plays no part, so a
//!    landscape page with horizontal text stays as it is.
//! 2. Which way up: the ink profile across each text line (deskewed) has a dense core
//!    between the x-height line and the baseline. Above the core sit ascenders, capitals,
//!    digits and, in Vietnamese, the tone and vowel marks (often two levels of them);
//!    below it only descenders (g p q y) and the dot-below mark. So for upright text the
//!    ink above the core outweighs the ink below it. Both masses are summed over all
//!    lines; the sign of their normalised difference picks the side.
//!
//! A page with a single text line, or whose line fit is not confident enough to deskew
//! it, gets no more confidence than that fit and is left as scanned.
//!
//! For columns the profile coordinate grows downward in the page turned upright by a
//! clockwise quarter turn, so "upright" there means 90 and "inverted" 270.

use image::GrayImage;

use super::analysis::Analysis;
use super::deskew::{self, Axis, LineFit};

/// How the page content is turned.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OrientationEstimate {
    /// 0, 90, 180 or 270: how far the content is turned counter-clockwise from upright.
    pub rotation: u16,
    /// 0 (no idea) to 1 (clear).
    pub confidence: f32,
}

/// Below this confidence a page is not turned.
pub const MIN_CONFIDENCE: f32 = 0.3;

/// Detects how far the content of a grayscale page (scanned at `dpi`) is turned.
pub fn detect_orientation(gray: &GrayImage, dpi: f32) -> OrientationEstimate {
    let (a, _) = Analysis::new(gray, dpi);
    let fit = deskew::fit_lines(&a);
    detect(&a, &fit)
}

/// Orientation from an analysed page and its line search.
pub(crate) fn detect(a: &Analysis, fit: &LineFit) -> OrientationEstimate {
    let unknown = OrientationEstimate { rotation: 0, confidence: 0.0 };
    if fit.text_comps < 3 {
        return unknown;
    }
    let prof = deskew::pixel_profile(a, fit.axis, fit.raw_angle);
    let p: Vec<f64> = prof.iter().map(|&v| v as f64 / 256.0).collect();
    let (above, below, lines) = asymmetry(&p);
    if lines == 0 || above + below <= 0.0 {
        return unknown;
    }
    let score = (above - below) / (above + below);
    let upright = score >= 0.0;
    let rotation = match (fit.axis, upright) {
        (Axis::Rows, true) => 0,
        (Axis::Rows, false) => 180,
        (Axis::Cols, true) => 90,
        (Axis::Cols, false) => 270,
    };
    let (best, other) = match fit.axis {
        Axis::Rows => (fit.sharp_rows, fit.sharp_cols),
        Axis::Cols => (fit.sharp_cols, fit.sharp_rows),
    };
    let axis_conf = ((best / other.max(1e-3) - 1.0) / 0.15).clamp(0.0, 1.0);
    let side_conf = (score.abs() as f32 / 0.15).clamp(0.0, 1.0);
    // One line (a stamp, "Hết./.", a page number) is not enough to turn a page: its axis
    // and its side are both easy to misread. Two lines give half confidence, three full.
    let line_conf = ((lines as f32 - 1.0) / 2.0).clamp(0.0, 1.0);
    OrientationEstimate {
        rotation,
        // A page without the line structure to deskew (specks, a photo, one line) is not
        // turned either: the orientation is never more certain than the line fit.
        confidence: (axis_conf.min(side_conf) * line_conf).min(fit.confidence),
    }
}

/// Splits a line profile into text lines and returns the ink above the cores, the ink
/// below them, and the number of lines used.
pub(crate) fn asymmetry(p: &[f64]) -> (f64, f64, usize) {
    let peak = p.iter().cloned().fold(0.0, f64::max);
    if peak <= 0.0 {
        return (0.0, 0.0, 0);
    }
    let thr = (0.02 * peak).max(0.5);
    let mut bands: Vec<(usize, usize)> = Vec::new(); // inclusive
    let mut i = 0;
    while i < p.len() {
        if p[i] > thr {
            let s = i;
            while i < p.len() && p[i] > thr {
                i += 1;
            }
            bands.push((s, i - 1));
        } else {
            i += 1;
        }
    }
    merge_fragments(p, &mut bands);
    let (mut above, mut below, mut lines) = (0.0, 0.0, 0);
    for &(s, e) in &bands {
        if e - s < 3 {
            continue;
        }
        let m = p[s..=e].iter().cloned().fold(0.0, f64::max);
        let core: Vec<usize> = (s..=e).filter(|&i| p[i] >= 0.5 * m).collect();
        let (Some(&top), Some(&bot)) = (core.first(), core.last()) else {
            continue;
        };
        above += p[s..top].iter().sum::<f64>();
        below += p[bot + 1..=e].iter().sum::<f64>();
        lines += 1;
    }
    (above, below, lines)
}

/// Joins thin bands (a row of marks split off from its line by a gap) to the nearest
/// neighbouring band when the gap is small compared with a typical line. The typical
/// line height is the ink-weighted median band height, so that on an all-capitals page,
/// where split-off mark rows outnumber the lines, it is still the height of a line.
fn merge_fragments(p: &[f64], bands: &mut Vec<(usize, usize)>) {
    loop {
        if bands.len() < 2 {
            return;
        }
        let mut by_height: Vec<(usize, f64)> = bands.iter().map(|&(s, e)| (e - s + 1, p[s..=e].iter().sum::<f64>())).collect();
        by_height.sort_unstable_by_key(|&(h, _)| h);
        let total: f64 = by_height.iter().map(|&(_, m)| m).sum();
        let mut acc = 0.0;
        let mut typical = by_height[by_height.len() - 1].0 as f64;
        for &(h, m) in &by_height {
            acc += m;
            if acc >= total / 2.0 {
                typical = h as f64;
                break;
            }
        }
        let gap = |a: (usize, usize), b: (usize, usize)| (b.0 - a.1) as f64;
        let mut merged = false;
        for i in 0..bands.len() {
            let h = (bands[i].1 - bands[i].0 + 1) as f64;
            if h >= 0.5 * typical {
                continue;
            }
            let up = (i > 0).then(|| gap(bands[i - 1], bands[i]));
            let down = (i + 1 < bands.len()).then(|| gap(bands[i], bands[i + 1]));
            let limit = 0.4 * typical;
            let target = match (up, down) {
                (Some(u), Some(d)) if u <= d && u <= limit => Some(i - 1),
                (Some(_), Some(d)) if d <= limit => Some(i + 1),
                (Some(u), None) if u <= limit => Some(i - 1),
                (None, Some(d)) if d <= limit => Some(i + 1),
                _ => None,
            };
            if let Some(j) = target {
                let (a, b) = if j < i { (j, i) } else { (i, j) };
                bands[a] = (bands[a].0, bands[b].1);
                bands.remove(b);
                merged = true;
                break;
            }
        }
        if !merged {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asymmetry_reads_a_synthetic_line_profile() {
        // Two lines: tall ascender zone above a dense core, small descender zone below.
        let line = [0.0, 2.0, 3.0, 3.0, 20.0, 12.0, 12.0, 22.0, 1.0, 1.0, 0.0, 0.0];
        let p: Vec<f64> = line.iter().chain(line.iter()).cloned().collect();
        let (a, b, n) = asymmetry(&p);
        assert_eq!(n, 2);
        assert!(a > b * 3.0);
        let rev: Vec<f64> = p.iter().rev().cloned().collect();
        let (a, b, _) = asymmetry(&rev);
        assert!(b > a * 3.0);
    }

    #[test]
    fn detached_mark_rows_rejoin_their_line() {
        let mut p = vec![0.0; 60];
        for (s, e, v) in [(0, 1, 2.0), (3, 12, 20.0), (20, 30, 20.0), (40, 50, 20.0)] {
            p[s..=e].iter_mut().for_each(|x| *x = v);
        }
        let mut bands = vec![(0, 1), (3, 12), (20, 30), (40, 50)];
        merge_fragments(&p, &mut bands);
        assert_eq!(bands, vec![(0, 12), (20, 30), (40, 50)]);
        // All-capitals lines: a mark row above and below each line outnumber the lines.
        let mut p = vec![0.0; 80];
        let mut bands = Vec::new();
        for k in 0..3 {
            let o = k * 25;
            for (s, e, v) in [(o, o + 2, 1.0), (o + 4, o + 15, 20.0), (o + 17, o + 18, 1.0)] {
                p[s..=e].iter_mut().for_each(|x| *x = v);
                bands.push((s, e));
            }
        }
        merge_fragments(&p, &mut bands);
        assert_eq!(bands, vec![(0, 18), (25, 43), (50, 68)]);
    }
}
