//! The certified electronic copy's PDF (Decree 45/2020, Art. 10): the original's pages,
//! without the original's signatures (the copy is signed anew by the certifier and the
//! agency), followed by the certification statement page. A full rewrite, so the copy
//! starts as one revision; its signatures are then incremental updates of it.

use super::SignError;
use super::appearance::{Statement, statement_page};
use lopdf::{Document, Object, ObjectId, Stream, dictionary};

/// Resolution of the statement page.
pub const STATEMENT_DPI: f32 = 200.0;
const A4_PT: (f32, f32) = (595.276, 841.89);

fn pdf_err(e: impl std::fmt::Display) -> SignError {
    SignError::Pdf(e.to_string())
}

fn is_signature_widget(doc: &Document, annot: &Object) -> bool {
    let dict = match annot {
        Object::Reference(id) => doc.get_dictionary(*id).ok(),
        Object::Dictionary(d) => Some(d),
        _ => None,
    };
    dict.and_then(|d| d.get(b"FT").ok()).and_then(|ft| ft.as_name().ok()) == Some(b"Sig".as_slice())
}

/// The copy of `original` with `statement` as its last page; also its page count.
pub fn certified_copy(original: &[u8], statement: &Statement) -> Result<(Vec<u8>, usize), SignError> {
    let mut doc = Document::load_mem(original).map_err(|e| SignError::Pdf(format!("not a readable PDF: {e}")))?;
    if doc.is_encrypted() {
        return Err(SignError::Pdf("encrypted PDFs are not certified".into()));
    }
    let root_id = doc.trailer.get(b"Root").and_then(Object::as_reference).map_err(|_| SignError::Pdf("the trailer has no /Root".into()))?;
    let pages_id = doc.get_dictionary(root_id).and_then(|c| c.get(b"Pages")).and_then(Object::as_reference).map_err(pdf_err)?;
    doc.get_dictionary_mut(root_id).map_err(pdf_err)?.remove(b"AcroForm");

    let page_ids: Vec<ObjectId> = doc.get_pages().values().copied().collect();
    for page_id in &page_ids {
        let annots = match doc.get_dictionary(*page_id).map_err(pdf_err)?.get(b"Annots") {
            Ok(Object::Array(a)) => a.clone(),
            Ok(Object::Reference(r)) => doc.get_object(*r).and_then(Object::as_array).cloned().unwrap_or_default(),
            _ => continue,
        };
        let kept: Vec<Object> = annots.into_iter().filter(|a| !is_signature_widget(&doc, a)).collect();
        let page = doc.get_dictionary_mut(*page_id).map_err(pdf_err)?;
        if kept.is_empty() {
            page.remove(b"Annots");
        } else {
            page.set("Annots", kept);
        }
    }

    let (bitmap, words) = statement_page(statement, STATEMENT_DPI);
    let mut image = Stream::new(
        dictionary! {
            "Type" => "XObject",
            "Subtype" => "Image",
            "Width" => i64::from(bitmap.width),
            "Height" => i64::from(bitmap.height),
            "ColorSpace" => "DeviceGray",
            "BitsPerComponent" => 1,
        },
        bitmap.inverted(),
    );
    let _ = image.compress();
    let image_id = doc.add_object(image);
    // The statement's text, invisible over its image, as on every page sohoa writes.
    let (text, fonts) = crate::stages::pdf::add_text_layer(&mut doc, &words, STATEMENT_DPI, bitmap.height);
    let mut content = Stream::new(lopdf::Dictionary::new(), format!("q {} 0 0 {} 0 0 cm /Im0 Do Q\n{text}", A4_PT.0, A4_PT.1).into_bytes());
    let _ = content.compress();
    let content_id = doc.add_object(content);
    let page_id = doc.add_object(dictionary! {
        "Type" => "Page",
        "Parent" => pages_id,
        "MediaBox" => vec![0.into(), 0.into(), Object::Real(A4_PT.0), Object::Real(A4_PT.1)],
        "Resources" => dictionary! { "XObject" => dictionary! { "Im0" => image_id }, "Font" => fonts },
        "Contents" => content_id,
    });
    let pages = doc.get_dictionary_mut(pages_id).map_err(pdf_err)?;
    let mut kids = pages.get(b"Kids").and_then(Object::as_array).cloned().map_err(pdf_err)?;
    kids.push(Object::Reference(page_id));
    let count = pages.get(b"Count").and_then(Object::as_i64).unwrap_or(kids.len() as i64 - 1) + 1;
    pages.set("Kids", kids);
    pages.set("Count", count);
    doc.prune_objects();
    let mut out = Vec::with_capacity(original.len() + 64 * 1024);
    doc.save_to(&mut out).map_err(pdf_err)?;
    Ok((out, page_ids.len() + 1))
}
