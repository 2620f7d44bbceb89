//! The Tesseract engine, through Tesseract's C API (`tesseract_sys`, re-exported by
//! the `tesseract` crate). We call the C API directly because sohoa's word list and
//! patterns must be given at initialisation (`TessBaseAPIInit4` variables), which the
//! high-level crate cannot pass.

use super::{OcrConfig, OcrEngine, OcrError, tsv};
use crate::model::OcrPage;
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
        let init_err = || OcrError::Init {
            langs: config.langs.clone(),
            tessdata: config.tessdata.as_ref().map_or("default".into(), |p| p.display().to_string()),
        };
        let datapath = config.tessdata.as_ref().map(|p| CString::new(p.display().to_string())).transpose().map_err(|_| init_err())?;
        let lang = CString::new(config.langs.as_str()).map_err(|_| init_err())?;
        let vars = config.models.as_deref().map(model_variables).unwrap_or_default();
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
            Ok(TesseractEngine { api, deadline_ms: config.deadline_ms })
        }
    }
}

impl OcrEngine for TesseractEngine {
    fn recognize(&mut self, gray: &GrayImage, dpi: f32) -> Result<OcrPage, OcrError> {
        let (w, h) = gray.dimensions();
        if w == 0 || h == 0 {
            return Ok(OcrPage::default());
        }
        // SAFETY: `gray` outlives recognition (Tesseract copies the image in SetImage);
        // the monitor and the TSV string are freed on every path.
        unsafe {
            sys::TessBaseAPISetImage(self.api, gray.as_raw().as_ptr(), w as i32, h as i32, 1, w as i32);
            sys::TessBaseAPISetSourceResolution(self.api, dpi.round() as i32);
            let monitor = sys::TessMonitorCreate();
            sys::TessMonitorSetDeadlineMSecs(monitor, self.deadline_ms as i32);
            let started = std::time::Instant::now();
            let rc = sys::TessBaseAPIRecognize(self.api, monitor);
            sys::TessMonitorDelete(monitor);
            if rc != 0 {
                sys::TessBaseAPIClear(self.api);
                return Err(OcrError::Recognize(format!("Tesseract returned {rc}")));
            }
            let raw = sys::TessBaseAPIGetTsvText(self.api, 0);
            if raw.is_null() {
                sys::TessBaseAPIClear(self.api);
                return Err(OcrError::Recognize("no text output".into()));
            }
            let text = CStr::from_ptr(raw).to_string_lossy().into_owned();
            sys::TessDeleteText(raw);
            sys::TessBaseAPIClear(self.api);
            // Tesseract's order interleaves side-by-side columns; ours reads them in turn.
            let page = tsv::page_from_words(super::layout::reading_order(tsv::parse_tsv(&text).words));
            if started.elapsed().as_millis() as u64 >= self.deadline_ms as u64 {
                return Err(OcrError::Recognize(format!("timed out after {} ms", self.deadline_ms)));
            }
            Ok(page)
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
