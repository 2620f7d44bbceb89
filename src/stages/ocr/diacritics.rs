//! Syllable-aware correction of Vietnamese tone and vowel marks.
//!
//! Owns the decision, for each word Tesseract read, whether another reading with other
//! marks is the one on the page. At 200 dpi the hook above (`ổ`) is a curve of two
//! pixels and often reads as an acute (`ố`): `bổ sung` comes out `bố sung`, `thẩm định`
//! `thấm định`. Each reading considered is one Vietnamese syllable (`syllable`), and it
//! comes either from Tesseract's own alternatives for a letter (its choice iterator: the
//! engine hesitated between marks) or from swapping hook and acute, the confusion of low
//! resolutions. A reading replaces the engine's only with evidence:
//!
//! - context: it forms a word of the lexicon (`models/vie.lexicon`, `bổ sung`) with a
//!   reading of its neighbour on the line, and the engine's reading forms none;
//! - or frequency: it is one of the lexicon's frequent syllables (`để`) and the engine's
//!   reading is not, it was among the engine's alternatives, and the word is not
//!   capitalised (a name keeps its marks unless a word of the lexicon says otherwise).
//!
//! Words with digits or other letters, codes and all-capital abbreviations are never
//! touched; neither are words whose readings all fail the syllable rules. Pure: the
//! engine hands over the words and their alternatives (`tesseract::recognized_words`).

use std::collections::HashSet;
use std::path::Path;

use super::syllable::{self, Tone};

/// The lexicon's file in the models folder.
pub const LEXICON_FILE: &str = "vie.lexicon";

/// Words of two or more syllables, as pairs of neighbours, and frequent syllables.
#[derive(Debug, Default, Clone)]
pub struct Lexicon {
    pairs: HashSet<(String, String)>,
    frequent: HashSet<String>,
}

impl Lexicon {
    /// One word a line (syllables separated by spaces), `#` comments; a line of one
    /// syllable names a frequent syllable. Lowercased and NFC.
    pub fn parse(text: &str) -> Lexicon {
        use unicode_normalization::UnicodeNormalization;
        let mut lex = Lexicon::default();
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
            let line: String = line.nfc().collect::<String>().to_lowercase();
            let syllables: Vec<&str> = line.split_whitespace().collect();
            match syllables.as_slice() {
                [one] => {
                    lex.frequent.insert(one.to_string());
                }
                many => {
                    for w in many.windows(2) {
                        lex.pairs.insert((w[0].to_string(), w[1].to_string()));
                    }
                }
            }
        }
        lex
    }

    /// The lexicon of a models folder, when it has one.
    pub fn load(models: &Path) -> Option<Lexicon> {
        std::fs::read_to_string(models.join(LEXICON_FILE)).ok().map(|t| Lexicon::parse(&t))
    }

    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty() && self.frequent.is_empty()
    }

    fn pair(&self, a: &str, b: &str) -> bool {
        self.pairs.contains(&(a.to_string(), b.to_string()))
    }
}

/// One letter of a word as the engine read it, with the other letters it weighed and
/// their scores (Tesseract's choice iterator; 0-100).
#[derive(Debug, Clone, PartialEq)]
pub struct Symbol {
    pub text: String,
    pub alternatives: Vec<(String, f32)>,
}

/// One word as read: its text, its letters (empty when unknown), and its line.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadWord {
    pub text: String,
    pub symbols: Vec<Symbol>,
    pub line: (u32, u32, u32),
}

/// An alternative letter counts when the engine gave it at least this score.
pub const MIN_ALTERNATIVE_SCORE: f32 = 1.0;

/// A reading of a word's core (its letters without surrounding punctuation), lowercase.
#[derive(Debug, Clone, PartialEq)]
struct Candidate {
    /// As it would be written, in the word's case.
    text: String,
    lower: String,
    /// From the engine's alternatives (not only a hook/acute swap).
    engine: bool,
}

/// The word's core: the span of letters between leading and trailing punctuation, when
/// the word is a plausible Vietnamese word at all (letters only, not all capitals of
/// more than one letter unless it is a syllable in capitals, no digits).
fn core(text: &str) -> Option<(usize, usize)> {
    let is_punct = |c: char| !c.is_alphanumeric();
    let start = text.find(|c: char| !is_punct(c))?;
    let end = text.rfind(|c: char| !is_punct(c)).map(|i| i + text[i..].chars().next().map_or(1, char::len_utf8))?;
    let core = &text[start..end];
    if !core.chars().all(char::is_alphabetic) {
        return None;
    }
    Some((start, end))
}

/// Readings of `w`'s core besides the engine's: each alternative letter with other marks
/// only, and the hook/acute swap; all syllables. The first is the engine's reading.
fn candidates(w: &ReadWord) -> Option<Vec<Candidate>> {
    let (s, e) = core(&w.text)?;
    let top = &w.text[s..e];
    let mut out = vec![Candidate { text: top.to_string(), lower: top.to_lowercase(), engine: true }];
    let push = |out: &mut Vec<Candidate>, text: String, engine: bool| {
        if syllable::is_syllable(&text) && !out.iter().any(|c| c.text == text) {
            out.push(Candidate { lower: text.to_lowercase(), text, engine });
        }
    };
    // The letters spell the word: each alternative letter gives one reading.
    let spelled: String = w.symbols.iter().map(|s| s.text.as_str()).collect();
    if spelled == w.text {
        let mut offset = 0;
        for (i, sym) in w.symbols.iter().enumerate() {
            let (from, to) = (offset, offset + sym.text.len());
            offset = to;
            if from < s || to > e {
                continue;
            }
            for (alt, score) in &sym.alternatives {
                if *score < MIN_ALTERNATIVE_SCORE || *alt == sym.text || !same_letter(alt, &sym.text) {
                    continue;
                }
                let mut text = String::new();
                for (j, other) in w.symbols.iter().enumerate() {
                    text.push_str(if j == i { alt } else { &other.text });
                }
                push(&mut out, text[s..e - sym.text.len() + alt.len()].to_string(), true);
            }
        }
    }
    if let Some((_, tone)) = syllable::split_tone(top) {
        let swap = match tone {
            Tone::Acute => Some(Tone::Hook),
            Tone::Hook => Some(Tone::Acute),
            _ => None,
        };
        if let Some(t) = swap.and_then(|t| syllable::with_tone(top, t)) {
            push(&mut out, t, false);
        }
    }
    Some(out)
}

/// The same base letter (and case), other marks: `ố` and `ổ`, `ă` and `ắ`, not `o` and `c`.
fn same_letter(a: &str, b: &str) -> bool {
    let base = syllable::bare_letters;
    a.chars().count() == 1 && b.chars().count() == 1 && base(a) == base(b) && a.chars().all(char::is_alphabetic)
}

/// The corrections for `words` (in reading order): for each word, the text to write
/// instead, or `None` to keep the engine's.
pub fn correct(words: &[ReadWord], lex: &Lexicon) -> Vec<Option<String>> {
    let cands: Vec<Option<Vec<Candidate>>> = words.iter().map(candidates).collect();
    let mut out = vec![None; words.len()];
    if lex.is_empty() {
        return out;
    }
    for (i, w) in words.iter().enumerate() {
        let Some(cs) = &cands[i] else { continue };
        if cs.len() < 2 {
            continue;
        }
        let neighbour = |j: Option<usize>| j.filter(|&j| j < words.len() && words[j].line == w.line).and_then(|j| cands[j].as_ref());
        let (left, right) = (neighbour(i.checked_sub(1)), neighbour(Some(i + 1)));
        let context = |c: &Candidate| {
            left.is_some_and(|l| l.iter().any(|x| lex.pair(&x.lower, &c.lower))) || right.is_some_and(|r| r.iter().any(|y| lex.pair(&c.lower, &y.lower)))
        };
        let top = &cs[0];
        let capital = top.text.chars().next().is_some_and(char::is_uppercase);
        let score = |c: &Candidate| -> u32 {
            let ctx = context(c);
            let frequent = lex.frequent.contains(&c.lower) && c.engine && !capital;
            match (ctx, c.engine) {
                (true, _) => 2 + u32::from(frequent),
                (false, true) => u32::from(frequent),
                (false, false) => 0,
            }
        };
        let top_score = score(top);
        // An engine reading that is no syllable gives way to any syllable it weighed.
        let top_valid = syllable::is_syllable(&top.text);
        let best = cs[1..].iter().map(|c| (score(c) + u32::from(!top_valid && c.engine), c)).max_by_key(|(s, c)| (*s, c.engine));
        if let Some((s, c)) = best
            && s > top_score
        {
            let (a, b) = core(&w.text).expect("a word with candidates has a core");
            out[i] = Some(format!("{}{}{}", &w.text[..a], c.text, &w.text[b..]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lex() -> Lexicon {
        Lexicon::parse("# test\nđể\nbổ sung\nthẩm định\nchuyển đổi\ncó thể\ntổng số\nbố trí\ncổng dịch vụ công\n")
    }

    /// A word whose letters carry the given alternatives (`"ố:ổ=35"` on the letter ố).
    fn word(text: &str, alts: &[(&str, &str, f32)]) -> ReadWord {
        let symbols = text
            .chars()
            .map(|c| {
                let t = c.to_string();
                let alternatives = alts.iter().filter(|(on, _, _)| *on == t).map(|(_, a, s)| (a.to_string(), *s)).collect();
                Symbol { text: t, alternatives }
            })
            .collect();
        ReadWord { text: text.into(), symbols, line: (1, 1, 1) }
    }

    fn run(words: &[ReadWord]) -> Vec<String> {
        let fixes = correct(words, &lex());
        words.iter().zip(fixes).map(|(w, f)| f.unwrap_or_else(|| w.text.clone())).collect()
    }

    #[test]
    fn a_word_of_the_lexicon_restores_the_hook() {
        // No alternative from the engine: the hook/acute swap with context is enough.
        assert_eq!(run(&[word("bố", &[]), word("sung.", &[])]), ["bổ", "sung."]);
        assert_eq!(run(&[word("thấm", &[("ấ", "ẩ", 4.1)]), word("định", &[])]), ["thẩm", "định"]);
        // Both words wrong: each is fixed by the other's reading.
        assert_eq!(run(&[word("chuyến", &[]), word("đối,", &[("ố", "ổ", 27.0)])]), ["chuyển", "đổi,"]);
        // Capitals keep their case.
        assert_eq!(run(&[word("Cống", &[]), word("dịch", &[])]), ["Cổng", "dịch"]);
        assert_eq!(run(&[word("BỐ", &[]), word("SUNG", &[])]), ["BỔ", "SUNG"]);
    }

    #[test]
    fn a_reading_that_is_a_word_already_stays() {
        // "bố trí" is a word: the swap to "bổ" finds no better context.
        assert_eq!(run(&[word("bố", &[("ố", "ổ", 40.0)]), word("trí", &[])]), ["bố", "trí"]);
        // "tổng số": số stays though "sổ" is a syllable.
        assert_eq!(run(&[word("tổng", &[]), word("số", &[("ố", "ổ", 50.0)])]), ["tổng", "số"]);
        // No context, no engine alternative: nothing changes.
        assert_eq!(run(&[word("thấm", &[]), word("nước", &[])]), ["thấm", "nước"]);
        // Neighbours on another line give no context.
        let mut next = word("sung", &[]);
        next.line = (1, 1, 2);
        assert_eq!(run(&[word("bố", &[]), next]), ["bố", "sung"]);
    }

    #[test]
    fn a_frequent_syllable_wins_only_where_the_engine_hesitated() {
        assert_eq!(run(&[word("đế", &[("ế", "ể", 72.9)]), word("làm", &[])]), ["để", "làm"]);
        assert_eq!(run(&[word("đế", &[]), word("làm", &[])]), ["đế", "làm"]);
        // Too weak an alternative is no hesitation.
        assert_eq!(run(&[word("đế", &[("ế", "ể", 0.0)]), word("làm", &[])]), ["đế", "làm"]);
        // A capitalised word (a name) is not changed on frequency alone.
        assert_eq!(run(&[word("Đế", &[("ế", "ể", 72.9)])]), ["Đế"]);
    }

    #[test]
    fn names_numbers_and_codes_are_left_alone() {
        for w in ["052368099636", "QĐ-UBND", "1234/UBND-VX", "UBND", "hello", "2025."] {
            assert_eq!(run(&[word(w, &[("Đ", "Ð", 50.0)]), word("sung", &[])])[0], w);
        }
        // An English word is not a syllable; its letters' alternatives give none either.
        assert_eq!(run(&[word("the", &[("e", "é", 60.0)])]), ["the"]);
    }

    #[test]
    fn a_reading_that_is_no_syllable_gives_way() {
        // "thấp" ≠ hỏi on a stop: "thẩp" is read, "thấp" was weighed.
        assert_eq!(run(&[word("thẩp", &[("ẩ", "ấ", 30.0)])]), ["thấp"]);
    }

    #[test]
    fn the_lexicon_file_parses() {
        let lex = Lexicon::parse(include_str!("../../../models/vie.lexicon"));
        assert!(lex.pair("bổ", "sung") && lex.pair("thẩm", "định") && lex.pair("dịch", "vụ"));
        assert!(lex.frequent.contains("để") && !lex.frequent.contains("bổ sung"));
        // Every entry is made of syllables.
        for (a, b) in &lex.pairs {
            assert!(syllable::is_syllable(a) && syllable::is_syllable(b), "{a} {b}");
        }
    }
}
