//! Assembles the searchable PDF with lopdf: pages, image XObjects, the shared glyphless
//! font, the text layers, Info, XMP and a content-derived /ID.

use std::io::Read;

use lopdf::{Dictionary, Document, Object, ObjectId, Stream, StringFormat, dictionary};

use super::encode::expected_sample_len;
use super::font::{FONT_RESOURCE, add_glyphless_font};
use super::meta::{info_dict, language_tags, xmp_packet};
use super::pdfa::{PdfProfile, output_intents, pdfa_xmp};
use super::textlayer::text_layer;
use super::{PdfError, num};
use crate::model::{ColorMode, DocumentMeta, EncodedImage, ImageFilter, PdfPage, PhotoPatch, TextMask};

const IMAGE_RESOURCE: &str = "Im0";
/// The text mask of a mixed-raster page.
const MASK_RESOURCE: &str = "Im1";
/// Photos of a mixed-raster page: `Ph0`, `Ph1`, ...
const PHOTO_RESOURCE: &str = "Ph";

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
/// `dc:language` lists them all. PDF/A-2b, the default profile.
pub fn write_searchable_pdf_in(pages: &[PdfPage], meta: &DocumentMeta, languages: &[String]) -> Result<Vec<u8>, PdfError> {
    write_pdf(pages, meta, &PdfOptions { languages: languages.to_vec(), profile: PdfProfile::default() })
}

/// How a document is written beyond its pages and metadata.
#[derive(Debug, Clone, Default)]
pub struct PdfOptions {
    /// BCP 47 tags, the main one first (empty: `vi`).
    pub languages: Vec<String>,
    pub profile: PdfProfile,
}

/// Writes the document under `opts`: under [`PdfProfile::Pdfa2b`] with the PDF/A
/// identification and extension schema in the XMP and a `GTS_PDFA1` OutputIntent
/// (sRGB if any page is in colour, else gray).
pub fn write_pdf(pages: &[PdfPage], meta: &DocumentMeta, opts: &PdfOptions) -> Result<Vec<u8>, PdfError> {
    let languages = &opts.languages;
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

    let mut xmp = xmp_packet(meta, languages);
    if opts.profile == PdfProfile::Pdfa2b {
        xmp = pdfa_xmp(xmp);
    }
    // PDF/A: the XMP stays uncompressed (readable by tools that do not parse PDF).
    let metadata = Stream::new(dictionary! { "Type" => "Metadata", "Subtype" => "XML" }, xmp.into_bytes()).with_compression(false);
    let metadata_id = doc.add_object(metadata);
    let mut catalog = dictionary! {
        "Type" => "Catalog",
        "Pages" => pages_id,
        "Metadata" => metadata_id,
        "Lang" => Object::string_literal(languages.first().map_or("vi", String::as_str)),
    };
    if opts.profile == PdfProfile::Pdfa2b {
        let colour = pages.iter().any(|p| p.image.color == ColorMode::Rgb);
        catalog.set("OutputIntents", output_intents(&mut doc, colour));
    }
    let catalog_id = doc.add_object(catalog);
    let info_id = doc.add_object(info_dict(meta));

    let id = document_id(pages, meta, opts.profile);
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
    let mut xobjects = dictionary! { IMAGE_RESOURCE => image_id };

    let mut content = format!("q {} 0 0 {} 0 0 cm /{IMAGE_RESOURCE} Do Q\n", num(width_pt), num(height_pt));
    if let Some(mask) = &img.mask {
        // Photos at the scan's resolution, over the background.
        for (i, p) in mask.photos.iter().enumerate() {
            let name = format!("{PHOTO_RESOURCE}{i}");
            let (pw, ph) = (f64::from(p.width) * k, f64::from(p.height) * k);
            let (px, py) = (f64::from(p.x) * k, f64::from(img.height.saturating_sub(p.y + p.height)) * k);
            content.push_str(&format!("q {} 0 0 {} {} {} cm /{name} Do Q\n", num(pw), num(ph), num(px), num(py)));
            xobjects.set(name.into_bytes(), doc.add_object(photo_xobject(img.color, p)));
        }
        // The text layer: a stencil filled with the ink colour, over the background.
        xobjects.set(MASK_RESOURCE, doc.add_object(mask_xobject(img.width, img.height, mask)));
        let ink = mask.ink.map(|c| num(f64::from(c) / 255.0));
        let fill = if img.color == ColorMode::Rgb { format!("{} {} {} rg", ink[0], ink[1], ink[2]) } else { format!("{} g", ink[0]) };
        content.push_str(&format!("q {fill} {} 0 0 {} 0 0 cm /{MASK_RESOURCE} Do Q\n", num(width_pt), num(height_pt)));
    }
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
            "XObject" => xobjects,
            "Font" => dictionary! { FONT_RESOURCE => font },
        },
        "Contents" => content_id,
    })
}

/// The `/ImageMask` stencil of a mixed-raster page: G4, black (0) = paint.
fn mask_xobject(width: u32, height: u32, mask: &TextMask) -> Stream {
    let dict = dictionary! {
        "Type" => "XObject",
        "Subtype" => "Image",
        "Width" => i64::from(width),
        "Height" => i64::from(height),
        "ImageMask" => true,
        "BitsPerComponent" => 1,
        "Filter" => "CCITTFaxDecode",
        "DecodeParms" => dictionary! { "K" => -1, "Columns" => i64::from(width), "Rows" => i64::from(height), "BlackIs1" => false },
    };
    Stream::new(dict, mask.data.clone()).with_compression(false)
}

/// A photo of a mixed-raster page: a JPEG in the page's colour space.
fn photo_xobject(color: ColorMode, p: &PhotoPatch) -> Stream {
    let dict = dictionary! {
        "Type" => "XObject",
        "Subtype" => "Image",
        "Width" => i64::from(p.width),
        "Height" => i64::from(p.height),
        "ColorSpace" => if color == ColorMode::Rgb { "DeviceRGB" } else { "DeviceGray" },
        "BitsPerComponent" => 8,
        "Filter" => "DCTDecode",
    };
    Stream::new(dict, p.data.clone()).with_compression(false)
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
        ImageFilter::Ccitt => "CCITTFaxDecode",
    };
    // Bilevel samples are packed with 1 = white, which is DeviceGray's default /Decode
    // [0 1], so black stays black without a /Decode entry (G4 with /BlackIs1 false
    // decodes black to 0 too).
    // A mixed-raster page's image is its background, at its own size.
    let (w, h) = img.mask.as_ref().map_or((img.width, img.height), |m| (m.bg_width, m.bg_height));
    let mut dict = dictionary! {
        "Type" => "XObject",
        "Subtype" => "Image",
        "Width" => i64::from(w),
        "Height" => i64::from(h),
        "ColorSpace" => color_space,
        "BitsPerComponent" => bpc,
        "Filter" => filter,
    };
    if img.filter == ImageFilter::Ccitt {
        dict.set("DecodeParms", dictionary! { "K" => -1, "Columns" => i64::from(img.width), "Rows" => i64::from(img.height), "BlackIs1" => false });
    }
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
    // The size of the image data: the background's on a mixed-raster page.
    let (data_w, data_h) = match &img.mask {
        Some(mask) => {
            if img.filter != ImageFilter::Dct || img.color == ColorMode::Bilevel {
                return Err(bad("a mixed-raster page has a JPEG gray or colour background".into()));
            }
            if mask.bg_width == 0 || mask.bg_height == 0 || mask.bg_width > img.width || mask.bg_height > img.height {
                return Err(bad(format!("background {}x{} for a {}x{} page", mask.bg_width, mask.bg_height, img.width, img.height)));
            }
            if super::encode::decode_g4(&mask.data, img.width, img.height).is_none() {
                return Err(bad(format!("the text mask does not decode to {}x{} pixels", img.width, img.height)));
            }
            for p in &mask.photos {
                if p.width == 0 || p.height == 0 || p.x.saturating_add(p.width) > img.width || p.y.saturating_add(p.height) > img.height {
                    return Err(bad(format!("photo {}x{} at ({}, {}) outside the {}x{} page", p.width, p.height, p.x, p.y, img.width, img.height)));
                }
                check_jpeg(&p.data, (p.width, p.height), img.color).map_err(|e| bad(format!("photo at ({}, {}): {e}", p.x, p.y)))?;
            }
            (mask.bg_width, mask.bg_height)
        }
        None => (img.width, img.height),
    };
    match img.filter {
        ImageFilter::Dct => {
            if img.color == ColorMode::Bilevel {
                return Err(bad("a bilevel image must be 1-bit (CCITT G4 or Flate), not JPEG".into()));
            }
            check_jpeg(&img.data, (data_w, data_h), img.color).map_err(bad)?;
        }
        ImageFilter::Ccitt => {
            if img.color != ColorMode::Bilevel {
                return Err(bad(format!("CCITT data is bilevel only, page says {:?}", img.color)));
            }
            if super::encode::decode_g4(&img.data, img.width, img.height).is_none() {
                return Err(bad(format!("CCITT G4 data does not decode to {}x{} pixels", img.width, img.height)));
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

/// That `data` is a JPEG of `size` pixels with the channels of `color` (gray or RGB).
fn check_jpeg(data: &[u8], size: (u32, u32), color: ColorMode) -> Result<(), String> {
    let decoder = image::codecs::jpeg::JpegDecoder::new(std::io::Cursor::new(data)).map_err(|e| format!("JPEG data unreadable: {e}"))?;
    let (w, h) = image::ImageDecoder::dimensions(&decoder);
    let channels = image::ImageDecoder::color_type(&decoder).channel_count();
    let want = if color == ColorMode::Gray { 1 } else { 3 };
    if (w, h) != size || channels != want {
        return Err(format!("JPEG is {w}x{h} with {channels} channel(s), page says {}x{} {color:?}", size.0, size.1));
    }
    Ok(())
}

/// The trailer /ID: 16 bytes of a BLAKE3 hash of everything the file is made from.
fn document_id(pages: &[PdfPage], meta: &DocumentMeta, profile: PdfProfile) -> [u8; 16] {
    let mut h = blake3::Hasher::new();
    h.update(b"sohoa-pdf-v1");
    h.update(profile.as_str().as_bytes());
    h.update(serde_json::to_string(meta).unwrap_or_default().as_bytes());
    for p in pages {
        let img = &p.image;
        h.update(&img.width.to_le_bytes());
        h.update(&img.height.to_le_bytes());
        h.update(&[img.color as u8, img.filter as u8]);
        h.update(&p.dpi.to_bits().to_le_bytes());
        h.update(&(img.data.len() as u64).to_le_bytes());
        h.update(&img.data);
        if let Some(mask) = &img.mask {
            h.update(b"mask");
            h.update(&mask.bg_width.to_le_bytes());
            h.update(&mask.bg_height.to_le_bytes());
            h.update(&mask.ink);
            h.update(&mask.data);
            for p in &mask.photos {
                h.update(b"photo");
                for v in [p.x, p.y, p.width, p.height] {
                    h.update(&v.to_le_bytes());
                }
                h.update(&(p.data.len() as u64).to_le_bytes());
                h.update(&p.data);
            }
        }
        h.update(serde_json::to_string(&p.ocr.words).unwrap_or_default().as_bytes());
    }
    let mut id = [0u8; 16];
    id.copy_from_slice(&h.finalize().as_bytes()[..16]);
    id
}
