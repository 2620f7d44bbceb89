//! Personal ID numbers (CCCD, số định danh cá nhân) in a line of text: 12 digits whose
//! first three are the province code of birth registration (Circular 59/2021/TT-BCA).
//!
//! A number counts only when it stands alone: not part of a longer run of digits, nor of
//! a code joined by `.`, `-`, `/` or `:` (dossier codes, dates, document numbers), nor
//! after a phone, account, fax or postal label. Precision first: a number that does not
//! satisfy every rule is left out.

/// Province codes of the personal ID number (Circular 59/2021/TT-BCA, App. I): the 63
/// provinces and cities, sorted.
pub const PROVINCE_CODES: &[&str] = &[
    "001", "002", "004", "006", "008", "010", "011", "012", "014", "015", "017", "019", "020", "022", "024", "025", "026", "027", "030", "031", "033", "034",
    "035", "036", "037", "038", "040", "042", "044", "045", "046", "048", "049", "051", "052", "054", "056", "058", "060", "062", "064", "066", "067", "068",
    "070", "072", "074", "075", "077", "079", "080", "082", "083", "084", "086", "087", "089", "091", "092", "093", "094", "095", "096",
];

/// True for one of [`PROVINCE_CODES`].
pub fn is_province_code(code: &str) -> bool {
    PROVINCE_CODES.binary_search(&code).is_ok()
}

/// Labels (folded) after which a 12-digit number is something else.
const NOT_AN_ID: &[&str] = &["dien thoai", "dt:", "dtdd", "fax", "tai khoan", "stk", "ma buu", "ma van don", "ma ho so", "so hieu buu"];

/// Characters that join a run of digits into a longer code.
fn joins(c: char) -> bool {
    matches!(c, '.' | '-' | '/' | ':' | '_' | ',') || c.is_alphanumeric()
}

/// The CCCD numbers in `line`, in order.
pub fn find_cccd(line: &str) -> Vec<String> {
    let chars: Vec<char> = line.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && chars[i].is_ascii_digit() {
            i += 1;
        }
        if i - start != 12 {
            continue;
        }
        // Standalone: the characters around the run do not join it to more. A sentence's
        // full stop or comma after it is fine when a space or the end follows.
        let before_ok = start == 0 || !joins(chars[start - 1]) || chars[start - 1] == ':';
        let after_ok = i == chars.len()
            || chars[i].is_whitespace()
            || (matches!(chars[i], '.' | ',' | ';' | ')') && chars.get(i + 1).is_none_or(|c| c.is_whitespace()))
            || !joins(chars[i]);
        if !(before_ok && after_ok) {
            continue;
        }
        // A digit group just before (`0912 345678901234`) makes it part of a longer number.
        let prev_word: String = chars[..start].iter().rev().skip_while(|c| c.is_whitespace()).take_while(|c| !c.is_whitespace()).collect();
        if start > 0 && chars[start - 1].is_whitespace() && !prev_word.is_empty() && prev_word.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        let id: String = chars[start..i].iter().collect();
        if !is_province_code(&id[..3]) {
            continue;
        }
        let context = crate::model::fold_vietnamese(&chars[start.saturating_sub(24)..start].iter().collect::<String>());
        if NOT_AN_ID.iter().any(|l| context.contains(l)) {
            continue;
        }
        out.push(id);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn province_codes_are_sorted_and_63() {
        assert_eq!(PROVINCE_CODES.len(), 63);
        assert!(PROVINCE_CODES.windows(2).all(|w| w[0] < w[1]));
        assert!(is_province_code("079") && is_province_code("001") && !is_province_code("003") && !is_province_code("099"));
    }

    #[test]
    fn finds_standalone_ids_with_a_province_prefix() {
        assert_eq!(find_cccd("Số định danh cá nhân: 052190123456"), ["052190123456"]);
        assert_eq!(find_cccd("CCCD số 001203004567, sinh ngày 01/02/2003."), ["001203004567"]);
        assert_eq!(find_cccd("1. Lê Văn An, CCCD số 079085001234. 2. Bùi Thị Lan, CCCD số 048301999999."), ["079085001234", "048301999999"]);
        assert_eq!(find_cccd("(052190123456)"), ["052190123456"]);
    }

    #[test]
    fn leaves_out_what_only_looks_like_an_id() {
        // Wrong length, bad province code.
        assert!(find_cccd("số 0521901234567 và 05219012345").is_empty());
        assert!(find_cccd("mã số 999190123456 và 003190123456").is_empty());
        // Joined to a code, a date or a longer number.
        assert!(find_cccd("mã 000.00.15.H40-250301-0007 và 052190123456-01").is_empty());
        assert!(find_cccd("ref 052190123456/2025 x").is_empty());
        assert!(find_cccd("A052190123456 và 052190123456B").is_empty());
        assert!(find_cccd("0912 052190123456").is_empty());
        // Labelled as something else.
        assert!(find_cccd("Điện thoại 052190123456").is_empty());
        assert!(find_cccd("Số tài khoản: 052190123456").is_empty());
        assert!(find_cccd("Mã bưu gửi 052190123456").is_empty());
    }
}
