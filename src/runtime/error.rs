//! The one error type at the top: every failure a command, a job or (next) an HTTP request
//! can end with.
//!
//! Each stage and runtime module keeps its own error type with stable kebab-case codes;
//! [`Error`] gathers them and adds the failures of the runtime itself (usage, config,
//! unknown ids, corrupt jobs). Three things are decided here and nowhere else:
//! - [`Error::code`]: the stable machine code (printed in `--json` errors, recorded as a
//!   job's `last_error`, returned by the API);
//! - [`Error::is_retryable`]: whether the queue runs the job again (a store or catalog
//!   that may come back) or fails it for good (a corrupt manifest, an impossible page
//!   range, an unreadable scan);
//! - [`Error::class`]: the documented exit code (0/1/2/3) and HTTP status.

use crate::runtime::catalog::CatalogError;
use crate::runtime::pipeline::PipelineError;
use crate::runtime::store::StoreError;
use crate::stages::barcode::sheets::SheetError;
use crate::stages::intake::IntakeError;
use crate::stages::ocr::OcrError;
use crate::stages::sign::SignError;
use crate::stages::split::rules::RulesError;

/// What kind of failure an error is, which decides the exit code and HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Bad flags, configuration, input or id: the caller must change something. Exit 2.
    Usage,
    /// The store, the catalog or the runtime failed: retrying later may help. Exit 3.
    Storage,
}

/// Exit codes of every `sohoa` command.
pub mod exit {
    /// Everything worked.
    pub const OK: u8 = 0;
    /// The batch was stored, but some pages failed (see their warnings).
    pub const PAGE_ERRORS: u8 = 1;
    /// Bad usage or bad input: flags, configuration, an unreadable scan, an unknown id.
    pub const BAD_INPUT: u8 = 2;
    /// The store or the catalog failed, or a batch could not be completed.
    pub const STORAGE: u8 = 3;
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad command-line usage that clap does not catch (a bad `--patch`, a bad query).
    #[error("{0}")]
    Usage(String),
    /// A configuration value that does not validate; `key` names the setting.
    #[error("{key}: {message}")]
    Config { key: String, message: String },
    /// No such batch or document.
    #[error("{0}")]
    NotFound(String),
    /// An output file that cannot be written.
    #[error("cannot write {path}: {source}")]
    Output { path: String, source: std::io::Error },
    /// An output path that is not a regular file (a link, a directory, a device).
    #[error("will not write {path}: it {reason}")]
    OutputRefused { path: String, reason: String },
    /// A local file of the runtime (scratch copies, the data folder) failed.
    #[error("{path}: {source}")]
    LocalIo { path: String, source: std::io::Error },
    /// A job whose stored description cannot be run (unreadable manifest, impossible page
    /// range): running it again cannot help.
    #[error("{0}")]
    CorruptJob(String),
    #[error(transparent)]
    Intake(#[from] IntakeError),
    #[error(transparent)]
    Rules(#[from] RulesError),
    #[error(transparent)]
    Sheet(#[from] SheetError),
    #[error(transparent)]
    Ocr(#[from] OcrError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
    #[error(transparent)]
    Sign(#[from] SignError),
    /// Batches that could not be completed (failed for good, or left running).
    #[error("{0}")]
    BatchFailed(String),
    /// The supervised worker process kept dying from a signal (see `crate::supervise`).
    #[error("{0}")]
    WorkerDied(String),
    /// A runtime task that stopped unexpectedly (a panic, a dropped channel).
    #[error("internal error: {0}")]
    Internal(String),
    /// An API call without a valid token (none, unknown, revoked).
    #[error("{0}")]
    Unauthorized(String),
    /// An API call whose token's role may not do this at all (scope is `not-found`).
    #[error("{0}")]
    Forbidden(String),
    /// An upload over the configured size limit.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// A request body of a type the route does not take.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// A `Range` header outside the document.
    #[error("{0}")]
    RangeNotSatisfiable(String),
    /// `sohoa audit verify` found a row of the audit chain that does not hold.
    #[error("{0}")]
    AuditBroken(String),
}

impl Error {
    /// The stable machine code (kebab-case).
    pub fn code(&self) -> &'static str {
        match self {
            Error::Usage(_) => "bad-usage",
            Error::Config { .. } => "config",
            Error::NotFound(_) => "not-found",
            Error::Output { .. } => "output-unwritable",
            Error::OutputRefused { .. } => "output-refused",
            Error::LocalIo { .. } => "local-io",
            Error::CorruptJob(_) => "job-corrupt",
            Error::Intake(e) => e.code(),
            Error::Rules(e) => e.code(),
            Error::Sheet(e) => e.code(),
            Error::Ocr(e) => e.code(),
            Error::Store(e) => e.code(),
            Error::Catalog(e) => e.code(),
            Error::Pipeline(e) => e.code(),
            Error::Sign(e) => e.code(),
            Error::BatchFailed(_) => "batch-failed",
            Error::WorkerDied(_) => "worker-died",
            Error::Internal(_) => "internal",
            Error::Unauthorized(_) => "unauthorized",
            Error::Forbidden(_) => "forbidden",
            Error::PayloadTooLarge(_) => "payload-too-large",
            Error::UnsupportedMediaType(_) => "unsupported-media-type",
            Error::RangeNotSatisfiable(_) => "range-not-satisfiable",
            Error::AuditBroken(_) => "audit-chain-broken",
        }
    }

    /// Whether running the same job again may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Store(e) => e.is_retryable(),
            Error::Catalog(e) => e.is_retryable(),
            Error::Pipeline(e) => e.is_retryable(),
            Error::Sign(e) => e.is_retryable(),
            Error::LocalIo { .. } | Error::Internal(_) => true,
            _ => false,
        }
    }

    pub fn class(&self) -> ErrorClass {
        match self {
            Error::Usage(_)
            | Error::Config { .. }
            | Error::NotFound(_)
            | Error::Output { .. }
            | Error::OutputRefused { .. }
            | Error::Intake(_)
            | Error::Rules(_)
            | Error::Sheet(_)
            | Error::Unauthorized(_)
            | Error::Forbidden(_)
            | Error::PayloadTooLarge(_)
            | Error::UnsupportedMediaType(_)
            | Error::RangeNotSatisfiable(_)
            | Error::Ocr(OcrError::Init { .. }) => ErrorClass::Usage,
            Error::Store(StoreError::Config { .. }) | Error::Catalog(CatalogError::Config { .. }) => ErrorClass::Usage,
            Error::Catalog(CatalogError::Ambiguous { .. } | CatalogError::Missing { .. }) => ErrorClass::Usage,
            Error::Sign(e) if e.is_usage() => ErrorClass::Usage,
            _ => ErrorClass::Storage,
        }
    }

    /// The documented exit code: 2 for usage, 3 for storage.
    pub fn exit_code(&self) -> u8 {
        match self.class() {
            ErrorClass::Usage => exit::BAD_INPUT,
            ErrorClass::Storage => exit::STORAGE,
        }
    }

    /// The HTTP status an API answer with this error carries.
    pub fn http_status(&self) -> u16 {
        match self {
            Error::NotFound(_) => 404,
            Error::Unauthorized(_) => 401,
            Error::Forbidden(_) => 403,
            Error::PayloadTooLarge(_) => 413,
            Error::UnsupportedMediaType(_) => 415,
            Error::RangeNotSatisfiable(_) => 416,
            Error::Catalog(CatalogError::Ambiguous { .. }) => 409,
            Error::Store(e) if e.is_retryable() => 503,
            Error::Catalog(e) if e.is_retryable() => 503,
            _ => match self.class() {
                ErrorClass::Usage => 400,
                ErrorClass::Storage => 500,
            },
        }
    }

    /// `{"error":{"code":…,"message":…}}`, the shape of every `--json` failure and API error.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({ "error": { "code": self.code(), "message": self.to_string() } })
    }

    pub fn config(key: impl Into<String>, message: impl Into<String>) -> Error {
        Error::Config { key: key.into(), message: message.into() }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_class_has_its_exit_code_and_status() {
        let usage = Error::Usage("--patch \"9\": use 1, 2, 3, 4, 6 or T".into());
        assert_eq!((usage.code(), usage.exit_code(), usage.http_status()), ("bad-usage", 2, 400));
        assert!(!usage.is_retryable());
        let missing = Error::NotFound("no batch bat_x".into());
        assert_eq!((missing.code(), missing.exit_code(), missing.http_status()), ("not-found", 2, 404));
        let corrupt = Error::CorruptJob("batch bat_x has an unreadable manifest".into());
        assert_eq!((corrupt.code(), corrupt.exit_code()), ("job-corrupt", 3));
        assert!(!corrupt.is_retryable(), "a corrupt job is not run again");
        let input = Error::from(IntakeError::NotFound { path: "scan.tif".into() });
        assert_eq!((input.code(), input.exit_code()), ("input-not-found", 2));
        let store = Error::from(StoreError::Config { url: "ftp://x".into(), reason: "unsupported scheme".into() });
        let catalog = Error::from(CatalogError::Config { url: "mysql://x".into(), reason: "unsupported scheme".into() });
        assert_eq!(store.exit_code(), catalog.exit_code(), "a bad --store and a bad --catalog exit alike");
        for (e, code, status) in [
            (Error::Unauthorized("no token".into()), "unauthorized", 401),
            (Error::Forbidden("clerks do not search".into()), "forbidden", 403),
            (Error::PayloadTooLarge("over 1 MB".into()), "payload-too-large", 413),
            (Error::UnsupportedMediaType("not multipart".into()), "unsupported-media-type", 415),
            (Error::RangeNotSatisfiable("bytes=9-".into()), "range-not-satisfiable", 416),
        ] {
            assert_eq!((e.code(), e.http_status(), e.exit_code()), (code, status, 2));
        }
        let broken = Error::AuditBroken("row 3 was changed".into());
        assert_eq!((broken.code(), broken.exit_code(), broken.http_status()), ("audit-chain-broken", 3, 500));
        let io = Error::LocalIo { path: "/data/work".into(), source: std::io::Error::other("disk full") };
        assert!(io.is_retryable());
        assert_eq!(io.exit_code(), 3);
    }

    #[test]
    fn json_errors_carry_code_and_message() {
        let e = Error::config("workers", "must be between 1 and 256, not 0");
        assert_eq!(e.to_json().to_string(), r#"{"error":{"code":"config","message":"workers: must be between 1 and 256, not 0"}}"#);
    }
}
