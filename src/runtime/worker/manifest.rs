//! The manifest: which original files a batch was made from, as kept in the catalog
//! (`batches.manifest_json`) and read back by every job of the batch.

use crate::model::{ContentHash, ObjectKey};
use crate::runtime::catalog::Job;
use crate::runtime::error::Error;
use serde::{Deserialize, Serialize};

/// The files a batch was made from, as kept in the catalog.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    /// When the scan was made (the file's modification time), RFC 3339, +07:00.
    pub scanned_at: String,
    pub files: Vec<ManifestFile>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ManifestFile {
    /// The file's name as given (scratch copies keep it).
    pub name: String,
    pub key: ObjectKey,
    pub blake3: ContentHash,
    pub bytes: u64,
}

/// The manifest of a claimed job; a manifest that does not parse fails the job for good.
pub fn manifest(job: &Job) -> Result<Manifest, Error> {
    serde_json::from_str(&job.manifest_json).map_err(|e| Error::CorruptJob(format!("batch {} has an unreadable manifest: {e}", job.batch_id)))
}
