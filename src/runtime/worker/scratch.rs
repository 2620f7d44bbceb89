//! Originals on local disk for a job: where `sohoa process` read them when unchanged, else
//! copied back out of the store (verified) into a scratch folder of this worker's that
//! goes when the job is done.

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
        if let Some(path) = services.local_original(&f.blake3) {
            paths.push(path);
            continue;
        }
        if !used_work {
            tokio::fs::create_dir_all(&work).await.map_err(|e| Error::LocalIo { path: work.display().to_string(), source: e })?;
            used_work = true;
        }
        let local = work.join(format!("{i:05}-{}", sanitize(&f.name)));
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

fn sanitize(name: &str) -> String {
    name.chars().map(|c| if c.is_alphanumeric() || ".-_".contains(c) { c } else { '_' }).collect()
}
