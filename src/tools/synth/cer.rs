//! Character error rate, the measure OCR quality is reported in.
//!
//! Owns one pure function, [`cer`]. Both strings are normalised the same way before they are
//! compared: every run of whitespace (spaces, tabs, line breaks) becomes one space and the
//! ends are trimmed, so line breaks and layout spacing do not count as errors, only
//! characters do. Strings are compared as Unicode scalar values, so both sides must be in
//! the same normal form (NFC is what the generator, Tesseract and the PDF text layer use).
//! Called by the sample-batch tests and by the integration tests that score OCR output
//! against a generated batch's ground truth.

/// Character error rate of `hypothesis` against `reference`: the Levenshtein distance
/// (insertions, deletions and substitutions of one character each cost 1) between the two
/// normalised strings, divided by the number of characters in the normalised reference.
///
/// 0.0 is a perfect match. The rate can exceed 1.0 when the hypothesis is much longer than
/// the reference. An empty reference gives 0.0 against an empty hypothesis and 1.0 against
/// anything else (the rate is undefined there; 1.0 means "all wrong").
pub fn cer(reference: &str, hypothesis: &str) -> f64 {
    let r = normalise(reference);
    let h = normalise(hypothesis);
    if r.is_empty() {
        return if h.is_empty() { 0.0 } else { 1.0 };
    }
    levenshtein(&r, &h) as f64 / r.len() as f64
}

/// Collapses whitespace runs to one space and trims, as chars.
fn normalise(s: &str) -> Vec<char> {
    let mut out = Vec::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.chars() {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
        } else {
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            out.push(c);
        }
    }
    out
}

/// Edit distance with two rolling rows: O(|a|·|b|) time, O(|b|) memory.
fn levenshtein(a: &[char], b: &[char]) -> usize {
    if a.is_empty() {
        return b.len();
    }
    if b.is_empty() {
        return a.len();
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0usize; b.len() + 1];
    for (i, &ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitution = prev[j] + usize::from(ca != cb);
            let deletion = prev[j + 1] + 1;
            let insertion = cur[j] + 1;
            cur[j + 1] = substitution.min(deletion).min(insertion);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_strings_have_zero_cer() {
        assert_eq!(cer("Số: 12/UBND-VP", "Số: 12/UBND-VP"), 0.0);
    }

    #[test]
    fn whitespace_runs_and_line_breaks_do_not_count() {
        assert_eq!(cer("Độc lập - Tự do\nHạnh phúc", "  Độc lập -  Tự do Hạnh\tphúc \n"), 0.0);
    }

    #[test]
    fn one_substitution_in_ten_chars() {
        // "Quyết định" is 10 chars; a lost diacritic is one substitution.
        let r = cer("Quyết định", "Quyet định");
        assert!((r - 0.1).abs() < 1e-12, "{r}");
    }

    #[test]
    fn insertions_and_deletions_cost_one_each() {
        assert!((cer("abcd", "abd") - 0.25).abs() < 1e-12);
        assert!((cer("abcd", "abcde") - 0.25).abs() < 1e-12);
        assert!((cer("abcd", "") - 1.0).abs() < 1e-12);
    }

    #[test]
    fn rate_can_exceed_one() {
        assert!((cer("ab", "xxxxxx") - 3.0).abs() < 1e-12);
    }

    #[test]
    fn empty_reference() {
        assert_eq!(cer("", ""), 0.0);
        assert_eq!(cer(" \n ", ""), 0.0);
        assert_eq!(cer("", "x"), 1.0);
    }

    #[test]
    fn counts_chars_not_bytes() {
        // "ệ" is 3 bytes in UTF-8 but one char.
        assert!((cer("ệ", "e") - 1.0).abs() < 1e-12);
        assert!((cer("Việt", "Viet") - 0.25).abs() < 1e-12);
    }

    #[test]
    fn classic_kitten_sitting() {
        assert_eq!(levenshtein(&normalise("kitten"), &normalise("sitting")), 3);
    }
}
