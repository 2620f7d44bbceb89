//! sohoa turns the paper dossiers scanned at Vietnamese post offices into searchable,
//! stored and catalogued PDF documents.
//!
//! The crate is built in layers; a module uses only its own layer and the ones below it
//! (`docs/design.md` draws them and the path of one page):
//!
//! - `model`, `timing`, `alloc`: plain data types and ids shared by every stage, the
//!   per-stage clocks, process set-up.
//! - `supervise`: `process`, `worker` and `serve` run in a child process that is run again when a
//!   page takes it down.
//! - `stages`: the page stages (intake, imaging, barcode, split, ocr, pdf), pure
//!   transformations of plain data, with rayon inside; no async runtime, database or
//!   object store.
//! - `runtime`: the object store, the catalog and job queue, the batch pipeline and the
//!   worker (tokio, sqlx, object_store).
//! - `cli`: the command line, the interface over the runtime.
//! - `tools`: the sample generator, `sohoa bench` and `sohoa eval-imaging`, built on all
//!   of the above and used by nothing in them.

pub mod alloc;
pub mod api;
pub mod cli;
pub mod model;
pub mod runtime;
pub mod stages;
pub mod supervise;
pub mod timing;
pub mod tools;

pub use runtime::error::{Error, ErrorClass, exit};
