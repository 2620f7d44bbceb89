//! Printable separator sheets (`sohoa separators`).
//!
//! Owns what a printed sheet looks like; one A4 page per sheet, rendered at [`PRINT_DPI`]
//! as a bilevel image (the barcodes with whole-pixel modules) and written with the
//! project's PDF writer:
//! - dossier cover: QR `HS:<code>` at the top left (Circular 01/2023: the dossier code as
//!   a QR code at the top left of the cover), "PHIẾU BÌA HỒ SƠ" and the code in large text;
//! - document separator: Code 128 `TP:<type>` centred near the top, the payload in small
//!   text, the type's Vietnamese name in large text (names of the known document types,
//!   else the code);
//! - patch sheet: the Kodak patch code with bars across the page near the top edge
//!   (within 3.75 in of the leading edge, as Kodak scanners expect), and its name.
//!
//! Also owns the cover and separator layouts ([`layout_cover`], [`layout_separator`]) that
//! the sample generator (`tools::synth`) puts in its batches. Drawn by `stages::render`,
//! so the same pixels are what `sohoa process` reads back.

use super::patch::{PatchKind, render_patch};
use crate::model::DOC_KINDS;
use crate::model::{ColorMode, DocumentMeta, OcrPage, PdfPage};
use crate::stages::render::{self, Item, PAGE_W_MM, PageLayout, Style, Symbology, TEXT_W_MM, TextItem};
use image::{DynamicImage, GrayImage, imageops};

/// Resolution the sheets are rendered at.
pub const PRINT_DPI: f32 = 300.0;

/// One sheet to print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sheet {
    /// Dossier cover sheet with this dossier code.
    Dossier(String),
    /// Document separator for this type code.
    Type(String),
    Patch(PatchKind),
}

impl Sheet {
    /// The barcode text the sheet carries (what [`super::scan_page`] reads back).
    pub fn payload(&self) -> String {
        match self {
            Sheet::Dossier(code) => format!("HS:{code}"),
            Sheet::Type(code) => format!("TP:{code}"),
            Sheet::Patch(kind) => kind.text().to_string(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SheetError {
    #[error("no sheet requested: give --dossier CODE, --type CODE or --patch KIND")]
    Nothing,
    #[error("{0:?} cannot be encoded as a barcode (use printable ASCII)")]
    Unencodable(String),
    #[error("{0:?} is empty")]
    Empty(&'static str),
    #[error(transparent)]
    Pdf(#[from] crate::stages::pdf::PdfError),
}

impl SheetError {
    pub fn code(&self) -> &'static str {
        match self {
            SheetError::Nothing => "sheets-none",
            SheetError::Unencodable(_) => "sheets-unencodable",
            SheetError::Empty(_) => "sheets-empty-code",
            SheetError::Pdf(e) => e.code(),
        }
    }
}

/// The Vietnamese name of a document type code, if it is a known type.
pub fn type_name(code: &str) -> Option<&'static str> {
    DOC_KINDS.iter().find(|k| k.code.eq_ignore_ascii_case(code)).map(|k| k.name)
}

/// Warnings about what will be printed (not errors: the sheet is printed as asked).
pub fn check(sheets: &[Sheet]) -> Vec<String> {
    let mut out = Vec::new();
    for s in sheets {
        match s {
            Sheet::Dossier(code) if !crate::model::DossierCode::is_valid(code) => {
                out.push(format!("dossier code {code:?} does not match Circular 01/2018 Art. 19 (e.g. 000.00.15.H40-250301-0007)"))
            }
            Sheet::Type(code) if type_name(code).is_none() => out.push(format!("type {code:?} is not a known document type; its code is printed as its name")),
            _ => {}
        }
    }
    out
}

/// Renders one sheet at `dpi` (gray, white paper, black ink).
pub fn render_sheet(sheet: &Sheet, dpi: f32) -> Result<GrayImage, SheetError> {
    match sheet {
        Sheet::Dossier(code) => {
            if code.trim().is_empty() {
                return Err(SheetError::Empty("dossier code"));
            }
            let l = layout_cover(&sheet.payload(), code, dpi).ok_or_else(|| SheetError::Unencodable(sheet.payload()))?;
            Ok(render::render(&l, dpi))
        }
        Sheet::Type(code) => {
            if code.trim().is_empty() {
                return Err(SheetError::Empty("type code"));
            }
            let name = type_name(code).unwrap_or(code);
            let mut l = layout_separator(&sheet.payload(), Symbology::Code128, name, dpi).ok_or_else(|| SheetError::Unencodable(sheet.payload()))?;
            centered(&mut l, "TỜ PHÂN CÁCH TÀI LIỆU", Style::Regular, 14.0, 140.0);
            Ok(render::render(&l, dpi))
        }
        Sheet::Patch(kind) => {
            let mut l = PageLayout::default();
            centered(&mut l, &kind.label(), Style::Bold, 36.0, 110.0);
            centered(&mut l, "TỜ PHÂN CÁCH (PATCH CODE)", Style::Regular, 14.0, 130.0);
            let mut img = render::render(&l, dpi);
            // Bars 150 mm long, centred, their top 25 mm from the leading (top) edge.
            let patch = render_patch(*kind, dpi, 150.0, 0);
            let x = ((img.width() - patch.width()) / 2) as i64;
            imageops::overlay(&mut img, &patch, x, (25.0 / 25.4 * dpi).round() as i64);
            Ok(img)
        }
    }
}

fn centered(l: &mut PageLayout, text: &str, style: Style, size_pt: f32, baseline_mm: f32) {
    let w = render::text_width_mm(text, style, size_pt);
    l.items.push(Item::Text(TextItem { text: text.to_string(), style, size_pt, x_mm: (PAGE_W_MM - w) / 2.0, baseline_mm, justify_mm: None }));
}

/// Dossier cover sheet: QR code with `payload` at the top left (after its quiet zone),
/// then the dossier code in large text. Returns None if the payload cannot be encoded.
pub fn layout_cover(payload: &str, code: &str, dpi: f32) -> Option<PageLayout> {
    let mut page = PageLayout::default();
    let (item, _w, h) = render::barcode(payload, Symbology::Qr, dpi, 22.0, 20.0)?;
    page.items.push(Item::Barcode(item));
    let mut y = 20.0 + h + 30.0;
    page.centered("PHIẾU BÌA HỒ SƠ", Style::Bold, 22.0, PAGE_W_MM / 2.0, y);
    y += 16.0;
    page.centered(code, Style::Bold, 26.0, PAGE_W_MM / 2.0, y);
    Some(page)
}

/// Document separator sheet: the barcode centred near the top, its payload in small text
/// below it, then `label` (the type's name) in large text.
pub fn layout_separator(payload: &str, sym: Symbology, label: &str, dpi: f32) -> Option<PageLayout> {
    let mut page = PageLayout::default();
    let (mut item, w, h) = render::barcode(payload, sym, dpi, 0.0, 30.0)?;
    item.x_mm = (PAGE_W_MM - w) / 2.0;
    page.items.push(Item::Barcode(item));
    let mut y = 30.0 + h + 12.0;
    page.centered(payload, Style::Regular, 12.0, PAGE_W_MM / 2.0, y);
    y += 40.0;
    page.centered_wrapped(label, Style::Bold, 30.0, PAGE_W_MM / 2.0, TEXT_W_MM, y);
    Some(page)
}

/// A PDF with one A4 page per sheet, in order.
pub fn sheets_pdf(sheets: &[Sheet]) -> Result<Vec<u8>, SheetError> {
    if sheets.is_empty() {
        return Err(SheetError::Nothing);
    }
    let mut pages = Vec::with_capacity(sheets.len());
    for s in sheets {
        let img = render_sheet(s, PRINT_DPI)?;
        pages.push(PdfPage {
            image: crate::stages::pdf::encode_page_image(&DynamicImage::ImageLuma8(img), ColorMode::Bilevel),
            dpi: PRINT_DPI,
            ocr: OcrPage::default(),
        });
    }
    let meta = DocumentMeta {
        page_count: pages.len(),
        title: "Phiếu phân cách (sohoa separators)".to_string(),
        fields: Default::default(),
        source_batch: "separators".to_string(),
        ..Default::default()
    };
    Ok(crate::stages::pdf::write_searchable_pdf(&pages, &meta)?)
}
