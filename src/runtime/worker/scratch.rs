//! Originals on local disk for a job, in a scratch folder of this worker's that goes when
//! the job is done: a private copy of the file `sohoa process` read (taken while hashing
//! it, kept only when its BLAKE3 is the ingested one), else a copy out of the store
//! (verified).
//!
//! Invariant: every page a job decodes comes from bytes whose BLAKE3 is the one recorded
//! at ingest. The input path is never reopened after the copy is checked, so a scan
//! replaced or rewritten while the batch runs cannot reach the stored documents; a copy
//! whose hash differs is discarded with a warning and the stored original is used.

use super::Services;
use super::manifest::Manifest;
use crate::runtime::catalog::Job;
use crate::runtime::error::Error;
use crate::stages::intake::Input;
use std::path::PathBuf;

/// A batch's originals on local disk; the scratch copies go when this is dropped.
pub(super) struct Fetched {
    pub input: Input,
    work: Option<PathBuf>,
}

impl Drop for Fetched {
    fn drop(&mut self) {
        if let Some(w) = &self.work {
            let _ = std::fs::remove_dir_all(w);
        }
    }
}

/// The batch's original files: where `sohoa process` read them, when they are still
/// unchanged, else copied back out of the store (verified) into a scratch folder.
pub(super) async fn fetch_originals(services: &Services, job: &Job, manifest: &Manifest, worker_id: &str) -> Result<Fetched, Error> {
    // Per worker: a worker that lost its job to a takeover must not share scratch files.
    let work = services.data_dir.join("work").join(format!("{}-{}", job.batch_id, sanitize(worker_id)));
    let _ = tokio::fs::remove_dir_all(&work).await;
    let mut paths = Vec::with_capacity(manifest.files.len());
    let mut used_work = false;
    for (i, f) in manifest.files.iter().enumerate() {
        // One folder per file keeps the file's own name, which page messages quote.
        let dir = work.join(format!("{i:05}"));
        tokio::fs::create_dir_all(&dir).await.map_err(|e| Error::LocalIo { path: dir.display().to_string(), source: e })?;
        used_work = true;
        let local = dir.join(sanitize(&f.name));
        if let Some(path) = services.local_original(&f.blake3) {
            match copy_if_hash(&path, &local, &f.blake3).await {
                Ok(true) => {
                    paths.push(local);
                    continue;
                }
                Ok(false) => tracing::warn!(
                    path = %path.display(),
                    "The scan changed after it was ingested; reading the ingested original from the store instead."
                ),
                Err(e) => tracing::warn!(path = %path.display(), error = %e, "Cannot copy the scan; reading the ingested original from the store instead."),
            }
        }
        services.store.get_file_verified(&f.key, &f.blake3, &local).await?;
        paths.push(local);
    }
    let work = used_work.then_some(work);
    match Input::from_files(PathBuf::from(&job.source), &paths) {
        Ok(input) => Ok(Fetched { input, work }),
        Err(e) => {
            if let Some(w) = &work {
                let _ = tokio::fs::remove_dir_all(w).await;
            }
            Err(e.into())
        }
    }
}

/// Copies `src` to `dest`, hashing the bytes as they are copied: `true` when their BLAKE3
/// is `blake3_hex`, else `false` and `dest` is removed. The copy, not `src`, is read after.
async fn copy_if_hash(src: &std::path::Path, dest: &std::path::Path, blake3_hex: &str) -> std::io::Result<bool> {
    let (src, dest, want) = (src.to_path_buf(), dest.to_path_buf(), blake3_hex.to_ascii_lowercase());
    tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut from = std::fs::File::open(&src)?;
        let mut to = std::fs::File::create(&dest)?;
        let mut hasher = blake3::Hasher::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = from.read(&mut buf)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            to.write_all(&buf[..n])?;
        }
        to.flush()?;
        let same = hasher.finalize().to_hex().as_str() == want;
        if !same {
            drop(to);
            let _ = std::fs::remove_file(&dest);
        }
        Ok(same)
    })
    .await
    .map_err(std::io::Error::other)?
}

/// A file name safe to create in the scratch folder that reads as `name` (page messages
/// quote it): path separators and NUL become '_'; "", "." and ".." become "file".
fn sanitize(name: &str) -> String {
    let s: String = name.chars().map(|c| if matches!(c, '/' | '\\' | '\0') { '_' } else { c }).collect();
    if matches!(s.as_str(), "" | "." | "..") { "file".to_string() } else { s }
}
