//! The Tesseract engine, through Tesseract's C API (`tesseract_sys`, re-exported by
//! the `tesseract` crate). We call the C API directly because sohoa's word list and
//! patterns must be given at initialisation (`TessBaseAPIInit4` variables), which the
//! high-level crate cannot pass.

use super::diacritics::{self, Lexicon, ReadWord, Symbol};
use super::{Deadline, OcrConfig, OcrEngine, OcrError, tsv};
use crate::model::{OcrPage, OcrWord};
use image::GrayImage;
use std::ffi::{CStr, CString};
use std::os::raw::c_char;
use std::path::Path;
use std::ptr;
use tesseract::plumbing::tesseract_sys as sys;

/// One Tesseract instance. Not shared between threads; create one per worker thread.
pub struct TesseractEngine {
    api: *mut sys::TessBaseAPI,
    deadline_ms: u32,
    /// Words in Tesseract's own order, not `layout::reading_order` (bare Tesseract, for
    /// `sohoa eval-ocr`).
    tesseract_order: bool,
    /// The diacritic correction's lexicon, for an engine reading Vietnamese with sohoa's
    /// models; the engine then keeps Tesseract's alternatives per letter.
    lexicon: Option<std::sync::Arc<Lexicon>>,
}

// The handle is only ever used by the thread that owns the engine.
unsafe impl Send for TesseractEngine {}

/// Tesseract variables from the models folder: `sohoa.config` lines `name value`, plus
/// the word list and patterns files when present.
pub fn model_variables(models: &Path) -> Vec<(String, String)> {
    let mut vars = Vec::new();
    if let Ok(config) = std::fs::read_to_string(models.join("sohoa.config")) {
        for line in config.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
            if let Some((name, value)) = line.split_once(char::is_whitespace) {
                vars.push((name.to_string(), value.trim().to_string()));
            }
        }
    }
    for (var, file) in [("user_words_file", "vie.user-words"), ("user_patterns_file", "vie.user-patterns")] {
        let path = models.join(file);
        if path.is_file() {
            vars.push((var.to_string(), path.display().to_string()));
        }
    }
    vars
}

impl TesseractEngine {
    pub fn new(config: &OcrConfig) -> Result<TesseractEngine, OcrError> {
        let init_err =
            || OcrError::Init { langs: config.langs.clone(), tessdata: config.tessdata.as_ref().map_or("default".into(), |p| p.display().to_string()) };
        let datapath = config.tessdata.as_ref().map(|p| CString::new(p.display().to_string())).transpose().map_err(|_| init_err())?;
        let lang = CString::new(config.langs.as_str()).map_err(|_| init_err())?;
        let mut vars = config.models.as_deref().map(model_variables).unwrap_or_default();
        let lexicon = config
            .models
            .as_deref()
            .filter(|_| config.diacritics && config.langs.split('+').any(|l| l == "vie"))
            .and_then(Lexicon::load)
            .filter(|l| !l.is_empty())
            .map(std::sync::Arc::new);
        if lexicon.is_some() {
            // Tesseract's alternatives per letter (its choice iterator), for the correction.
            vars.push(("lstm_choice_mode".into(), "2".into()));
            // One beam search for the alternatives instead of Tesseract's default five: the
            // other marks of a letter are in the first; the same errors, less CPU
            // (docs/performance.md, "Diacritic correction").
            vars.push(("lstm_choice_iterations".into(), "1".into()));
        }
        let names: Vec<CString> = vars.iter().filter_map(|(n, _)| CString::new(n.as_str()).ok()).collect();
        let values: Vec<CString> = vars.iter().filter_map(|(_, v)| CString::new(v.as_str()).ok()).collect();
        if names.len() != vars.len() || values.len() != vars.len() {
            return Err(init_err());
        }
        let mut name_ptrs: Vec<*mut c_char> = names.iter().map(|s| s.as_ptr() as *mut c_char).collect();
        let mut value_ptrs: Vec<*mut c_char> = values.iter().map(|s| s.as_ptr() as *mut c_char).collect();
        // SAFETY: the handle is freshly created and checked; every string outlives the call.
        unsafe {
            let api = sys::TessBaseAPICreate();
            if api.is_null() {
                return Err(init_err());
            }
            let rc = sys::TessBaseAPIInit4(
                api,
                datapath.as_ref().map_or(ptr::null(), |d| d.as_ptr()),
                lang.as_ptr(),
                sys::TessOcrEngineMode_OEM_LSTM_ONLY,
                ptr::null_mut(),
                0,
                name_ptrs.as_mut_ptr(),
                value_ptrs.as_mut_ptr(),
                name_ptrs.len(),
                0,
            );
            if rc != 0 {
                sys::TessBaseAPIDelete(api);
                return Err(init_err());
            }
            sys::TessBaseAPISetPageSegMode(api, sys::TessPageSegMode_PSM_AUTO);
            Ok(TesseractEngine { api, deadline_ms: config.deadline_ms, tesseract_order: false, lexicon })
        }
    }

    /// This engine gives its words in Tesseract's order, as Tesseract's own text output
    /// does: with no models folder in its configuration, it reads as bare Tesseract does.
    pub fn with_tesseract_order(mut self) -> TesseractEngine {
        self.tesseract_order = true;
        self
    }
}

impl OcrEngine for TesseractEngine {
    fn recognize(&mut self, gray: &GrayImage, dpi: f32) -> Result<OcrPage, OcrError> {
        let (w, h) = gray.dimensions();
        self.recognize_samples(gray.as_raw(), w, h, dpi, Deadline::after_ms(self.deadline_ms))
    }

    fn recognize_rows(&mut self, gray: &GrayImage, y0: u32, y1: u32, dpi: f32, deadline: Deadline) -> Result<OcrPage, OcrError> {
        let (w, h) = gray.dimensions();
        let (y0, y1) = (y0.min(h), y1.min(h).max(y0.min(h)));
        let rows = &gray.as_raw()[y0 as usize * w as usize..y1 as usize * w as usize];
        self.recognize_samples(rows, w, y1 - y0, dpi, deadline)
    }
}

impl TesseractEngine {
    /// Reads `h` rows of `w` 8-bit gray samples, one row after the other in `samples`;
    /// Tesseract's monitor stops it at `deadline` (none started once it has passed).
    fn recognize_samples(&mut self, samples: &[u8], w: u32, h: u32, dpi: f32, deadline: Deadline) -> Result<OcrPage, OcrError> {
        if w == 0 || h == 0 || samples.len() < w as usize * h as usize {
            return Ok(OcrPage::default());
        }
        let limit_ms = deadline.remaining_ms();
        if limit_ms == 0 {
            return Err(deadline.timed_out());
        }
        // SAFETY: `samples` holds `h` rows of `w` bytes and outlives recognition (Tesseract
        // copies the image in SetImage); the monitor is freed on every path.
        unsafe {
            sys::TessBaseAPISetImage(self.api, samples.as_ptr(), w as i32, h as i32, 1, w as i32);
            sys::TessBaseAPISetSourceResolution(self.api, dpi.round() as i32);
            let monitor = sys::TessMonitorCreate();
            sys::TessMonitorSetDeadlineMSecs(monitor, limit_ms.min(i32::MAX as u32) as i32);
            let api = self.api;
            let rc = super::line_images::recognizing(|| sys::TessBaseAPIRecognize(api, monitor));
            sys::TessMonitorDelete(monitor);
            // Stopped at the deadline, Tesseract returns an error or part of the page; a
            // band that ends after the deadline is not kept either, so a page never holds
            // the text of some of its bands only.
            if deadline.passed() {
                sys::TessBaseAPIClear(self.api);
                return Err(deadline.timed_out());
            }
            if rc != 0 {
                sys::TessBaseAPIClear(self.api);
                return Err(OcrError::Recognize(format!("Tesseract returned {rc}")));
            }
            let words = recognized_words(self.api, self.lexicon.is_some());
            sys::TessBaseAPIClear(self.api);
            let Some((mut words, symbols)) = words else {
                return Err(OcrError::Recognize("no text output".into()));
            };
            if let Some(lexicon) = &self.lexicon {
                correct_marks(&mut words, symbols, lexicon);
            }
            // Tesseract's order interleaves side-by-side columns; ours reads them in turn,
            // without the specks of dust it read as punctuation.
            let page = tsv::page_from_words(if self.tesseract_order { words } else { super::layout::reading_order(super::specks::drop_specks(words)) });
            Ok(page)
        }
    }
}

/// The words of the page just recognized, as Tesseract's TSV output has them (the same
/// words, boxes, confidences and block/paragraph/line numbers, in the same order), walked
/// word by word with its result iterator. `GetTSVText` walks it symbol by symbol and asks
/// three more questions per word whose answers it never uses, at twice the cost of this
/// walk. `None` when there is no result. With `symbols`, also each word's letters and
/// the alternatives Tesseract weighed for them (`lstm_choice_mode` gives it some).
///
/// # Safety
/// `api` is an initialised engine on which `Recognize` has just succeeded.
unsafe fn recognized_words(api: *mut sys::TessBaseAPI, symbols: bool) -> Option<(Vec<OcrWord>, Vec<Vec<Symbol>>)> {
    use sys::{
        TessPageIteratorLevel_RIL_BLOCK as BLOCK, TessPageIteratorLevel_RIL_PARA as PARA, TessPageIteratorLevel_RIL_SYMBOL as SYMBOL,
        TessPageIteratorLevel_RIL_TEXTLINE as LINE, TessPageIteratorLevel_RIL_WORD as WORD,
    };
    // SAFETY: the caller's engine holds a result; the iterator is deleted once, at the end,
    // and every text it returns is freed with `TessDeleteText`.
    unsafe {
        let it = sys::TessBaseAPIGetIterator(api);
        if it.is_null() {
            return None;
        }
        let page = sys::TessResultIteratorGetPageIterator(it);
        let (mut block, mut para, mut line) = (0u32, 0u32, 0u32);
        let mut words = Vec::new();
        let mut letters = Vec::new();
        let (mut l, mut t, mut r, mut b) = (0, 0, 0, 0);
        // Until `Next` finds no further word. (A block's box would say whether the walk is
        // past the last block, but Tesseract computes it from all the block's words.)
        loop {
            // No word box: an image block (`Empty(RIL_WORD)`), skipped as the TSV does; or
            // a page without words, where `Next` ends the walk.
            if sys::TessPageIteratorBoundingBox(page, WORD, &mut l, &mut t, &mut r, &mut b) != 0 {
                // Each of these walks the line, so ask about the paragraph and the block
                // only at the start of a line (every block or paragraph starts one).
                if sys::TessPageIteratorIsAtBeginningOf(page, LINE) != 0 {
                    if sys::TessPageIteratorIsAtBeginningOf(page, BLOCK) != 0 {
                        (block, para, line) = (block + 1, 0, 0);
                    }
                    if sys::TessPageIteratorIsAtBeginningOf(page, PARA) != 0 {
                        (para, line) = (para + 1, 0);
                    }
                    line += 1;
                }
                let raw = sys::TessResultIteratorGetUTF8Text(it, WORD);
                if !raw.is_null() {
                    let text = CStr::from_ptr(raw).to_string_lossy();
                    let text = text.trim();
                    if !text.is_empty() {
                        words.push(OcrWord {
                            text: text.to_string(),
                            left: l.max(0) as u32,
                            top: t.max(0) as u32,
                            width: (r - l).max(0) as u32,
                            height: (b - t).max(0) as u32,
                            confidence: sys::TessResultIteratorConfidence(it, WORD),
                            line: (block, para, line),
                        });
                        if symbols {
                            // Walks this word's letters; `Next(WORD)` below leaves its last.
                            letters.push(word_symbols(it, page, SYMBOL, WORD));
                        }
                    }
                    sys::TessDeleteText(raw);
                }
            }
            if sys::TessResultIteratorNext(it, WORD) == 0 {
                break;
            }
        }
        sys::TessResultIteratorDelete(it);
        Some((words, letters))
    }
}

/// The letters of the word at `it`, each with the alternatives of its choice iterator,
/// leaving `it` on the word's last letter.
///
/// # Safety
/// `it` is a live result iterator on a word, `page` its page iterator.
unsafe fn word_symbols(
    it: *mut sys::TessResultIterator,
    page: *mut sys::TessPageIterator,
    symbol: sys::TessPageIteratorLevel,
    word: sys::TessPageIteratorLevel,
) -> Vec<Symbol> {
    let mut out = Vec::new();
    // SAFETY: the caller's iterator is live; texts are freed, choice iterators deleted.
    unsafe {
        loop {
            let raw = sys::TessResultIteratorGetUTF8Text(it, symbol);
            if raw.is_null() {
                break;
            }
            let text = CStr::from_ptr(raw).to_string_lossy().into_owned();
            sys::TessDeleteText(raw);
            let mut alternatives = Vec::new();
            let choice = sys::TessResultIteratorGetChoiceIterator(it);
            if !choice.is_null() {
                loop {
                    let c = sys::TessChoiceIteratorGetUTF8Text(choice);
                    if !c.is_null() {
                        alternatives.push((CStr::from_ptr(c).to_string_lossy().into_owned(), sys::TessChoiceIteratorConfidence(choice)));
                    }
                    if sys::TessChoiceIteratorNext(choice) == 0 {
                        break;
                    }
                }
                sys::TessChoiceIteratorDelete(choice);
            }
            out.push(Symbol { text, alternatives });
            if sys::TessPageIteratorIsAtFinalElement(page, word, symbol) != 0 || sys::TessResultIteratorNext(it, symbol) == 0 {
                break;
            }
        }
    }
    out
}

/// Applies the diacritic correction (`diacritics::correct`) to the words of a page, in
/// Tesseract's order, with their letters' alternatives.
fn correct_marks(words: &mut [OcrWord], symbols: Vec<Vec<Symbol>>, lexicon: &Lexicon) {
    if symbols.len() != words.len() {
        return;
    }
    let read: Vec<ReadWord> = words.iter().zip(symbols).map(|(w, symbols)| ReadWord { text: w.text.clone(), symbols, line: w.line }).collect();
    for (w, fix) in words.iter_mut().zip(diacritics::correct(&read, lexicon)) {
        if let Some(text) = fix {
            tracing::trace!(from = %w.text, to = %text, "diacritic corrected");
            w.text = text;
        }
    }
}

impl Drop for TesseractEngine {
    fn drop(&mut self) {
        // SAFETY: the handle was created by TessBaseAPICreate and is dropped once.
        unsafe {
            sys::TessBaseAPIEnd(self.api);
            sys::TessBaseAPIDelete(self.api);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Real Tesseract `vie` on generated pages of several layouts: the words walked with the
    /// result iterator are exactly the words of Tesseract's own TSV output.
    #[test]
    fn iterated_words_are_the_tsv_words() {
        use crate::tools::eval::{self, Truth};
        let dir = tempfile::tempdir().unwrap();
        let models = crate::stages::ocr::models::materialize_models(dir.path()).unwrap();
        let config = OcrConfig { models: Some(models), deadline_ms: 3_600_000, ..Default::default() };
        let engine = TesseractEngine::new(&config).expect("tesseract vie");
        let (mut pages, mut compared) = (0, 0);
        for p in eval::build_set_with(3, 11, eval::Defects::Realistic, false) {
            if !matches!(p.truth, Truth::Content { .. }) {
                continue;
            }
            let gray = p.ocr_copy();
            let (w, h) = gray.dimensions();
            // SAFETY: a live engine, an image that outlives the calls, texts freed.
            let (iterated, tsv) = unsafe {
                sys::TessBaseAPISetImage(engine.api, gray.as_raw().as_ptr(), w as i32, h as i32, 1, w as i32);
                sys::TessBaseAPISetSourceResolution(engine.api, p.dpi.round() as i32);
                assert_eq!(sys::TessBaseAPIRecognize(engine.api, ptr::null_mut()), 0);
                let iterated = recognized_words(engine.api, false).unwrap().0;
                let raw = sys::TessBaseAPIGetTsvText(engine.api, 0);
                let tsv = CStr::from_ptr(raw).to_string_lossy().into_owned();
                sys::TessDeleteText(raw);
                sys::TessBaseAPIClear(engine.api);
                (iterated, tsv::parse_tsv(&tsv).words)
            };
            assert!(tsv.len() > 50, "{}: {} words, {} iterated, image {:?}", p.name, tsv.len(), iterated.len(), gray.dimensions());
            assert_eq!(iterated.len(), tsv.len(), "{}", p.name);
            for (a, b) in iterated.iter().zip(&tsv) {
                assert_eq!((&a.text, a.left, a.top, a.width, a.height, a.line), (&b.text, b.left, b.top, b.width, b.height, b.line), "{}", p.name);
                // The TSV prints the confidence with 6 decimals.
                assert!((a.confidence - b.confidence).abs() < 1e-4, "{}: {} vs {}", p.name, a.confidence, b.confidence);
            }
            assert!(iterated.iter().any(|w| w.line.0 > 1) && iterated.iter().any(|w| w.line.2 > 3), "{}: one block or line only", p.name);
            pages += 1;
            compared += tsv.len();
        }
        assert!(pages >= 2, "{pages} content pages");
        // A page with nothing on it ends the walk at once.
        let blank = GrayImage::from_pixel(800, 1100, image::Luma([255]));
        let mut engine = engine;
        assert!(engine.recognize(&blank, 200.0).unwrap().words.is_empty());
        println!("{pages} pages, {compared} words identical");
    }

    /// A real engine with sohoa's models (kept in the returned folder), the first content
    /// page of a generated set of four (`seed`), and its OCR copy.
    fn engine_and_page(seed: u64) -> (tempfile::TempDir, TesseractEngine, crate::tools::eval::EvalPage, GrayImage) {
        let dir = tempfile::tempdir().unwrap();
        let models = crate::stages::ocr::models::materialize_models(dir.path()).unwrap();
        let config = OcrConfig { models: Some(models), deadline_ms: 3_600_000, ..Default::default() };
        let engine = TesseractEngine::new(&config).expect("tesseract vie");
        let p = crate::tools::eval::build_set_with(4, seed, crate::tools::eval::Defects::Realistic, false)
            .into_iter()
            .find(|p| matches!(p.truth, crate::tools::eval::Truth::Content { .. }))
            .expect("a content page");
        let gray = p.ocr_copy();
        (dir, engine, p, gray)
    }

    /// Tesseract's line images go through sohoa's `pixWriteMem`, uncompressed, and a page
    /// reads exactly the same as with leptonica's PNG.
    #[test]
    fn line_images_skip_png_and_read_the_same() {
        use crate::stages::ocr::line_images;
        let (_models, mut engine, p, gray) = engine_and_page(9);
        // The counts are this thread's: other tests' engines do not add to them.
        let before = line_images::swapped();
        let uncompressed = engine.recognize(&gray, p.dpi).unwrap();
        let lines = uncompressed.text.lines().count() as u64;
        assert!(lines > 10, "{}: {lines} lines", p.name);
        // At least one line image per text line came through here.
        let swapped = line_images::swapped() - before;
        assert!(swapped >= lines, "{swapped} line images swapped for {lines} lines");
        line_images::set_enabled(false);
        let png = engine.recognize(&gray, p.dpi);
        line_images::set_enabled(true);
        assert_eq!(line_images::swapped() - before, swapped, "the PNG read swapped images");
        let png = png.unwrap();
        assert_eq!(uncompressed.text, png.text);
        let boxes = |page: &OcrPage| page.words.iter().map(|w| (w.left, w.top, w.width, w.height, w.confidence.to_bits())).collect::<Vec<_>>();
        assert_eq!(boxes(&uncompressed), boxes(&png));
    }

    /// Rows read in place are read exactly as a copy of those rows is.
    #[test]
    fn rows_read_in_place_read_as_their_copy() {
        let (_models, mut engine, p, gray) = engine_and_page(5);
        // The second of four bands, cut where the pipeline cuts.
        let cuts = crate::stages::ocr::bands::page_cuts(&gray, p.dpi, 4);
        assert!(cuts.len() >= 2, "{}: cuts {cuts:?}", p.name);
        let (y0, y1) = (cuts[0] as u32, cuts[1] as u32);
        let far = Deadline::after_ms(3_600_000);
        let copy = image::imageops::crop_imm(&gray, 0, y0, gray.width(), y1 - y0).to_image();
        let in_place = engine.recognize_rows(&gray, y0, y1, p.dpi, far).unwrap();
        let copied = engine.recognize(&copy, p.dpi).unwrap();
        assert!(!in_place.words.is_empty(), "{}: nothing read in rows {y0}..{y1}", p.name);
        assert_eq!(in_place.text, copied.text);
        let boxes = |page: &OcrPage| page.words.iter().map(|w| (w.left, w.top, w.width, w.height)).collect::<Vec<_>>();
        assert_eq!(boxes(&in_place), boxes(&copied));
        // Rows past the end are clamped, an empty range reads nothing.
        assert!(engine.recognize_rows(&gray, y1, y1, p.dpi, far).unwrap().words.is_empty());
        assert!(engine.recognize_rows(&gray, gray.height(), gray.height() + 10, p.dpi, far).unwrap().words.is_empty());
        // The page's deadline reaches Tesseract: a spent one reads nothing, and 5 ms left
        // stops it mid-page (the whole page takes it about a second). The engine then
        // reads as before.
        let mut whole = |ms| engine.recognize_rows(&gray, 0, gray.height(), p.dpi, Deadline::after_ms(ms));
        for ms in [0, 5] {
            let e = whole(ms).expect_err("past the deadline");
            assert_eq!(e.code(), "ocr-failed");
            assert!(e.to_string().contains(&format!("timed out after {ms} ms")), "{e}");
        }
        let again = engine.recognize_rows(&gray, y0, y1, p.dpi, far).unwrap();
        assert_eq!(again.text, in_place.text);
    }
}
