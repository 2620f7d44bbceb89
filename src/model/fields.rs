//! The header fields of an administrative document (Decree 30/2020, Art. 8 and App. VI),
//! as read from its OCR text by `crate::stages::fields`: plain data, stored in the
//! catalog, printed in the batch JSON and written into the PDF's XMP.
//!
//! Invariant: a field that was not found is `None` (JSON `null`), never a guess; every
//! value fits the App. VI length of its field ([`DocumentFields::LIMITS`]).

use serde::{Deserialize, Serialize};

/// What was read from a document's header, signature block and text.
/// Deserialised with every field optional: a document stored without fields (a certified
/// copy, a row written before migration 0009) has `{}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DocumentFields {
    /// Number and symbol as printed after "Số:" (`1234/UBND-VX`); App. VI CodeNotation.
    pub so_ky_hieu: Option<String>,
    /// Issue date (the place-and-date line), ISO 8601 `YYYY-MM-DD`; App. VI IssuedDate.
    pub ngay: Option<String>,
    /// Type abbreviation of Decree 30/2020 App. III (`QĐ`, `TB`, …), `CV` for a công văn.
    pub loai: Option<String>,
    /// Issuing body, as printed (capitals); App. VI OrganName.
    pub co_quan: Option<String>,
    /// The parent body printed above the issuing body.
    pub co_quan_chu_quan: Option<String>,
    /// Trích yếu (summary); for a công văn the text after "V/v"; App. VI Subject.
    pub trich_yeu: Option<String>,
    /// Signer's full name; App. VI SignerInfo/FullName.
    pub nguoi_ky: Option<String>,
    /// Signer's position (`PHÓ GIÁM ĐỐC`); App. VI SignerInfo/Position.
    pub chuc_vu: Option<String>,
    /// Signing capacity line (`KT. GIÁM ĐỐC`, `TM. ỦY BAN NHÂN DÂN`), when there is one.
    pub tham_quyen: Option<String>,
    /// 12-digit personal ID numbers (CCCD) found on any page, in order of first appearance.
    pub cccd: Vec<String>,
}

impl DocumentFields {
    /// Maximum length in characters of each text field (Decree 30/2020, App. VI): a longer
    /// reading is not a field of that kind and is dropped.
    pub const LIMITS: &'static [(&'static str, usize)] = &[
        ("so_ky_hieu", 30),
        ("ngay", 10),
        ("loai", 100),
        ("co_quan", 200),
        ("co_quan_chu_quan", 200),
        ("trich_yeu", 500),
        ("nguoi_ky", 50),
        ("chuc_vu", 100),
        ("tham_quyen", 100),
        ("cccd", 12),
    ];

    /// The names `sohoa search --field NAME=VALUE` accepts (the JSON names).
    pub const NAMES: &'static [&'static str] =
        &["so_ky_hieu", "ngay", "loai", "co_quan", "co_quan_chu_quan", "trich_yeu", "nguoi_ky", "chuc_vu", "tham_quyen", "cccd"];

    /// App. VI length of field `name`.
    pub fn limit(name: &str) -> Option<usize> {
        Self::LIMITS.iter().find(|(n, _)| *n == name).map(|(_, l)| *l)
    }

    /// Every (name, value) pair that is present, in [`Self::NAMES`] order (one pair per
    /// CCCD number): what the catalog indexes and the XMP carries.
    pub fn pairs(&self) -> Vec<(&'static str, &str)> {
        let mut out = Vec::new();
        let single = [
            ("so_ky_hieu", &self.so_ky_hieu),
            ("ngay", &self.ngay),
            ("loai", &self.loai),
            ("co_quan", &self.co_quan),
            ("co_quan_chu_quan", &self.co_quan_chu_quan),
            ("trich_yeu", &self.trich_yeu),
            ("nguoi_ky", &self.nguoi_ky),
            ("chuc_vu", &self.chuc_vu),
            ("tham_quyen", &self.tham_quyen),
        ];
        for (name, v) in single {
            if let Some(v) = v {
                out.push((name, v.as_str()));
            }
        }
        out.extend(self.cccd.iter().map(|c| ("cccd", c.as_str())));
        out
    }

    /// The XMP properties (`sohoa:` namespace, each a Text) of the fields found: the names
    /// of the issue and of the PDF/A extension schema (`so_ky_hieu`, `ngay`, `loai`,
    /// `co_quan`, `trich_yeu`, `nguoi_ky`, `cccd`), several CCCD numbers joined by ", ".
    pub fn xmp_properties(&self) -> Vec<(&'static str, String)> {
        let mut out: Vec<(&'static str, String)> = [
            ("so_ky_hieu", &self.so_ky_hieu),
            ("ngay", &self.ngay),
            ("loai", &self.loai),
            ("co_quan", &self.co_quan),
            ("trich_yeu", &self.trich_yeu),
            ("nguoi_ky", &self.nguoi_ky),
        ]
        .into_iter()
        .filter_map(|(n, v)| v.clone().map(|v| (n, v)))
        .collect();
        if !self.cccd.is_empty() {
            out.push(("cccd", self.cccd.join(", ")));
        }
        out
    }

    /// True when nothing was found.
    pub fn is_empty(&self) -> bool {
        self.pairs().is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_fields_are_null_and_names_are_the_issue_s() {
        let f = DocumentFields { so_ky_hieu: Some("1234/UBND-VX".into()), cccd: vec!["052190123456".into()], ..Default::default() };
        let v = serde_json::to_value(&f).unwrap();
        assert_eq!(v["so_ky_hieu"], "1234/UBND-VX");
        for n in ["ngay", "loai", "co_quan", "trich_yeu", "nguoi_ky"] {
            assert!(v[n].is_null(), "{n}");
        }
        assert_eq!(v["cccd"], serde_json::json!(["052190123456"]));
        assert_eq!(f.pairs(), vec![("so_ky_hieu", "1234/UBND-VX"), ("cccd", "052190123456")]);
        for n in DocumentFields::NAMES {
            assert!(DocumentFields::limit(n).is_some(), "{n}");
            assert!(v.get(*n).is_some(), "{n} is a JSON name");
        }
        assert!(DocumentFields::default().is_empty());
    }
}
