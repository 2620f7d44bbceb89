//! The symbol part of a number and symbol (`12/QĐ-UBND`, `7/2025/TTr-SYT`, `45/STTTT-VX`)
//! set right where OCR mangled a letter and the page itself says what it must be.
//!
//! Decree 30/2020 (App. I, II) builds the symbol from the document type's App. III
//! abbreviation and the issuing body's abbreviation: `‹number›/‹type›-‹body›`, or
//! `‹number›/‹body›-‹unit›` for a công văn. Tesseract reads such letter runs badly now and
//! then (`TTr` as `TTT` or `TIr`, `STTTT` as `STTTTI`). Two pieces of evidence printed on
//! the same page are used, each only when it leaves exactly one answer:
//! - the title names the type: a type part one edit away from its abbreviation, and not
//!   itself an abbreviation of any type, is the abbreviation;
//! - the issuing body is printed in full: a body part (four letters or more) that is not an
//!   abbreviation of the body's name (its words' initials, any of them left out) but is one
//!   edit away from exactly one such abbreviation is that abbreviation.
//!
//! Pure; called by `header` once the type and the issuing body are read. Anything else is
//! left as read: a symbol that cannot be set right is not guessed at.

use super::header::TYPES;

/// The number and symbol with its type and body parts set right (see the module doc).
/// `abbr`: the abbreviation the title gives (`None` for a công văn or no title);
/// `bodies`: the issuing body and its parent as read.
pub(super) fn correct(value: &str, abbr: Option<&str>, bodies: &[&str]) -> String {
    // The symbol is the part after the last `/`: "TYPE-BODY" or "BODY-UNIT".
    let Some(slash) = value.rfind('/') else { return value.to_string() };
    let (head, symbol) = value.split_at(slash + 1);
    let mut parts: Vec<String> = symbol.split('-').map(str::to_string).collect();
    if parts.iter().any(|p| p.is_empty() || !p.chars().all(char::is_alphabetic)) {
        return value.to_string();
    }
    let body_at = match abbr {
        Some(a) => {
            if let Some(fixed) = type_part(&parts[0], a) {
                parts[0] = fixed;
            }
            1
        }
        None => 0,
    };
    if let Some(part) = parts.get(body_at).filter(|_| parts.len() > body_at + usize::from(abbr.is_none()))
        && let Some(fixed) = body_part(part, bodies)
    {
        parts[body_at] = fixed;
    }
    format!("{head}{}", parts.join("-"))
}

/// The abbreviation `abbr` for a type part read one edit away from it that is no type's
/// abbreviation itself (`TTT` under "TỜ TRÌNH" → `TTr`; `QĐ` under "QUY ĐỊNH" stays `QĐ`).
fn type_part(read: &str, abbr: &str) -> Option<String> {
    let known = TYPES.iter().any(|(_, a)| *a == read);
    (read != abbr && !known && read.chars().count() >= 2 && within_one_edit(read, abbr)).then(|| abbr.to_string())
}

/// The one abbreviation of a body's name one edit away from a body part read, when the part
/// read is no abbreviation of the names (see the module doc).
fn body_part(read: &str, bodies: &[&str]) -> Option<String> {
    let read_up = read.to_uppercase();
    if read_up.chars().count() < 4 || read != read_up {
        return None;
    }
    let initials: Vec<Vec<char>> = bodies.iter().map(|b| initials(b)).filter(|i| !i.is_empty() && i.len() <= 16).collect();
    let read_chars: Vec<char> = read_up.chars().collect();
    if initials.iter().any(|i| is_subsequence(&read_chars, i)) {
        return None;
    }
    let mut found: Vec<String> = Vec::new();
    for i in &initials {
        for mask in 1u32..(1 << i.len()) {
            let candidate: String = i.iter().enumerate().filter(|(k, _)| mask & (1 << k) != 0).map(|(_, c)| *c).collect();
            if candidate.chars().count().abs_diff(read_chars.len()) <= 1 && within_one_edit(&candidate, &read_up) && !found.contains(&candidate) {
                found.push(candidate);
            }
        }
    }
    (found.len() == 1).then(|| found.remove(0))
}

/// The first letter of each word of a name in capitals (`SỞ THÔNG TIN VÀ TRUYỀN THÔNG` →
/// `STTVTT`), marks removed except `Đ`.
fn initials(name: &str) -> Vec<char> {
    name.split_whitespace()
        .filter_map(|w| w.chars().next().filter(|c| c.is_alphabetic()))
        .map(|c| {
            let f = crate::model::fold_vietnamese(&c.to_string());
            if f == "d" && matches!(c, 'Đ' | 'đ') { 'Đ' } else { f.chars().next().unwrap_or(c).to_ascii_uppercase() }
        })
        .collect()
}

/// True when every char of `a` appears in `b` in order.
fn is_subsequence(a: &[char], b: &[char]) -> bool {
    let mut it = b.iter();
    a.iter().all(|c| it.any(|d| d == c))
}

/// True when one substitution, insertion or deletion (or none) turns `a` into `b`.
fn within_one_edit(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let (short, long) = if a.len() <= b.len() { (&a, &b) } else { (&b, &a) };
    if long.len() - short.len() > 1 {
        return false;
    }
    let prefix = short.iter().zip(long.iter()).take_while(|(x, y)| x == y).count();
    if short.len() == long.len() {
        short[prefix..].iter().skip(1).eq(long[prefix..].iter().skip(1))
    } else {
        short[prefix..].iter().eq(long[prefix + 1..].iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_edit() {
        assert!(within_one_edit("TTT", "TTr"));
        assert!(within_one_edit("TIr", "TTr"));
        assert!(within_one_edit("TTTr", "TTr"));
        assert!(within_one_edit("Tr", "TTr"));
        assert!(within_one_edit("QĐ", "QĐ"));
        assert!(!within_one_edit("TIT", "TTr"));
        assert!(!within_one_edit("T", "TTr"));
    }

    #[test]
    fn the_title_sets_a_mangled_type_part_right() {
        assert_eq!(correct("12/TTT-SYT", Some("TTr"), &["SỞ Y TẾ"]), "12/TTr-SYT");
        assert_eq!(correct("12/2025/TIr-SYT", Some("TTr"), &["SỞ Y TẾ"]), "12/2025/TTr-SYT");
        assert_eq!(correct("5/KHH-UBND", Some("KH"), &[]), "5/KH-UBND");
        // A part that is another type's abbreviation is read as printed.
        assert_eq!(correct("12/QĐ-UBND", Some("QyĐ"), &[]), "12/QĐ-UBND");
        // Too far from the title's abbreviation: left as read.
        assert_eq!(correct("12/XYZ-UBND", Some("TTr"), &[]), "12/XYZ-UBND");
        // A số without a symbol part is left alone.
        assert_eq!(correct("12/2025", Some("TTr"), &[]), "12/2025");
    }

    #[test]
    fn the_body_name_sets_a_mangled_body_part_right() {
        let bodies = ["SỞ THÔNG TIN VÀ TRUYỀN THÔNG", "UBND THÀNH PHỐ HỒ CHÍ MINH"];
        assert_eq!(correct("45/STTTTI-VX", None, &bodies), "45/STTTT-VX");
        assert_eq!(correct("45/QĐ-STTTTI", Some("QĐ"), &bodies), "45/QĐ-STTTT");
        assert_eq!(correct("45/QĐ-STTTT", Some("QĐ"), &bodies), "45/QĐ-STTTT");
        // The unit of a công văn is not the body's abbreviation and is never touched.
        assert_eq!(correct("3/TTPVHCC-HCTC", None, &["TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG"]), "3/TTPVHCC-HCTC");
        // Two abbreviations one edit away: ambiguous, left as read.
        assert_eq!(correct("8/BĐĐBĐ-VP", None, &["BƯU ĐIỆN TỈNH BÌNH ĐỊNH"]), "8/BĐĐBĐ-VP");
        // A body part with no likeness to the name is read as printed (it is not ours to
        // know what the agency chose).
        assert_eq!(correct("8/QĐ-XYZW", Some("QĐ"), &["SỞ Y TẾ"]), "8/QĐ-XYZW");
        // Short parts are left alone: too little to go on.
        assert_eq!(correct("8/QĐ-SYX", Some("QĐ"), &["SỞ Y TẾ"]), "8/QĐ-SYX");
        assert_eq!(initials("SỞ GIÁO DỤC VÀ ĐÀO TẠO").into_iter().collect::<String>(), "SGDVĐT");
    }
}
