//! A structural check of the PDF/A-2b rules sohoa's documents must keep: [`check_pdfa`].
//!
//! Not a full ISO 19005-2 validator (no font-program or colour-space-per-operator
//! analysis); it checks, on the parsed object graph, the rules a writer can break:
//! - trailer: a document `/ID`, no `/Encrypt`;
//! - XMP: present, unfiltered, `pdfaid:part 2` and `pdfaid:conformance B`; every property
//!   outside the standard schemas declared in a PDF/A extension schema; Info entries
//!   (Title, Producer, Creator, dates) equal to their XMP equivalents;
//! - OutputIntent: a `GTS_PDFA1` intent with an embedded ICC profile of a PDF/A-2 version
//!   whose component count matches `/N`; DeviceRGB or DeviceCMYK used only with an intent
//!   of that model;
//! - every font embedded (FontFile, FontFile2 or FontFile3; Type3 fonts excepted);
//! - no LZW, no JavaScript (actions, name tree, additional actions), no embedded files,
//!   no PostScript XObjects, no `/Interpolate true`, no alternate images;
//! - annotations: the Print flag set, Hidden/Invisible/NoView clear, an `/AP` normal
//!   appearance (except Popup and Link), so a signature widget added later is checked too.
//!
//! Public so the signing and receipt code can check their output with it.

use lopdf::{Dictionary, Document, Object};

/// One broken rule: a stable kebab-case code and what was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PdfaIssue {
    pub rule: &'static str,
    pub detail: String,
}

impl std::fmt::Display for PdfaIssue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.rule, self.detail)
    }
}

/// XMP namespaces PDF/A-2 knows without an extension schema (ISO 19005-2, 6.6.2.3.2).
const STANDARD_NAMESPACES: &[&str] = &[
    "http://purl.org/dc/elements/1.1/",
    "http://ns.adobe.com/xap/1.0/",
    "http://ns.adobe.com/xap/1.0/rights/",
    "http://ns.adobe.com/xap/1.0/mm/",
    "http://ns.adobe.com/xap/1.0/bj/",
    "http://ns.adobe.com/xap/1.0/t/pg/",
    "http://ns.adobe.com/xap/1.0/sType/ResourceEvent#",
    "http://ns.adobe.com/xap/1.0/sType/ResourceRef#",
    "http://ns.adobe.com/xap/1.0/sType/Version#",
    "http://ns.adobe.com/pdf/1.3/",
    "http://ns.adobe.com/photoshop/1.0/",
    "http://ns.adobe.com/exif/1.0/",
    "http://ns.adobe.com/tiff/1.0/",
    "http://www.aiim.org/pdfa/ns/id/",
    "http://www.aiim.org/pdfa/ns/extension/",
    "http://www.aiim.org/pdfa/ns/schema#",
    "http://www.aiim.org/pdfa/ns/property#",
    "http://www.aiim.org/pdfa/ns/type#",
    "http://www.aiim.org/pdfa/ns/field#",
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "adobe:ns:meta/",
];

/// Checks `doc` against the PDF/A-2b rules above; empty when none is broken.
pub fn check_pdfa(doc: &Document) -> Vec<PdfaIssue> {
    let mut issues = Vec::new();
    let mut issue = |rule: &'static str, detail: String| issues.push(PdfaIssue { rule, detail });

    // Trailer.
    match doc.trailer.get(b"ID").ok().and_then(|o| o.as_array().ok()) {
        Some(ids) if ids.len() == 2 && ids.iter().all(|i| matches!(i, Object::String(..))) => {}
        _ => issue("pdfa-no-id", "the trailer has no /ID of two strings".into()),
    }
    if doc.trailer.has(b"Encrypt") {
        issue("pdfa-encrypted", "the trailer has /Encrypt".into());
    }
    let catalog = match doc.catalog() {
        Ok(c) => c.clone(),
        Err(e) => {
            issue("pdfa-no-catalog", e.to_string());
            return issues;
        }
    };

    // XMP.
    let xmp = match catalog.get(b"Metadata").ok().and_then(|m| resolve(doc, m)).and_then(|o| o.as_stream().ok()) {
        Some(s) => {
            if s.dict.has(b"Filter") {
                issue("pdfa-metadata-filtered", "the XMP stream is compressed".into());
            }
            Some(String::from_utf8_lossy(&s.content).into_owned())
        }
        None => {
            issue("pdfa-no-metadata", "the catalog has no XMP /Metadata stream".into());
            None
        }
    };
    if let Some(xmp) = &xmp {
        check_xmp(doc, xmp, &mut issue);
    }

    // Output intent and device colour.
    let mut intent_components = None;
    let mut pdfa_intent = false;
    let intents = catalog.get(b"OutputIntents").ok().and_then(|o| resolve(doc, o)).and_then(|o| o.as_array().ok()).cloned().unwrap_or_default();
    for intent in &intents {
        let Some(d) = resolve(doc, intent).and_then(|o| o.as_dict().ok()) else { continue };
        if name_of(d, b"S").as_deref() != Some("GTS_PDFA1") {
            continue;
        }
        pdfa_intent = true;
        match d.get(b"DestOutputProfile").ok().and_then(|o| resolve(doc, o)).and_then(|o| o.as_stream().ok()) {
            Some(s) => {
                let data = s.decompressed_content().unwrap_or_else(|_| s.content.clone());
                let n = s.dict.get(b"N").ok().and_then(|o| o.as_i64().ok());
                match super::icc::components(&data) {
                    Some(c) if Some(c as i64) == n => intent_components = Some(c),
                    Some(c) => issue("pdfa-output-intent", format!("the ICC profile has {c} components, /N says {n:?}")),
                    None => issue("pdfa-output-intent", "DestOutputProfile is not an ICC profile of version 2 to 4".into()),
                }
            }
            None => issue("pdfa-output-intent", "the GTS_PDFA1 intent embeds no DestOutputProfile".into()),
        }
    }
    if !pdfa_intent {
        issue("pdfa-output-intent", "the catalog has no GTS_PDFA1 /OutputIntents".into());
    }

    if catalog.has(b"AA") {
        issue("pdfa-javascript", "the catalog has additional actions (/AA)".into());
    }
    if let Some(names) = catalog.get(b"Names").ok().and_then(|o| resolve(doc, o)).and_then(|o| o.as_dict().ok()) {
        if names.has(b"JavaScript") {
            issue("pdfa-javascript", "the name tree holds /JavaScript".into());
        }
        if names.has(b"EmbeddedFiles") {
            issue("pdfa-embedded-file", "the name tree holds /EmbeddedFiles".into());
        }
    }

    // Every object, once.
    let mut device_rgb = false;
    let mut device_cmyk = false;
    for (id, object) in &doc.objects {
        let dict = match object {
            Object::Dictionary(d) => d,
            Object::Stream(s) => &s.dict,
            _ => continue,
        };
        let at = format!("object {} {}", id.0, id.1);
        for filter in filters(dict) {
            if filter == "LZWDecode" {
                issue("pdfa-lzw", format!("{at} is LZW-compressed"));
            }
        }
        if name_of(dict, b"S").as_deref() == Some("JavaScript") || dict.has(b"JS") {
            issue("pdfa-javascript", format!("{at} is a JavaScript action"));
        }
        let kind = name_of(dict, b"Type");
        let subtype = name_of(dict, b"Subtype");
        if kind.as_deref() == Some("Page") && dict.has(b"AA") {
            issue("pdfa-javascript", format!("{at}: a page with additional actions (/AA)"));
        }
        if kind.as_deref() == Some("Filespec") && dict.has(b"EF") {
            issue("pdfa-embedded-file", format!("{at} embeds a file"));
        }
        match subtype.as_deref() {
            Some("PS") => issue("pdfa-postscript", format!("{at} is a PostScript XObject")),
            Some("Image") => {
                if dict.get(b"Interpolate").ok().and_then(|o| o.as_bool().ok()) == Some(true) {
                    issue("pdfa-interpolate", format!("{at} asks for /Interpolate true"));
                }
                if dict.has(b"Alternates") || dict.has(b"OPI") {
                    issue("pdfa-image", format!("{at} has /Alternates or /OPI"));
                }
            }
            Some("Form") if dict.has(b"PS") || dict.has(b"OPI") => issue("pdfa-postscript", format!("{at} is a form with /PS or /OPI")),
            _ => {}
        }
        if kind.as_deref() == Some("Font") {
            check_font(doc, dict, &at, &mut issue);
        }
        if kind.as_deref() == Some("Annot") || (dict.has(b"Rect") && subtype.as_deref().is_some_and(is_annotation)) {
            check_annotation(dict, subtype.as_deref().unwrap_or(""), &at, &mut issue);
        }
        for key in [&b"ColorSpace"[..], b"CS"] {
            if let Ok(cs) = dict.get(key) {
                let cs = resolve(doc, cs);
                device_rgb |= uses_space(cs, "DeviceRGB");
                device_cmyk |= uses_space(cs, "DeviceCMYK");
            }
        }
    }
    // Colour spaces named in content streams (rg/RG operators) are not parsed; images
    // and resources are what sohoa writes.
    if device_rgb && intent_components != Some(3) {
        issue("pdfa-device-colour", "DeviceRGB is used without an RGB output intent".into());
    }
    if device_cmyk && intent_components != Some(4) {
        issue("pdfa-device-colour", "DeviceCMYK is used without a CMYK output intent".into());
    }
    issues
}

fn is_annotation(subtype: &str) -> bool {
    matches!(
        subtype,
        "Text"
            | "Link"
            | "FreeText"
            | "Line"
            | "Square"
            | "Circle"
            | "Polygon"
            | "PolyLine"
            | "Highlight"
            | "Underline"
            | "Squiggly"
            | "StrikeOut"
            | "Stamp"
            | "Caret"
            | "Ink"
            | "Popup"
            | "FileAttachment"
            | "Sound"
            | "Movie"
            | "Widget"
            | "Screen"
            | "PrinterMark"
            | "TrapNet"
            | "Watermark"
            | "3D"
            | "Redact"
    )
}

fn check_annotation(dict: &Dictionary, subtype: &str, at: &str, issue: &mut impl FnMut(&'static str, String)) {
    if matches!(subtype, "FileAttachment" | "Sound" | "Movie" | "Screen" | "3D") {
        issue("pdfa-annotation", format!("{at}: {subtype} annotations are not allowed"));
    }
    let flags = dict.get(b"F").ok().and_then(|o| o.as_i64().ok()).unwrap_or(0);
    if subtype != "Popup" && flags & 4 == 0 {
        issue("pdfa-annotation", format!("{at}: a {subtype} annotation without the Print flag (/F 4)"));
    }
    if flags & (1 | 2 | 32) != 0 {
        issue("pdfa-annotation", format!("{at}: a {subtype} annotation flagged Invisible, Hidden or NoView"));
    }
    let zero_size = dict
        .get(b"Rect")
        .ok()
        .and_then(|r| r.as_array().ok())
        .map(|r| r.iter().filter_map(|v| v.as_float().ok()).collect::<Vec<_>>())
        .is_some_and(|r| r.len() == 4 && r[0] == r[2] && r[1] == r[3]);
    if !matches!(subtype, "Popup" | "Link") && !zero_size {
        let has_normal = dict.get(b"AP").ok().and_then(|o| o.as_dict().ok()).is_some_and(|ap| ap.has(b"N"));
        if !has_normal {
            issue("pdfa-annotation", format!("{at}: a {subtype} annotation without an /AP normal appearance"));
        }
    }
}

fn check_font(doc: &Document, dict: &Dictionary, at: &str, issue: &mut impl FnMut(&'static str, String)) {
    let subtype = name_of(dict, b"Subtype").unwrap_or_default();
    match subtype.as_str() {
        "Type3" => {}
        // The descendant carries the descriptor; it is checked as an object of its own.
        "Type0" => {
            let descendants = dict.get(b"DescendantFonts").ok().and_then(|o| resolve(doc, o)).and_then(|o| o.as_array().ok());
            if descendants.is_none_or(|d| d.is_empty()) {
                issue("pdfa-font-not-embedded", format!("{at}: a Type0 font without DescendantFonts"));
            }
        }
        _ => {
            let descriptor = dict.get(b"FontDescriptor").ok().and_then(|o| resolve(doc, o)).and_then(|o| o.as_dict().ok());
            let embedded = descriptor.is_some_and(|d| {
                [&b"FontFile"[..], b"FontFile2", b"FontFile3"]
                    .iter()
                    .any(|k| d.get(k).ok().and_then(|o| resolve(doc, o)).is_some_and(|o| o.as_stream().is_ok_and(|s| !s.content.is_empty())))
            });
            if !embedded {
                let name = name_of(dict, b"BaseFont").unwrap_or_default();
                issue("pdfa-font-not-embedded", format!("{at}: the {subtype} font {name} is not embedded"));
            }
        }
    }
}

fn check_xmp(doc: &Document, xmp: &str, issue: &mut impl FnMut(&'static str, String)) {
    if xmp_value(xmp, "pdfaid:part").as_deref() != Some("2") {
        issue("pdfa-xmp-identification", "XMP pdfaid:part is not 2".into());
    }
    if xmp_value(xmp, "pdfaid:conformance").as_deref() != Some("B") {
        issue("pdfa-xmp-identification", "XMP pdfaid:conformance is not B".into());
    }
    // Namespaces declared, and the properties the extension schemas declare per namespace.
    let namespaces = declared_namespaces(xmp);
    let mut declared: Vec<(String, String)> = Vec::new(); // (namespace URI, property)
    for schema in xmp.split("<pdfaSchema:namespaceURI>").skip(1) {
        let Some((uri, rest)) = schema.split_once("</pdfaSchema:namespaceURI>") else { continue };
        let end = rest.find("<pdfaSchema:namespaceURI>").unwrap_or(rest.len());
        for prop in rest[..end].split("<pdfaProperty:name>").skip(1) {
            if let Some((name, _)) = prop.split_once("</pdfaProperty:name>") {
                declared.push((uri.trim().to_string(), name.trim().to_string()));
            }
        }
    }
    for (prefix, local) in used_properties(xmp) {
        let Some(uri) = namespaces.iter().find(|(p, _)| *p == prefix).map(|(_, u)| u.clone()) else {
            issue("pdfa-xmp-undeclared", format!("XMP prefix {prefix} has no namespace declaration"));
            continue;
        };
        if STANDARD_NAMESPACES.contains(&uri.as_str()) {
            continue;
        }
        if !declared.iter().any(|(u, n)| *u == uri && *n == local) {
            issue("pdfa-xmp-undeclared", format!("XMP property {prefix}:{local} ({uri}) is not declared in an extension schema"));
        }
    }
    // Info ↔ XMP.
    let info = doc.trailer.get(b"Info").ok().and_then(|o| resolve(doc, o)).and_then(|o| o.as_dict().ok());
    if let Some(info) = info {
        for (key, xmp_name) in [("Title", "dc:title"), ("Producer", "pdf:Producer"), ("Creator", "xmp:CreatorTool")] {
            let Some(value) = info.get(key.as_bytes()).ok().and_then(text_of) else { continue };
            if xmp_value(xmp, xmp_name).as_deref() != Some(value.as_str()) {
                issue("pdfa-info-xmp-mismatch", format!("Info /{key} {value:?} differs from XMP {xmp_name}"));
            }
        }
        for (key, xmp_name) in [("CreationDate", "xmp:CreateDate"), ("ModDate", "xmp:ModifyDate")] {
            let Some(value) = info.get(key.as_bytes()).ok().and_then(text_of) else { continue };
            let same = xmp_value(xmp, xmp_name).is_some_and(|x| pdf_date_as_xmp(&value).is_some_and(|d| d == x));
            if !same {
                issue("pdfa-info-xmp-mismatch", format!("Info /{key} {value:?} differs from XMP {xmp_name}"));
            }
        }
    }
}

/// `xmlns:prefix="uri"` declarations anywhere in the packet.
fn declared_namespaces(xmp: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for part in xmp.split("xmlns:").skip(1) {
        if let Some((prefix, rest)) = part.split_once("=\"")
            && let Some((uri, _)) = rest.split_once('"')
        {
            out.push((prefix.trim().to_string(), uri.to_string()));
        }
    }
    out
}

/// Element names `prefix:local` used in the packet (opening tags), except RDF and the
/// packet wrapper's own.
fn used_properties(xmp: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for part in xmp.split('<').skip(1) {
        if part.starts_with('/') || part.starts_with('?') || part.starts_with('!') {
            continue;
        }
        let name: String = part.chars().take_while(|c| !c.is_whitespace() && *c != '>' && *c != '/').collect();
        if let Some((prefix, local)) = name.split_once(':')
            && !matches!(prefix, "rdf" | "x")
            && !out.iter().any(|(p, l)| p == prefix && l == local)
        {
            out.push((prefix.to_string(), local.to_string()));
        }
    }
    out
}

/// The text of the first `<name>` element (for `dc:title`, the text of its first `rdf:li`),
/// XML entities decoded.
fn xmp_value(xmp: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = xmp.find(&open)? + open.len();
    let end = start + xmp[start..].find(&close)?;
    let mut inner = &xmp[start..end];
    if let Some(li) = inner.find("<rdf:li") {
        let after = &inner[li..];
        let gt = after.find('>')? + 1;
        let stop = after.find("</rdf:li>")?;
        inner = &after[gt..stop];
    }
    Some(inner.trim().replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&apos;", "'").replace("&amp;", "&"))
}

/// `D:YYYYMMDDHHmmSS+HH'mm'` as XMP's `YYYY-MM-DDTHH:mm:SS+HH:mm`.
fn pdf_date_as_xmp(d: &str) -> Option<String> {
    let d = d.strip_prefix("D:").unwrap_or(d);
    if d.len() < 14 || !d[..14].bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let base = format!("{}-{}-{}T{}:{}:{}", &d[0..4], &d[4..6], &d[6..8], &d[8..10], &d[10..12], &d[12..14]);
    let tz = &d[14..];
    Some(match tz.chars().next() {
        None => base,
        Some('Z') => format!("{base}Z"),
        Some(sign @ ('+' | '-')) => {
            let digits: String = tz[1..].chars().filter(char::is_ascii_digit).collect();
            if digits.len() < 4 {
                return None;
            }
            format!("{base}{sign}{}:{}", &digits[0..2], &digits[2..4])
        }
        _ => return None,
    })
}

fn resolve<'a>(doc: &'a Document, o: &'a Object) -> Option<&'a Object> {
    doc.dereference(o).ok().map(|(_, o)| o)
}

fn name_of(d: &Dictionary, key: &[u8]) -> Option<String> {
    d.get(key).ok().and_then(|o| o.as_name().ok()).map(|n| String::from_utf8_lossy(n).into_owned())
}

/// A PDF text string (PDFDocEncoding taken as Latin-1, or UTF-16BE with a BOM).
fn text_of(o: &Object) -> Option<String> {
    let Object::String(bytes, _) = o else { return None };
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        let units: Vec<u16> = rest.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
        return String::from_utf16(&units).ok();
    }
    Some(bytes.iter().map(|&b| b as char).collect())
}

fn filters(d: &Dictionary) -> Vec<String> {
    match d.get(b"Filter") {
        Ok(Object::Name(n)) => vec![String::from_utf8_lossy(n).into_owned()],
        Ok(Object::Array(a)) => a.iter().filter_map(|o| o.as_name().ok()).map(|n| String::from_utf8_lossy(n).into_owned()).collect(),
        _ => Vec::new(),
    }
}

fn uses_space(cs: Option<&Object>, space: &str) -> bool {
    match cs {
        Some(Object::Name(n)) => n == space.as_bytes(),
        // [/Indexed base hival lookup] and friends: the base is what counts.
        Some(Object::Array(a)) => a.iter().any(|o| matches!(o, Object::Name(n) if n == space.as_bytes())),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pdf_dates_convert_to_xmp() {
        assert_eq!(pdf_date_as_xmp("D:20260105103000+07'00'").as_deref(), Some("2026-01-05T10:30:00+07:00"));
        assert_eq!(pdf_date_as_xmp("D:20260105103000Z").as_deref(), Some("2026-01-05T10:30:00Z"));
        assert_eq!(pdf_date_as_xmp("D:2026").as_deref(), None);
    }

    #[test]
    fn undeclared_xmp_properties_are_found() {
        let xmp = "<rdf:Description xmlns:dc=\"http://purl.org/dc/elements/1.1/\" xmlns:foo=\"urn:foo\"><dc:format>x</dc:format><foo:Bar>1</foo:Bar></rdf:Description>";
        assert_eq!(used_properties(xmp), [("dc".to_string(), "format".to_string()), ("foo".to_string(), "Bar".to_string())]);
        let doc = Document::with_version("1.7");
        let mut found = Vec::new();
        check_xmp(&doc, xmp, &mut |rule, detail| found.push((rule, detail)));
        assert!(found.iter().any(|(r, d)| *r == "pdfa-xmp-undeclared" && d.contains("foo:Bar")), "{found:?}");
        assert!(!found.iter().any(|(_, d)| d.contains("dc:format")), "{found:?}");
        assert!(found.iter().any(|(r, _)| *r == "pdfa-xmp-identification"));
    }

    #[test]
    fn xmp_values_read_alt_and_entities() {
        let xmp = "<dc:title><rdf:Alt><rdf:li xml:lang=\"x-default\">A &amp; B</rdf:li></rdf:Alt></dc:title><pdf:Producer>sohoa</pdf:Producer>";
        assert_eq!(xmp_value(xmp, "dc:title").as_deref(), Some("A & B"));
        assert_eq!(xmp_value(xmp, "pdf:Producer").as_deref(), Some("sohoa"));
        assert_eq!(xmp_value(xmp, "pdf:Keywords"), None);
    }
}
