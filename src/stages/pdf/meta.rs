//! Document metadata: the Info dictionary and the XMP packet, both from [`DocumentMeta`].
//! Pure; no clock is read (dates come from `scan_time`), so output stays deterministic.

use chrono::DateTime;
use lopdf::{Dictionary, Object};

use super::font::text_string;
use crate::model::DocumentMeta;

/// XMP namespace of sohoa's own properties (prefix `sohoa`).
pub const SOHOA_XMP_NS: &str = "urn:sohoa:xmp:1.0/";

pub(crate) const PRODUCER: &str = "sohoa";

/// The Info dictionary. `CreationDate`/`ModDate` are present only when `scan_time` is
/// valid RFC 3339; optional facts are left out when absent.
pub(crate) fn info_dict(meta: &DocumentMeta) -> Dictionary {
    let mut d = Dictionary::new();
    d.set("Title", text_string(&meta.title));
    d.set("Producer", text_string(PRODUCER));
    d.set("Creator", text_string(PRODUCER));
    if let Ok(t) = DateTime::parse_from_rfc3339(&meta.scan_time) {
        d.set("CreationDate", Object::from(t));
        d.set("ModDate", Object::from(t));
    }
    if let Some(code) = &meta.dossier_code {
        d.set("DossierCode", text_string(code));
    }
    if let Some(kind) = &meta.document_type {
        d.set("DocumentType", text_string(kind));
    }
    d.set("PageCount", text_string(&meta.page_count.to_string()));
    d.set("SourceBatch", text_string(&meta.source_batch));
    d.set("ScanTime", text_string(&meta.scan_time));
    d
}

/// BCP 47 tags of a Tesseract language list (`vie+eng` → `vi`, `en`): the document's
/// languages for the catalog's `/Lang` (the first) and the XMP `dc:language` (all).
/// Tesseract's ISO 639-2 codes with a two-letter ISO 639-1 code get it; scripts and
/// variants Tesseract names with a suffix get the BCP 47 form where it is known
/// (`chi_sim` → `zh-Hans`); any other code is kept as given (a valid ISO 639-3 tag);
/// `osd` (script detection, not a language) is left out. Empty: `vi`.
pub fn language_tags(langs: &str) -> Vec<String> {
    const TAGS: &[(&str, &str)] = &[
        ("vie", "vi"),
        ("eng", "en"),
        ("fra", "fr"),
        ("deu", "de"),
        ("spa", "es"),
        ("ita", "it"),
        ("por", "pt"),
        ("rus", "ru"),
        ("jpn", "ja"),
        ("kor", "ko"),
        ("tha", "th"),
        ("lao", "lo"),
        ("khm", "km"),
        ("chi_sim", "zh-Hans"),
        ("chi_tra", "zh-Hant"),
    ];
    let mut tags: Vec<String> = Vec::new();
    for code in langs.split('+').map(str::trim).filter(|c| !c.is_empty() && *c != "osd") {
        let tag = TAGS.iter().find(|(t, _)| *t == code).map_or_else(|| code.replace('_', "-"), |(_, b)| b.to_string());
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    if tags.is_empty() {
        tags.push("vi".into());
    }
    tags
}

/// The XMP metadata packet (UTF-8), same facts as the Info dictionary, and the
/// document's `languages` (BCP 47) as `dc:language`.
pub(crate) fn xmp_packet(meta: &DocumentMeta, languages: &[String]) -> String {
    let mut props = String::new();
    if !languages.is_empty() {
        let items: String = languages.iter().map(|l| format!("<rdf:li>{}</rdf:li>", xml_escape(l))).collect();
        props.push_str(&format!("   <dc:language><rdf:Bag>{items}</rdf:Bag></dc:language>\n"));
    }
    let mut prop = |name: &str, value: &str| {
        props.push_str(&format!("   <{name}>{}</{name}>\n", xml_escape(value)));
    };
    prop("dc:format", "application/pdf");
    if let Ok(t) = DateTime::parse_from_rfc3339(&meta.scan_time) {
        // To the second, as the Info dictionary's dates (PDF dates have no fractions):
        // PDF/A wants the two to agree.
        let t = t.to_rfc3339_opts(chrono::SecondsFormat::Secs, false);
        prop("xmp:CreateDate", &t);
        prop("xmp:ModifyDate", &t);
        prop("xmp:MetadataDate", &t);
    }
    prop("xmp:CreatorTool", PRODUCER);
    prop("pdf:Producer", PRODUCER);
    if let Some(code) = &meta.dossier_code {
        prop("sohoa:DossierCode", code);
    }
    if let Some(kind) = &meta.document_type {
        prop("sohoa:DocumentType", kind);
    }
    prop("sohoa:PageCount", &meta.page_count.to_string());
    prop("sohoa:SourceBatch", &meta.source_batch);
    prop("sohoa:ScanTime", &meta.scan_time);
    for (name, value) in meta.fields.xmp_properties() {
        prop(&format!("sohoa:{name}"), &value);
    }

    format!(
        "<?xpacket begin=\"\u{FEFF}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n\
         <x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\n\
         <rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n\
         \x20<rdf:Description rdf:about=\"\"\n\
         \x20  xmlns:dc=\"http://purl.org/dc/elements/1.1/\"\n\
         \x20  xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\"\n\
         \x20  xmlns:pdf=\"http://ns.adobe.com/pdf/1.3/\"\n\
         \x20  xmlns:sohoa=\"{SOHOA_XMP_NS}\">\n\
         \x20  <dc:title><rdf:Alt><rdf:li xml:lang=\"x-default\">{title}</rdf:li></rdf:Alt></dc:title>\n\
         {props}\
         \x20</rdf:Description>\n\
         </rdf:RDF>\n\
         </x:xmpmeta>\n\
         <?xpacket end=\"r\"?>",
        title = xml_escape(&meta.title),
    )
}

/// Escapes text for XML element content and attribute values; drops characters XML 1.0
/// cannot carry.
fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> DocumentMeta {
        DocumentMeta {
            dossier_code: Some("000.00.15.H40-250301-0007".into()),
            document_type: Some("Quyết định".into()),
            page_count: 2,
            source_batch: "batch <1> & co".into(),
            scan_time: "2026-01-05T10:30:00+07:00".into(),
            title: "Giấy khai sinh".into(),
            fields: Default::default(),
        }
    }

    #[test]
    fn xmp_carries_all_facts_escaped() {
        let x = xmp_packet(&meta(), &["vi".to_string()]);
        assert!(x.contains("<dc:language><rdf:Bag><rdf:li>vi</rdf:li></rdf:Bag></dc:language>"));
        assert!(x.contains("<rdf:li xml:lang=\"x-default\">Giấy khai sinh</rdf:li>"));
        assert!(x.contains("<xmp:CreateDate>2026-01-05T10:30:00+07:00</xmp:CreateDate>"));
        assert!(x.contains("<pdf:Producer>sohoa</pdf:Producer>"));
        assert!(x.contains("<sohoa:DossierCode>000.00.15.H40-250301-0007</sohoa:DossierCode>"));
        assert!(x.contains("<sohoa:DocumentType>Quyết định</sohoa:DocumentType>"));
        assert!(x.contains("<sohoa:PageCount>2</sohoa:PageCount>"));
        assert!(x.contains("<sohoa:SourceBatch>batch &lt;1&gt; &amp; co</sohoa:SourceBatch>"));
        assert!(!x.contains("sohoa:so_ky_hieu"), "no field found, no property");
    }

    #[test]
    fn xmp_carries_the_document_fields() {
        let mut m = meta();
        m.fields.so_ky_hieu = Some("12/QĐ-UBND".into());
        m.fields.trich_yeu = Some("Về việc A & B".into());
        m.fields.cccd = vec!["052190123456".into(), "001203004567".into()];
        let x = xmp_packet(&m, &[]);
        assert!(x.contains("<sohoa:so_ky_hieu>12/QĐ-UBND</sohoa:so_ky_hieu>"), "{x}");
        assert!(x.contains("<sohoa:trich_yeu>Về việc A &amp; B</sohoa:trich_yeu>"), "{x}");
        assert!(x.contains("<sohoa:cccd>052190123456, 001203004567</sohoa:cccd>"), "{x}");
        assert!(!x.contains("sohoa:ngay"), "{x}");
    }

    #[test]
    fn languages_follow_tesseract_codes() {
        assert_eq!(language_tags("vie"), ["vi"]);
        assert_eq!(language_tags("eng"), ["en"]);
        assert_eq!(language_tags("vie+eng"), ["vi", "en"]);
        assert_eq!(language_tags("osd+chi_sim+eng+eng"), ["zh-Hans", "en"]);
        assert_eq!(language_tags("hmn"), ["hmn"]);
        assert_eq!(language_tags(""), ["vi"]);
        let x = xmp_packet(&meta(), &language_tags("eng+vie"));
        assert!(x.contains("<dc:language><rdf:Bag><rdf:li>en</rdf:li><rdf:li>vi</rdf:li></rdf:Bag></dc:language>"), "{x}");
    }

    #[test]
    fn xmp_dates_are_to_the_second_as_the_info_dates() {
        let mut m = meta();
        m.scan_time = "2026-01-05T10:30:00.734+07:00".into();
        let x = xmp_packet(&m, &[]);
        assert!(x.contains("<xmp:CreateDate>2026-01-05T10:30:00+07:00</xmp:CreateDate>"), "{x}");
        assert!(x.contains("<xmp:ModifyDate>2026-01-05T10:30:00+07:00</xmp:ModifyDate>"), "{x}");
    }

    #[test]
    fn info_dates_only_from_valid_scan_time() {
        let d = info_dict(&meta());
        assert!(d.has(b"CreationDate"));
        let mut m = meta();
        m.scan_time = "yesterday".into();
        m.dossier_code = None;
        let d = info_dict(&m);
        assert!(!d.has(b"CreationDate"));
        assert!(!d.has(b"DossierCode"));
        assert!(d.has(b"ScanTime"));
    }
}
