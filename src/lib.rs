//! sohoa turns the paper dossiers scanned at Vietnamese post offices into searchable,
//! stored and catalogued PDF documents.
//!
//! A batch (one scanner output file or folder) flows one way through stages that each own
//! one concern: `intake` decodes pages, `imaging` deskews, turns pages upright and spots
//! blank pages, `barcode` reads separator sheets, `split` (pure) cuts the page stream into
//! dossiers and documents, `ocr` recognises Vietnamese text with one Tesseract engine per
//! thread, `pdf` writes a searchable PDF per document, `store` keeps content-addressed
//! objects, `catalog` records batches, pages, dossiers and documents and holds the
//! durable job queue, and `pipeline` composes them with bounded concurrency.

pub mod alloc;
pub mod barcode;
pub mod bench;
pub mod catalog;
pub mod cli;
pub mod imaging;
pub mod intake;
pub mod model;
pub mod ocr;
pub mod pdf;
pub mod pipeline;
pub mod samples;
pub mod split;
pub mod store;
pub mod synth;
#[doc(hidden)]
pub mod testsupport;
pub mod worker;
