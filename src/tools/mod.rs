//! Tools for administrators and developers, built on the product: the sample generator
//! (`sohoa generate`, and the test and benchmark pages), the end-to-end benchmark
//! (`sohoa bench`) and the image-stage evaluation (`sohoa eval-imaging`).
//!
//! Nothing in `crate::stages` or `crate::runtime` uses this module.

pub mod bench;
pub mod eval;
pub mod synth;
