//! The glyphless font of the invisible text layer, as Tesseract's PDF renderer builds it.
//!
//! A Type0 font with Encoding Identity-H whose descendant is a CIDFontType2 embedding
//! `models/glyphless.ttf` (Tesseract's pdf.ttf: glyph 1 is an empty glyph). Every CID maps
//! to glyph 1 (CIDToGIDMap) and has the same advance, [`CHAR_WIDTH`] thousandths of an em
//! (DW), so the text layer can stretch any word over its box with `Tz` alone. Codes are
//! UTF-16 code units; the ToUnicode CMap maps each BMP code unit to itself.

use lopdf::{Dictionary, Document, Object, ObjectId, Stream, StringFormat, dictionary};

/// Tesseract's pdf.ttf: a TrueType font whose glyph 1 draws nothing.
pub(crate) const GLYPHLESS_TTF: &[u8] = include_bytes!("../../../models/glyphless.ttf");

/// Advance of every glyph, in thousandths of the font size.
pub(crate) const CHAR_WIDTH: i64 = 500;

/// Resource name of the font on every page.
pub(crate) const FONT_RESOURCE: &str = "F0";

/// Adds the font objects to `doc` and returns the Type0 font's id (shared by all pages).
pub(crate) fn add_glyphless_font(doc: &mut Document) -> ObjectId {
    let mut font_file = Stream::new(dictionary! { "Length1" => GLYPHLESS_TTF.len() as i64 }, GLYPHLESS_TTF.to_vec());
    // Compression of an in-memory buffer cannot fail; keep it raw if it somehow does.
    let _ = font_file.compress();
    let font_file_id = doc.add_object(font_file);

    let descriptor_id = doc.add_object(dictionary! {
        "Type" => "FontDescriptor",
        "FontName" => "GlyphLessFont",
        "Flags" => 5, // FixedPitch + Symbolic
        "FontBBox" => vec![0.into(), 0.into(), CHAR_WIDTH.into(), 1000.into()],
        "ItalicAngle" => 0,
        "Ascent" => 1000,
        "Descent" => -1,
        "CapHeight" => 1000,
        "StemV" => 80,
        "FontFile2" => font_file_id,
    });

    let mut map = Stream::new(Dictionary::new(), cid_to_gid_map());
    let _ = map.compress();
    let map_id = doc.add_object(map);

    let cid_font_id = doc.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "CIDFontType2",
        "BaseFont" => "GlyphLessFont",
        "CIDSystemInfo" => dictionary! {
            "Registry" => Object::string_literal("Adobe"),
            "Ordering" => Object::string_literal("Identity"),
            "Supplement" => 0,
        },
        "FontDescriptor" => descriptor_id,
        "DW" => CHAR_WIDTH,
        "CIDToGIDMap" => map_id,
    });

    let mut to_unicode = Stream::new(Dictionary::new(), to_unicode_cmap().into_bytes());
    let _ = to_unicode.compress();
    let to_unicode_id = doc.add_object(to_unicode);

    doc.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "Type0",
        "BaseFont" => "GlyphLessFont",
        "Encoding" => "Identity-H",
        "DescendantFonts" => vec![Object::Reference(cid_font_id)],
        "ToUnicode" => to_unicode_id,
    })
}

/// 65536 big-endian u16 entries, all 1: every CID draws glyph 1.
fn cid_to_gid_map() -> Vec<u8> {
    [0u8, 1].repeat(1 << 16)
}

/// ToUnicode CMap: 2-byte codes, each BMP code unit maps to itself. Ranges stay within one
/// high byte (as the CMap spec asks) and skip the surrogate block, at most 100 per section.
pub(crate) fn to_unicode_cmap() -> String {
    let highs: Vec<u32> = (0x00..=0xFFu32).filter(|h| !(0xD8..=0xDF).contains(h)).collect();
    let mut s = String::from(
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
         /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
         /CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n\
         1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
    );
    for chunk in highs.chunks(100) {
        s.push_str(&format!("{} beginbfrange\n", chunk.len()));
        for h in chunk {
            s.push_str(&format!("<{h:02X}00> <{h:02X}FF> <{h:02X}00>\n"));
        }
        s.push_str("endbfrange\n");
    }
    s.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    s
}

/// Encodes text as the font's codes: a hex string of UTF-16 code units. Characters outside
/// the BMP (never produced by Vietnamese OCR) become U+FFFD, since the CMap maps code units
/// one by one. Returns the hex digits and the number of codes.
pub(crate) fn encode_hex(text: &str) -> (String, usize) {
    let mut hex = String::with_capacity(text.len() * 4);
    let mut n = 0;
    for c in text.chars() {
        let u = u32::from(c);
        let u = if u > 0xFFFF { 0xFFFD } else { u };
        hex.push_str(&format!("{u:04X}"));
        n += 1;
    }
    (hex, n)
}

/// A PDF text string: literal if plain printable ASCII, else UTF-16BE with a BOM.
pub(crate) fn text_string(s: &str) -> Object {
    if s.bytes().all(|b| (0x20..0x7F).contains(&b)) {
        Object::String(s.as_bytes().to_vec(), StringFormat::Literal)
    } else {
        let mut bytes = vec![0xFE, 0xFF];
        for u in s.encode_utf16() {
            bytes.extend(u.to_be_bytes());
        }
        Object::String(bytes, StringFormat::Hexadecimal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_encoding_is_utf16_units() {
        assert_eq!(encode_hex("Số"), ("00531ED1".to_string(), 2));
        assert_eq!(encode_hex("a\u{1F600}"), ("0061FFFD".to_string(), 2));
    }

    #[test]
    fn cmap_covers_bmp_without_surrogates() {
        let cmap = to_unicode_cmap();
        assert!(cmap.contains("<1E00> <1EFF> <1E00>"));
        assert!(!cmap.contains("<D800>"));
        assert_eq!(cmap.matches("beginbfrange").count(), 3);
        assert_eq!(cmap.matches("\n<").count(), 1 + 248);
    }

    #[test]
    fn glyphless_font_is_embedded() {
        assert_eq!(&GLYPHLESS_TTF[..4], &[0, 1, 0, 0], "TrueType header");
    }
}
