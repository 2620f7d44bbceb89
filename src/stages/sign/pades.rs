//! A PAdES signature as an incremental update (ISO 32000-1 § 7.5.6, § 12.8): the input
//! bytes unchanged, then the new and changed objects, a cross-reference section and a
//! trailer whose `/Prev` points at the input's. New objects: the signature dictionary
//! (`/Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached`, `/M`, `/ByteRange`,
//! `/Contents` last), the signature field merged with its widget (`/F 4`, an `/AP`
//! appearance), the appearance form and its stencil image. Changed: page 1 (`/Annots`)
//! and the catalog or its AcroForm (`/Fields`, `/SigFlags 3`).
//!
//! The byte range is `[0 a b c]` where `a..b` is exactly the `/Contents` hex string, angle
//! brackets included, and `b + c` the file's length; the CMS signs the SHA-256 of the
//! rest. Space for `/Contents` is reserved from the chain's size and doubled until the
//! CMS fits.

use super::appearance::{self, Bitmap};
use super::keys::{Signer, common_name, organisation};
use super::{SignError, Timestamper, cms};
use lopdf::{Dictionary, Document, Object, ObjectId, Stream, Writer, dictionary};
use sha2::{Digest, Sha256};

/// How to sign.
pub struct SignOptions<'a> {
    /// The signing time, written as `/M` and shown in the visible block.
    pub time: chrono::DateTime<chrono::FixedOffset>,
    /// First line of the visible block: the kind of copy ("BẢN SỐ HÓA", "CHỨNG THỰC").
    pub label: String,
    /// `/Reason`.
    pub reason: Option<String>,
    /// `/Location`.
    pub location: Option<String>,
    /// With a timestamp authority the signature is B-T, else B-B.
    pub timestamper: Option<&'a dyn Timestamper>,
}

const MM: f64 = 72.0 / 25.4;
const BYTE_RANGE_PLACEHOLDER: &[u8] = b"[0 0000000000 0000000000 0000000000]";

fn pdf_err(e: impl std::fmt::Display) -> SignError {
    SignError::Pdf(e.to_string())
}

/// `pdf` signed by `signer`: the same bytes followed by one incremental update.
pub fn sign_pdf(pdf: &[u8], signer: &dyn Signer, opts: &SignOptions) -> Result<Vec<u8>, SignError> {
    let prepared = prepare(pdf, signer, opts)?;
    let chain_len: usize = signer.chain().iter().map(|c| der::Encode::to_der(c).map_or(2048, |d| d.len())).sum();
    let mut reserve = chain_len + 2048 + if opts.timestamper.is_some() { 8192 } else { 0 };
    loop {
        let (mut out, contents_at) = prepared.write(pdf, reserve)?;
        let (a, b) = (contents_at, contents_at + 2 + 2 * reserve);
        let c = out.len() - b;
        patch_byte_range(&mut out, &prepared, a, b, c)?;
        let mut h = Sha256::new();
        h.update(&out[..a]);
        h.update(&out[b..]);
        let digest: [u8; 32] = h.finalize().into();
        let signature = cms::signed_data(signer, &digest, opts.timestamper)?;
        if signature.len() > reserve {
            reserve = signature.len() * 2;
            continue;
        }
        let hex = hex::encode_upper(&signature);
        out[a + 1..a + 1 + hex.len()].copy_from_slice(hex.as_bytes());
        return Ok(out);
    }
}

/// The update's objects, ready to write around a `/Contents` of any size.
struct Prepared {
    objects: Vec<(ObjectId, Vec<u8>)>,
    sig_id: ObjectId,
    /// The signature dictionary before `/ByteRange`.
    sig_head: Vec<u8>,
    trailer: Dictionary,
}

impl Prepared {
    /// The signed file with a zeroed `/Contents` of `reserve` bytes; the offset of its `<`.
    fn write(&self, pdf: &[u8], reserve: usize) -> Result<(Vec<u8>, usize), SignError> {
        let mut out = Vec::with_capacity(pdf.len() + 2 * reserve + 64 * 1024);
        out.extend_from_slice(pdf);
        if out.last() != Some(&b'\n') {
            out.push(b'\n');
        }
        let mut offsets = Vec::new();
        let mut contents_at = 0;
        let mut all: Vec<(ObjectId, Option<&Vec<u8>>)> = self.objects.iter().map(|(id, body)| (*id, Some(body))).collect();
        all.push((self.sig_id, None));
        all.sort_by_key(|(id, _)| *id);
        for (id, body) in all {
            offsets.push((id, out.len()));
            out.extend_from_slice(format!("{} {} obj\n", id.0, id.1).as_bytes());
            match body {
                Some(body) => out.extend_from_slice(body),
                None => {
                    out.extend_from_slice(&self.sig_head);
                    out.extend_from_slice(b"/ByteRange ");
                    out.extend_from_slice(BYTE_RANGE_PLACEHOLDER);
                    out.extend_from_slice(b"/Contents ");
                    contents_at = out.len();
                    out.push(b'<');
                    out.resize(out.len() + 2 * reserve, b'0');
                    out.extend_from_slice(b">>>");
                }
            }
            out.extend_from_slice(b"\nendobj\n");
        }
        let xref_at = out.len();
        out.extend_from_slice(b"xref\n");
        for (id, at) in &offsets {
            out.extend_from_slice(format!("{} 1\n{:010} {:05} n \n", id.0, at, id.1).as_bytes());
        }
        out.extend_from_slice(b"trailer\n");
        Writer::write_object(&mut out, &Object::Dictionary(self.trailer.clone())).map_err(pdf_err)?;
        out.extend_from_slice(format!("\nstartxref\n{xref_at}\n%%EOF\n").as_bytes());
        Ok((out, contents_at))
    }
}

fn patch_byte_range(out: &mut [u8], p: &Prepared, a: usize, b: usize, c: usize) -> Result<(), SignError> {
    // The placeholder sits right before "/Contents <".
    let end = a - b"/Contents ".len();
    let start = end - BYTE_RANGE_PLACEHOLDER.len();
    debug_assert_eq!(&out[start..end], BYTE_RANGE_PLACEHOLDER, "signature {:?}", p.sig_id);
    let mut text = format!("[0 {a} {b} {c}");
    if text.len() + 1 > BYTE_RANGE_PLACEHOLDER.len() {
        return Err(SignError::Pdf("the file is too large for a byte range".into()));
    }
    while text.len() + 1 < BYTE_RANGE_PLACEHOLDER.len() {
        text.push(' ');
    }
    text.push(']');
    out[start..end].copy_from_slice(text.as_bytes());
    Ok(())
}

fn serialize(object: &Object) -> Result<Vec<u8>, SignError> {
    let mut out = Vec::new();
    Writer::write_object(&mut out, object).map_err(pdf_err)?;
    Ok(out)
}

/// `/M`: `D:20261204223005+07'00'`.
pub fn pdf_date(time: &chrono::DateTime<chrono::FixedOffset>) -> String {
    let offset = time.offset().local_minus_utc();
    let sign = if offset < 0 { '-' } else { '+' };
    let offset = offset.abs();
    format!("D:{}{sign}{:02}'{:02}'", time.format("%Y%m%d%H%M%S"), offset / 3600, (offset % 3600) / 60)
}

/// An array, following a reference to it.
fn resolve_array(doc: &Document, object: Option<&Object>) -> Vec<Object> {
    match object {
        Some(Object::Array(a)) => a.clone(),
        Some(Object::Reference(id)) => doc.get_object(*id).ok().and_then(|o| o.as_array().ok()).cloned().unwrap_or_default(),
        _ => Vec::new(),
    }
}

fn is_signature_field(doc: &Document, field: &Object) -> bool {
    let dict = match field {
        Object::Reference(id) => doc.get_dictionary(*id).ok(),
        Object::Dictionary(d) => Some(d),
        _ => None,
    };
    dict.and_then(|d| d.get(b"FT").ok()).and_then(|ft| ft.as_name().ok()) == Some(b"Sig".as_slice())
}

/// The page's MediaBox (inherited if need be) as [x0 y0 x1 y1].
fn media_box(doc: &Document, page: ObjectId) -> [f64; 4] {
    let mut id = Some(page);
    for _ in 0..16 {
        let Some(dict) = id.and_then(|i| doc.get_dictionary(i).ok()) else { break };
        if let Ok(Object::Array(a)) = dict.get(b"MediaBox")
            && a.len() == 4
        {
            let v: Vec<f64> = a.iter().map(|o| o.as_float().map(f64::from).or_else(|_| o.as_i64().map(|i| i as f64)).unwrap_or(0.0)).collect();
            return [v[0], v[1], v[2], v[3]];
        }
        id = dict.get(b"Parent").ok().and_then(|p| p.as_reference().ok());
    }
    [0.0, 0.0, 595.276, 841.89]
}

fn prepare(pdf: &[u8], signer: &dyn Signer, opts: &SignOptions) -> Result<Prepared, SignError> {
    let doc = Document::load_mem(pdf).map_err(|e| SignError::Pdf(format!("not a readable PDF: {e}")))?;
    if doc.is_encrypted() {
        return Err(SignError::Pdf("encrypted PDFs are not signed".into()));
    }
    let prev = last_startxref(pdf).ok_or_else(|| SignError::Pdf("no startxref at the end of the file".into()))?;
    let root_id = doc.trailer.get(b"Root").and_then(Object::as_reference).map_err(|_| SignError::Pdf("the trailer has no /Root".into()))?;
    let page_id = *doc.get_pages().values().next().ok_or_else(|| SignError::Pdf("the PDF has no page".into()))?;
    let size = doc.trailer.get(b"Size").and_then(Object::as_i64).unwrap_or(0).max(i64::from(doc.max_id) + 1) as u32;
    let mut next = size;
    let mut new_id = || {
        next += 1;
        (next - 1, 0)
    };
    let (sig_id, field_id, form_id, image_id) = (new_id(), new_id(), new_id(), new_id());

    let mut catalog = doc.get_dictionary(root_id).map_err(pdf_err)?.clone();
    let acroform_ref = catalog.get(b"AcroForm").ok().and_then(|o| o.as_reference().ok());
    let mut acroform = match (acroform_ref, catalog.get(b"AcroForm")) {
        (Some(id), _) => doc.get_dictionary(id).map_err(pdf_err)?.clone(),
        (None, Ok(Object::Dictionary(d))) => d.clone(),
        _ => Dictionary::new(),
    };
    let mut fields = resolve_array(&doc, acroform.get(b"Fields").ok());
    let earlier = fields.iter().filter(|f| is_signature_field(&doc, f)).count();
    fields.push(Object::Reference(field_id));
    acroform.set("Fields", fields);
    acroform.set("SigFlags", 3);

    let leaf = signer.chain().first().ok_or_else(|| SignError::Signing("the key has no certificate".into()))?;
    let (who, org) = (common_name(leaf), organisation(leaf));
    let lines = appearance::block_lines(&opts.label, &who, &org, &opts.time);
    let (bitmap, w_mm, h_mm) = appearance::block_bitmap(&lines);
    let [x0, y0, x1, y1] = media_box(&doc, page_id);
    let (w, h) = (f64::from(w_mm) * MM, f64::from(h_mm) * MM);
    let margin = 6.0 * MM;
    // Top right of page 1; a later signature's block goes under the earlier ones.
    let right = (x1 - margin).max(x0 + w);
    let top = (y1 - margin - earlier as f64 * (h + 2.0 * MM)).max(y0 + h);
    let rect: Vec<Object> = [right - w, top - h, right, top].iter().map(|v| Object::Real(*v as f32)).collect();

    let mut page = doc.get_dictionary(page_id).map_err(pdf_err)?.clone();
    let mut annots = resolve_array(&doc, page.get(b"Annots").ok());
    annots.push(Object::Reference(field_id));
    page.set("Annots", annots);

    let field = dictionary! {
        "Type" => "Annot",
        "Subtype" => "Widget",
        "FT" => "Sig",
        "T" => Object::string_literal(format!("Signature{}", earlier + 1)),
        "V" => sig_id,
        "F" => 4,
        "Rect" => rect,
        "P" => page_id,
        "AP" => dictionary! { "N" => form_id },
    };
    let form = Stream::new(
        dictionary! {
            "Type" => "XObject",
            "Subtype" => "Form",
            "BBox" => vec![0.into(), 0.into(), Object::Real(w as f32), Object::Real(h as f32)],
            "Resources" => dictionary! { "XObject" => dictionary! { "Im0" => image_id } },
        },
        format!("q 0 0 0.55 rg 0 0 0.55 RG 0.8 w 0.4 0.4 {:.3} {:.3} re S {:.3} 0 0 {:.3} 0 0 cm /Im0 Do Q\n", w - 0.8, h - 0.8, w, h).into_bytes(),
    );
    let image = stencil(&bitmap);

    let mut sig = dictionary! {
        "Type" => "Sig",
        "Filter" => "Adobe.PPKLite",
        "SubFilter" => "ETSI.CAdES.detached",
        "M" => Object::string_literal(pdf_date(&opts.time)),
        "Name" => lopdf::text_string(&who),
    };
    if let Some(r) = &opts.reason {
        sig.set("Reason", lopdf::text_string(r));
    }
    if let Some(l) = &opts.location {
        sig.set("Location", lopdf::text_string(l));
    }
    let mut sig_head = serialize(&Object::Dictionary(sig))?;
    if !sig_head.ends_with(b">>") {
        return Err(SignError::Pdf("unexpected dictionary serialisation".into()));
    }
    sig_head.truncate(sig_head.len() - 2);

    let mut objects = vec![
        (field_id, serialize(&Object::Dictionary(field))?),
        (form_id, serialize(&Object::Stream(form))?),
        (image_id, serialize(&Object::Stream(image))?),
        (page_id, serialize(&Object::Dictionary(page))?),
    ];
    match acroform_ref {
        Some(id) => objects.push((id, serialize(&Object::Dictionary(acroform))?)),
        None => {
            catalog.set("AcroForm", acroform);
            objects.push((root_id, serialize(&Object::Dictionary(catalog))?));
        }
    }
    let mut trailer = dictionary! { "Size" => i64::from(next), "Root" => root_id, "Prev" => prev as i64 };
    for key in [b"Info".as_slice(), b"ID".as_slice()] {
        if let Ok(v) = doc.trailer.get(key) {
            trailer.set(key, v.clone());
        }
    }
    Ok(Prepared { objects, sig_id, sig_head, trailer })
}

/// The stencil mask image of `bitmap` (ink painted in the current colour, the rest
/// transparent), Flate-compressed.
fn stencil(bitmap: &Bitmap) -> Stream {
    let mut s = Stream::new(
        dictionary! {
            "Type" => "XObject",
            "Subtype" => "Image",
            "Width" => i64::from(bitmap.width),
            "Height" => i64::from(bitmap.height),
            "ImageMask" => true,
            "BitsPerComponent" => 1,
            // Sample 0 paints; the bitmap's ink bits are 1.
            "Decode" => vec![1.into(), 0.into()],
        },
        bitmap.ink.clone(),
    );
    let _ = s.compress();
    s
}

/// The offset after the last `startxref`.
pub fn last_startxref(pdf: &[u8]) -> Option<usize> {
    let tail_from = pdf.len().saturating_sub(2048);
    let tail = &pdf[tail_from..];
    let at = tail.windows(9).rposition(|w| w == b"startxref")?;
    let rest = std::str::from_utf8(&tail[at + 9..]).ok()?;
    rest.split_whitespace().next()?.parse().ok()
}
