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
    let prof = deskew::pixel_profile_of(a, &line_components(a), fit.axis, fit.raw_angle);
    let p: Vec<f64> = prof.iter().map(|&v| v as f64 / 256.0).collect();
    let Sides { above, below, lines, line_ink, lines_up, lines_down } = asymmetry(&p);
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
    // The side is read from the ink that differs between above and below the cores. On
    // lowercase text that is a tenth or more of the lines' ink; on capitals, digits and
    // codes (a sheet's title, a dossier code) only a few marks, which noise and stray
    // specks can outweigh: the normalised score alone would be confident on noise.
    let side_conf = (score.abs() as f32 / 0.15).clamp(0.0, 1.0);
    let strength = (above - below).abs() / line_ink.max(1e-9);
    let strength_conf = ((strength - MIN_SIDE_STRENGTH) / MIN_SIDE_STRENGTH).clamp(0.0, 1.0) as f32;
    // And the lines must agree: on text most lines lean the same way, on a chart's tick
    // labels or a code line the few that lean at all split at random. Three more lines
    // agreeing than disagreeing is the least that turns a page; five are full confidence.
    let (agree, disagree) = if upright { (lines_up, lines_down) } else { (lines_down, lines_up) };
    let vote_conf = ((agree as f32 - disagree as f32 - 2.0) / 3.0).clamp(0.0, 1.0);
    // One line (a stamp, "Hết./.", a page number) is not enough to turn a page: its axis
    // and its side are both easy to misread. Two lines give half confidence, three full.
    let line_conf = ((lines as f32 - 1.0) / 2.0).clamp(0.0, 1.0);
    OrientationEstimate {
        rotation,
        // A page without the line structure to deskew (specks, a photo, one line) is not
        // turned either: the orientation is never more certain than the line fit.
        confidence: (axis_conf.min(side_conf).min(strength_conf).min(vote_conf) * line_conf).min(fit.confidence),
    }
}

/// A solid blob at least this wide and tall (mm) is a picture or a symbol, not text.
const SOLID_MIN_MM: f32 = 4.0;
/// ... when at least this share of its box is ink (the data modules of a QR code or a
/// Data Matrix merge into such blobs; a table's grid or a stamp's ring stays far below).
const SOLID_FILL: f32 = 0.25;

/// The text-like components that can belong to text lines: those whose centre lies
/// inside the box of a solid blob (see [`SOLID_FILL`]) are the loose modules and finder
/// patterns of a 2-D symbol or specks of a picture, and their rows say nothing about
/// which side of a line is up.
fn line_components(a: &Analysis) -> Vec<bool> {
    let min = (SOLID_MIN_MM / 25.4 * a.dpi).max(3.0) as u32;
    let solids: Vec<_> = a
        .ink
        .comps
        .iter()
        .zip(&a.text)
        .filter(|(c, t)| !**t && c.w() >= min && c.h() >= min && c.area as f32 >= SOLID_FILL * (c.w() * c.h()) as f32)
        .map(|(c, _)| *c)
        .collect();
    if solids.is_empty() {
        return a.text.clone();
    }
    a.ink
        .comps
        .iter()
        .zip(&a.text)
        .map(|(c, &t)| {
            let (x, y) = ((c.x0 + c.x1) / 2, (c.y0 + c.y1) / 2);
            t && !solids.iter().any(|s| x >= s.x0 && x < s.x1 && y >= s.y0 && y < s.y1)
        })
        .collect()
}

/// What the line profile says about the two sides of the text lines.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Sides {
    /// Ink above the line cores (ascenders, capitals, marks) and below them (descenders).
    pub above: f64,
    pub below: f64,
    /// Text lines used.
    pub lines: usize,
    /// All the ink of those lines, cores included.
    pub line_ink: f64,
    /// Lines with clearly more ink above their core than below it, and the reverse.
    pub lines_up: usize,
    pub lines_down: usize,
}

/// Least share of the lines' ink that must differ between the two sides (see
/// [`detect`]); twice this gives full confidence.
const MIN_SIDE_STRENGTH: f64 = 0.01;

/// A line leans one way when one side holds this many times the other's ink.
const LINE_LEAN: f64 = 1.5;

/// A band more than this many times as tall as the median band is not a text line (a QR
/// code or the bars of a barcode seen end on, a drawing, a photo) and says nothing about
/// which side is up.
const MAX_BAND_OVER_MEDIAN: usize = 2;

/// Splits a line profile into text lines and sums the ink above and below their cores.
pub(crate) fn asymmetry(p: &[f64]) -> Sides {
    let none = Sides { above: 0.0, below: 0.0, lines: 0, line_ink: 0.0, lines_up: 0, lines_down: 0 };
    let peak = p.iter().cloned().fold(0.0, f64::max);
    if peak <= 0.0 {
        return none;
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
    bands.retain(|&(s, e)| e - s >= 3);
    let mut heights: Vec<usize> = bands.iter().map(|&(s, e)| e - s + 1).collect();
    heights.sort_unstable();
    let Some(&median) = heights.get(heights.len() / 2) else {
        return none;
    };
    let mut out = none;
    for &(s, e) in &bands {
        if e - s + 1 > MAX_BAND_OVER_MEDIAN * median + 1 {
            continue;
        }
        let m = p[s..=e].iter().cloned().fold(0.0, f64::max);
        let core: Vec<usize> = (s..=e).filter(|&i| p[i] >= 0.5 * m).collect();
        let (Some(&top), Some(&bot)) = (core.first(), core.last()) else {
            continue;
        };
        let above = p[s..top].iter().sum::<f64>();
        let below = p[bot + 1..=e].iter().sum::<f64>();
        out.lines_up += usize::from(above > LINE_LEAN * below);
        out.lines_down += usize::from(below > LINE_LEAN * above);
        out.above += above;
        out.below += below;
        out.line_ink += p[s..=e].iter().sum::<f64>();
        out.lines += 1;
    }
    out
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
        let s = asymmetry(&p);
        assert_eq!(s.lines, 2);
        assert!(s.above > s.below * 3.0);
        assert_eq!(s.line_ink, p.iter().sum::<f64>());
        let rev: Vec<f64> = p.iter().rev().cloned().collect();
        let s = asymmetry(&rev);
        assert!(s.below > s.above * 3.0);
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
