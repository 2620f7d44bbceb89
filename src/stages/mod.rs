//! The page stages: pure transformations of plain data (`crate::model`), one concern each.
//!
//! A page goes `intake` (decode) → `imaging` (deskew, orientation, blank) → `barcode`
//! (separator sheets) → `split` (pure plan of dossiers and documents) → `ocr` → `pdf`.
//! `fields` reads a document's header fields and CCCD numbers from its OCR text.
//! `render` draws pages (separator sheets, and the sample generator's pages); `sign` signs
//! and verifies finished PDFs (PAdES).
//! Nothing here knows tokio, sqlx or object_store; files are read with `std` only
//! where a stage's input is a file (`intake`, `ocr`'s model folder).

pub mod barcode;
pub mod dossier;
pub mod fields;
pub mod imaging;
pub mod intake;
pub mod ocr;
pub mod pdf;
pub mod render;
pub mod sign;
pub mod split;
