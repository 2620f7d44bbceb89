//! OCR: page images to words with boxes and confidences.
//!
//! Owns the [`OcrEngine`] trait, the Tesseract engine (one per worker thread, never
//! shared; Tesseract's own threading is turned off with `OMP_THREAD_LIMIT=1` by the CLI
//! before any engine starts), sohoa's Tesseract configuration from `models/`, and turning
//! Tesseract's TSV output into [`OcrPage`]s. Callers: the pipeline, only for content pages
//! (never separators or blanks), and `sohoa bench` for the bare-Tesseract floor.

pub mod bands;
pub mod layout;
pub mod tesseract;
pub mod tsv;

use crate::model::OcrPage;
use image::GrayImage;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum OcrError {
    #[error("Tesseract could not start with languages {langs:?} (tessdata {tessdata}): install tesseract-ocr-vie or pass --tessdata/--lang")]
    Init { langs: String, tessdata: String },
    #[error("OCR failed on this page: {0}")]
    Recognize(String),
}

impl OcrError {
    pub fn code(&self) -> &'static str {
        match self {
            OcrError::Init { .. } => "ocr-init",
            OcrError::Recognize(_) => "ocr-failed",
        }
    }
}

/// Which engine and models to use.
#[derive(Debug, Clone)]
pub struct OcrConfig {
    /// Tesseract languages, `+`-separated (default `vie`).
    pub langs: String,
    /// Folder holding `<lang>.traineddata`; None = Tesseract's default (Debian's tessdata).
    pub tessdata: Option<PathBuf>,
    /// Folder holding sohoa's configuration, word list and patterns (see models/README.md).
    pub models: Option<PathBuf>,
    /// Per-page time budget in milliseconds; the page keeps what was recognised so far.
    pub deadline_ms: u32,
}

impl Default for OcrConfig {
    fn default() -> Self {
        OcrConfig { langs: "vie".into(), tessdata: None, models: None, deadline_ms: 120_000 }
    }
}

/// Something that reads text off a page. One instance per thread.
pub trait OcrEngine: Send {
    fn recognize(&mut self, gray: &GrayImage, dpi: f32) -> Result<OcrPage, OcrError>;

    /// Reads rows `y0..y1` of `gray` (a band, the full width) as an image of their own:
    /// word boxes are relative to row `y0`. By default on a copy of the rows; an engine
    /// that can read the rows in place does (Tesseract: no copy of the page per band).
    fn recognize_rows(&mut self, gray: &GrayImage, y0: u32, y1: u32, dpi: f32) -> Result<OcrPage, OcrError> {
        self.recognize(&bands::crop_band(gray, y0, y1), dpi)
    }
}
