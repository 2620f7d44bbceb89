//! The one embedded font set (Liberation Serif regular, bold and italic, metric-compatible
//! with Times New Roman, with every precomposed Vietnamese letter), text measurement in
//! millimetres and greedy word wrapping.
//!
//! Measurements are in font units scaled to millimetres, so line breaks do not depend on
//! the rendering dpi.

use std::sync::OnceLock;

use ab_glyph::{Font, FontRef, GlyphId};

/// Millimetres per typographic point.
pub const MM_PER_PT: f32 = 25.4 / 72.0;
/// Baseline-to-baseline distance as a multiple of the font size.
pub const LEADING: f32 = 1.3;

/// Font face.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Regular,
    Bold,
    Italic,
}

struct Fonts {
    regular: FontRef<'static>,
    bold: FontRef<'static>,
    italic: FontRef<'static>,
}

static REGULAR_TTF: &[u8] = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/samples/fonts/LiberationSerif-Regular.ttf"));
static BOLD_TTF: &[u8] = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/samples/fonts/LiberationSerif-Bold.ttf"));
static ITALIC_TTF: &[u8] = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/samples/fonts/LiberationSerif-Italic.ttf"));

pub(super) fn font(style: Style) -> &'static FontRef<'static> {
    static FONTS: OnceLock<Fonts> = OnceLock::new();
    let fonts = FONTS.get_or_init(|| {
        // The fonts are compiled in and checked by the tests; failing here is a build defect.
        let load = |b: &'static [u8]| FontRef::try_from_slice(b).expect("embedded font parses");
        Fonts { regular: load(REGULAR_TTF), bold: load(BOLD_TTF), italic: load(ITALIC_TTF) }
    });
    match style {
        Style::Regular => &fonts.regular,
        Style::Bold => &fonts.bold,
        Style::Italic => &fonts.italic,
    }
}

/// True if every character of `text` has a glyph in the face.
pub fn has_glyphs(text: &str, style: Style) -> bool {
    let f = font(style);
    text.chars().all(|c| c == ' ' || f.glyph_id(c) != GlyphId(0))
}

/// Advance width of `text` in millimetres (with kerning).
pub fn text_width_mm(text: &str, style: Style, size_pt: f32) -> f32 {
    let f = font(style);
    let upem = f.units_per_em().unwrap_or(2048.0);
    let mut w = 0.0;
    let mut prev: Option<GlyphId> = None;
    for c in text.chars() {
        let id = f.glyph_id(c);
        if let Some(p) = prev {
            w += f.kern_unscaled(p, id);
        }
        w += f.h_advance_unscaled(id);
        prev = Some(id);
    }
    w / upem * size_pt * MM_PER_PT
}

/// Greedy word wrap to `width_mm`; the first line is `first_indent_mm` narrower. A word
/// longer than the width gets a line of its own.
pub fn wrap(text: &str, style: Style, size_pt: f32, width_mm: f32, first_indent_mm: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    for word in text.split_whitespace() {
        let avail = if lines.is_empty() { width_mm - first_indent_mm } else { width_mm };
        if cur.is_empty() {
            cur.push_str(word);
            continue;
        }
        let candidate = format!("{cur} {word}");
        if text_width_mm(&candidate, style, size_pt) <= avail {
            cur = candidate;
        } else {
            lines.push(std::mem::take(&mut cur));
            cur.push_str(word);
        }
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}

/// Baseline-to-baseline distance in millimetres for `size_pt` at [`LEADING`].
pub fn line_h(size_pt: f32) -> f32 {
    size_pt * LEADING * MM_PER_PT
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fonts_cover_vietnamese() {
        let s = "ĂÂĐÊÔƠƯăâđêôơư ÀẢÃÁẠ ẰẲẴẮẶ ẦẨẪẤẬ ÈẺẼÉẸ ỀỂỄẾỆ ÌỈĨÍỊ ÒỎÕÓỌ ỒỔỖỐỘ ỜỞỠỚỢ ÙỦŨÚỤ ỪỬỮỨỰ ỲỶỸÝỴ \
                 àảãáạ ằẳẵắặ ầẩẫấậ èẻẽéẹ ềểễếệ ìỉĩíị òỏõóọ ồổỗốộ ờởỡớợ ùủũúụ ừửữứự ỳỷỹýỵ";
        for style in [Style::Regular, Style::Bold, Style::Italic] {
            let missing: String = s.chars().filter(|&c| !has_glyphs(&c.to_string(), style)).collect();
            assert!(missing.is_empty(), "{style:?} lacks {missing:?}");
        }
    }

    #[test]
    fn wrap_respects_width_and_keeps_words() {
        let text = "Hồ sơ gồm nhiều thành phần đã được kiểm tra đầy đủ hợp lệ theo quy định và được số hóa ngay khi tiếp nhận tại bưu điện";
        let lines = wrap(text, Style::Regular, 13.0, 60.0, 10.0);
        assert!(lines.len() > 2);
        assert_eq!(lines.join(" "), text);
        assert!(text_width_mm(&lines[0], Style::Regular, 13.0) <= 50.0);
        for l in &lines[1..] {
            assert!(text_width_mm(l, Style::Regular, 13.0) <= 60.0, "{l}");
        }
    }
}
