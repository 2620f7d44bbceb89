//! Reading order of OCR words. Pure, no I/O.
//!
//! Tesseract's page layout often reads the two columns of a Decree 30/2020 header (agency
//! and number on the left, national motto and date on the right) and of the signature
//! block (recipients on the left, signer on the right) row by row, interleaving them, and
//! may even put both columns in one text line, which would make most of the character
//! error rate of a generated batch. This module owns the fix:
//!
//! 1. split every Tesseract line where two consecutive words are further apart than
//!    [`COLUMN_GAP_EM`] line heights (a column gap, not a word space) into *segments*;
//! 2. order the segments by recursive XY-cut: cut the set at its widest empty band,
//!    horizontal or vertical, whichever is wider, and read top before bottom, left before
//!    right; a set no band cuts is read top to bottom.
//!
//! Every segment becomes its own line (`OcrWord::line = (0, 0, n)`), so the PDF text
//! layer never stretches a space across a column gap.

use crate::model::OcrWord;

/// A gap wider than this many line heights inside a Tesseract line is a column gap.
pub const COLUMN_GAP_EM: f32 = 2.5;
/// A vertical band must be at least this many (median) line heights wide to cut columns.
/// Word spaces are a third of a line height; between two justified columns 8 mm apart at
/// 13 pt the band free of ink can be just over one line height (docs/performance.md,
/// "Diacritic correction", `vie-300-2col`).
const MIN_VERTICAL_CUT_EM: f32 = 0.9;

#[derive(Debug, Clone)]
struct Segment {
    words: Vec<OcrWord>,
    left: i64,
    top: i64,
    right: i64,
    bottom: i64,
}

impl Segment {
    /// The segment of `words`; its box is that of its words with text, so a speck read
    /// as `__` at the start of a line does not reach into the gutter before it.
    fn new(words: Vec<OcrWord>) -> Segment {
        let tall = words.iter().map(|w| w.height).max().unwrap_or(0);
        let speck = |w: &OcrWord| w.height * 2 < tall && !w.text.chars().any(char::is_alphanumeric);
        let solid: Vec<&OcrWord> = words.iter().filter(|w| !speck(w)).collect();
        let basis: Vec<&OcrWord> = if solid.is_empty() { words.iter().collect() } else { solid };
        let left = basis.iter().map(|w| w.left as i64).min().unwrap_or(0);
        let top = basis.iter().map(|w| w.top as i64).min().unwrap_or(0);
        let right = basis.iter().map(|w| (w.left + w.width) as i64).max().unwrap_or(0);
        let bottom = basis.iter().map(|w| (w.top + w.height) as i64).max().unwrap_or(0);
        Segment { words, left, top, right, bottom }
    }
    fn height(&self) -> i64 {
        (self.bottom - self.top).max(1)
    }
}

/// Words in reading order, each segment (a line, or the part of a line in one column) a
/// line of its own.
pub fn reading_order(words: Vec<OcrWord>) -> Vec<OcrWord> {
    let segments = segments(words);
    if segments.is_empty() {
        return Vec::new();
    }
    let mut heights: Vec<i64> = segments.iter().map(Segment::height).collect();
    heights.sort_unstable();
    let em = heights[heights.len() / 2] as f32;
    let mut ordered = Vec::with_capacity(segments.len());
    xy_cut(segments, em, &mut ordered);
    let mut out = Vec::new();
    for (n, seg) in ordered.into_iter().enumerate() {
        for mut w in seg.words {
            w.line = (0, 0, n as u32);
            out.push(w);
        }
    }
    out
}

/// Tesseract lines (consecutive words with the same `line`), split at column gaps.
fn segments(words: Vec<OcrWord>) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut line: Vec<OcrWord> = Vec::new();
    let flush = |line: &mut Vec<OcrWord>, out: &mut Vec<Segment>| {
        if line.is_empty() {
            return;
        }
        line.sort_by_key(|w| w.left);
        let height = line.iter().map(|w| w.height).max().unwrap_or(1).max(1) as f32;
        let mut current: Vec<OcrWord> = Vec::new();
        for w in line.drain(..) {
            if let Some(prev) = current.last() {
                let gap = w.left as f32 - (prev.left + prev.width) as f32;
                if gap > COLUMN_GAP_EM * height {
                    out.push(Segment::new(std::mem::take(&mut current)));
                }
            }
            current.push(w);
        }
        out.push(Segment::new(current));
    };
    for w in words {
        if line.last().is_some_and(|l| l.line != w.line) {
            flush(&mut line, &mut out);
        }
        line.push(w);
    }
    flush(&mut line, &mut out);
    out
}

/// The widest empty band between the projections of `segs` on one axis: (gap width, cut
/// position), or None when the projections overlap into one interval.
fn widest_gap(segs: &[Segment], span: impl Fn(&Segment) -> (i64, i64)) -> Option<(i64, i64)> {
    let mut spans: Vec<(i64, i64)> = segs.iter().map(span).collect();
    spans.sort_unstable();
    let mut reach = spans[0].1;
    let mut best: Option<(i64, i64)> = None;
    for &(start, end) in &spans[1..] {
        if start > reach {
            let gap = start - reach;
            if best.is_none_or(|(g, _)| gap > g) {
                best = Some((gap, reach + gap / 2));
            }
        }
        reach = reach.max(end);
    }
    best
}

/// A segment with no letter or digit, lower than half a line: a speck read as a mark.
fn is_speck(s: &Segment, em: f32) -> bool {
    (s.height() as f32) < 0.5 * em && !s.words.iter().any(|w| w.text.chars().any(char::is_alphanumeric))
}

fn xy_cut(mut segs: Vec<Segment>, em: f32, out: &mut Vec<Segment>) {
    if segs.len() <= 1 {
        out.extend(segs);
        return;
    }
    // Specks read as `__` or `|` in a gutter would close the gap between two columns:
    // the cuts are found among the segments with text, and the specks follow their centre.
    let solid: Vec<Segment> = segs.iter().filter(|s| !is_speck(s, em)).cloned().collect();
    let basis = if solid.len() >= 2 { &solid } else { &segs };
    let rows = widest_gap(basis, |s| (s.top, s.bottom));
    let cols = widest_gap(basis, |s| (s.left, s.right)).filter(|&(gap, _)| gap as f32 >= MIN_VERTICAL_CUT_EM * em);
    let cut = match (rows, cols) {
        (Some(r), Some(c)) => Some(if c.0 > r.0 { (false, c.1) } else { (true, r.1) }),
        (Some(r), None) => Some((true, r.1)),
        (None, Some(c)) => Some((false, c.1)),
        (None, None) => None,
    };
    match cut {
        Some((horizontal, at)) => {
            let before = |s: &Segment| match (horizontal, is_speck(s, em)) {
                (true, false) => s.bottom <= at,
                (false, false) => s.right <= at,
                (true, true) => s.top + s.bottom <= 2 * at,
                (false, true) => s.left + s.right <= 2 * at,
            };
            let (first, second): (Vec<Segment>, Vec<Segment>) = segs.into_iter().partition(before);
            if first.is_empty() || second.is_empty() {
                // Only specks on one side: nothing left to cut.
                let mut all: Vec<Segment> = first.into_iter().chain(second).collect();
                all.sort_by_key(|s| (s.top + s.bottom, s.left));
                out.extend(all);
                return;
            }
            xy_cut(first, em, out);
            xy_cut(second, em, out);
        }
        None => {
            // Overlapping in both directions (touching lines): top to bottom, then left.
            segs.sort_by_key(|s| (s.top + s.bottom, s.left));
            out.extend(segs);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(text: &str, left: u32, top: u32, width: u32, line: u32) -> OcrWord {
        OcrWord { text: text.into(), left, top, width, height: 40, confidence: 90.0, line: (1, 1, line) }
    }

    fn text(words: &[OcrWord]) -> String {
        crate::stages::ocr::tsv::page_from_words(words.to_vec()).text
    }

    #[test]
    fn a_two_column_header_read_row_by_row_is_read_column_by_column() {
        // Tesseract put each row of both columns in one line.
        let words = vec![
            w("UBND", 100, 100, 200, 0),
            w("CỘNG", 1200, 100, 250, 0),
            w("HÒA", 1470, 100, 200, 0),
            w("SỞ", 150, 160, 100, 1),
            w("Độc", 1250, 160, 150, 1),
            w("lập", 1420, 160, 150, 1),
            w("Số:", 100, 260, 100, 2),
            w("12/SXD", 220, 260, 250, 2),
            w("Hà", 1300, 260, 100, 2),
            w("Nội", 1420, 260, 150, 2),
            // Body: full-width lines.
            w("Kính", 100, 500, 200, 3),
            w("gửi", 320, 500, 150, 3),
            w("các", 490, 500, 1500, 3),
            w("đơn", 100, 560, 1900, 4),
        ];
        let ordered = reading_order(words);
        assert_eq!(text(&ordered), "UBND\nSỞ\nSố: 12/SXD\nCỘNG HÒA\nĐộc lập\nHà Nội\nKính gửi các\nđơn");
    }

    #[test]
    fn a_single_column_page_keeps_its_order_and_word_spaces() {
        let words = vec![w("Một", 100, 100, 200, 0), w("hai", 330, 100, 200, 0), w("ba", 100, 160, 200, 1)];
        assert_eq!(text(&reading_order(words)), "Một hai\nba");
    }

    #[test]
    fn signature_block_recipients_come_before_the_signer() {
        let words = vec![
            w("Body", 100, 100, 1800, 0),
            w("Nơi", 100, 300, 150, 1),
            w("nhận:", 270, 300, 200, 1),
            w("KT.", 1300, 300, 120, 1),
            w("GIÁM", 1440, 300, 200, 1),
            w("-", 100, 360, 20, 2),
            w("Lưu", 140, 360, 100, 2),
            w("PHÓ", 1300, 360, 150, 2),
            w("Tên", 1300, 600, 150, 3),
        ];
        assert_eq!(text(&reading_order(words)), "Body\nNơi nhận:\n- Lưu\nKT. GIÁM\nPHÓ\nTên");
    }

    #[test]
    fn a_speck_in_the_gutter_does_not_join_the_columns() {
        // Two columns of three lines, a speck read as "__" in the gutter beside the second
        // row, splits the 80-pixel gutter into two gaps narrower than a column cut.
        let mut words = Vec::new();
        for row in 0..3u32 {
            words.push(w(&format!("trái{row}"), 100, 100 + 70 * row, 900, row));
            words.push(w(&format!("phải{row}"), 1080, 100 + 70 * row, 900, row + 10));
        }
        let mut speck = w("__", 1040, 175, 2, 9);
        speck.height = 3;
        words.push(speck);
        // And one read at the start of a right-column line, in the same Tesseract line.
        let mut lead = w("__", 1030, 310, 2, 13);
        lead.height = 3;
        words.push(lead);
        words.push(w("phải3", 1080, 310, 900, 13));
        let t = text(&reading_order(words));
        let lines: Vec<&str> = t.lines().map(|l| l.trim_start_matches("__").trim()).filter(|l| !l.is_empty()).collect();
        assert_eq!(lines, ["trái0", "trái1", "trái2", "phải0", "phải1", "phải2", "phải3"], "{t}");
    }

    #[test]
    fn columns_a_line_height_apart_are_read_column_by_column() {
        // Two columns of four lines, 44 pixels (1.1 line heights) apart, each column its own
        // Tesseract block.
        let mut words = Vec::new();
        for row in 0..4u32 {
            let top = 100 + 60 * row;
            words.push(w(&format!("trái{row}"), 100, top, 400, row));
            words.push(w("dòng", 520, top, 380, row));
            words.push(w(&format!("phải{row}"), 944, top, 500, row + 10));
            words.push(w("cột", 1464, top, 380, row + 10));
        }
        let t = text(&reading_order(words));
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines, ["trái0 dòng", "trái1 dòng", "trái2 dòng", "trái3 dòng", "phải0 cột", "phải1 cột", "phải2 cột", "phải3 cột"], "{t}");
    }

    #[test]
    fn empty_input_gives_empty_output() {
        assert!(reading_order(Vec::new()).is_empty());
    }
}
