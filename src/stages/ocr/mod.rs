//! OCR: page images to words with boxes and confidences.
//!
//! Owns the [`OcrEngine`] trait, the Tesseract engine (one per worker thread, never
//! shared; Tesseract's own threading is turned off with `OMP_THREAD_LIMIT=1` by the CLI
//! before any engine starts), sohoa's Tesseract configuration from `models/`, and turning
//! Tesseract's TSV output into [`OcrPage`]s. Callers: the pipeline, only for content pages
//! (never separators or blanks), and `sohoa bench` for the bare-Tesseract floor.

pub mod bands;
pub mod diacritics;
pub mod layout;
pub mod line_images;
pub mod models;
pub mod page;
pub mod specks;
pub mod syllable;
pub mod tesseract;
pub mod tsv;

use crate::model::OcrPage;
use image::GrayImage;
use std::path::PathBuf;
use std::time::{Duration, Instant};

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
    /// Per-page time budget in milliseconds, for all the page's bands together (see
    /// [`Deadline`]); a page that takes longer fails with `ocr-failed` and is stored
    /// without a text layer.
    pub deadline_ms: u32,
    /// Correct Vietnamese tone and vowel marks with the models' lexicon
    /// (`diacritics`; only when `langs` has `vie` and `models` a lexicon).
    pub diacritics: bool,
}

impl Default for OcrConfig {
    fn default() -> Self {
        OcrConfig { langs: "vie".into(), tessdata: None, models: None, deadline_ms: 120_000, diacritics: true }
    }
}

/// When a page's OCR must stop: its budget counted from the moment its OCR starts, and
/// shared by all its bands, whichever engine reads them. A page cut into twelve bands gets
/// one budget, not twelve: each band is given what is left, and a band whose turn comes
/// after the budget is spent is not read.
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    at: Instant,
    budget_ms: u32,
}

impl Deadline {
    /// `budget_ms` from now.
    pub fn after_ms(budget_ms: u32) -> Deadline {
        Deadline { at: Instant::now() + Duration::from_millis(budget_ms as u64), budget_ms }
    }

    /// Milliseconds left, rounded up (so an engine told to stop after them stops no
    /// earlier than the deadline); 0 once passed.
    pub fn remaining_ms(&self) -> u32 {
        let left = self.at.saturating_duration_since(Instant::now()).as_micros();
        left.div_ceil(1000).min(u32::MAX as u128) as u32
    }

    pub fn passed(&self) -> bool {
        Instant::now() >= self.at
    }

    /// The error of a page whose budget ran out.
    pub fn timed_out(&self) -> OcrError {
        OcrError::Recognize(format!("timed out after {} ms", self.budget_ms))
    }
}

/// Something that reads text off a page. One instance per thread.
pub trait OcrEngine: Send {
    /// Reads a whole page, within the engine's own per-page budget.
    fn recognize(&mut self, gray: &GrayImage, dpi: f32) -> Result<OcrPage, OcrError>;

    /// Reads rows `y0..y1` of `gray` (a band, the full width) as an image of their own,
    /// stopping at the page's `deadline`: word boxes are relative to row `y0`. By default
    /// on a copy of the rows, not started once the deadline has passed; an engine that can
    /// read the rows in place and stop mid-band does (Tesseract: no copy of the page per
    /// band, and its monitor gets what is left of the deadline).
    fn recognize_rows(&mut self, gray: &GrayImage, y0: u32, y1: u32, dpi: f32, deadline: Deadline) -> Result<OcrPage, OcrError> {
        if deadline.passed() {
            return Err(deadline.timed_out());
        }
        if y0 == 0 && y1 >= gray.height() {
            return self.recognize(gray, dpi);
        }
        self.recognize(&bands::crop_band(gray, y0, y1), dpi)
    }
}
