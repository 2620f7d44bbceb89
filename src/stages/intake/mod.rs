//! Intake: scanner output files to a stream of decoded pages.
//!
//! Owns recognising input files (multi-page TIFF, PDF, PNG, JPEG, and folders of those,
//! sorted by name), reading their resolution, and decoding pages one at a time so a
//! 1,000-page batch never sits whole in memory. A page that cannot be decoded is reported
//! as a [`PageFailure`] and the stream goes on with the next page; only an input that
//! cannot be opened at all is an [`IntakeError`]. A page over the page budget
//! ([`limits`]: pixels, bytes, dpi) is refused before its pixels are allocated, as a
//! [`PageFailure`]. Callers: the pipeline (decode stage) and
//! the CLI (to reject bad input before anything is queued).

pub mod image_file;
pub mod limits;
pub mod pdf;
pub mod tiff_file;

use crate::model::PageImage;
use std::fs;
use std::path::{Path, PathBuf};

/// Resolution assumed when the file does not say.
pub const DEFAULT_DPI: f32 = 300.0;

#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error("{path}: no such file or folder")]
    NotFound { path: String },
    #[error("{path}: the file is empty (0 bytes); rescan the batch or check the scanner's output folder")]
    Empty { path: String },
    #[error("{path}: not a supported scan (expected TIFF, PDF, PNG or JPEG)")]
    Unsupported { path: String },
    #[error("{path}: the folder holds no TIFF, PDF, PNG or JPEG files")]
    EmptyFolder { path: String },
    #[error("{path}: cannot be read: {message}")]
    Unreadable { path: String, message: String },
    #[error("{path}: the PDF is encrypted; remove its password (e.g. `qpdf --decrypt`) and try again")]
    Encrypted { path: String },
}

impl IntakeError {
    pub fn code(&self) -> &'static str {
        match self {
            IntakeError::NotFound { .. } => "input-not-found",
            IntakeError::Empty { .. } => "input-empty",
            IntakeError::Unsupported { .. } => "input-unsupported",
            IntakeError::EmptyFolder { .. } => "input-empty-folder",
            IntakeError::Unreadable { .. } => "input-unreadable",
            IntakeError::Encrypted { .. } => "pdf-encrypted",
        }
    }
}

/// A page that could not be decoded; the rest of the batch goes on.
#[derive(Debug, Clone, PartialEq)]
pub struct PageFailure {
    pub index: usize,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Tiff,
    Pdf,
    Png,
    Jpeg,
}

impl FileKind {
    /// Recognises a file from its first bytes (extensions lie; magic numbers do not).
    pub fn sniff(head: &[u8]) -> Option<FileKind> {
        if head.starts_with(b"II*\0") || head.starts_with(b"MM\0*") || head.starts_with(b"II+\0") || head.starts_with(b"MM\0+") {
            Some(FileKind::Tiff)
        } else if head.starts_with(b"%PDF-") {
            Some(FileKind::Pdf)
        } else if head.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(FileKind::Png)
        } else if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(FileKind::Jpeg)
        } else {
            None
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            FileKind::Tiff => "tif",
            FileKind::Pdf => "pdf",
            FileKind::Png => "png",
            FileKind::Jpeg => "jpg",
        }
    }
}

/// One input file of a batch, checked and with its page count.
#[derive(Debug, Clone)]
pub struct InputFile {
    pub path: PathBuf,
    pub kind: FileKind,
    pub pages: usize,
}

/// A batch input: a file or a folder of files, opened and checked.
#[derive(Debug, Clone)]
pub struct Input {
    /// What the user named.
    pub source: PathBuf,
    pub files: Vec<InputFile>,
}

impl Input {
    /// Opens a file or folder and checks every file can be read, without decoding pixels.
    pub fn open(path: &Path) -> Result<Input, IntakeError> {
        let shown = path.display().to_string();
        let meta = fs::metadata(path).map_err(|_| IntakeError::NotFound { path: shown.clone() })?;
        let files = if meta.is_dir() {
            let mut entries: Vec<PathBuf> = fs::read_dir(path)
                .map_err(|e| IntakeError::Unreadable { path: shown.clone(), message: e.to_string() })?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && has_scan_extension(p))
                .collect();
            entries.sort();
            if entries.is_empty() {
                return Err(IntakeError::EmptyFolder { path: shown });
            }
            entries.iter().map(|p| open_file(p)).collect::<Result<Vec<_>, _>>()?
        } else {
            vec![open_file(path)?]
        };
        Ok(Input { source: path.to_path_buf(), files })
    }

    /// An input made of these files, in this order (a batch fetched back from the store).
    pub fn from_files(source: PathBuf, files: &[PathBuf]) -> Result<Input, IntakeError> {
        let files = files.iter().map(|p| open_file(p)).collect::<Result<Vec<_>, _>>()?;
        Ok(Input { source, files })
    }

    pub fn page_count(&self) -> usize {
        self.files.iter().map(|f| f.pages).sum()
    }

    /// Decodes pages one at a time, in order. Indexes run across all files.
    pub fn pages(&self) -> impl Iterator<Item = Result<PageImage, PageFailure>> + Send + '_ {
        self.pages_range(0..self.page_count())
    }

    /// Decodes the pages whose batch index is in `range`, one at a time, in order (pages
    /// before the range are skipped without decoding their pixels); every index of the
    /// range that the files hold comes out exactly once. Used to run one part of a batch on
    /// one worker. The iterator owns what it reads (it outlives `self`).
    pub fn pages_range(&self, range: std::ops::Range<usize>) -> impl Iterator<Item = Result<PageImage, PageFailure>> + Send + 'static {
        let mut first = 0;
        self.files.clone().into_iter().flat_map(move |file| {
            let start = first;
            first += file.pages;
            // The part of this file inside the range, as file-relative page numbers.
            let lo = range.start.max(start) - start;
            let hi = range.end.min(start + file.pages).max(start) - start;
            let it: PageIter = if lo >= hi { Box::new(std::iter::empty()) } else { decode_file(&file, start, lo..hi) };
            it
        })
    }
}

fn has_scan_extension(p: &Path) -> bool {
    let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    matches!(ext.as_str(), "tif" | "tiff" | "pdf" | "png" | "jpg" | "jpeg")
}

fn open_file(path: &Path) -> Result<InputFile, IntakeError> {
    let shown = path.display().to_string();
    let unreadable = |e: &dyn std::fmt::Display| IntakeError::Unreadable { path: shown.clone(), message: e.to_string() };
    let mut head = [0u8; 8];
    let len = {
        use std::io::Read;
        let mut f = fs::File::open(path).map_err(|e| unreadable(&e))?;
        if f.metadata().map_err(|e| unreadable(&e))?.len() == 0 {
            return Err(IntakeError::Empty { path: shown });
        }
        f.read(&mut head).map_err(|e| unreadable(&e))?
    };
    let kind = FileKind::sniff(&head[..len]).ok_or_else(|| IntakeError::Unsupported { path: shown.clone() })?;
    let pages = match kind {
        FileKind::Tiff => tiff_file::page_count(path).map_err(|e| unreadable(&e))?,
        FileKind::Pdf => {
            let bytes = fs::read(path).map_err(|e| unreadable(&e))?;
            pdf::pdf_page_count(&bytes).map_err(|e| match e.code() {
                "pdf-encrypted" => IntakeError::Encrypted { path: shown.clone() },
                _ => unreadable(&e),
            })?
        }
        FileKind::Png | FileKind::Jpeg => 1,
    };
    if pages == 0 {
        return Err(IntakeError::Unreadable { path: shown, message: "the file has no pages".into() });
    }
    Ok(InputFile { path: path.to_path_buf(), kind, pages })
}

type PageIter = Box<dyn Iterator<Item = Result<PageImage, PageFailure>> + Send>;

/// Yields what `inner` yields, then a failure for each index up to `end` it did not reach.
struct FillMissing {
    inner: PageIter,
    next: usize,
    end: usize,
}

impl Iterator for FillMissing {
    type Item = Result<PageImage, PageFailure>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.next >= self.end {
            return None;
        }
        let item = self
            .inner
            .next()
            .unwrap_or_else(|| Err(PageFailure { index: self.next, message: "page not found in the file (its directory chain ends early)".into() }));
        self.next += 1;
        Some(item)
    }
}

/// Pages `part` (file-relative) of one file; `first` is the batch index of its page 0.
fn decode_file(file: &InputFile, first: usize, part: std::ops::Range<usize>) -> PageIter {
    let fail_all = |message: String| -> PageIter {
        let r = first + part.start..first + part.end;
        Box::new(r.map(move |index| Err(PageFailure { index, message: message.clone() })))
    };
    match file.kind {
        FileKind::Tiff => match tiff_file::TiffPages::open_at(&file.path, first, part.start) {
            // A broken directory chain ends the file early: the pages it hides still get
            // their failure, so every index of the part comes out exactly once.
            Ok(pages) => Box::new(FillMissing { inner: Box::new(pages.take(part.len())), next: first + part.start, end: first + part.end }),
            Err(e) => fail_all(e.to_string()),
        },
        FileKind::Pdf => {
            let source = fs::read(&file.path).map_err(|e| e.to_string()).and_then(|b| pdf::PdfSource::open(b).map_err(|e| e.to_string()));
            match source {
                Ok(source) => Box::new(part.clone().map(move |i| {
                    let index = first + i;
                    source
                        .decode_page(i)
                        .map(|mut page| {
                            page.index = index;
                            page
                        })
                        .map_err(|e| PageFailure { index, message: e.to_string() })
                })),
                Err(message) => fail_all(message),
            }
        }
        FileKind::Png | FileKind::Jpeg => {
            let page = image_file::decode(&file.path, file.kind, first).map_err(|message| PageFailure { index: first, message });
            Box::new(std::iter::once(page))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_magic_numbers() {
        assert_eq!(FileKind::sniff(b"II*\0abcd"), Some(FileKind::Tiff));
        assert_eq!(FileKind::sniff(b"MM\0*abcd"), Some(FileKind::Tiff));
        assert_eq!(FileKind::sniff(b"%PDF-1.7"), Some(FileKind::Pdf));
        assert_eq!(FileKind::sniff(b"\x89PNG\r\n\x1a\n"), Some(FileKind::Png));
        assert_eq!(FileKind::sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some(FileKind::Jpeg));
        assert_eq!(FileKind::sniff(b"hello world"), None);
        assert_eq!(FileKind::sniff(b""), None);
    }

    #[test]
    fn rejects_empty_missing_and_foreign_files() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.tif");
        fs::write(&empty, b"").unwrap();
        assert_eq!(Input::open(&empty).unwrap_err().code(), "input-empty");
        let text = dir.path().join("notes.pdf");
        fs::write(&text, b"this is not a scan").unwrap();
        assert_eq!(Input::open(&text).unwrap_err().code(), "input-unsupported");
        assert_eq!(Input::open(&dir.path().join("missing.tif")).unwrap_err().code(), "input-not-found");
        let sub = dir.path().join("sub");
        fs::create_dir(&sub).unwrap();
        assert_eq!(Input::open(&sub).unwrap_err().code(), "input-empty-folder");
    }
}
