//! Ingest: an input becomes a queued batch. The originals are hashed, copied into the
//! object store and verified, then one catalog transaction creates the batch and its jobs.
//! `sohoa process` also remembers where it read each original ([`LocalOriginals`]), so its
//! own jobs read the file in place while its [`FileStamp`] is unchanged.

use super::Services;
use super::manifest::{Manifest, ManifestFile};
use crate::runtime::catalog::{CreateOutcome, NewBatch};
use crate::runtime::error::Error;
use crate::runtime::store::Store;
use crate::stages::intake::{Input, IntakeError};
use std::path::{Path, PathBuf};

/// Where this process read originals from at ingest, by BLAKE3, with what the file system
/// said of each file just before it was hashed (shared by clones).
pub type LocalOriginals = std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, (PathBuf, FileStamp)>>>;

/// What identifies a file's contents without reading them: device, inode, size and the
/// modification and change times, to the nanosecond. Any write to the file, or a new file
/// renamed over it, changes the stamp (the change time cannot be set back by `touch`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStamp {
    dev: u64,
    ino: u64,
    len: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl FileStamp {
    pub fn of(path: &Path) -> std::io::Result<FileStamp> {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(path)?;
        Ok(FileStamp { dev: m.dev(), ino: m.ino(), len: m.len(), mtime: (m.mtime(), m.mtime_nsec()), ctime: (m.ctime(), m.ctime_nsec()) })
    }
}

/// The result of ingesting one input.
#[derive(Debug, Clone, PartialEq)]
pub enum Ingested {
    Queued {
        batch_id: String,
    },
    /// The same scan (same blake3 of the original files) was ingested before.
    Duplicate {
        batch_id: String,
    },
}

impl Ingested {
    pub fn batch_id(&self) -> &str {
        match self {
            Ingested::Queued { batch_id } | Ingested::Duplicate { batch_id } => batch_id,
        }
    }
}

/// A new, time-ordered batch id.
pub fn new_batch_id() -> String {
    crate::model::BatchId::new().into_string()
}

/// Copies the input's files into the store (verified) and queues the batch.
pub async fn ingest(services: &Services, input: &Input) -> Result<Ingested, Error> {
    ingest_at(services, input, None).await
}

/// [`ingest`], the batch tagged with the post office it was received at (an upload with a
/// clerk's token, a hot folder). A duplicate keeps the earlier batch's tag.
pub async fn ingest_at(services: &Services, input: &Input, post_office: Option<&str>) -> Result<Ingested, Error> {
    let mut files = Vec::new();
    for file in &input.files {
        // Taken before hashing: a file changed while it is hashed gets another stamp.
        let unreadable = |e: std::io::Error| IntakeError::Unreadable { path: file.path.display().to_string(), message: e.to_string() };
        let stamp = FileStamp::of(&file.path).map_err(unreadable)?;
        let (size, b3) = crate::runtime::store::hash_file(&file.path).await.map_err(unreadable)?;
        let key = Store::original_key(&b3, file.kind.extension());
        services.store.put_file_verified_as(&key, &file.path, (size, b3.clone())).await?;
        let name = file.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if let Ok(mut local) = services.local_originals.lock() {
            local.insert(b3.clone(), (file.path.clone(), stamp));
        }
        // The bytes hashed, which the stored copy was verified to hold.
        files.push(ManifestFile { name, key, blake3: b3.as_str().into(), bytes: size });
    }
    let original_blake3 = if files.len() == 1 {
        files[0].blake3.to_string()
    } else {
        let joined: String = files.iter().map(|f| format!("{}\n", f.blake3)).collect();
        blake3::hash(joined.as_bytes()).to_hex().to_string()
    };
    let manifest = Manifest { scanned_at: scan_time(&input.files[0].path), files };
    let batch = NewBatch {
        id: new_batch_id(),
        source: input.source.display().to_string(),
        original_key: manifest.files[0].key.to_string(),
        original_blake3,
        original_bytes: manifest.files.iter().map(|f| f.bytes).sum(),
        manifest_json: serde_json::to_string(&manifest).expect("manifest serialises"),
        page_count: input.page_count() as u64,
        chunk_pages: services.chunk_pages,
        post_office: post_office.map(str::to_string),
    };
    Ok(match services.catalog.create_batch(&batch).await? {
        CreateOutcome::Created => {
            tracing::info!(batch_id = %batch.id, source = %batch.source, "Batch queued.");
            Ingested::Queued { batch_id: batch.id }
        }
        CreateOutcome::Duplicate { batch_id } => {
            tracing::warn!(batch_id = %batch_id, source = %batch.source, "Scan already ingested; not queued again.");
            Ingested::Duplicate { batch_id }
        }
    })
}

/// The file's modification time in Vietnam's time zone (when the scanner wrote it).
fn scan_time(path: &Path) -> String {
    let modified = std::fs::metadata(path).and_then(|m| m.modified()).unwrap_or_else(|_| std::time::SystemTime::now());
    let t: chrono::DateTime<chrono::Utc> = modified.into();
    let vn = chrono::FixedOffset::east_opt(7 * 3600).expect("valid offset");
    t.with_timezone(&vn).to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

#[cfg(test)]
mod tests {
    use super::FileStamp;

    #[test]
    fn a_file_stamp_changes_when_the_file_is_written_or_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let scan = dir.path().join("scan.tif");
        std::fs::write(&scan, b"page one").unwrap();
        let stamp = FileStamp::of(&scan).unwrap();
        assert_eq!(FileStamp::of(&scan).unwrap(), stamp);
        // Reading it, or copying it elsewhere, changes nothing.
        let _ = std::fs::read(&scan).unwrap();
        std::fs::copy(&scan, dir.path().join("copy.tif")).unwrap();
        assert_eq!(FileStamp::of(&scan).unwrap(), stamp);
        // Appended to (the scanner still writing).
        use std::io::Write;
        std::fs::OpenOptions::new().append(true).open(&scan).unwrap().write_all(b", two").unwrap();
        assert_ne!(FileStamp::of(&scan).unwrap(), stamp);
        // Another file of the same size renamed over it.
        let stamp = FileStamp::of(&scan).unwrap();
        let other = dir.path().join("other.tif");
        std::fs::write(&other, b"page one, 22!").unwrap();
        assert_eq!(std::fs::metadata(&other).unwrap().len(), std::fs::metadata(&scan).unwrap().len());
        std::fs::rename(&other, &scan).unwrap();
        assert_ne!(FileStamp::of(&scan).unwrap(), stamp);
        assert!(FileStamp::of(&dir.path().join("gone.tif")).is_err());
    }
}
