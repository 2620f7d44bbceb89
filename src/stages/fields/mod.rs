//! Document fields from OCR text: the header of a Decree 30/2020 administrative document
//! (issuing and parent body, number and symbol, place and date, type, trích yếu), its
//! signature block (capacity, position, signer) and the 12-digit personal ID numbers
//! (CCCD) on any page, as [`DocumentFields`].
//!
//! Pure: lines of OCR text in reading order in, fields out. Called by the pipeline
//! (`crate::runtime::pipeline`) when a document is closed, before its PDF is written (the
//! fields go into the XMP), and by `sohoa eval-fields`.
//!
//! How it reads (submodules):
//! - `header`: the first page. Keywords ("Số", "ngày … tháng … năm …", "V/v", the type
//!   names of Art. 7) are matched on the Vietnamese fold (`crate::model::fold_vietnamese`: no tones
//!   or vowel marks, any case, `đ` as `d`), so a misread mark does not hide them; the
//!   values are returned as read (NFC, single spaces).
//! - `symbol`: a number and symbol's type and body parts set right from the title and
//!   the body name printed on the page, where OCR mangled a letter.
//! - `syllable`: a space OCR dropped between two Vietnamese words put back (`PHƯỚCAN`),
//!   in the values read, where the cut is certain.
//! - `signer`: the last page's signature block.
//! - `cccd`: 12 digits, the first three a province code, standing alone.
//!
//! Invariants: a field not found is `None`, never a guess (an ambiguous reading is
//! dropped); every value fits its App. VI length ([`DocumentFields::LIMITS`]).
//! Line geometry (from the OCR words) is used where present to tell a centred summary
//! line from body prose; text alone ([`PageLines::from_text`]) works with stricter rules.

mod cccd;
mod header;
mod signer;
mod syllable;
mod symbol;

pub use cccd::{PROVINCE_CODES, find_cccd, is_province_code};

use crate::model::{DocumentFields, OcrPage, push_folded};
use unicode_normalization::UnicodeNormalization;

/// One line of OCR text, with its horizontal extent in pixels when known.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// NFC, whitespace runs collapsed to one space, trimmed.
    pub text: String,
    /// `crate::model::fold_vietnamese` of `text`.
    pub folded: String,
    /// Left and right edge in pixels; `None` for text without geometry.
    pub span: Option<(u32, u32)>,
    /// For each byte of `folded`, the byte offset in `text` of the character it came from.
    map: Vec<usize>,
}

impl Line {
    pub fn new(text: &str, span: Option<(u32, u32)>) -> Line {
        let text = clean(text);
        let mut folded = String::with_capacity(text.len());
        let mut map = Vec::with_capacity(text.len());
        for (i, c) in text.char_indices() {
            let before = folded.len();
            push_folded(c, &mut folded);
            map.resize(map.len() + folded.len() - before, i);
        }
        Line { folded, text, span, map }
    }

    /// The text as read from the character that gave folded byte `at` on (the end of the
    /// text when `at` is past the folded text).
    pub(crate) fn text_from(&self, at: usize) -> &str {
        match self.map.get(at) {
            Some(&i) => &self.text[i..],
            None => "",
        }
    }

    /// True for a line with no letter or digit (a rule, a speck).
    pub(crate) fn is_rule(&self) -> bool {
        !self.text.chars().any(char::is_alphanumeric)
    }

    /// Horizontal centre in pixels, when known.
    pub(crate) fn center(&self) -> Option<f32> {
        self.span.map(|(l, r)| (l + r) as f32 / 2.0)
    }
}

/// The lines of one page in reading order, and the page width (0 when unknown).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PageLines {
    pub lines: Vec<Line>,
    pub width: u32,
}

impl PageLines {
    /// The lines of an OCR page (words grouped by their `line`, in order), with geometry.
    /// A page with text but no words falls back to [`PageLines::from_text`].
    pub fn from_ocr(page: &OcrPage, width: u32) -> PageLines {
        if page.words.is_empty() {
            return PageLines::from_text(&page.text);
        }
        let mut lines = Vec::new();
        let mut i = 0;
        while i < page.words.len() {
            let key = page.words[i].line;
            let mut j = i;
            while j < page.words.len() && page.words[j].line == key {
                j += 1;
            }
            let words = &page.words[i..j];
            let text = words.iter().map(|w| w.text.as_str()).collect::<Vec<_>>().join(" ");
            let left = words.iter().map(|w| w.left).min().unwrap_or(0);
            let right = words.iter().map(|w| w.left + w.width).max().unwrap_or(0);
            let line = Line::new(&text, Some((left, right)));
            if !line.text.is_empty() {
                lines.push(line);
            }
            i = j;
        }
        PageLines { lines, width }
    }

    /// The lines of plain text (`\n`-separated), without geometry.
    pub fn from_text(text: &str) -> PageLines {
        PageLines { lines: text.lines().map(|l| Line::new(l, None)).filter(|l| !l.text.is_empty()).collect(), width: 0 }
    }
}

/// Reads the fields of a document from its pages (in order). No pages: nothing found.
pub fn extract(pages: &[PageLines]) -> DocumentFields {
    let mut f = DocumentFields::default();
    if let Some(first) = pages.first() {
        header::read(first, &mut f);
    }
    if let Some(last) = pages.last() {
        signer::read(last, &mut f);
    }
    for p in pages {
        for line in &p.lines {
            for id in find_cccd(&line.text) {
                if !f.cccd.contains(&id) {
                    f.cccd.push(id);
                }
            }
        }
    }
    enforce_limits(&mut f);
    f
}

/// Fields of a document from the OCR of its pages and the pages' pixel widths.
pub fn extract_from_ocr<'a>(pages: impl IntoIterator<Item = (&'a OcrPage, u32)>) -> DocumentFields {
    let lines: Vec<PageLines> = pages.into_iter().map(|(p, w)| PageLines::from_ocr(p, w)).collect();
    extract(&lines)
}

/// Drops a value longer than its App. VI length: such a reading ran into other text.
fn enforce_limits(f: &mut DocumentFields) {
    let fits = |name: &str, v: &Option<String>| v.as_ref().is_some_and(|v| v.chars().count() <= DocumentFields::limit(name).unwrap_or(usize::MAX));
    macro_rules! cap {
        ($($n:ident),*) => {$(
            if !fits(stringify!($n), &f.$n) {
                f.$n = None;
            }
        )*};
    }
    cap!(so_ky_hieu, ngay, loai, co_quan, co_quan_chu_quan, trich_yeu, nguoi_ky, chuc_vu, tham_quyen);
}

/// NFC, OCR look-alikes of Vietnamese letters mapped back (`Ð` eth for `Đ`), whitespace
/// runs collapsed, trimmed.
pub(crate) fn clean(s: &str) -> String {
    let nfc: String = s.nfc().map(|c| if c == 'Ð' { 'Đ' } else { c }).collect();
    nfc.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Marks a speck of dirt or a stamp's edge is read as inside running text: never part of
/// a Vietnamese summary (a real apostrophe or quote is not among them: `'` is, as Vietnamese
/// prose has no apostrophes).
pub(crate) const SPECKS: &[char] = &['\'', '‘', '’', '`', '´', 'ˆ', '^', '_', '~', '˜', '¨', '·', '•', '|', '°', '¬'];

/// Running text without the specks OCR read inside it: a word made only of specks is
/// dropped, specks at the ends of a word are cut (`hồ sơ ' đăng ký_` → `hồ sơ đăng ký`).
pub(crate) fn drop_specks(s: &str) -> String {
    s.split_whitespace().map(|w| w.trim_matches(SPECKS)).filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ")
}

/// True when the text has at least two letters and its letters are capitals, one small
/// letter in ten allowed (OCR reads a capital with a mark as small now and then).
pub(crate) fn is_caps(s: &str) -> bool {
    let letters: Vec<char> = s.chars().filter(|c| c.is_alphabetic()).collect();
    let small = letters.iter().filter(|c| c.is_lowercase()).count();
    letters.len() >= 2 && small * 10 <= letters.len() && !letters[0].is_lowercase()
}

/// Number of words (whitespace-separated runs with a letter or digit).
pub(crate) fn word_count(s: &str) -> usize {
    s.split_whitespace().filter(|w| w.chars().any(char::is_alphanumeric)).count()
}

#[cfg(test)]
mod tests;
