//! Skew estimation by projection profiles of the text-like ink of the reduced page.
//!
//! The search is coarse to fine:
//! 1. coarse: the centres of text-like components are projected along lines at every
//!    0.25 degrees in [-15, +15], for rows (horizontal text) and for columns (text turned
//!    by 90 or 270 degrees); the angle whose profile has the largest sum of squares wins,
//!    and the ratio of that peak to the sweep mean ("sharpness") says how line-like the
//!    page is on each axis;
//! 2. fine: the ink pixels themselves are projected (linear splatting into 1-pixel bins)
//!    at 0.1 degree steps around the coarse angle, then 0.02 degree steps, and a parabola
//!    through the best three scores gives the final sub-step angle.
//!
//! A vertical shear `y + x·tan(a)` is used instead of a rotation: it aligns straight text
//! lines exactly at the true angle, and costs one addition per pixel.
//!
//! Angle convention: positive = content turned counter-clockwise on screen. For text on
//! the column axis the angle is the skew of the page once turned upright by a quarter turn.
//! A page without enough line structure (photo, nearly empty page) gets confidence below
//! [`MIN_CONFIDENCE`] and angle 0.

use image::GrayImage;
use rayon::prelude::*;

use super::analysis::Analysis;

/// The skew of a page's content.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SkewEstimate {
    /// Degrees in [-15, +15], positive = content rotated counter-clockwise on screen;
    /// 0 when the confidence is too low to act on.
    pub angle_deg: f32,
    /// 0 (no line structure) to 1 (clear text lines).
    pub confidence: f32,
}

/// Below this confidence the page is left unrotated.
pub const MIN_CONFIDENCE: f32 = 0.3;
/// Search range, degrees either side of 0.
pub const MAX_ANGLE: f32 = 15.0;

/// Estimates the skew of a grayscale page scanned at `dpi`.
pub fn estimate_skew(gray: &GrayImage, dpi: f32) -> SkewEstimate {
    let (a, _) = Analysis::new(gray, dpi);
    fit_lines(&a).estimate()
}

/// Which way text lines run in the image as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Axis {
    /// Lines run left-right (page upright or upside down).
    Rows,
    /// Lines run top-bottom (page turned by 90 or 270 degrees).
    Cols,
}

/// Result of the line search, with what orientation detection needs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct LineFit {
    pub axis: Axis,
    /// Best angle on `axis`, whatever the confidence.
    pub raw_angle: f32,
    pub confidence: f32,
    /// Coarse peak / mean profile score, per axis (1 = no structure).
    pub sharp_rows: f32,
    pub sharp_cols: f32,
    pub text_comps: usize,
}

impl LineFit {
    pub(crate) fn estimate(&self) -> SkewEstimate {
        if self.confidence < MIN_CONFIDENCE {
            SkewEstimate { angle_deg: 0.0, confidence: self.confidence }
        } else {
            SkewEstimate { angle_deg: self.raw_angle, confidence: self.confidence }
        }
    }
}

const COARSE_STEP: f32 = 0.25;

/// Runs the coarse-to-fine search on an analysed page.
pub(crate) fn fit_lines(a: &Analysis) -> LineFit {
    let n = a.text_count();
    let none = LineFit { axis: Axis::Rows, raw_angle: 0.0, confidence: 0.0, sharp_rows: 1.0, sharp_cols: 1.0, text_comps: n };
    if n < 3 {
        return none;
    }
    let centres: Vec<(f32, f32)> =
        a.ink.comps.iter().zip(&a.text).filter(|(_, t)| **t).map(|(c, _)| ((c.x0 + c.x1) as f32 / 2.0, (c.y0 + c.y1) as f32 / 2.0)).collect();
    let (w, h) = a.small.dimensions();
    let steps = (MAX_ANGLE / COARSE_STEP).round() as i32;
    let angles: Vec<f32> = (-steps..=steps).map(|k| k as f32 * COARSE_STEP).collect();
    let sweep = |axis: Axis| -> (f32, f32) {
        let scores: Vec<f64> = angles.par_iter().map(|&ang| centre_score(&centres, w, h, axis, ang)).collect();
        let (bi, best) = scores.iter().enumerate().fold((0, f64::MIN), |acc, (i, &s)| if s > acc.1 { (i, s) } else { acc });
        let mean = scores.iter().sum::<f64>() / scores.len() as f64;
        (angles[bi], if mean > 0.0 { (best / mean) as f32 } else { 1.0 })
    };
    let (ang_r, sharp_r) = sweep(Axis::Rows);
    let (ang_c, sharp_c) = sweep(Axis::Cols);
    let (axis, coarse, sharp) = if sharp_r >= sharp_c { (Axis::Rows, ang_r, sharp_r) } else { (Axis::Cols, ang_c, sharp_c) };
    let a1 = refine(a, axis, coarse, 0.1, 5);
    let a2 = refine(a, axis, a1, 0.02, 4);
    let angle = a2.clamp(-MAX_ANGLE, MAX_ANGLE);
    let structure = ((sharp - 1.15) / 0.6).clamp(0.0, 1.0);
    let amount = ((n as f32 - 20.0) / 40.0).clamp(0.0, 1.0);
    LineFit { axis, raw_angle: angle, confidence: structure * amount, sharp_rows: sharp_r, sharp_cols: sharp_c, text_comps: n }
}

/// Sum of squares of the profile of component centres (1-pixel bins, linear splat).
fn centre_score(centres: &[(f32, f32)], w: u32, h: u32, axis: Axis, deg: f32) -> f64 {
    let t = deg.to_radians().tan();
    let (len, across) = match axis {
        Axis::Rows => (h, w),
        Axis::Cols => (w, h),
    };
    let off = (across as f32 * t.abs()).ceil() + 2.0;
    let mut bins = vec![0f32; (len as f32 + 2.0 * off + 2.0) as usize];
    for &(x, y) in centres {
        let s = match axis {
            Axis::Rows => y + x * t,
            Axis::Cols => x - y * t,
        } + off;
        // `off` keeps s positive, so truncating is flooring (and needs no libm call).
        let i = s as usize;
        let f = s - i as f32;
        if i + 1 < bins.len() {
            bins[i] += 1.0 - f;
            bins[i + 1] += f;
        }
    }
    bins.iter().map(|&v| (v as f64) * (v as f64)).sum()
}

/// Scores `2k+1` angles `centre + i·step` on the ink pixels and returns the parabolic
/// peak around the best one.
fn refine(a: &Analysis, axis: Axis, centre: f32, step: f32, k: i32) -> f32 {
    let scores: Vec<f64> = (-k..=k)
        .into_par_iter()
        .map(|i| {
            let p = pixel_profile(a, axis, centre + i as f32 * step);
            p.iter().map(|&v| (v as f64) * (v as f64)).sum()
        })
        .collect();
    let (bi, _) = scores.iter().enumerate().fold((0usize, f64::MIN), |acc, (i, &s)| if s > acc.1 { (i, s) } else { acc });
    let mut best = centre + (bi as i32 - k) as f32 * step;
    if bi > 0 && bi + 1 < scores.len() {
        let (l, m, r) = (scores[bi - 1], scores[bi], scores[bi + 1]);
        let den = l - 2.0 * m + r;
        if den < 0.0 {
            let d = (0.5 * (l - r) / den).clamp(-0.5, 0.5);
            best += d as f32 * step;
        }
    }
    best
}

/// Projection profile of the text-like ink pixels along lines at `deg` on `axis`.
/// Bin `i` holds (in 1/256 pixel units) the ink whose line coordinate `s` is in
/// `[i - off, i + 1 - off)` for some margin `off`, where `s = y + x·tan` for rows and
/// `s = x - y·tan` for columns; `s` grows downward in the upright page for rows, and for
/// columns in the page turned upright by a clockwise quarter turn.
pub(crate) fn pixel_profile(a: &Analysis, axis: Axis, deg: f32) -> Vec<u32> {
    pixel_profile_of(a, &a.text, axis, deg)
}

/// As [`pixel_profile`] over the components marked in `text` (one flag per component).
pub(crate) fn pixel_profile_of(a: &Analysis, text: &[bool], axis: Axis, deg: f32) -> Vec<u32> {
    let (w, h) = a.small.dimensions();
    let t = (deg as f64).to_radians().tan();
    let tfp = (t * 65536.0).round() as i64;
    let (len, across) = match axis {
        Axis::Rows => (h as i64, w as i64),
        Axis::Cols => (w as i64, h as i64),
    };
    let off = ((across as f64) * t.abs()).ceil() as i64 + 2;
    let mut bins = vec![0u32; (len + 2 * off + 2) as usize];
    for r in &a.ink.runs {
        if !text[r.comp as usize] {
            continue;
        }
        match axis {
            Axis::Rows => {
                let mut s = ((r.y as i64 + off) << 16) + r.x0 as i64 * tfp;
                for _ in r.x0..r.x1 {
                    let b = (s >> 16) as usize;
                    let f = ((s >> 8) & 0xFF) as u32;
                    bins[b] += 256 - f;
                    bins[b + 1] += f;
                    s += tfp;
                }
            }
            Axis::Cols => {
                let s = ((r.x0 as i64 + off) << 16) - r.y as i64 * tfp;
                let b = (s >> 16) as usize;
                let f = ((s >> 8) & 0xFF) as u32;
                let n = (r.x1 - r.x0) as usize;
                for v in &mut bins[b..b + n] {
                    *v += 256 - f;
                }
                for v in &mut bins[b + 1..b + n + 1] {
                    *v += f;
                }
            }
        }
    }
    bins
}
