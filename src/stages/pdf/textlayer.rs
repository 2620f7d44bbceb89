//! The invisible text layer of a page: OCR words turned into PDF text operators. Pure.
//!
//! Each OCR line (consecutive words sharing `OcrWord::line`) is set on one baseline, the
//! bottom of the line's box, with a font size of about the line's height, so a
//! selection highlight covers the line and `pdftotext` keeps the line together. Lines
//! near the page's median height (within [`SIZE_TOLERANCE`]) take the median as their
//! size: a box's height depends on which diacritics and descenders the line happens to
//! have, and poppler's layout analysis joins lines into one block (one column of a
//! header, one paragraph) only when their font sizes differ by less than 5%; with a size
//! per line, `pdftotext` read the two header columns of a page row by row, interleaved.
//! Each word is placed with `Tm` at its left edge and stretched with `Tz` so its glyph advances span
//! exactly its box. Between two words of a line a space glyph is stretched over the gap,
//! so extractors see an explicit space and no hole. Text render mode 3 draws nothing.

use unicode_normalization::UnicodeNormalization;

use super::font::{CHAR_WIDTH, FONT_RESOURCE, encode_hex};
use super::num;
use crate::model::OcrWord;

/// Smallest font size written, points (protects against zero-height boxes).
const MIN_FONT_SIZE: f64 = 1.0;
/// Horizontal scaling for a space between touching or overlapping words, percent.
const MIN_SPACE_TZ: f64 = 1.0;
/// Lines up to this much taller or shorter (as a factor, 1 + this) than the page's median
/// line share the median's font size.
pub const SIZE_TOLERANCE: f64 = 0.45;

/// A word ready to be placed, in image pixels.
struct Placed {
    hex: String,
    codes: usize,
    left: f64,
    right: f64,
}

/// Builds the text-layer content operators for one page.
///
/// `dpi` must be positive; `page_height_px` is the image height, used to flip the y axis
/// (image rows grow downwards, PDF y grows upwards). Words with no visible text are skipped.
/// Returns an empty string when there is nothing to write.
pub(crate) fn text_layer(words: &[OcrWord], dpi: f32, page_height_px: u32) -> String {
    let k = 72.0 / f64::from(dpi);
    let page_h = f64::from(page_height_px);
    let mut out = String::new();

    let mut lines = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let line_id = words[i].line;
        let mut j = i;
        while j < words.len() && words[j].line == line_id {
            j += 1;
        }
        if let Some(line) = place_line(&words[i..j]) {
            lines.push(line);
        }
        i = j;
    }
    let heights: Vec<f64> = lines.iter().map(|l| l.bottom - l.top).collect();
    for (line, height) in lines.iter().zip(shared_sizes(&heights, SIZE_TOLERANCE)) {
        write_line(&mut out, line, height, k, page_h);
    }

    if out.is_empty() { out } else { format!("BT\n3 Tr\n{out}ET\n") }
}

/// One line's visible words and its box, in image pixels.
struct Line {
    words: Vec<Placed>,
    top: f64,
    bottom: f64,
}

fn place_line(words: &[OcrWord]) -> Option<Line> {
    let mut top = f64::MAX;
    let mut bottom = f64::MIN;
    let mut placed = Vec::with_capacity(words.len());
    for w in words {
        let text: String = w.text.nfc().filter(|c| !c.is_control()).collect();
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        let (hex, codes) = encode_hex(text);
        let left = f64::from(w.left);
        let right = left + f64::from(w.width.max(1));
        top = top.min(f64::from(w.top));
        bottom = bottom.max(f64::from(w.top) + f64::from(w.height.max(1)));
        placed.push(Placed { hex, codes, left, right });
    }
    (!placed.is_empty()).then_some(Line { words: placed, top, bottom })
}

/// The font size (in the unit of `heights`) of each line: the page's median line height
/// for every line within `tolerance` of it (a factor either way), its own height for the
/// others (a large title, a small footnote). Pure.
pub(crate) fn shared_sizes(heights: &[f64], tolerance: f64) -> Vec<f64> {
    let mut sorted = heights.to_vec();
    sorted.sort_by(f64::total_cmp);
    let Some(&median) = sorted.get(sorted.len() / 2) else { return Vec::new() };
    let factor = 1.0 + tolerance;
    heights.iter().map(|&h| if h >= median / factor && h <= median * factor { median } else { h }).collect()
}

fn write_line(out: &mut String, line: &Line, height: f64, k: f64, page_h: f64) {
    let (placed, bottom) = (&line.words, line.bottom);
    let size = (height * k).max(MIN_FONT_SIZE);
    let baseline = (page_h - bottom) * k;
    let advance = size * CHAR_WIDTH as f64 / 1000.0; // of one glyph at Tz 100
    out.push_str(&format!("/{FONT_RESOURCE} {} Tf\n", num(size)));
    for (n, w) in placed.iter().enumerate() {
        let width = (w.right - w.left) * k;
        let tz = 100.0 * width / (advance * w.codes as f64);
        out.push_str(&format!("1 0 0 1 {} {} Tm {} Tz <{}> Tj\n", num(w.left * k), num(baseline), num(tz), w.hex));
        if let Some(next) = placed.get(n + 1) {
            let gap = (next.left - w.right) * k;
            let tz = (100.0 * gap / advance).max(MIN_SPACE_TZ);
            out.push_str(&format!("{} Tz <0020> Tj\n", num(tz)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(text: &str, left: u32, top: u32, width: u32, height: u32, line: u32) -> OcrWord {
        OcrWord { text: text.into(), left, top, width, height, confidence: 90.0, line: (0, 0, line) }
    }

    #[test]
    fn one_line_one_baseline_words_span_their_boxes() {
        // 300 dpi: 300 px = 72 pt. Page 3000 px high.
        let words = [word("Số:", 300, 1000, 150, 50, 0), word("12", 600, 990, 100, 60, 0)];
        let ops = text_layer(&words, 300.0, 3000);
        // Line box: top 990, bottom 1050 -> size 60 px = 14.4 pt, baseline (3000-1050)*0.24.
        assert!(ops.starts_with("BT\n3 Tr\n/F0 14.4 Tf\n"), "{ops}");
        let baseline = num(1950.0 * 0.24);
        // "Số:" 3 codes over 150 px = 36 pt: Tz = 100*36/(3*7.2) = 166.667
        assert!(ops.contains(&format!("1 0 0 1 72 {baseline} Tm 166.667 Tz <00531ED1003A> Tj")), "{ops}");
        // Gap 450..600 = 150 px = 36 pt, space advance 7.2 pt -> Tz 500.
        assert!(ops.contains("500 Tz <0020> Tj"), "{ops}");
        assert!(ops.contains(&format!("1 0 0 1 144 {baseline} Tm")), "{ops}");
        assert!(ops.ends_with("ET\n"));
        assert_eq!(ops.matches(" Tf").count(), 1);
    }

    #[test]
    fn text_is_nfc_normalised() {
        // "ố" decomposed: o + circumflex + acute.
        let words = [word("so\u{302}\u{301}", 0, 0, 10, 10, 0)];
        let ops = text_layer(&words, 300.0, 100);
        assert!(ops.contains("<00731ED1>"), "{ops}");
    }

    #[test]
    fn lines_get_their_own_font_size_and_empty_words_are_skipped() {
        let words = [word("a", 0, 0, 10, 10, 0), word("  ", 20, 0, 10, 10, 0), word("b", 0, 50, 10, 20, 1)];
        let ops = text_layer(&words, 72.0, 100);
        assert_eq!(ops.matches(" Tf").count(), 2);
        assert_eq!(ops.matches("<0020>").count(), 0, "a lone word has no trailing space");
        assert!(ops.contains("1 0 0 1 0 30 Tm"), "{ops}");
    }

    #[test]
    fn lines_near_the_median_height_share_its_size() {
        // Body lines of 40-52 px (diacritics, descenders), a 90 px title, a 20 px note.
        let sizes = shared_sizes(&[44.0, 40.0, 90.0, 52.0, 47.0, 20.0], SIZE_TOLERANCE);
        assert_eq!(sizes, vec![47.0, 47.0, 90.0, 47.0, 47.0, 20.0]);
        assert!(shared_sizes(&[], SIZE_TOLERANCE).is_empty());
        // In the operators: two lines 10% apart get one Tf size.
        let words = [word("a", 0, 0, 10, 40, 0), word("b", 0, 50, 10, 44, 1), word("c", 0, 100, 10, 42, 2)];
        let ops = text_layer(&words, 72.0, 200);
        assert_eq!(ops.matches("/F0 42 Tf").count(), 3, "{ops}");
    }

    #[test]
    fn nothing_to_write_gives_empty_layer() {
        assert_eq!(text_layer(&[], 300.0, 100), "");
        assert_eq!(text_layer(&[word(" ", 0, 0, 5, 5, 0)], 300.0, 100), "");
    }

    #[test]
    fn overlapping_words_still_get_a_space() {
        let words = [word("ab", 0, 0, 20, 10, 0), word("cd", 15, 0, 20, 10, 0)];
        let ops = text_layer(&words, 72.0, 100);
        assert!(ops.contains("1 Tz <0020> Tj"), "{ops}");
    }
}
