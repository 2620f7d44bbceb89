//! sohoa's integration tests: one binary, one module per concern. They run the real
//! `sohoa` binary against a real SQLite catalog and a real local object store in a
//! temporary data folder, with real Tesseract, on generated batches with ground truth.

mod api;
mod archive;
mod bad_input;
mod bench_cmd;
mod common;
mod dossiers;
mod errors_cmd;
mod fields_cmd;
mod hot_folder;
mod intake_formats;
mod memory;
mod ocr_fidelity;
mod pipeline_e2e;
mod recovery;
mod s3;
mod search_cmd;
mod separators;
mod sign;
mod web_ui;
mod workers;
