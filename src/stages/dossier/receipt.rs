//! The citizen's receipt: one A4 page in Vietnamese saying what was handed over and
//! digitized (each document, its pages and a hash prefix, the time, the post office),
//! with a QR code carrying the dossier code and a verification reference.
//!
//! The reference is `BN-` and the first 16 hex digits of the BLAKE3 of the dossier code,
//! its receipt time and, per document in order, its id, page count and BLAKE3: it is
//! recomputed from the catalog by [`verify_reference`], so a receipt verifies as long as
//! the catalog holds exactly the documents it lists, and stops verifying if one of them is
//! replaced or removed. The QR carries `BN:<dossier code>|<reference>` ([`qr_payload`]),
//! which no separator rule reads as a cover (`HS:`) or a document separator (`TP:`).
//!
//! The page is drawn by `stages::render` (the embedded Liberation Serif, every Vietnamese
//! letter) and written by `stages::pdf` with a text layer holding exactly the drawn lines,
//! so `pdftotext` reads the receipt. Pure and deterministic: the same input gives the same
//! bytes.

use crate::model::{ColorMode, DocumentMeta, OcrPage, PdfPage};
use crate::stages::render::{self, Item, PAGE_W_MM, PageLayout, Style, Symbology};

/// Resolution the receipt page is drawn at.
pub const RECEIPT_DPI: f32 = 200.0;
/// Prefix of the QR payload.
pub const QR_PREFIX: &str = "BN:";
/// Prefix of a verification reference.
pub const REFERENCE_PREFIX: &str = "BN-";
/// Hex digits of the hash shown per document.
pub const HASH_PREFIX_LEN: usize = 16;

/// One document received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptDocument {
    pub id: String,
    /// Its type code (`CCCD`, …), if it was typed by a separator sheet.
    pub doc_type: Option<String>,
    pub page_count: u64,
    pub blake3: String,
}

/// What the receipt says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptInput {
    pub dossier_code: String,
    /// When the batch holding the dossier was received, unix ms.
    pub received_at_ms: i64,
    /// When it was stored, unix ms.
    pub stored_at_ms: Option<i64>,
    pub post_office: Option<String>,
    /// The procedure's code and name.
    pub procedure: Option<(String, Option<String>)>,
    pub missing: Vec<String>,
    pub documents: Vec<ReceiptDocument>,
}

/// The verification reference of a receipt (see the module notes).
pub fn reference(input: &ReceiptInput) -> String {
    let docs: Vec<serde_json::Value> = input.documents.iter().map(|d| serde_json::json!([d.id, d.page_count, d.blake3])).collect();
    let canonical = serde_json::json!(["sohoa-receipt-1", input.dossier_code, input.received_at_ms, docs]);
    let hash = blake3::hash(canonical.to_string().as_bytes()).to_hex();
    format!("{REFERENCE_PREFIX}{}", &hash[..16])
}

/// Whether `given` is the reference of the receipt the catalog's `input` makes.
pub fn verify_reference(input: &ReceiptInput, given: &str) -> bool {
    reference(input).eq_ignore_ascii_case(given.trim())
}

/// What the QR code carries: `BN:<dossier code>|<reference>`.
pub fn qr_payload(dossier_code: &str, reference: &str) -> String {
    format!("{QR_PREFIX}{dossier_code}|{reference}")
}

/// The dossier code and reference of a QR payload (or of `CODE|REF` typed by hand).
pub fn parse_qr(payload: &str) -> Option<(String, String)> {
    let body = payload.trim();
    let body = body.strip_prefix(QR_PREFIX).unwrap_or(body);
    let (code, reference) = body.split_once('|')?;
    let (code, reference) = (code.trim(), reference.trim());
    (!code.is_empty() && reference.starts_with(REFERENCE_PREFIX)).then(|| (code.to_string(), reference.to_string()))
}

/// `dd/mm/yyyy HH:MM` in Vietnam time (UTC+07:00).
fn local_time(ms: i64) -> String {
    let offset = chrono::FixedOffset::east_opt(7 * 3600).expect("valid offset");
    match chrono::DateTime::from_timestamp_millis(ms) {
        Some(t) => t.with_timezone(&offset).format("%d/%m/%Y %H:%M (UTC+07:00)").to_string(),
        None => "-".into(),
    }
}

fn type_label(doc_type: Option<&str>) -> String {
    match doc_type {
        Some(t) => match crate::model::doc_kind(t) {
            Some(k) => format!("{} ({t})", k.name),
            None => t.to_string(),
        },
        None => "Tài liệu không phân loại".to_string(),
    }
}

/// The text lines of the receipt, in order (what `pdftotext` reads back).
pub fn lines(input: &ReceiptInput, reference: &str) -> Vec<(String, Style, f32)> {
    let mut out: Vec<(String, Style, f32)> = Vec::new();
    let mut push = |s: String, style: Style, size: f32| out.push((s, style, size));
    push("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM".into(), Style::Bold, 12.0);
    push("Độc lập - Tự do - Hạnh phúc".into(), Style::Bold, 12.0);
    push("GIẤY BIÊN NHẬN HỒ SƠ ĐÃ SỐ HÓA".into(), Style::Bold, 15.0);
    push(format!("Mã hồ sơ: {}", input.dossier_code), Style::Regular, 12.0);
    if let Some((code, name)) = &input.procedure {
        push(format!("Thủ tục: {code}{}", name.as_deref().map(|n| format!(" - {n}")).unwrap_or_default()), Style::Regular, 12.0);
    }
    push(format!("Bưu cục tiếp nhận: {}", input.post_office.as_deref().unwrap_or("không ghi")), Style::Regular, 12.0);
    push(format!("Thời điểm tiếp nhận: {}", local_time(input.received_at_ms)), Style::Regular, 12.0);
    if let Some(s) = input.stored_at_ms {
        push(format!("Thời điểm lưu trữ: {}", local_time(s)), Style::Regular, 12.0);
    }
    let pages: u64 = input.documents.iter().map(|d| d.page_count).sum();
    push(format!("Thành phần đã tiếp nhận và số hóa: {} tài liệu, {pages} trang", input.documents.len()), Style::Bold, 12.0);
    for (i, d) in input.documents.iter().enumerate() {
        let prefix: String = d.blake3.chars().take(HASH_PREFIX_LEN).collect();
        push(format!("{}. {} - {} trang - mã băm {prefix}", i + 1, type_label(d.doc_type.as_deref()), d.page_count), Style::Regular, 11.0);
    }
    if !input.missing.is_empty() {
        let names: Vec<String> = input.missing.iter().map(|m| type_label(Some(m))).collect();
        push(format!("Thành phần còn thiếu: {}", names.join(", ")), Style::Bold, 12.0);
    }
    push(format!("Mã xác minh: {reference}"), Style::Bold, 12.0);
    push("Mã băm: 16 ký tự đầu của BLAKE3 bản PDF đã lưu.".into(), Style::Italic, 10.0);
    push("Kiểm tra biên nhận: sohoa receipt --verify với nội dung mã QR.".into(), Style::Italic, 10.0);
    out
}

/// The receipt page: the QR at the top left (Circular 01/2023), then the lines.
pub fn layout(input: &ReceiptInput, reference: &str, dpi: f32) -> Option<PageLayout> {
    let mut page = PageLayout::default();
    let (qr, _w, h) = render::barcode(&qr_payload(&input.dossier_code, reference), Symbology::Qr, dpi, 20.0, 15.0)?;
    page.items.push(Item::Barcode(qr));
    let mut y = 15.0 + h + 12.0;
    for (i, (text, style, size)) in lines(input, reference).into_iter().enumerate() {
        // The motto and the title are centred; the rest starts at the left margin, wrapped.
        if i < 3 {
            page.centered(text, style, size, PAGE_W_MM / 2.0, y);
            y += render::line_h(size) * if i == 2 { 2.0 } else { 1.0 };
            continue;
        }
        for part in render::wrap(&text, style, size, render::TEXT_W_MM, 0.0) {
            page.text_at(part, style, size, render::MARGIN_L_MM, y);
            y += render::line_h(size);
        }
        y += 1.0;
    }
    Some(page)
}

/// The receipt as a one-page PDF, and its reference.
pub fn receipt_pdf(input: &ReceiptInput) -> Result<(Vec<u8>, String), crate::stages::pdf::PdfError> {
    let reference = reference(input);
    let layout = layout(input, &reference, RECEIPT_DPI)
        .ok_or_else(|| crate::stages::pdf::PdfError::InvalidImage { page: 0, reason: "the QR payload cannot be encoded".into() })?;
    let image = render::render(&layout, RECEIPT_DPI);
    let ocr_words = layout.words(RECEIPT_DPI);
    let text = layout.text();
    let page = PdfPage {
        image: crate::stages::pdf::encode_page_image(&image::DynamicImage::ImageLuma8(image), ColorMode::Bilevel),
        dpi: RECEIPT_DPI,
        ocr: OcrPage { words: ocr_words, confidence: Some(100.0), text },
    };
    let scan_time = chrono::DateTime::from_timestamp_millis(input.stored_at_ms.unwrap_or(input.received_at_ms))
        .map(|t| t.with_timezone(&chrono::FixedOffset::east_opt(7 * 3600).expect("valid offset")).to_rfc3339())
        .unwrap_or_default();
    let meta = DocumentMeta {
        dossier_code: Some(input.dossier_code.clone()),
        document_type: Some("BN".into()),
        page_count: 1,
        source_batch: "receipt".into(),
        scan_time,
        title: format!("Giấy biên nhận hồ sơ {}", input.dossier_code),
        fields: Default::default(),
    };
    Ok((crate::stages::pdf::write_searchable_pdf(&[page], &meta)?, reference))
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> ReceiptInput {
        ReceiptInput {
            dossier_code: "000.00.15.H40-250301-0007".into(),
            received_at_ms: 1_740_800_000_000,
            stored_at_ms: Some(1_740_800_090_000),
            post_office: Some("700000".into()),
            procedure: Some(("1.001193".into(), Some("Đăng ký khai sinh".into()))),
            missing: vec!["TK".into()],
            documents: vec![
                ReceiptDocument { id: "doc_a".into(), doc_type: Some("CCCD".into()), page_count: 2, blake3: "ab".repeat(32) },
                ReceiptDocument { id: "doc_b".into(), doc_type: None, page_count: 1, blake3: "cd".repeat(32) },
            ],
        }
    }

    #[test]
    fn the_reference_covers_every_document() {
        let input = sample();
        let r = reference(&input);
        assert!(r.starts_with("BN-") && r.len() == 19, "{r}");
        assert!(verify_reference(&input, &r) && verify_reference(&input, &r.to_uppercase()));
        let mut changed = input.clone();
        changed.documents[1].blake3 = "ce".repeat(32);
        assert!(!verify_reference(&changed, &r), "a replaced document no longer verifies");
        let mut fewer = input.clone();
        fewer.documents.pop();
        assert!(!verify_reference(&fewer, &r));
        let mut later = input.clone();
        later.received_at_ms += 1;
        assert!(!verify_reference(&later, &r));
        // Facts the reference does not commit to (the post office label) do not change it.
        let mut relabelled = input;
        relabelled.post_office = None;
        assert!(verify_reference(&relabelled, &r));
    }

    #[test]
    fn the_receipt_is_pdfa_2b() {
        // A time with milliseconds: PDF dates have none, and the XMP must agree with them.
        let input = ReceiptInput { stored_at_ms: Some(1_740_800_090_734), ..sample() };
        let (pdf, _) = receipt_pdf(&input).unwrap();
        let doc = lopdf::Document::load_mem(&pdf).unwrap();
        assert_eq!(crate::stages::pdf::check_pdfa(&doc), vec![]);
    }

    #[test]
    fn qr_payloads_round_trip() {
        let p = qr_payload("000.00.15.H40-250301-0007", "BN-0123456789abcdef");
        assert_eq!(p, "BN:000.00.15.H40-250301-0007|BN-0123456789abcdef");
        assert_eq!(parse_qr(&p), Some(("000.00.15.H40-250301-0007".into(), "BN-0123456789abcdef".into())));
        assert_eq!(parse_qr("000.00.15.H40-250301-0007|BN-0123456789abcdef").map(|x| x.0), Some("000.00.15.H40-250301-0007".into()));
        assert_eq!(parse_qr("HS:000.00.15.H40-250301-0007"), None);
        assert_eq!(crate::stages::split::classify_barcode(&p), None, "a receipt's QR never splits a batch");
    }

    #[test]
    fn zxing_cpp_reads_the_qr_back() {
        let input = sample();
        let r = reference(&input);
        let image = render::render(&layout(&input, &r, RECEIPT_DPI).unwrap(), RECEIPT_DPI);
        let read = crate::stages::barcode::decode_zxing(&image, false);
        let texts: Vec<&str> = read.iter().map(|b| b.text.as_str()).collect();
        assert_eq!(texts, vec![qr_payload(&input.dossier_code, &r).as_str()]);
        assert_eq!(parse_qr(texts[0]), Some((input.dossier_code.clone(), r)));
    }

    #[test]
    fn the_page_lists_each_document_and_is_deterministic() {
        let input = sample();
        let r = reference(&input);
        let text: Vec<String> = lines(&input, &r).into_iter().map(|l| l.0).collect();
        assert!(text.iter().any(|l| l == &format!("1. Căn cước công dân (CCCD) - 2 trang - mã băm {}", "ab".repeat(8))), "{text:?}");
        assert!(text.iter().any(|l| l.starts_with("2. Tài liệu không phân loại - 1 trang")));
        assert!(text.iter().any(|l| l == "Bưu cục tiếp nhận: 700000"));
        assert!(text.iter().any(|l| l == "Thời điểm tiếp nhận: 01/03/2025 10:33 (UTC+07:00)"), "{text:?}");
        assert!(text.iter().any(|l| l == "Thành phần còn thiếu: Tờ khai (TK)"));
        assert!(text.iter().all(|l| render::has_glyphs(l, Style::Regular)));
        let (a, ra) = receipt_pdf(&input).unwrap();
        let (b, rb) = receipt_pdf(&input).unwrap();
        assert_eq!((a.len(), ra.clone()), (b.len(), rb));
        assert!(a == b, "same input, same bytes");
        assert_eq!(ra, r);
    }
}
