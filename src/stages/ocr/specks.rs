//! Specks read as words: scanner dust that Tesseract reads as a word of punctuation
//! (`.`, `,`, `:`, `_`, `—`) standing alone, which would put a stray character and a stray
//! word into the text layer.
//!
//! Owns the decision ([`drop_specks`]): a word is a speck when it has no letter or digit
//! and its box is a few pixels on each side, small against the page's text: its larger
//! side is below [`MAX_SPECK_EM`] of the median height of the words with letters or digits.
//! A real full stop or comma is read with the word it follows, and what stands alone for
//! a reason is wider than a speck (a dash: about a third of a line height; a row of leader
//! dots). Pure; the Tesseract engine applies it to sohoa's reading (not to bare Tesseract's).

use crate::model::OcrWord;

/// A word without letters or digits whose larger side is below this share of the median
/// word height is a speck. At 13 pt and 300 dpi the median word is about 38 pixels high,
/// a printed full stop about 5 pixels wide (0.13), the specks read as words 2-4 pixels.
pub const MAX_SPECK_EM: f32 = 0.125;

/// Below this many words with letters or digits the page's text height is not known, and
/// no word is dropped.
const MIN_TEXT_WORDS: usize = 5;

/// `words` without the specks (see the module's doc), in the same order.
pub fn drop_specks(words: Vec<OcrWord>) -> Vec<OcrWord> {
    let text = |w: &OcrWord| w.text.chars().any(char::is_alphanumeric);
    let mut heights: Vec<u32> = words.iter().filter(|w| text(w)).map(|w| w.height).collect();
    if heights.len() < MIN_TEXT_WORDS {
        return words;
    }
    heights.sort_unstable();
    let limit = heights[heights.len() / 2] as f32 * MAX_SPECK_EM;
    words
        .into_iter()
        .filter(|w| {
            let speck = !text(w) && (w.width.max(w.height) as f32) < limit;
            if speck {
                tracing::trace!(text = %w.text, width = w.width, height = w.height, "speck dropped");
            }
            !speck
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(text: &str, left: u32, width: u32, height: u32) -> OcrWord {
        OcrWord { text: text.into(), left, top: 100, width, height, confidence: 50.0, line: (1, 1, 1) }
    }

    fn texts(words: &[OcrWord]) -> Vec<&str> {
        words.iter().map(|w| w.text.as_str()).collect()
    }

    #[test]
    fn dust_read_as_punctuation_is_dropped() {
        // Words 38 pixels high: a 4x3 "_" and a 2x2 "." are dust.
        let words = vec![
            w("Độc", 0, 80, 38),
            w("lập", 90, 70, 38),
            w("_", 170, 4, 3),
            w("-", 180, 18, 4),
            w("Tự", 210, 50, 38),
            w("do", 270, 50, 30),
            w(".", 330, 2, 2),
            w("-", 340, 18, 4),
            w("Hạnh", 370, 90, 40),
            w("phúc", 470, 90, 40),
            w("......", 570, 60, 5),
        ];
        // The dashes (18 pixels wide) and the leader dots stay.
        assert_eq!(texts(&drop_specks(words)), ["Độc", "lập", "-", "Tự", "do", "-", "Hạnh", "phúc", "......"]);
    }

    #[test]
    fn a_printed_stop_and_small_words_stay() {
        // A full stop of 5 pixels against 38-pixel words is not dust; a small letter or
        // digit never is.
        let words = vec![
            w("a", 0, 3, 3),
            w("1", 10, 2, 4),
            w(".", 20, 5, 5),
            w("bốn", 30, 60, 38),
            w("năm", 100, 60, 38),
            w("sáu", 170, 60, 38),
            w("bảy", 240, 60, 38),
        ];
        assert_eq!(texts(&drop_specks(words.clone())), texts(&words));
    }

    #[test]
    fn too_little_text_to_judge() {
        let words = vec![w("Số", 0, 50, 38), w(".", 60, 2, 2)];
        assert_eq!(drop_specks(words.clone()).len(), 2);
        assert!(drop_specks(Vec::new()).is_empty());
    }
}
