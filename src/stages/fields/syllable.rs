//! Vietnamese syllables, to put back a space OCR dropped between two words.
//!
//! Vietnamese writes one syllable per word: an initial consonant (optional), a rhyme (a
//! vowel nucleus and a final consonant or glide) and at most one tone mark. Tesseract drops
//! the space between bold capitals now and then (`PHƯỚCAN`, `CẦNTHƠ`, `TỈNHLÂM`); such a
//! word is no syllable, and when exactly one way of cutting it into the fewest syllables
//! exists, that is how it was printed. A word that is a syllable, has a character other than
//! a letter, has no such cut, or has several (`LONGAN`: `LONG AN` or `LON GAN`) is left as
//! read. Abbreviations (`UBND`, `STTTT`) have no vowel to cut around and are left alone,
//! and so is a word without a Vietnamese mark: a loanword (`video`, `camera`) may well be
//! cut into syllables that are not there.
//!
//! Pure; used by the header and signer readers on the values they return.

use std::sync::LazyLock;

use regex::Regex;
use unicode_normalization::UnicodeNormalization;

/// Initial consonant, then a rhyme: an open one (no final) or a nucleus with a final
/// consonant. Written on the lower-case letters with the tone marks removed.
static SYLLABLE: LazyLock<Regex> = LazyLock::new(|| {
    let initial = "(?:ngh|ng|nh|ch|gh|gi|kh|ph|th|tr|qu|b|c|d|đ|g|h|k|l|m|n|p|r|s|t|v|x)?";
    // Rhymes without a final consonant (vowels and glides).
    let open = "a|e|ê|i|y|o|ô|ơ|u|ư|ia|ua|ưa|ai|ao|au|ay|âu|ây|eo|êu|iu|oi|ôi|ơi|ui|ưi|ưu|ươi|uôi|iêu|yêu|ươu|oa|oe|uê|uy|oai|oay|oao|oeo|uya|uyu|uây|uơ";
    // Nuclei that take a final consonant, and the finals.
    let closed = "(?:a|ă|â|e|ê|i|y|o|ô|ơ|u|ư|iê|yê|uô|ươ|oa|oă|oe|uâ|uê|uy|uyê|oo)(?:ng|nh|ch|c|m|n|p|t)";
    Regex::new(&format!("^{initial}(?:{closed}|{open})$")).unwrap_or_else(|e| panic!("{e}"))
});

/// Tone marks (combining, after NFD): grave, acute, tilde, hook above, dot below.
const TONES: &[char] = &['\u{300}', '\u{301}', '\u{303}', '\u{309}', '\u{323}'];

/// True when `w` (letters only) is one Vietnamese syllable, in one case or capitalised.
pub(super) fn is_syllable(w: &str) -> bool {
    let mut cs = w.chars();
    let cased = match cs.next() {
        Some(_) => cs.clone().all(char::is_lowercase) || w.chars().all(char::is_uppercase),
        None => false,
    };
    if !cased {
        return false;
    }
    let lower = w.to_lowercase();
    let tones = lower.nfd().filter(|c| TONES.contains(c)).count();
    let base: String = lower.nfd().filter(|c| !TONES.contains(c)).nfc().collect();
    tones <= 1 && SYLLABLE.is_match(&base)
}

/// The word cut into syllables where OCR dropped the spaces (see the module doc), or the
/// word as read.
pub(super) fn split_word(w: &str) -> String {
    let chars: Vec<char> = w.chars().collect();
    // A word with no Vietnamese mark may be a loanword (`video`, `camera`): not cut.
    if chars.len() < 4 || !chars.iter().all(|c| c.is_alphabetic()) || chars.iter().all(char::is_ascii) || is_syllable(w) {
        return w.to_string();
    }
    // best[i]: (fewest syllables for chars[..i], number of ways with that many, last cut).
    let n = chars.len();
    let mut best: Vec<Option<(usize, usize, usize)>> = vec![None; n + 1];
    best[0] = Some((0, 1, 0));
    for end in 1..=n {
        for start in end.saturating_sub(7)..end {
            let Some((count, ways, _)) = best[start] else { continue };
            let piece: String = chars[start..end].iter().collect();
            if !is_syllable(&piece) {
                continue;
            }
            best[end] = match best[end] {
                Some((c, _, _)) if count + 1 < c => Some((count + 1, ways, start)),
                Some((c, w2, s)) if count + 1 == c => Some((c, w2 + ways, s)),
                None => Some((count + 1, ways, start)),
                other => other,
            };
        }
    }
    match best[n] {
        Some((count, 1, _)) if count >= 2 => {
            let mut cuts = Vec::new();
            let mut at = n;
            while at > 0 {
                let Some((_, _, start)) = best[at] else { return w.to_string() };
                cuts.push(chars[start..at].iter().collect::<String>());
                at = start;
            }
            cuts.reverse();
            cuts.join(" ")
        }
        _ => w.to_string(),
    }
}

/// A text with each word that is two or more syllables run together cut into them.
pub(crate) fn split_run_together(s: &str) -> String {
    s.split(' ').map(split_word).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syllables() {
        for w in [
            "PHƯỚC",
            "AN",
            "Nguyễn",
            "QUYỀN",
            "giám",
            "GIỚI",
            "gì",
            "khuya",
            "nghiêng",
            "Huế",
            "XUÂN",
            "QUỐC",
            "oanh",
            "người",
            "trường",
            "HÒA",
            "HOÀ",
            "ĐỊNH",
            "thủ",
            "tục",
        ] {
            assert!(is_syllable(w), "{w}");
        }
        for w in ["PHƯỚCAN", "CẦNTHƠ", "UBND", "STTTT", "nXuân", "Tâ", "EMAIL", "TỈNHLÂM", "ĐẮK", "xXx"] {
            assert!(!is_syllable(w), "{w}");
        }
    }

    #[test]
    fn dropped_spaces_are_put_back_when_the_cut_is_certain() {
        assert_eq!(split_run_together("ỦY BAN NHÂN DÂN XÃ PHƯỚCAN"), "ỦY BAN NHÂN DÂN XÃ PHƯỚC AN");
        assert_eq!(split_run_together("KHO BẠC NHÀ NƯỚC CẦNTHƠ"), "KHO BẠC NHÀ NƯỚC CẦN THƠ");
        assert_eq!(split_run_together("UBND TỈNHLÂM ĐỒNG"), "UBND TỈNH LÂM ĐỒNG");
        assert_eq!(split_run_together("TrầnXuân Nam"), "Trần Xuân Nam");
        assert_eq!(split_run_together("hồ sơđăng ký"), "hồ sơ đăng ký");
        // Two cuts possible: left as read.
        assert_eq!(split_word("LÔNGAN"), "LÔNGAN");
        // No Vietnamese mark: perhaps a loanword, left as read.
        assert_eq!(split_word("camera"), "camera");
        assert_eq!(split_word("VIDEO"), "VIDEO");
        // Abbreviations, syllables and words with other characters are left alone.
        for w in ["UBND", "STTTT", "BHXH", "TTPVHCC", "QUYỀN", "12/QĐ-UBND", "2025-2027,", "EMAIL"] {
            assert_eq!(split_word(w), w);
        }
    }
}
