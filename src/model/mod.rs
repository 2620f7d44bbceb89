//! Plain-data types that cross stage boundaries.
//!
//! Every stage takes and returns these values, so a reader of any stage knows from its
//! signature what comes in and what goes out. Nothing here does I/O.

mod doc_types;
mod fields;
mod fold;
mod ids;
mod state;

pub use doc_types::{DOC_KINDS, DocKind, Genre, doc_kind};
pub use fields::DocumentFields;
pub use fold::fold_vietnamese;
pub(crate) use fold::push_folded;
pub use ids::{BatchId, ContentHash, DocumentId, DossierCode, ObjectKey};
pub use state::BatchState;

use image::{DynamicImage, GrayImage};
use serde::{Deserialize, Serialize};

/// How the scanner captured a page. Output PDFs keep the same mode (Decree 30/2020, App. I).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColorMode {
    /// 1 bit per pixel (stored as 0/255 in a Luma8 image).
    Bilevel,
    Gray,
    Rgb,
}

/// One page as it came out of the decoder, before any cleaning.
#[derive(Debug, Clone)]
pub struct PageImage {
    /// 0-based page number in the input.
    pub index: usize,
    /// Luma8 for bilevel and gray pages, Rgb8 for colour pages.
    pub image: DynamicImage,
    pub color: ColorMode,
    /// Horizontal resolution in dots per inch (vertical assumed equal after decoding).
    pub dpi: f32,
    pub warnings: Vec<String>,
}

/// What the image stage decided about a page, and the page ready for OCR and storage.
#[derive(Debug, Clone)]
pub struct CleanPage {
    pub index: usize,
    /// The page deskewed, turned upright and trimmed of dark scanner borders, in its
    /// original colour mode.
    pub image: DynamicImage,
    /// Grayscale version of `image` (BT.601 luma): what barcode detection reads, and OCR
    /// with a colour page's coloured ink dropped (`stages::imaging::ocr_page_gray`).
    pub gray: GrayImage,
    pub color: ColorMode,
    pub dpi: f32,
    /// Detected skew of the content, degrees, positive = counter-clockwise on screen.
    pub skew_deg: f32,
    /// How far the content was turned counter-clockwise from upright: 0, 90, 180, 270.
    pub rotation: u16,
    pub blank: bool,
    pub warnings: Vec<String>,
}

/// What a page is for the split plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PageKind {
    Content,
    Separator,
    Blank,
}

/// What a separator sheet asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SeparatorAction {
    /// Dossier cover sheet: starts a new dossier with this code (as read).
    NewDossier(String),
    /// Document separator: starts a new document of this type.
    NewDocument(String),
    /// Plain separator (PATCHT): starts a new untyped document.
    Plain,
}

/// The per-page facts the split plan needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageSignal {
    pub index: usize,
    pub kind: PageKind,
    /// Present iff `kind == Separator`.
    pub action: Option<SeparatorAction>,
    /// For a separator: keep (true) or drop (false) the sheet, as its rule says; `None`
    /// follows `SplitOptions::keep_separators`.
    pub keep: Option<bool>,
    /// A content page that looks like a separator sheet whose barcode could not be read
    /// (`BarcodeScan::unread_sheet`): its dossier needs review.
    #[serde(default)]
    pub unread_sheet: bool,
}

/// A word recognised by OCR, in pixel coordinates of the cleaned page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OcrWord {
    pub text: String,
    pub left: u32,
    pub top: u32,
    pub width: u32,
    pub height: u32,
    pub confidence: f32,
    /// Identifies the text line (block, paragraph, line) the word belongs to.
    pub line: (u32, u32, u32),
}

/// OCR result for one page.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OcrPage {
    pub words: Vec<OcrWord>,
    /// Mean word confidence 0..100, None if the page had no words.
    pub confidence: Option<f32>,
    /// Plain text in reading order, lines separated by '\n'.
    pub text: String,
}

/// A page ready to go into a PDF: its encoded image and text layer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PdfPage {
    /// Encoded image bytes (JPEG for gray/colour, CCITT G4 for bilevel).
    pub image: EncodedImage,
    pub dpi: f32,
    pub ocr: OcrPage,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EncodedImage {
    /// The page's size in pixels (at the page's dpi).
    pub width: u32,
    pub height: u32,
    pub color: ColorMode,
    pub filter: ImageFilter,
    /// The page image; with a `mask`, the background at `mask.bg_width` x `mask.bg_height`.
    #[serde(with = "serde_bytes")]
    pub data: Vec<u8>,
    /// Mixed raster content: a full-resolution text mask painted over the background.
    pub mask: Option<TextMask>,
}

/// The text layer of a mixed-raster page: a `width` x `height` 1-bit stencil (CCITT G4,
/// black = ink) filled with one ink colour over a lower-resolution background image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextMask {
    /// Size of the background image in pixels (it is stretched over the page).
    pub bg_width: u32,
    pub bg_height: u32,
    /// Ink colour (R, G, B; equal for a gray page).
    pub ink: [u8; 3],
    #[serde(with = "serde_bytes")]
    pub data: Vec<u8>,
    /// Photos kept at the scan's resolution, drawn over the background; the mask is
    /// empty inside them. (Always serialized: stored parts use a non-self-describing
    /// format.)
    pub photos: Vec<PhotoPatch>,
}

/// A region of a mixed-raster page stored at the scan's resolution (a photo, an ID card's
/// portrait): a JPEG of `width` x `height` pixels, in the page's colour mode, whose
/// top-left corner is at (`x`, `y`) in page pixels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhotoPatch {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
    #[serde(with = "serde_bytes")]
    pub data: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ImageFilter {
    /// JPEG (DCTDecode): data is a complete JPEG file.
    Dct,
    /// zlib-compressed raw samples (FlateDecode), rows packed, 1 bpc for bilevel.
    Flate,
    /// CCITT Group 4 (CCITTFaxDecode, K -1), bilevel only: 0 = black, 1 = white.
    Ccitt,
}

/// Descriptive metadata written into every output PDF (Info dictionary and XMP).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DocumentMeta {
    pub dossier_code: Option<String>,
    pub document_type: Option<String>,
    pub page_count: usize,
    pub source_batch: String,
    /// RFC 3339 scan (processing) time with offset.
    pub scan_time: String,
    pub title: String,
    /// Header fields read from the OCR text (XMP `sohoa:` properties).
    #[serde(default)]
    pub fields: DocumentFields,
}

/// One page of a batch as reported by `sohoa process --json` and stored in the catalog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageReport {
    /// 0-based page number in the input.
    pub index: usize,
    pub kind: PageKind,
    pub barcode: Option<String>,
    pub skew_deg: f32,
    pub rotation: u16,
    pub ocr_confidence: Option<f32>,
    pub warnings: Vec<String>,
}

/// How a page came through the pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageOutcome {
    /// Every stage worked.
    Clean,
    /// Stored, with warnings a clerk may want to check.
    Warned,
    /// A stage failed (undecodable, OCR failed or timed out): the page counts as an error
    /// and the batch exits 1.
    Failed,
}

/// The start of a page warning that records a failure. The JSON report keeps warnings as
/// text, so this prefix is the contract; [`page_error`] writes it and
/// [`PageReport::outcome`] reads it, nothing else does.
const PAGE_ERROR_PREFIX: &str = "error: ";

/// A page warning that records a failure of the page.
pub fn page_error(message: impl std::fmt::Display) -> String {
    format!("{PAGE_ERROR_PREFIX}{message}")
}

/// The message of a page warning made by [`page_error`], `None` for a plain warning.
pub fn page_error_message(warning: &str) -> Option<&str> {
    warning.strip_prefix(PAGE_ERROR_PREFIX)
}

impl PageReport {
    pub fn outcome(&self) -> PageOutcome {
        if self.warnings.iter().any(|w| w.starts_with(PAGE_ERROR_PREFIX)) {
            PageOutcome::Failed
        } else if self.warnings.is_empty() {
            PageOutcome::Clean
        } else {
            PageOutcome::Warned
        }
    }
}

/// One stored document (one searchable PDF).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentReport {
    pub id: DocumentId,
    #[serde(rename = "type")]
    pub doc_type: Option<String>,
    /// Input indexes of the pages that make up the document, in order.
    pub source_pages: Vec<usize>,
    pub page_count: usize,
    pub blake3: ContentHash,
    pub sha256: String,
    pub bytes: u64,
    pub object_key: ObjectKey,
    /// Header fields and CCCD numbers read from the OCR text (`crate::stages::fields`).
    #[serde(default)]
    pub fields: DocumentFields,
    /// Full OCR text (kept in the catalog for search; not printed in the JSON report).
    #[serde(skip_serializing, default)]
    pub ocr_text: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DossierReport {
    pub code: Option<String>,
    pub documents: Vec<DocumentReport>,
    /// The split may be wrong: content came before any cover sheet, or a page that looks
    /// like a separator sheet could not be read (the batch warnings say which page).
    #[serde(default)]
    pub needs_review: bool,
    /// The procedure the dossier was checked against: named on the cover
    /// (`HS:<code>|<procedure>`), else its agency's default (see
    /// `stages::dossier::procedures`).
    #[serde(default)]
    pub procedure: Option<String>,
    /// The citizen ID the cover names (`HS:<code>|<procedure>|<citizen ID>`).
    #[serde(default)]
    pub citizen_id: Option<String>,
    /// Every required component is there (`true`), some are missing (`false`), or the
    /// dossier was not checked (`null`: no procedure, or an unknown one).
    #[serde(default)]
    pub complete: Option<bool>,
    /// The required components (document-type codes) not found in the dossier.
    #[serde(default)]
    pub missing: Vec<String>,
}

/// The outcome of one batch: the object printed per batch by `sohoa process --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchReport {
    pub batch_id: BatchId,
    pub source: String,
    pub pages: Vec<PageReport>,
    pub dossiers: Vec<DossierReport>,
    pub warnings: Vec<String>,
}

/// Whether `code` is an agency code: the receiving-unit part of a dossier code,
/// `V1V2V3.Z1Z2.Y1Y2.MX1X2` (`000.00.15.H40`). Token scopes and the procedure catalog's
/// default procedures are keyed by it.
pub fn is_agency_code(code: &str) -> bool {
    let b = code.as_bytes();
    b.len() == 13
        && b.iter().enumerate().all(|(i, &c)| match i {
            3 | 6 | 9 => c == b'.',
            10 => c.is_ascii_uppercase(),
            _ => c.is_ascii_digit(),
        })
}

/// Whether a post office code can tag batches (a clerk's token, a hot folder): 1 to 32
/// ASCII letters, digits, `-`, `_` or `.` (Vietnam Post's six-digit codes, or a local name).
pub fn is_post_office_code(code: &str) -> bool {
    (1..=32).contains(&code.len()) && code.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}
