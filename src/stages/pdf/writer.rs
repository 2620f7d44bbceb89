//! Assembles the searchable PDF with lopdf: pages, image XObjects, the shared glyphless
//! font, the text layers, Info, XMP and a content-derived /ID.

use std::io::Read;

use lopdf::{Dictionary, Document, Object, ObjectId, Stream, StringFormat, dictionary};

use super::encode::expected_sample_len;
use super::font::{FONT_RESOURCE, add_glyphless_font};
use super::meta::{info_dict, language_tags, xmp_packet};
use super::textlayer::text_layer;
use super::{PdfError, num};
use crate::model::{ColorMode, DocumentMeta, EncodedImage, ImageFilter, PdfPage};

const IMAGE_RESOURCE: &str = "Im0";

/// Writes a PDF 1.7 document: one page per entry of `pages`, in order.
///
/// Each page's MediaBox is its image at its dpi (`width_pt = px * 72 / dpi`), the image is
/// drawn over the whole page, and the OCR words are laid over it as invisible text.
/// The output is deterministic: the same pages and metadata give the same bytes.
/// The document's language is Vietnamese; see [`write_searchable_pdf_in`].
pub fn write_searchable_pdf(pages: &[PdfPage], meta: &DocumentMeta) -> Result<Vec<u8>, PdfError> {
    write_searchable_pdf_in(pages, meta, &language_tags("vie"))
}

/// [`write_searchable_pdf`] for a document in `languages` (BCP 47 tags, the main one
/// first; see `language_tags`): the catalog's `/Lang` is the first, the XMP
/// `dc:language` lists them all.
pub fn write_searchable_pdf_in(pages: &[PdfPage], meta: &DocumentMeta, languages: &[String]) -> Result<Vec<u8>, PdfError> {
    if pages.is_empty() {
        return Err(PdfError::NoPages);
    }
    for (i, page) in pages.iter().enumerate() {
        validate_page(i, page)?;
    }
    if meta.page_count != pages.len() {
        tracing::warn!(meta_pages = meta.page_count, pages = pages.len(), "Document metadata page count differs from the pages written");
    }

    let mut doc = Document::with_version("1.7");
    let pages_id = doc.new_object_id();
    let font_id = add_glyphless_font(&mut doc);

    let mut kids = Vec::with_capacity(pages.len());
    for page in pages {
        kids.push(Object::Reference(add_page(&mut doc, pages_id, font_id, page)));
    }
    let count = kids.len() as i64;
    doc.objects.insert(pages_id, Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => count }));

    let metadata_id = doc.add_object(Stream::new(dictionary! { "Type" => "Metadata", "Subtype" => "XML" }, xmp_packet(meta, languages).into_bytes()));
    let catalog_id = doc.add_object(dictionary! {
        "Type" => "Catalog",
        "Pages" => pages_id,
        "Metadata" => metadata_id,
        "Lang" => Object::string_literal(languages.first().map_or("vi", String::as_str)),
    });
    let info_id = doc.add_object(info_dict(meta));

    let id = document_id(pages, meta);
    doc.trailer.set("Root", catalog_id);
    doc.trailer.set("Info", info_id);
    doc.trailer.set("ID", vec![Object::String(id.to_vec(), StringFormat::Hexadecimal), Object::String(id.to_vec(), StringFormat::Hexadecimal)]);

    let mut out = Vec::with_capacity(pages.iter().map(|p| p.image.data.len()).sum::<usize>() + 64 * 1024);
    doc.save_to(&mut out)?;
    Ok(out)
}

fn add_page(doc: &mut Document, parent: ObjectId, font: ObjectId, page: &PdfPage) -> ObjectId {
    let img = &page.image;
    let k = 72.0 / f64::from(page.dpi);
    let width_pt = f64::from(img.width) * k;
    let height_pt = f64::from(img.height) * k;

    let image_id = doc.add_object(image_xobject(img));

    let mut content = format!("q {} 0 0 {} 0 0 cm /{IMAGE_RESOURCE} Do Q\n", num(width_pt), num(height_pt));
    content.push_str(&text_layer(&page.ocr.words, page.dpi, img.height));
    let mut content = Stream::new(Dictionary::new(), content.into_bytes());
    // Compressing an in-memory buffer cannot fail; a raw stream is valid anyway.
    let _ = content.compress();
    let content_id = doc.add_object(content);

    let media_box: Vec<Object> =
        vec![0.into(), 0.into(), Object::Real(num(width_pt).parse().unwrap_or(0.0)), Object::Real(num(height_pt).parse().unwrap_or(0.0))];
    doc.add_object(dictionary! {
        "Type" => "Page",
        "Parent" => parent,
        "MediaBox" => media_box,
        "Resources" => dictionary! {
            "XObject" => dictionary! { IMAGE_RESOURCE => image_id },
            "Font" => dictionary! { FONT_RESOURCE => font },
        },
        "Contents" => content_id,
    })
}

fn image_xobject(img: &EncodedImage) -> Stream {
    let (color_space, bpc) = match img.color {
        ColorMode::Bilevel => ("DeviceGray", 1),
        ColorMode::Gray => ("DeviceGray", 8),
        ColorMode::Rgb => ("DeviceRGB", 8),
    };
    let filter = match img.filter {
        ImageFilter::Dct => "DCTDecode",
        ImageFilter::Flate => "FlateDecode",
    };
    // Bilevel samples are packed with 1 = white, which is DeviceGray's default /Decode
    // [0 1], so black stays black without a /Decode entry.
    let dict = dictionary! {
        "Type" => "XObject",
        "Subtype" => "Image",
        "Width" => i64::from(img.width),
        "Height" => i64::from(img.height),
        "ColorSpace" => color_space,
        "BitsPerComponent" => bpc,
        "Filter" => filter,
    };
    Stream::new(dict, img.data.clone()).with_compression(false)
}

fn validate_page(index: usize, page: &PdfPage) -> Result<(), PdfError> {
    let bad = |reason: String| PdfError::InvalidImage { page: index, reason };
    if !(page.dpi.is_finite() && (10.0..=10_000.0).contains(&page.dpi)) {
        return Err(PdfError::InvalidDpi { page: index, dpi: page.dpi });
    }
    let img = &page.image;
    if img.width == 0 || img.height == 0 {
        return Err(bad(format!("image is {}x{} px", img.width, img.height)));
    }
    match img.filter {
        ImageFilter::Dct => {
            if img.color == ColorMode::Bilevel {
                return Err(bad("a bilevel image must be 1-bit Flate, not JPEG".into()));
            }
            let decoder = image::codecs::jpeg::JpegDecoder::new(std::io::Cursor::new(&img.data)).map_err(|e| bad(format!("JPEG data unreadable: {e}")))?;
            let (w, h) = image::ImageDecoder::dimensions(&decoder);
            let channels = image::ImageDecoder::color_type(&decoder).channel_count();
            let want = if img.color == ColorMode::Gray { 1 } else { 3 };
            if (w, h) != (img.width, img.height) || channels != want {
                return Err(bad(format!("JPEG is {w}x{h} with {channels} channel(s), page says {}x{} {:?}", img.width, img.height, img.color)));
            }
        }
        ImageFilter::Flate => {
            let want = expected_sample_len(img);
            let got = std::io::copy(&mut flate2::read::ZlibDecoder::new(&img.data[..]).take(want as u64 + 1), &mut std::io::sink())
                .map_err(|e| bad(format!("Flate data unreadable: {e}")))? as usize;
            if got != want {
                return Err(bad(format!("Flate data holds {got} bytes of samples, expected {want}")));
            }
        }
    }
    Ok(())
}

/// The trailer /ID: 16 bytes of a BLAKE3 hash of everything the file is made from.
fn document_id(pages: &[PdfPage], meta: &DocumentMeta) -> [u8; 16] {
    let mut h = blake3::Hasher::new();
    h.update(b"sohoa-pdf-v1");
    h.update(serde_json::to_string(meta).unwrap_or_default().as_bytes());
    for p in pages {
        let img = &p.image;
        h.update(&img.width.to_le_bytes());
        h.update(&img.height.to_le_bytes());
        h.update(&[img.color as u8, img.filter as u8]);
        h.update(&p.dpi.to_bits().to_le_bytes());
        h.update(&(img.data.len() as u64).to_le_bytes());
        h.update(&img.data);
        h.update(serde_json::to_string(&p.ocr.words).unwrap_or_default().as_bytes());
    }
    let mut id = [0u8; 16];
    id.copy_from_slice(&h.finalize().as_bytes()[..16]);
    id
}
