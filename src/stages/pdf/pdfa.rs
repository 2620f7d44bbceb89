//! PDF/A-2b output: what the writer adds to a PDF under [`PdfProfile::Pdfa2b`] (the
//! default), and the list of sohoa's own XMP properties.
//!
//! Owns: the profile setting (`--pdf-profile pdfa-2b|plain`), the XMP identification
//! (`pdfaid:part 2`, `pdfaid:conformance B`), the PDF/A extension schema that declares
//! every `sohoa:` property ([`SOHOA_PROPERTIES`], the one list), and the OutputIntent
//! (`GTS_PDFA1`) with its embedded ICC profile ([`super::icc`]). The writer already
//! embeds every font (the invisible text layer's too), writes a document `/ID` and uses
//! no encryption, JavaScript or LZW; [`super::check_pdfa`] checks all of it.
//!
//! Signatures come later as an incremental update of the final PDF/A file; a signature
//! widget must then carry the Print flag (`/F 4`) and an `/AP` appearance stream.

use lopdf::{Document, Object, ObjectId, Stream, dictionary};

use super::icc;
use super::meta::SOHOA_XMP_NS;

/// Which standard the written PDF claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum PdfProfile {
    /// PDF/A-2b (ISO 19005-2, level B): for archives kept for decades (TCVN 14159-1).
    #[default]
    #[serde(rename = "pdfa-2b")]
    Pdfa2b,
    /// Plain PDF 1.7, no archival claim.
    #[serde(rename = "plain")]
    Plain,
}

impl PdfProfile {
    pub fn as_str(self) -> &'static str {
        match self {
            PdfProfile::Pdfa2b => "pdfa-2b",
            PdfProfile::Plain => "plain",
        }
    }
}

impl std::fmt::Display for PdfProfile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for PdfProfile {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "pdfa-2b" | "pdfa2b" | "pdf/a-2b" => Ok(PdfProfile::Pdfa2b),
            "plain" => Ok(PdfProfile::Plain),
            other => Err(format!("{other:?} is not a PDF profile (expected pdfa-2b or plain)")),
        }
    }
}

/// One property sohoa writes in its own XMP namespace ([`SOHOA_XMP_NS`], prefix `sohoa`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct XmpProperty {
    pub name: &'static str,
    /// XMP value type (`Text`, `Integer`, `Date`).
    pub value_type: &'static str,
    pub description: &'static str,
}

/// Every `sohoa:` property a sohoa PDF may carry, declared in the PDF/A extension schema.
/// A property written to the XMP must be listed here ([`super::check_pdfa`] reports one
/// that is not). The lower-case names are the document fields of Decree 30/2020 App. VI.
pub const SOHOA_PROPERTIES: &[XmpProperty] = &[
    XmpProperty { name: "DossierCode", value_type: "Text", description: "Dossier code (Circular 01/2018/TT-VPCP Art. 19)" },
    XmpProperty { name: "DocumentType", value_type: "Text", description: "Document type from the separator sheet" },
    XmpProperty { name: "PageCount", value_type: "Integer", description: "Pages in this document" },
    XmpProperty { name: "SourceBatch", value_type: "Text", description: "Scan batch the pages came from" },
    XmpProperty { name: "ScanTime", value_type: "Text", description: "Scan (processing) time, RFC 3339" },
    XmpProperty { name: "so_ky_hieu", value_type: "Text", description: "Number and symbol of the document (so, ky hieu)" },
    XmpProperty { name: "ngay", value_type: "Text", description: "Issue date of the document" },
    XmpProperty { name: "loai", value_type: "Text", description: "Kind of document (loai van ban)" },
    XmpProperty { name: "co_quan", value_type: "Text", description: "Issuing body (co quan ban hanh)" },
    XmpProperty { name: "trich_yeu", value_type: "Text", description: "Summary (trich yeu)" },
    XmpProperty { name: "nguoi_ky", value_type: "Text", description: "Signer (nguoi ky)" },
    XmpProperty { name: "cccd", value_type: "Text", description: "Personal ID number (CCCD)" },
];

/// Adds the PDF/A identification and the extension schema to an XMP packet made by
/// `meta::xmp_packet` (as more `rdf:Description`s before `</rdf:RDF>`).
pub(crate) fn pdfa_xmp(packet: String) -> String {
    let mut props = String::new();
    for p in SOHOA_PROPERTIES {
        props.push_str(&format!(
            "      <rdf:li rdf:parseType=\"Resource\"><pdfaProperty:name>{}</pdfaProperty:name><pdfaProperty:valueType>{}</pdfaProperty:valueType><pdfaProperty:category>external</pdfaProperty:category><pdfaProperty:description>{}</pdfaProperty:description></rdf:li>\n",
            p.name, p.value_type, p.description
        ));
    }
    let extra = format!(
        " <rdf:Description rdf:about=\"\" xmlns:pdfaid=\"http://www.aiim.org/pdfa/ns/id/\">\n\
         \x20 <pdfaid:part>2</pdfaid:part>\n\
         \x20 <pdfaid:conformance>B</pdfaid:conformance>\n\
         \x20</rdf:Description>\n\
         \x20<rdf:Description rdf:about=\"\"\n\
         \x20  xmlns:pdfaExtension=\"http://www.aiim.org/pdfa/ns/extension/\"\n\
         \x20  xmlns:pdfaSchema=\"http://www.aiim.org/pdfa/ns/schema#\"\n\
         \x20  xmlns:pdfaProperty=\"http://www.aiim.org/pdfa/ns/property#\">\n\
         \x20  <pdfaExtension:schemas><rdf:Bag>\n\
         \x20   <rdf:li rdf:parseType=\"Resource\">\n\
         \x20    <pdfaSchema:schema>sohoa document facts</pdfaSchema:schema>\n\
         \x20    <pdfaSchema:namespaceURI>{SOHOA_XMP_NS}</pdfaSchema:namespaceURI>\n\
         \x20    <pdfaSchema:prefix>sohoa</pdfaSchema:prefix>\n\
         \x20    <pdfaSchema:property><rdf:Seq>\n{props}\
         \x20    </rdf:Seq></pdfaSchema:property>\n\
         \x20   </rdf:li>\n\
         \x20  </rdf:Bag></pdfaExtension:schemas>\n\
         \x20</rdf:Description>\n"
    );
    match packet.rfind("</rdf:RDF>") {
        Some(at) => {
            let mut out = packet;
            out.insert_str(at, &extra);
            out
        }
        None => packet,
    }
}

/// Adds the OutputIntent (`GTS_PDFA1`) with an embedded ICC profile to the catalog's
/// dictionary entries: sRGB when `colour`, else gray. Returns the intents array.
pub(crate) fn output_intents(doc: &mut Document, colour: bool) -> Object {
    let (profile, n, name) = if colour { (icc::srgb(), 3, icc::SRGB_NAME) } else { (icc::gray(), 1, icc::GRAY_NAME) };
    let mut stream = Stream::new(dictionary! { "N" => n }, profile);
    // Compressing an in-memory buffer cannot fail; a raw stream is valid anyway.
    let _ = stream.compress();
    let profile_id: ObjectId = doc.add_object(stream);
    let intent = dictionary! {
        "Type" => "OutputIntent",
        "S" => "GTS_PDFA1",
        "OutputConditionIdentifier" => Object::string_literal(name),
        "Info" => Object::string_literal(name),
        "DestOutputProfile" => profile_id,
    };
    Object::Array(vec![Object::Dictionary(intent)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_names_round_trip() {
        for p in [PdfProfile::Pdfa2b, PdfProfile::Plain] {
            assert_eq!(p.as_str().parse::<PdfProfile>().unwrap(), p);
        }
        assert_eq!(PdfProfile::default(), PdfProfile::Pdfa2b);
        assert!("pdfa-3u".parse::<PdfProfile>().is_err());
    }

    #[test]
    fn extension_schema_declares_every_property_once() {
        let x = pdfa_xmp("<x><rdf:RDF></rdf:RDF></x>".to_string());
        assert!(x.contains("<pdfaid:part>2</pdfaid:part>"));
        assert!(x.contains("<pdfaid:conformance>B</pdfaid:conformance>"));
        for p in SOHOA_PROPERTIES {
            assert_eq!(x.matches(&format!("<pdfaProperty:name>{}</pdfaProperty:name>", p.name)).count(), 1, "{}", p.name);
        }
        for name in ["so_ky_hieu", "ngay", "loai", "co_quan", "trich_yeu", "nguoi_ky", "cccd"] {
            assert!(SOHOA_PROPERTIES.iter().any(|p| p.name == name), "{name}");
        }
        assert!(x.ends_with("</rdf:RDF></x>"));
    }
}
