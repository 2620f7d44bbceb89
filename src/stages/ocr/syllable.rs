//! Vietnamese syllables: which strings are one, and how their marks are told apart.
//!
//! Owns the orthography rules the diacritic correction (`diacritics`) leans on. A
//! Vietnamese word is one syllable: an optional onset (`b`, `ch`, `ngh`, `qu`, `gi`...), a
//! rhyme from a closed list (`a`, `oai`, `ương`, `uyêt`...), and one of six tones, of which
//! only sắc and nặng can fall on a rhyme ending in `p`, `t`, `c` or `ch`. The rules are
//! written here from the orthography (no dictionary file): a string they accept may still
//! not be a word in use, but a string they reject is not Vietnamese.
//!
//! Pure functions, no I/O.

use unicode_normalization::UnicodeNormalization;

/// The six tones. `Level` has no mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tone {
    Level,
    Grave,
    Acute,
    Hook,
    Tilde,
    Dot,
}

impl Tone {
    pub const ALL: [Tone; 6] = [Tone::Level, Tone::Grave, Tone::Acute, Tone::Hook, Tone::Tilde, Tone::Dot];

    /// The combining mark of the tone (none for `Level`).
    fn mark(self) -> Option<char> {
        match self {
            Tone::Level => None,
            Tone::Grave => Some('\u{300}'),
            Tone::Acute => Some('\u{301}'),
            Tone::Hook => Some('\u{309}'),
            Tone::Tilde => Some('\u{303}'),
            Tone::Dot => Some('\u{323}'),
        }
    }

    fn of_mark(c: char) -> Option<Tone> {
        Tone::ALL.into_iter().find(|t| t.mark() == Some(c))
    }
}

const ONSETS: &[&str] =
    &["ngh", "ch", "gh", "gi", "kh", "ng", "nh", "ph", "qu", "th", "tr", "b", "c", "d", "đ", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "x"];

/// Rhymes without tone, with their vowel marks (the medial `o`/`u` included).
const RHYMES: &[&str] = &[
    "a", "ai", "ao", "au", "ay", "am", "an", "ang", "anh", "ap", "at", "ac", "ach", //
    "ăm", "ăn", "ăng", "ăp", "ăt", "ăc", //
    "âu", "ây", "âm", "ân", "âng", "âp", "ât", "âc", //
    "e", "eo", "em", "en", "eng", "ep", "et", "ec", //
    "ê", "êu", "êm", "ên", "êng", "ênh", "êp", "êt", "êch", //
    "i", "ia", "iu", "im", "in", "inh", "ip", "it", "ich", //
    "iêu", "iêm", "iên", "iêng", "iêp", "iêt", "iêc", //
    "o", "oi", "om", "on", "ong", "op", "ot", "oc", "oong", "ooc", //
    "oa", "oai", "oao", "oay", "oam", "oan", "oang", "oanh", "oap", "oat", "oac", "oach", //
    "oăm", "oăn", "oăng", "oăt", "oăc", "oe", "oeo", "oen", "oet", //
    "ô", "ôi", "ôm", "ôn", "ông", "ôp", "ôt", "ôc", //
    "ơ", "ơi", "ơm", "ơn", "ơp", "ơt", //
    "u", "ui", "um", "un", "ung", "up", "ut", "uc", "ua", //
    "uân", "uâng", "uât", "uây", "uê", "uêch", "uênh", "uơ", //
    "uôi", "uôm", "uôn", "uông", "uôt", "uôc", //
    "uy", "uya", "uych", "uyn", "uynh", "uyp", "uyt", "uyu", "uyên", "uyêt", //
    "ư", "ưi", "ưu", "ưm", "ưn", "ưng", "ưt", "ưc", "ưa", //
    "ươi", "ươu", "ươm", "ươn", "ương", "ươp", "ươt", "ươc", //
    "y", "yêu", "yêm", "yên", "yêng", "yêt", "ynh", "yt", "yn", //
    // Place names of the Central Highlands written with k: Đắk Lắk, Đắk Nông.
    "ak", "ăk", "ôk",
];

/// `c` lowercased, without its tone mark, and the tone.
fn base_and_tone(c: char) -> (String, Tone) {
    let mut base = String::new();
    let mut tone = Tone::Level;
    for d in c.to_lowercase().collect::<String>().nfd() {
        match Tone::of_mark(d) {
            Some(t) => tone = t,
            None => base.push(d),
        }
    }
    (base.nfc().collect(), tone)
}

/// The word without its tone mark (lowercase, NFC) and its tone; `None` when it carries
/// more than one tone mark.
pub fn split_tone(word: &str) -> Option<(String, Tone)> {
    let mut base = String::new();
    let mut tone = Tone::Level;
    for c in word.chars() {
        let (b, t) = base_and_tone(c);
        if t != Tone::Level {
            if tone != Tone::Level {
                return None;
            }
            tone = t;
        }
        base.push_str(&b);
    }
    Some((base, tone))
}

/// Is `word` (any case, NFC or not) one Vietnamese syllable with a tone it may carry?
pub fn is_syllable(word: &str) -> bool {
    let Some((base, tone)) = split_tone(word) else { return false };
    if base.is_empty() || !base.chars().all(char::is_alphabetic) {
        return false;
    }
    let mut rhymes: Vec<&str> = Vec::new();
    if RHYMES.contains(&base.as_str()) {
        rhymes.push(&base);
    }
    for onset in ONSETS {
        if let Some(rest) = base.strip_prefix(onset) {
            if RHYMES.contains(&rest) {
                rhymes.push(rest);
            }
            // `gi` + `ì` ("gì"), `gi` + `ếng` ("giếng"): the i of the onset is the vowel.
            if *onset == "gi" && (rest.is_empty() || RHYMES.contains(&format!("i{rest}").as_str())) {
                rhymes.push(if rest.is_empty() { "i" } else { rest });
            }
        }
    }
    rhymes.iter().any(|r| tone_fits(r, tone))
}

/// Only sắc and nặng fall on a rhyme closed by a stop (`p`, `t`, `c`, `ch`, `k`).
fn tone_fits(rhyme: &str, tone: Tone) -> bool {
    let stop = rhyme.ends_with(['p', 't', 'c', 'k']);
    !stop || matches!(tone, Tone::Acute | Tone::Dot)
}

/// `word` with its tone changed to `tone`, in its own case; `None` when the word has no
/// vowel to carry it or carries two tones. The mark goes on the vowel that carried the
/// old one, or (for a level word) on the vowel the modern rule picks.
pub fn with_tone(word: &str, tone: Tone) -> Option<String> {
    let chars: Vec<char> = word.chars().collect();
    split_tone(word)?;
    let at = match chars.iter().position(|&c| base_and_tone(c).1 != Tone::Level) {
        Some(i) => i,
        None => tone_position(&chars)?,
    };
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if i != at {
            out.push(c);
            continue;
        }
        let upper = c.is_uppercase();
        let (base, _) = base_and_tone(c);
        let mut s: String = base.nfd().collect();
        if let Some(m) = tone.mark() {
            s.push(m);
        }
        let s: String = s.nfc().collect();
        out.push_str(&if upper { s.to_uppercase() } else { s });
    }
    Some(out)
}

/// Where a level word's tone goes: on the last vowel with a vowel mark (ơ in ươ, ê in
/// iê and uyê); else on a lone vowel; of two vowels, on the second before a final
/// consonant or in `oa`, `oe`, `uy`, on the first otherwise (`ai`, `ao`, `ia`).
fn tone_position(chars: &[char]) -> Option<usize> {
    const VOWELS: &str = "aăâeêioôơuưy";
    let lower: Vec<char> = chars.iter().map(|c| base_and_tone(*c).0.chars().next().unwrap_or(*c)).collect();
    let vowels: Vec<usize> = (0..lower.len()).filter(|&i| VOWELS.contains(lower[i])).collect();
    // `qu`, `gi`: the u and i belong to the onset when a vowel follows.
    let vowels: Vec<usize> = vowels
        .iter()
        .copied()
        .filter(|&i| !(i == 1 && vowels.len() > 1 && ((lower[0] == 'q' && lower[1] == 'u') || (lower[0] == 'g' && lower[1] == 'i'))))
        .collect();
    let marked: Vec<usize> = vowels.iter().copied().filter(|&i| "ăâêôơư".contains(lower[i])).collect();
    if let Some(&i) = marked.last() {
        return Some(i);
    }
    match vowels.as_slice() {
        [] => None,
        [i] => Some(*i),
        [.., a, b] => {
            let closed = *b + 1 < lower.len();
            let pair: String = [lower[*a], lower[*b]].iter().collect();
            if closed || matches!(pair.as_str(), "oa" | "oe" | "uy") { Some(*b) } else { Some(*a) }
        }
    }
}

/// `s` without any mark (tone, vowel marks, the bar of đ), in its case: the letters a
/// reader could confuse by their marks share it.
pub fn bare_letters(s: &str) -> String {
    s.nfd()
        .filter(|c| !('\u{300}'..='\u{36f}').contains(c))
        .map(|c| match c {
            'đ' => 'd',
            'Đ' => 'D',
            c => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syllables_follow_the_orthography() {
        for w in [
            "để", "thẩm", "định", "chuyển", "Cổng", "NGHIÊNG", "quyết", "gì", "giếng", "giữ", "khuya", "người", "ương", "oái", "Nguyễn", "Đắk", "bổ", "sổ",
            "tổng", "biểu", "thuở", "quả", "hòa", "y", "yêu", "xã",
        ] {
            assert!(is_syllable(w), "{w}");
        }
        // A stop-final rhyme takes sắc or nặng only; no rhyme "uo"; two tones; not letters.
        for w in ["thẩp", "kìt", "bỏc", "xyz", "thẩmm", "đểế", "12", "UBND", "QĐ", "", "hello", "tôii"] {
            assert!(!is_syllable(w), "{w}");
        }
    }

    #[test]
    fn tones_are_split_and_changed_in_place() {
        assert_eq!(split_tone("Thẩm"), Some(("thâm".into(), Tone::Hook)));
        assert_eq!(split_tone("để"), Some(("đê".into(), Tone::Hook)));
        assert_eq!(split_tone("hoà"), Some(("hoa".into(), Tone::Grave)));
        assert_eq!(split_tone("ắề"), None);
        assert_eq!(with_tone("thấm", Tone::Hook).as_deref(), Some("thẩm"));
        assert_eq!(with_tone("Cống", Tone::Hook).as_deref(), Some("Cổng"));
        assert_eq!(with_tone("ĐẾ", Tone::Hook).as_deref(), Some("ĐỂ"));
        assert_eq!(with_tone("chuyến", Tone::Level).as_deref(), Some("chuyên"));
        // Level words get the mark where the modern rule puts it.
        assert_eq!(with_tone("Thăng", Tone::Acute).as_deref(), Some("Thắng"));
        assert_eq!(with_tone("nguyên", Tone::Tilde).as_deref(), Some("nguyễn"));
        assert_eq!(with_tone("hoa", Tone::Grave).as_deref(), Some("hoà"));
        assert_eq!(with_tone("mai", Tone::Acute).as_deref(), Some("mái"));
        assert_eq!(with_tone("quy", Tone::Acute).as_deref(), Some("quý"));
        assert_eq!(with_tone("gia", Tone::Acute).as_deref(), Some("giá"));
        assert_eq!(with_tone("toan", Tone::Grave).as_deref(), Some("toàn"));
        assert_eq!(with_tone("bcd", Tone::Acute), None);
    }
}
