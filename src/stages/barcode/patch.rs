//! Kodak patch codes: reading them off the page image, and drawing them.
//!
//! A patch code is four parallel black bars separated by three spaces; each bar is wide
//! (0.20 in) or narrow (0.08 in), spaces are narrow, two bars are wide: 0.80 in overall
//! (Kodak A-61599, "Patch Code Information"). The six patterns, read from the leading
//! edge (the top of an upright page, whose bars run across the page):
//!
//! | patch | bars      |
//! |-------|-----------|
//! | 1     | W W N N   |
//! | 2     | W N N W   |
//! | 3     | W N W N   |
//! | 4     | N W W N   |
//! | 6     | N N W W   |
//! | T     | N W N W   |
//!
//! Patches 1/6 and 3/T are each other's mirror image, so the reading direction matters:
//! horizontal bars are read top to bottom, vertical bars left to right (a page turned a
//! quarter counter-clockwise, its leading edge on the left). The pipeline turns pages
//! upright before reading barcodes, so upright is the case that matters.
//!
//! The detector ([`find_patches`]) works on the binarised working image of
//! [`super::find`]: every 0.5 mm it takes a scan line across the bars (rows and columns),
//! splits it into runs and looks for bar-space-bar-space-bar-space-bar with the patch
//! widths scaled from the dpi (generous tolerances: toner spread, blur, ±15° skew), white
//! on both sides. A patch is reported when the same pattern is found on consecutive scan
//! lines over at least [`MIN_LENGTH_MM`] (Kodak's bars are at least 19 mm long), which
//! body text, tables and photos do not produce.

use super::find::Work;
use image::{GrayImage, Luma};

/// Format name reported for patch codes.
pub const FORMAT: &str = "PATCH_CODE";
/// Narrow bar and space width, and wide bar width, in inches.
pub const NARROW_IN: f32 = 0.08;
pub const WIDE_IN: f32 = 0.20;
/// Shortest run of agreeing scan lines accepted as a patch.
pub const MIN_LENGTH_MM: f32 = 15.0;
const STEP_MM: f32 = 0.5;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PatchKind {
    P1,
    P2,
    P3,
    P4,
    P6,
    T,
}

impl PatchKind {
    pub const ALL: [PatchKind; 6] = [PatchKind::P1, PatchKind::P2, PatchKind::P3, PatchKind::P4, PatchKind::P6, PatchKind::T];

    /// Bars from the leading edge, true = wide.
    pub fn bars(self) -> [bool; 4] {
        match self {
            PatchKind::P1 => [true, true, false, false],
            PatchKind::P2 => [true, false, false, true],
            PatchKind::P3 => [true, false, true, false],
            PatchKind::P4 => [false, true, true, false],
            PatchKind::P6 => [false, false, true, true],
            PatchKind::T => [false, true, false, true],
        }
    }

    fn from_bars(bars: [bool; 4]) -> Option<PatchKind> {
        PatchKind::ALL.into_iter().find(|k| k.bars() == bars)
    }

    /// The text reported as the barcode's content (what separator rules match).
    pub fn text(self) -> &'static str {
        match self {
            PatchKind::P1 => "PATCH1",
            PatchKind::P2 => "PATCH2",
            PatchKind::P3 => "PATCH3",
            PatchKind::P4 => "PATCH4",
            PatchKind::P6 => "PATCH6",
            PatchKind::T => "PATCHT",
        }
    }

    /// `1`, `2`, `3`, `4`, `6` or `T` (case-insensitive, `PATCH` prefix allowed).
    pub fn parse(s: &str) -> Option<PatchKind> {
        let s = s.trim().to_ascii_uppercase();
        let s = s.strip_prefix("PATCH").unwrap_or(&s).trim();
        match s {
            "1" => Some(PatchKind::P1),
            "2" => Some(PatchKind::P2),
            "3" => Some(PatchKind::P3),
            "4" => Some(PatchKind::P4),
            "6" => Some(PatchKind::P6),
            "T" => Some(PatchKind::T),
            _ => None,
        }
    }

    /// Human label, e.g. `PATCH T`.
    pub fn label(self) -> String {
        format!("PATCH {}", &self.text()[5..])
    }
}

/// A patch code found on a page.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchCode {
    pub kind: PatchKind,
    /// True if the bars run across the page (read top to bottom).
    pub horizontal_bars: bool,
    /// Length of the bars found, mm.
    pub length_mm: f32,
}

/// One scan line's match: the pattern and the centre of the code along the line.
#[derive(Clone, Copy)]
struct Hit {
    line: u32,
    kind: PatchKind,
    centre: f32,
}

/// Patch codes on the page, at most one per kind and direction.
pub fn find_patches(work: &Work) -> Vec<PatchCode> {
    let mut out = Vec::new();
    let step = work.mm(STEP_MM).max(1.0) as u32;
    // Columns as rows, so both directions read runs off whole words.
    let columns = work.bits.transpose();
    let mut runs = Vec::new();
    for horizontal_bars in [true, false] {
        // Horizontal bars: scan columns (along y); vertical bars: scan rows (along x).
        let (bits, len) = if horizontal_bars { (&columns, work.h) } else { (&work.bits, work.w) };
        let mut hits = Vec::new();
        for line in (0..bits.h).step_by(step as usize) {
            super::find::runs_of(bits.row(line), len as usize, &mut runs);
            for (kind, centre) in match_runs(&runs, work.dpi) {
                hits.push(Hit { line, kind, centre });
            }
        }
        for kind in PatchKind::ALL {
            let best = longest_chain(&hits, kind, step, work.mm(3.0));
            let length_mm = best as f32 * step as f32 * 25.4 / work.dpi;
            if length_mm >= MIN_LENGTH_MM {
                out.push(PatchCode { kind, horizontal_bars, length_mm });
            }
        }
    }
    out
}

/// Patterns found in one scan line's runs (ink, length): (kind, centre position).
fn match_runs(runs: &[(bool, u32)], dpi: f32) -> Vec<(PatchKind, f32)> {
    let narrow = NARROW_IN * dpi;
    let wide = WIDE_IN * dpi;
    let split = (narrow + wide) / 2.0;
    let mut out = Vec::new();
    if runs.len() < 7 {
        return out;
    }
    // No bar is shorter than half a narrow bar: text strokes are, so most runs end here.
    let shortest_bar = (0.5 * narrow) as u32;
    let mut start = 0u32;
    for i in 0..=runs.len() - 7 {
        let here = start;
        start += runs[i].1;
        if !runs[i].0 || runs[i].1 < shortest_bar {
            continue;
        }
        // White before (or the line's start) and after (or its end), at least one narrow.
        let quiet = |j: Option<usize>| match j {
            None => true,
            Some(j) if j >= runs.len() => true,
            Some(j) => !runs[j].0 && runs[j].1 as f32 >= narrow,
        };
        if !quiet(i.checked_sub(1)) || !quiet(Some(i + 7)) {
            continue;
        }
        let w: [f32; 7] = std::array::from_fn(|j| runs[i + j].1 as f32);
        let spaces_ok = [1, 3, 5].iter().all(|&j| (0.45 * narrow..=1.75 * narrow).contains(&w[j]));
        let mut bars = [false; 4];
        let mut bars_ok = true;
        for (b, &j) in [0, 2, 4, 6].iter().enumerate() {
            bars[b] = w[j] > split;
            let want = if bars[b] { wide } else { narrow };
            let (lo, hi) = if bars[b] { (0.7, 1.4) } else { (0.5, 1.75) };
            bars_ok &= (lo * want..=hi * want).contains(&w[j]);
        }
        let total: f32 = w.iter().sum();
        let total_ok = (0.8 * 0.8 * dpi..=1.2 * 0.8 * dpi).contains(&total);
        if spaces_ok
            && bars_ok
            && total_ok
            && let Some(kind) = PatchKind::from_bars(bars)
        {
            out.push((kind, here as f32 + total / 2.0));
        }
    }
    out
}

/// Longest run of scan lines (consecutive, `step` apart) with `kind` whose centres move by
/// at most `drift` per line; returned as a count of lines.
fn longest_chain(hits: &[Hit], kind: PatchKind, step: u32, drift: f32) -> usize {
    let mut best = 0;
    // (last line, last centre, length) of open chains.
    let mut open: Vec<(u32, f32, usize)> = Vec::new();
    for h in hits.iter().filter(|h| h.kind == kind) {
        let mut extended = false;
        for c in open.iter_mut() {
            if h.line == c.0 + step && (h.centre - c.1).abs() <= drift {
                *c = (h.line, h.centre, c.2 + 1);
                best = best.max(c.2);
                extended = true;
                break;
            }
        }
        if !extended {
            open.push((h.line, h.centre, 1));
            best = best.max(1);
        }
        open.retain(|c| c.0 + step >= h.line);
    }
    best
}

/// Draws `kind` with horizontal bars `length_mm` long on a white image (no quiet zone
/// beyond `margin_px`), at `dpi`; bars are `ink` gray.
pub fn render_patch(kind: PatchKind, dpi: f32, length_mm: f32, margin_px: u32) -> GrayImage {
    let px = |inch: f32| (inch * dpi).round() as u32;
    let len = (length_mm / 25.4 * dpi).round() as u32;
    let total = px(0.8);
    let mut img = GrayImage::from_pixel(len + 2 * margin_px, total + 2 * margin_px, Luma([255]));
    let mut y = margin_px;
    for (i, wide) in kind.bars().into_iter().enumerate() {
        let h = if wide { px(WIDE_IN) } else { px(NARROW_IN) };
        for yy in y..y + h {
            for x in margin_px..margin_px + len {
                img.put_pixel(x, yy, Luma([0]));
            }
        }
        y += h;
        if i < 3 {
            y += px(NARROW_IN);
        }
    }
    img
}
