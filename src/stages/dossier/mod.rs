//! Dossier-level decisions, pure: what a dossier must contain and whether it does
//! (`procedures`: the procedure catalog, the cover's procedure and citizen ID, the
//! completeness check), the citizen's receipt (`receipt`: its page, its QR and the
//! verification reference), result codes (`results`) and the indicators
//! (`indicators`: rates and medians from plain rows).
//!
//! Nothing here does I/O but reading a procedure file given by path; the catalog side
//! lives in `runtime::catalog::dossiers`, the commands in `cli::dossiers`, the routes in
//! `api::dossiers`.

pub mod indicators;
pub mod procedures;
pub mod receipt;
pub mod results;
