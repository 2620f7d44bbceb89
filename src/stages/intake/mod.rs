//! Intake: scanner output files to a stream of decoded pages.
//!
//! Owns recognising input files (multi-page TIFF, PDF, PNG, JPEG, and folders of those,
//! sorted by name), reading their resolution, and decoding pages one at a time so a
//! 1,000-page batch never sits whole in memory. A page that cannot be decoded is reported
//! as a [`PageFailure`] and the stream goes on with the next page; only an input that
//! cannot be opened at all is an [`IntakeError`]. A page over the page budget
//! ([`limits`]: pixels, bytes, dpi) is refused before its pixels are allocated, as a
//! [`PageFailure`].
//!
//! Nothing is lost without saying so: a file that breaks part-way (a TIFF whose directory
//! chain is cut, a PDF whose page tree or cross-reference table lost pages) keeps the pages
//! it still holds, and the pages it lost come out as failures whose message starts with
//! [`DAMAGED_FILE`] (the pipeline lifts that message into a batch warning); an image cut
//! short (a JPEG without its end marker, a PDF image stream short of its size) is a page
//! warning made with [`crate::model::page_error`]. In a batch of several files every page
//! failure and page warning names the file the page came from. Inputs that are not regular
//! files (FIFO, socket, device) and symbolic link loops are refused before anything is
//! read. Callers: the pipeline (decode stage) and the CLI (to reject bad input before
//! anything is queued).

pub mod image_file;
pub mod limits;
#[cfg(test)]
mod mutation_tests;
pub mod pdf;
pub mod tiff_file;
pub mod two_tone;

use crate::model::PageImage;
use std::fs;
use std::path::{Path, PathBuf};

/// Resolution assumed when the file does not say.
pub const DEFAULT_DPI: f32 = 300.0;

/// How the failure of a page lost with a damaged file begins (after the file's name in a
/// batch of several files); the rest says where the file breaks.
pub const DAMAGED_FILE: &str = "damaged file: ";

/// Most pages a damaged PDF reports as lost beyond those it still holds (its declared
/// count can be anything).
const MAX_LOST_PAGES: usize = 10_000;

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
    #[error("{path}: a symbolic link loop (the link leads back to itself); point it at the scan file")]
    SymlinkLoop { path: String },
    #[error("{path}: not a regular file (a {kind}); give a scan file or a folder of scan files")]
    NotRegular { path: String, kind: &'static str },
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
            IntakeError::SymlinkLoop { .. } => "input-symlink-loop",
            IntakeError::NotRegular { .. } => "input-not-regular",
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
    /// Pages the batch counts for this file: those it holds, plus those it lost when it is
    /// [`InputFile::damage`]d (they come out as failures).
    pub pages: usize,
    /// Where the file breaks, if it is damaged (see [`DAMAGED_FILE`]).
    pub damage: Option<String>,
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
        let meta = metadata(path)?;
        let files = if meta.is_dir() {
            let mut entries: Vec<PathBuf> = fs::read_dir(path)
                .map_err(|e| IntakeError::Unreadable { path: shown.clone(), message: e.to_string() })?
                .filter_map(|e| e.ok().map(|e| e.path()))
                // Sub-folders are not scans; anything else named as a scan is opened (and a
                // FIFO or a link loop so named is an error, not skipped).
                .filter(|p| has_scan_extension(p) && !p.is_dir())
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

    /// What is wrong with the input as a whole: one line per damaged file.
    pub fn warnings(&self) -> Vec<String> {
        self.files.iter().filter_map(|f| f.damage.as_ref().map(|d| format!("{}: {DAMAGED_FILE}{d}", f.path.display()))).collect()
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
        let named = self.files.len() > 1;
        self.files.clone().into_iter().flat_map(move |file| {
            let start = first;
            first += file.pages;
            // The part of this file inside the range, as file-relative page numbers.
            let lo = range.start.max(start) - start;
            let hi = range.end.min(start + file.pages).max(start) - start;
            let it: PageIter = if lo >= hi { Box::new(std::iter::empty()) } else { decode_file(&file, start, lo..hi) };
            let name = file.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            it.map(move |page| if named { name_file(page, &name) } else { page })
        })
    }
}

fn has_scan_extension(p: &Path) -> bool {
    let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    matches!(ext.as_str(), "tif" | "tiff" | "pdf" | "png" | "jpg" | "jpeg")
}

/// Prefixes a page's failure and warnings with the name of the file it came from.
fn name_file(page: Result<PageImage, PageFailure>, name: &str) -> Result<PageImage, PageFailure> {
    let named = |w: &str| match crate::model::page_error_message(w) {
        Some(m) => crate::model::page_error(format_args!("{name}: {m}")),
        None => format!("{name}: {w}"),
    };
    match page {
        Ok(mut p) => {
            p.warnings = p.warnings.iter().map(|w| named(w)).collect();
            Ok(p)
        }
        Err(f) => Err(PageFailure { index: f.index, message: format!("{name}: {}", f.message) }),
    }
}

/// The metadata of an input path (following links), with a link loop, a missing path and
/// a path that cannot be looked at told apart.
fn metadata(path: &Path) -> Result<fs::Metadata, IntakeError> {
    let shown = path.display().to_string();
    fs::metadata(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            IntakeError::NotFound { path: shown }
        } else if e.raw_os_error() == Some(libc_eloop()) {
            IntakeError::SymlinkLoop { path: shown }
        } else {
            IntakeError::Unreadable { path: shown, message: e.to_string() }
        }
    })
}

/// `ELOOP`: 40 on Linux, 62 on the BSDs and macOS.
fn libc_eloop() -> i32 {
    if cfg!(any(target_os = "macos", target_os = "ios", target_os = "freebsd", target_os = "openbsd", target_os = "netbsd")) { 62 } else { 40 }
}

/// Refuses what is not a regular file before it is opened (opening a FIFO blocks until a
/// writer comes; a device never ends).
fn check_regular(path: &Path) -> Result<(), IntakeError> {
    use std::os::unix::fs::FileTypeExt;
    let t = metadata(path)?.file_type();
    let kind = if t.is_file() {
        return Ok(());
    } else if t.is_fifo() {
        "FIFO (named pipe)"
    } else if t.is_socket() {
        "socket"
    } else if t.is_block_device() || t.is_char_device() {
        "device"
    } else if t.is_dir() {
        "folder inside the batch folder"
    } else {
        "special file"
    };
    Err(IntakeError::NotRegular { path: path.display().to_string(), kind })
}

fn open_file(path: &Path) -> Result<InputFile, IntakeError> {
    let shown = path.display().to_string();
    check_regular(path)?;
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
    let (pages, damage) = match kind {
        FileKind::Tiff => tiff_file::page_count(path).map_err(|e| unreadable(&e))?,
        FileKind::Pdf => {
            let bytes = fs::read(path).map_err(|e| unreadable(&e))?;
            let count = pdf::pdf_page_count(&bytes).map_err(|e| match e.code() {
                "pdf-encrypted" => IntakeError::Encrypted { path: shown.clone() },
                _ => unreadable(&e),
            })?;
            match count.declared.filter(|&d| d > count.read) {
                Some(declared) => {
                    let lost = (declared - count.read).min(MAX_LOST_PAGES);
                    let damage = format!(
                        "the PDF declares {declared} pages and {} could be read (its page tree or cross-reference table is damaged); the other {} are reported as failed pages",
                        count.read,
                        declared - count.read
                    );
                    (count.read + lost, Some(damage))
                }
                None => (count.read, None),
            }
        }
        FileKind::Png | FileKind::Jpeg => (1, None),
    };
    if pages == 0 {
        return Err(IntakeError::Unreadable { path: shown, message: "the file has no pages".into() });
    }
    Ok(InputFile { path: path.to_path_buf(), kind, pages, damage })
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
            let damage = file.damage.clone().unwrap_or_default();
            match source {
                Ok(source) => Box::new(part.clone().map(move |i| {
                    let index = first + i;
                    if i >= source.page_count() {
                        // A page the PDF declares and lost.
                        return Err(PageFailure { index, message: format!("{DAMAGED_FILE}{damage}") });
                    }
                    source
                        .decode_page(i)
                        .map(|mut page| {
                            page.index = index;
                            page
                        })
                        .map_err(|e| PageFailure { index, message: e.page_reason() })
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

    #[test]
    fn a_fifo_a_socket_and_a_link_loop_are_refused_without_hanging() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("scanner.tif");
        let status = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
        assert!(status.success());
        let e = Input::open(&fifo).unwrap_err();
        assert_eq!(e.code(), "input-not-regular");
        assert!(e.to_string().contains("not a regular file (a FIFO (named pipe))"), "{e}");
        let socket = dir.path().join("s.pdf");
        let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
        assert_eq!(Input::open(&socket).unwrap_err().code(), "input-not-regular");
        assert_eq!(Input::open(Path::new("/dev/zero")).unwrap_err().code(), "input-not-regular");
        let a = dir.path().join("a.tif");
        let b = dir.path().join("b.tif");
        std::os::unix::fs::symlink(&b, &a).unwrap();
        std::os::unix::fs::symlink(&a, &b).unwrap();
        let e = Input::open(&a).unwrap_err();
        assert_eq!(e.code(), "input-symlink-loop");
        assert!(e.to_string().contains("symbolic link loop"), "{e}");
        // In a folder, a FIFO named as a scan is an error too, not skipped.
        let folder = dir.path().join("batch");
        fs::create_dir(&folder).unwrap();
        image::GrayImage::from_pixel(8, 8, image::Luma([200])).save(folder.join("p1.png")).unwrap();
        std::process::Command::new("mkfifo").arg(folder.join("p2.png")).status().unwrap();
        assert_eq!(Input::open(&folder).unwrap_err().code(), "input-not-regular");
    }

    #[test]
    fn page_failures_and_warnings_in_a_folder_name_their_file() {
        let dir = tempfile::tempdir().unwrap();
        image::GrayImage::from_pixel(30, 20, image::Luma([200])).save(dir.path().join("a.png")).unwrap();
        let good = fs::read(dir.path().join("a.png")).unwrap();
        fs::write(dir.path().join("b.png"), &good[..good.len() / 2]).unwrap();
        let input = Input::open(dir.path()).unwrap();
        let pages: Vec<_> = input.pages().collect();
        let a = pages[0].as_ref().unwrap();
        assert!(a.warnings.iter().all(|w| w.starts_with("a.png: ")), "{:?}", a.warnings);
        let b = pages[1].as_ref().unwrap_err();
        assert!(b.message.starts_with("b.png: image data unreadable"), "{}", b.message);
        // A page error warning keeps its prefix, the file name after it.
        let p = PageImage {
            index: 0,
            image: image::DynamicImage::new_luma8(1, 1),
            color: crate::model::ColorMode::Gray,
            dpi: 300.0,
            warnings: vec![crate::model::page_error("cut")],
        };
        assert_eq!(name_file(Ok(p), "c.jpg").unwrap().warnings, vec![crate::model::page_error("c.jpg: cut")]);
        // One file alone: no name (the batch is the file).
        let input = Input::open(&dir.path().join("b.png")).unwrap();
        assert!(input.pages().next().unwrap().unwrap_err().message.starts_with("image data unreadable"));
    }

    #[test]
    fn a_pdf_page_failure_says_could_not_be_decoded_once() {
        // A page whose image claims an unknown filter's data is broken.
        use lopdf::{Document, Object, Stream, dictionary};
        let mut doc = Document::with_version("1.5");
        let pages_id = doc.new_object_id();
        let image = doc.add_object(Stream::new(
            dictionary! { "Type" => "XObject", "Subtype" => "Image", "Width" => 10, "Height" => 10, "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8, "Filter" => "DCTDecode" },
            b"not a jpeg".to_vec(),
        ));
        let content = doc.add_object(Stream::new(lopdf::Dictionary::new(), b"q 72 0 0 72 0 0 cm /Im0 Do Q".to_vec()));
        let page = doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages_id, "MediaBox" => vec![0.into(), 0.into(), 72.into(), 72.into()],
            "Resources" => dictionary! { "XObject" => dictionary! { "Im0" => image } }, "Contents" => content,
        });
        doc.objects.insert(pages_id, Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1 }));
        let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
        doc.trailer.set("Root", catalog);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.pdf");
        doc.save(&path).unwrap();
        let failure = Input::open(&path).unwrap().pages().next().unwrap().unwrap_err();
        assert!(failure.message.starts_with("JPEG data unreadable"), "{}", failure.message);
        assert!(!failure.message.contains("could not be decoded"), "{}", failure.message);
    }
}
