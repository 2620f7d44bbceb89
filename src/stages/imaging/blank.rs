//! Blank page detection (duplex backs, empty sheets).
//!
//! The measure ignores a margin band along every edge (scanner shadows, punch holes,
//! paper edges) and reasons on connected components, not on a global ink count:
//! - candidate ink is anything darker than the loose threshold, and a component only
//!   counts if a fifth of its pixels (and at least two) also pass the strong threshold
//!   (hysteresis), so faint show-through and shading never count, however large, even
//!   where a dark speck happens to touch them;
//! - components that touch the margin band and are long and thin along it are edge
//!   shadows or paper edges;
//! - glyph-sized components count as text only when at least three of them sit side by
//!   side on one line (a word), so isolated specks and dust never make a page non-blank;
//! - a large compact mark (stamp, signature, photo) makes the page non-blank.
//!
//! A page whose "paper" is dark (most of it darker than [`DARK_PAPER`]: a negative, as an
//! image in a colour space read the wrong way round renders) is judged as its positive, so
//! light text on a dark ground is text, never an empty sheet.
//!
//! A page judged blank at the work resolution (about 100 dpi, where a 5 pt letter is two
//! or three pixels high) gets a second look at [`FINE_DPI`] or finer, where glyphs down to
//! [`FINE_GLYPH_IN`] count ([`fine_verdict`]): small print (a page number, a note in 5 pt)
//! is text, not an empty sheet. Only pages judged blank pay for it.
//!
//! `ink_fraction` is the area of the counted components over the inspected area; the
//! page stage lists every page dropped as blank with it ([`blank_note`]).

use image::GrayImage;

use super::analysis::{Analysis, Levels, Rect, label};

/// Whether a page is blank and how much counted ink it has.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BlankVerdict {
    pub blank: bool,
    /// Counted ink area / inspected area (the page minus its margin band), 0..1.
    pub ink_fraction: f32,
}

/// Above this counted ink fraction a page is never blank.
const MAX_BLANK_INK: f32 = 0.003;

/// Decides whether a grayscale page scanned at `dpi` is blank.
pub fn blank_verdict(gray: &GrayImage, dpi: f32) -> BlankVerdict {
    let (a, _) = Analysis::new(gray, dpi);
    let v = verdict(&a);
    if v.blank { fine_verdict(gray.as_raw(), gray.width(), gray.height(), 1, dpi, v) } else { v }
}

/// Resolution of the second look at a page judged blank (at least this, less than twice it).
pub const FINE_DPI: f32 = 200.0;
/// Smallest glyph height counted at the second look, inches (about 1.8 pt: the x-height
/// of 4 pt print).
const FINE_GLYPH_IN: f32 = 0.025;
/// Smallest glyph height counted at the work resolution, inches.
const GLYPH_IN: f32 = 0.04;

/// The second look at a page `coarse` judged blank: the page (`channels` 1 or 3,
/// `w` × `h` at `dpi`) reduced to no less than [`FINE_DPI`] and judged with the small-glyph
/// threshold. Returns `coarse` if the page is still blank, or the scan is not finer than
/// the work resolution.
pub(crate) fn fine_verdict(px: &[u8], w: u32, h: u32, channels: usize, dpi: f32, coarse: BlankVerdict) -> BlankVerdict {
    let dpi = super::analysis::sane_dpi(dpi);
    if dpi < super::analysis::WORK_DPI * 1.5 {
        return coarse;
    }
    let f = ((dpi / FINE_DPI).floor() as u32).max(1);
    let fine = match channels {
        3 => super::analysis::downscale::<3>(px, w, h, f),
        _ => super::analysis::downscale::<1>(px, w, h, f),
    };
    let v = judge_positive(&fine, Levels::estimate(&fine), dpi / f as f32, FINE_GLYPH_IN);
    if v.blank { coarse } else { v }
}

/// A paper level below this is not paper: the page is a negative.
const DARK_PAPER: u8 = 96;

/// The page warning of a page dropped as blank, with its ink figure.
pub fn blank_note(v: &BlankVerdict) -> String {
    format!("dropped as blank: counted ink {:.3} % of the page (check the original if it should hold text)", v.ink_fraction * 100.0)
}

/// Blank verdict from an analysed page.
pub(crate) fn verdict(a: &Analysis) -> BlankVerdict {
    judge_positive(&a.small, a.levels, a.dpi, GLYPH_IN)
}

/// [`judge`] on the page, or on its positive if its paper is dark (a negative: the levels
/// are estimated again on the positive).
fn judge_positive(small: &GrayImage, levels: Levels, d: f32, glyph_in: f32) -> BlankVerdict {
    if levels.bg < DARK_PAPER {
        let mut positive = small.clone();
        positive.iter_mut().for_each(|v| *v = 255 - *v);
        let levels = Levels::estimate(&positive);
        return judge(&positive, levels, d, glyph_in);
    }
    judge(small, levels, d, glyph_in)
}

/// The verdict on a reduced page at `d` dpi whose paper and ink are `levels`, counting
/// glyphs from `glyph_in` inches high.
fn judge(small: &GrayImage, levels: Levels, d: f32, glyph_in: f32) -> BlankVerdict {
    let (w, h) = small.dimensions();
    let margin = (0.4 * d).min(0.06 * w.min(h) as f32).round() as u32;
    if w <= 2 * margin + 2 || h <= 2 * margin + 2 {
        return BlankVerdict { blank: true, ink_fraction: 0.0 };
    }
    let rect = Rect { x0: margin, y0: margin, x1: w - margin, y1: h - margin };
    let area = ((rect.x1 - rect.x0) * (rect.y1 - rect.y0)) as f32;
    let comps = label(small, levels.weak, levels.strong, rect);
    let glyph_min_h = (glyph_in * d).max(3.0) as u32;
    let glyph_max_h = (0.6 * d) as u32;
    let glyph_max_w = (2.0 * d) as u32;
    let mark_long = (0.5 * d) as u32;
    let mark_short = (0.2 * d) as u32;
    let mut glyphs: Vec<(f32, f32, f32, f32)> = Vec::new(); // x0, x1, centre y, height
    let mut ink = 0u64;
    let mut mark = false;
    for c in &comps.comps {
        if c.dark < 2 || c.dark * 5 < c.area {
            continue; // faint: show-through, shading
        }
        let (cw, ch) = (c.w(), c.h());
        let touches = c.x0 as u32 == rect.x0 || c.y0 as u32 == rect.y0 || c.x1 as u32 == rect.x1 || c.y1 as u32 == rect.y1;
        if touches && cw.max(ch) >= 6 * cw.min(ch).max(1) {
            continue; // edge shadow or paper edge reaching in from the margin
        }
        if (glyph_min_h..=glyph_max_h).contains(&ch) && cw <= glyph_max_w {
            glyphs.push((c.x0 as f32, c.x1 as f32, (c.y0 + c.y1) as f32 / 2.0, ch as f32));
            ink += c.area as u64;
        } else if cw.max(ch) >= mark_long && cw.min(ch) >= mark_short && !touches {
            mark = true;
            ink += c.area as u64;
        }
    }
    let ink_fraction = ink as f32 / area;
    let text = has_word(&mut glyphs);
    BlankVerdict { blank: !(text || mark || ink_fraction > MAX_BLANK_INK), ink_fraction }
}

/// True if some glyph has two neighbours on its line (three glyphs in a row, gaps no
/// wider than twice their height).
fn has_word(glyphs: &mut [(f32, f32, f32, f32)]) -> bool {
    if glyphs.len() >= 200 {
        return true;
    }
    glyphs.sort_by(|a, b| a.0.total_cmp(&b.0));
    glyphs.iter().enumerate().any(|(i, g)| {
        let near = glyphs
            .iter()
            .enumerate()
            .filter(|&(j, o)| {
                let hmax = g.3.max(o.3);
                let gap = (o.0 - g.1).max(g.0 - o.1);
                j != i && (o.2 - g.2).abs() <= 0.5 * hmax && gap <= 2.0 * hmax
            })
            .count();
        near >= 2
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_glyphs_in_a_row_make_a_word() {
        let mut g = vec![(10.0, 16.0, 50.0, 8.0), (18.0, 24.0, 50.5, 8.0), (26.0, 31.0, 49.0, 7.0)];
        assert!(has_word(&mut g));
        // The same three specks scattered over the page do not.
        let mut g = vec![(10.0, 16.0, 50.0, 8.0), (200.0, 206.0, 50.5, 8.0), (26.0, 31.0, 300.0, 7.0)];
        assert!(!has_word(&mut g));
    }
}
