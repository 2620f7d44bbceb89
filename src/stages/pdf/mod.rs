//! Searchable PDF output: one PDF per document, each page a scanned image with an
//! invisible OCR text layer on top.
//!
//! Owns: encoding page images for the PDF ([`encode_page_image`]), the page layout
//! (MediaBox = image size at its dpi, 100% scale), the invisible text layer (glyphless
//! Type0 font, text render mode 3), the Info dictionary and XMP metadata, and PDF/A-2b
//! (`pdfa`: identification, extension schema, OutputIntent with an ICC profile made by
//! `icc`; [`check_pdfa`] checks the rules).
//!
//! Invariants:
//! - Output is PDF 1.7 and byte-for-byte deterministic: identical pages and metadata give
//!   identical bytes (the trailer /ID is derived from the content, no clock is read), so
//!   re-running a batch yields the same content hash.
//! - `pdftotext` on the output gives the OCR words in reading order, one text line per
//!   OCR line, Unicode NFC (Vietnamese diacritics included).
//! - No panics on bad input: an image whose data does not match its size, a zero size or
//!   a bad dpi is a [`PdfError`].
//!
//! Called by the pipeline after OCR, once per document of the split plan.

mod encode;
mod font;
pub mod icc;
mod meta;
pub mod mrc;
mod pdfa;
mod pdfa_check;
mod textlayer;
mod writer;

pub use encode::encode_page_image;
pub use meta::{SOHOA_XMP_NS, language_tags};
pub use mrc::{PageEncoding, encode_archival};
pub use pdfa::{PdfProfile, SOHOA_PROPERTIES, XmpProperty};
pub use pdfa_check::{PdfaIssue, check_pdfa};
pub use writer::{PdfOptions, write_pdf, write_searchable_pdf, write_searchable_pdf_in};

/// Why a PDF could not be written.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error("a PDF needs at least one page")]
    NoPages,
    #[error("page {page}: {reason}")]
    InvalidImage { page: usize, reason: String },
    #[error("page {page}: resolution {dpi} dpi is not usable (expected 10..=10000)")]
    InvalidDpi { page: usize, dpi: f32 },
    #[error("could not serialise the PDF: {0}")]
    Write(#[from] std::io::Error),
}

impl PdfError {
    /// Stable machine-readable code (kebab-case).
    pub fn code(&self) -> &'static str {
        match self {
            PdfError::NoPages => "pdf-no-pages",
            PdfError::InvalidImage { .. } => "pdf-invalid-image",
            PdfError::InvalidDpi { .. } => "pdf-invalid-dpi",
            PdfError::Write(_) => "pdf-write",
        }
    }
}

/// Formats a PDF number: at most 3 decimals, no exponent, no trailing zeros, no `-0`.
pub(crate) fn num(x: f64) -> String {
    let x = if x.is_finite() { x } else { 0.0 };
    let r = (x * 1000.0).round() / 1000.0;
    if r == 0.0 {
        return "0".to_string();
    }
    let s = format!("{r:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

/// An invisible text layer for a page added to an existing document (the certified copy's
/// statement page): the glyphless font is added to `doc`; returns the content operators
/// (in a page whose image is `page_height_px` high at `dpi`) and the `/Font` resources the
/// page needs.
pub fn add_text_layer(doc: &mut lopdf::Document, words: &[crate::model::OcrWord], dpi: f32, page_height_px: u32) -> (String, lopdf::Dictionary) {
    let font = font::add_glyphless_font(doc);
    (textlayer::text_layer(words, dpi, page_height_px), lopdf::dictionary! { font::FONT_RESOURCE => font })
}

#[cfg(test)]
mod tests;
