//! The Vietnamese fold: text compared without tones, vowel marks or case (`đ` as `d`).
//! Pure; shared by the catalog's search index and the field extractor
//! (`crate::stages::fields`), so both match the same way.

use unicode_normalization::char::{decompose_canonical, is_combining_mark};

/// Folds Vietnamese text for matching: canonical decomposition (NFD), combining marks
/// (tones, breve, circumflex, horn) removed, `đ`/`Đ` mapped to `d`, lowercase. Other
/// characters (spaces, punctuation, digits) are kept. Input in NFC or NFD folds the same.
///
/// ```
/// use sohoa::model::fold_vietnamese;
/// assert_eq!(fold_vietnamese("Hồ sơ"), "ho so");
/// assert_eq!(fold_vietnamese("ĐƠN ĐỀ NGHỊ"), "don de nghi");
/// ```
pub fn fold_vietnamese(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        push_folded(c, &mut out);
    }
    out
}

pub(crate) fn push_folded(c: char, out: &mut String) {
    decompose_canonical(c, |d| {
        if is_combining_mark(d) {
            return;
        }
        let d = match d {
            'đ' | 'Đ' => 'd',
            other => other,
        };
        // Lowercasing may yield a mark (İ -> i + U+0307); drop it as well.
        out.extend(d.to_lowercase().filter(|l| !is_combining_mark(*l)));
    });
}
