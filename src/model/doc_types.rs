//! Document types a separator sheet can announce: the `TP:<code>` codes, their
//! Vietnamese names (printed on separator sheets) and how a document of the type is
//! composed (its [`Genre`], used by the sample generator).
//!
//! Domain data: read by `stages::barcode::sheets` (sheet labels) and `tools::synth`.

/// How a document type's content pages are composed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Genre {
    /// "Căn cứ ..." recitals, "QUYẾT ĐỊNH:", articles.
    Decision,
    /// Công văn: "V/v ..." under the number, "Kính gửi:", prose.
    Letter,
    /// Thông báo, biên bản, báo cáo, giấy xác nhận: title, summary, prose.
    Notice,
    /// A citizen's paper (application, declaration, civil-status extract, ID card copy):
    /// no issuing body or only a commune, field lines, then prose.
    Form,
}

/// A document type that a separator sheet can announce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocKind {
    /// Short ASCII code carried by the separator barcode (`TP:<code>`).
    pub code: &'static str,
    /// The type's name in Vietnamese, sentence case, as printed on the separator sheet.
    pub name: &'static str,
    /// The title printed on the document itself (capitals).
    pub title: &'static str,
    /// Abbreviation used in the document number (Decree 30/2020, App. III), if any.
    pub abbrev: Option<&'static str>,
    pub genre: Genre,
}

/// Document types used in generated dossiers.
pub const DOC_KINDS: &[DocKind] = &[
    DocKind { code: "CCCD", name: "Căn cước công dân", title: "CĂN CƯỚC CÔNG DÂN", abbrev: None, genre: Genre::Form },
    DocKind { code: "GKS", name: "Giấy khai sinh", title: "GIẤY KHAI SINH", abbrev: None, genre: Genre::Form },
    DocKind { code: "DON", name: "Đơn đề nghị", title: "ĐƠN ĐỀ NGHỊ", abbrev: None, genre: Genre::Form },
    DocKind { code: "TK", name: "Tờ khai", title: "TỜ KHAI", abbrev: None, genre: Genre::Form },
    DocKind { code: "GUQ", name: "Giấy ủy quyền", title: "GIẤY ỦY QUYỀN", abbrev: Some("GUQ"), genre: Genre::Form },
    DocKind { code: "QD", name: "Quyết định", title: "QUYẾT ĐỊNH", abbrev: Some("QĐ"), genre: Genre::Decision },
    DocKind { code: "GXN", name: "Giấy xác nhận", title: "GIẤY XÁC NHẬN", abbrev: Some("GXN"), genre: Genre::Notice },
    DocKind { code: "TB", name: "Thông báo", title: "THÔNG BÁO", abbrev: Some("TB"), genre: Genre::Notice },
    DocKind { code: "BB", name: "Biên bản", title: "BIÊN BẢN", abbrev: Some("BB"), genre: Genre::Notice },
    DocKind { code: "BC", name: "Báo cáo", title: "BÁO CÁO", abbrev: Some("BC"), genre: Genre::Notice },
    DocKind { code: "CV", name: "Công văn", title: "", abbrev: None, genre: Genre::Letter },
];

/// Looks a document type up by its barcode code.
pub fn doc_kind(code: &str) -> Option<&'static DocKind> {
    DOC_KINDS.iter().find(|k| k.code == code)
}
