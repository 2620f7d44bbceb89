//! Electronic result codes (Decree 45/2020, Art. 14.3): a dossier's results are
//! `‹dossier code›-KQ‹n›`, n = 1, 2, 3, … The numbering itself (no gap, no repeat under
//! concurrency) is the catalog's (`runtime::catalog::dossiers`); the shape is here.

/// The code of the `n`-th electronic result of `dossier_code`.
pub fn result_code(dossier_code: &str, n: u64) -> String {
    format!("{dossier_code}-KQ{n}")
}

/// The dossier code and number of a result code, if it is one.
pub fn parse_result_code(code: &str) -> Option<(&str, u64)> {
    let (dossier, digits) = code.rsplit_once("-KQ")?;
    let n: u64 = digits.parse().ok().filter(|n| *n >= 1)?;
    // Written exactly as `result_code` writes it: no sign, no leading zero.
    (digits == n.to_string() && crate::model::DossierCode::is_valid(dossier)).then_some((dossier, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_codes_round_trip() {
        let code = "000.00.15.H40-250301-0007";
        assert_eq!(result_code(code, 1), "000.00.15.H40-250301-0007-KQ1");
        assert_eq!(result_code(code, 12), "000.00.15.H40-250301-0007-KQ12");
        assert_eq!(parse_result_code("000.00.15.H40-250301-0007-KQ12"), Some((code, 12)));
        for bad in ["000.00.15.H40-250301-0007-KQ0", "000.00.15.H40-250301-0007-KQ", "000.00.15.H40-250301-0007-KQ01", "ABC-KQ1", "000.00.15.H40-250301-0007"] {
            assert_eq!(parse_result_code(bad), None, "{bad}");
        }
    }
}
