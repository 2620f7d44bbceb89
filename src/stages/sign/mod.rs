//! Digital signatures on PDFs: PAdES baseline B-B and B-T signatures (ETSI EN 319 142),
//! their verification, the keys they are made with, and the throwaway CA for trying it out.
//!
//! Owns:
//! - `keys`: the [`Signer`] seam (a key that signs SHA-256 digests, and its certificate
//!   chain) with the software keys read from PEM or PKCS#12 files; a PKCS#11 token or a
//!   remote signing service plugs in as another [`Signer`];
//! - `cms`: the detached CMS SignedData (RFC 5652) over a digest: signed attributes
//!   content-type, message-digest and ESS signing-certificate-v2 (RFC 5035), no
//!   signing-time (PAdES puts the time in the signature dictionary's `/M`), the chain
//!   embedded, and for B-T an RFC 3161 timestamp of the signature value as an unsigned
//!   attribute (the [`Timestamper`] seam; the HTTP client is `runtime::tsa`);
//! - `pades`: the signature as an incremental update of a finished PDF: the signature
//!   dictionary, a signature field whose widget shows the visible block at the top right
//!   of page 1 (Decree 30/2020, App. I), the AcroForm with `/SigFlags 3`; the byte range
//!   covers the whole file but the `/Contents` hex string;
//! - `appearance`: the visible block and the certification statement, drawn as images
//!   (Liberation Serif, every Vietnamese letter) so no font needs embedding;
//! - `verify`: every signature of a PDF checked (byte range, message digest, ESS
//!   certificate hash, signature over the signed attributes, chain to trust roots,
//!   timestamp imprint), pure over the bytes and the roots;
//! - `copy`: the certified copy's PDF, the original's pages then the statement page;
//! - `devca`: `sohoa keys dev-ca` (rcgen).
//!
//! Invariants: a signed PDF is the input bytes followed by one update, so every earlier
//! signature stays valid; the signing time is given by the caller (tests pass fixed
//! times). Nothing here does I/O but `devca` writing its files and the key loaders
//! reading theirs. Called by the pipeline (scan signing), `runtime::certify` and the CLI.

pub mod appearance;
pub mod cms;
pub mod copy;
pub mod devca;
pub mod keys;
pub mod pades;
pub mod verify;

pub use keys::{KeyAlgorithm, Signer, SoftwareSigner, load_key_file};
pub use pades::{SignOptions, sign_pdf};
pub use verify::{SignatureReport, VerifyReport, verify_pdf};

/// Gets an RFC 3161 timestamp token (a CMS `ContentInfo`, DER) for a SHA-256 imprint.
pub trait Timestamper: Send + Sync {
    fn timestamp(&self, sha256_imprint: &[u8; 32]) -> Result<Vec<u8>, SignError>;
}

/// Vietnam's time zone (UTC+7, no daylight saving): signing times are shown in it.
pub fn vietnam() -> chrono::FixedOffset {
    chrono::FixedOffset::east_opt(7 * 3600).expect("UTC+7 is a valid offset")
}

/// Why a key could not be used or a PDF could not be signed.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("cannot read key file {path}: {source}")]
    KeyUnreadable { path: String, source: std::io::Error },
    #[error("key file {path}: {reason}")]
    KeyInvalid { path: String, reason: String },
    #[error("signing failed: {0}")]
    Signing(String),
    #[error("the PDF cannot be signed: {0}")]
    Pdf(String),
    #[error("timestamp authority {url}: {reason}")]
    Timestamp { url: String, reason: String },
    #[error("cannot write {path}: {source}")]
    Output { path: String, source: std::io::Error },
}

impl SignError {
    /// Stable machine-readable code (kebab-case).
    pub fn code(&self) -> &'static str {
        match self {
            SignError::KeyUnreadable { .. } => "key-unreadable",
            SignError::KeyInvalid { .. } => "key-invalid",
            SignError::Signing(_) => "sign-failed",
            SignError::Pdf(_) => "pdf-unsignable",
            SignError::Timestamp { .. } => "tsa-unavailable",
            SignError::Output { .. } => "output-unwritable",
        }
    }

    /// Errors the caller must fix (a key file, a PDF) rather than wait out.
    pub fn is_usage(&self) -> bool {
        matches!(self, SignError::KeyUnreadable { .. } | SignError::KeyInvalid { .. } | SignError::Pdf(_) | SignError::Output { .. })
    }

    /// A timestamp authority that did not answer may answer later.
    pub fn is_retryable(&self) -> bool {
        matches!(self, SignError::Timestamp { .. })
    }
}

#[cfg(test)]
mod tests;
