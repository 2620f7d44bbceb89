//! Hot folders (`sohoa serve --watch DIR[=POST_OFFICE]`): scanner output dropped into a
//! folder is ingested once it is complete, then moved out of the way with a report.
//!
//! Polling only (it works the same on local disks and network shares, where change
//! notifications are unreliable). A file is taken once two looks in a row, `poll` apart,
//! saw the same size and modification time ([`Tracker`], a pure decision). Then it is
//! ingested exactly as `sohoa ingest` does (tagged with the folder's post office), a
//! `.json` report is written to `DIR/done/` (or `DIR/failed/` when the file is not a
//! usable scan) and the file is moved beside it. Invariants:
//! - a file is never lost: it leaves `DIR` only by a rename into `done/` or `failed/`,
//!   after its report is written; a storage or catalog failure leaves it where it is, to
//!   be tried again at the next look;
//! - a file is never ingested twice: ingest is keyed by the BLAKE3 of the file, so a file
//!   ingested before a crash and found again at start-up (the rescan) is reported as the
//!   batch it already is (`duplicate: true`), not queued again.
//!
//! Hidden files (`.name`) and names ending in `.part`, `.tmp` or `.crdownload` are left
//! alone: copy tools write those, then rename.

use crate::runtime::error::Error;
use crate::runtime::worker::{self, Ingested, Services};
use crate::stages::intake::Input;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// A hot folder and the post office its batches are tagged with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchDir {
    pub dir: PathBuf,
    pub post_office: Option<String>,
}

impl WatchDir {
    /// `DIR` or `DIR=POST_OFFICE`; the folder must exist (its `done/` and `failed/` are
    /// created).
    pub fn parse(spec: &str) -> Result<WatchDir, Error> {
        let (dir, post_office) = match spec.rsplit_once('=') {
            Some((d, p)) if !d.is_empty() && !p.contains('/') => (d, Some(p.to_string())),
            _ => (spec, None),
        };
        if let Some(p) = &post_office
            && !crate::model::is_post_office_code(p)
        {
            return Err(Error::config("watch", format!("{spec:?}: the post office {p:?} must be 1 to 32 letters, digits, '-', '_' or '.'")));
        }
        let dir = PathBuf::from(dir);
        if !dir.is_dir() {
            return Err(Error::config("watch", format!("{} is not a folder", dir.display())));
        }
        for sub in ["done", "failed"] {
            std::fs::create_dir_all(dir.join(sub)).map_err(|e| Error::config("watch", format!("cannot create {}: {e}", dir.join(sub).display())))?;
        }
        Ok(WatchDir { dir, post_office })
    }
}

/// What a look at a file saw: its size and modification time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub len: u64,
    pub modified: Option<SystemTime>,
}

/// The files of a folder seen at the last look, and which are complete (pure: fed what
/// each look saw).
#[derive(Debug, Default)]
pub struct Tracker {
    seen: HashMap<PathBuf, Stamp>,
}

impl Tracker {
    /// Records one look at the folder (every candidate file and its stamp); returns the
    /// files complete now: seen at the previous look with the same stamp, and not empty.
    /// Files gone since are forgotten.
    pub fn look(&mut self, files: Vec<(PathBuf, Stamp)>) -> Vec<PathBuf> {
        let mut ready = Vec::new();
        let mut next = HashMap::with_capacity(files.len());
        for (path, stamp) in files {
            if self.seen.get(&path) == Some(&stamp) && stamp.len > 0 {
                ready.push(path.clone());
            }
            next.insert(path, stamp);
        }
        self.seen = next;
        ready.sort();
        ready
    }

    /// Forgets a file (taken, or to be looked at afresh).
    pub fn forget(&mut self, path: &Path) {
        self.seen.remove(path);
    }
}

/// Whether a file name is one to ingest (not hidden, not a copy in progress).
pub fn is_candidate(name: &str) -> bool {
    !name.starts_with('.') && ![".part", ".tmp", ".crdownload"].iter().any(|s| name.to_ascii_lowercase().ends_with(s))
}

/// A name in `dir` not taken by a file or its report: `name`, else `stem-2.ext`, ….
pub fn free_name(dir: &Path, name: &str) -> PathBuf {
    let taken = |p: &Path| p.exists() || report_path(p).exists();
    let first = dir.join(name);
    if !taken(&first) {
        return first;
    }
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() => (s.to_string(), format!(".{e}")),
        _ => (name.to_string(), String::new()),
    };
    (2..).map(|n| dir.join(format!("{stem}-{n}{ext}"))).find(|p| !taken(p)).expect("a free name")
}

fn report_path(file: &Path) -> PathBuf {
    let mut s = file.as_os_str().to_owned();
    s.push(".json");
    PathBuf::from(s)
}

/// The candidate files of the folder now, with their stamps.
fn list(dir: &Path) -> std::io::Result<Vec<(PathBuf, Stamp)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !is_candidate(&name) {
            continue;
        }
        let Ok(meta) = entry.metadata() else { continue };
        if !meta.is_file() {
            continue;
        }
        out.push((entry.path(), Stamp { len: meta.len(), modified: meta.modified().ok() }));
    }
    Ok(out)
}

/// Watches `w` until `shutdown`: looks every `poll`, ingests complete files.
pub async fn watch(services: &Services, w: &WatchDir, poll: Duration, shutdown: impl std::future::Future<Output = ()>) {
    tokio::pin!(shutdown);
    tracing::info!(dir = %w.dir.display(), post_office = ?w.post_office, "Watching a hot folder.");
    let mut tracker = Tracker::default();
    loop {
        let dir = w.dir.clone();
        match tokio::task::spawn_blocking(move || list(&dir)).await {
            Ok(Ok(files)) => {
                for path in tracker.look(files) {
                    match take(services, w, &path).await {
                        Ok(()) => tracker.forget(&path),
                        // Left in place and looked at afresh.
                        Err(e) => {
                            tracing::warn!(file = %path.display(), error = %e, code = e.code(), "Cannot ingest from the hot folder now; will try again.");
                            tracker.forget(&path);
                        }
                    }
                }
            }
            Ok(Err(e)) => tracing::warn!(dir = %w.dir.display(), error = %e, "Cannot list the hot folder; will look again."),
            Err(e) => tracing::error!(error = %e, "The hot folder listing stopped unexpectedly."),
        }
        tokio::select! {
            _ = &mut shutdown => break,
            _ = tokio::time::sleep(poll) => {}
        }
    }
}

/// Ingests one complete file and moves it to `done/` or `failed/` with its report. An
/// error is a failure to try again (store, catalog, moving the file).
async fn take(services: &Services, w: &WatchDir, path: &Path) -> Result<(), Error> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let opened = Input::open(path);
    let (sub, report) = match opened {
        Err(e) => {
            let e = Error::from(e);
            tracing::warn!(file = %path.display(), code = e.code(), error = %e, "Hot folder file is not a usable scan; moved to failed/.");
            ("failed", serde_json::json!({"source": path.display().to_string(), "error": e.to_json()["error"].clone()}))
        }
        Ok(input) => match worker::ingest_at(services, &input, w.post_office.as_deref()).await {
            Ok(i) => {
                tracing::info!(file = %path.display(), batch_id = i.batch_id(), "Hot folder file ingested.");
                let report = serde_json::json!({
                    "batch_id": i.batch_id(),
                    "source": path.display().to_string(),
                    "duplicate": matches!(i, Ingested::Duplicate { .. }),
                    "post_office": w.post_office,
                });
                ("done", report)
            }
            Err(e) if e.is_retryable() || matches!(e, Error::LocalIo { .. }) => return Err(e),
            Err(e) => ("failed", serde_json::json!({"source": path.display().to_string(), "error": e.to_json()["error"].clone()})),
        },
    };
    let target = free_name(&w.dir.join(sub), &name);
    let report_file = report_path(&target);
    let local = |p: &Path, e: std::io::Error| Error::LocalIo { path: p.display().to_string(), source: e };
    let tmp = w.dir.join(sub).join(format!(".{name}.json.tmp"));
    tokio::fs::write(&tmp, format!("{report:#}\n")).await.map_err(|e| local(&tmp, e))?;
    tokio::fs::rename(&tmp, &report_file).await.map_err(|e| local(&report_file, e))?;
    tokio::fs::rename(path, &target).await.map_err(|e| local(&target, e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(len: u64, secs: u64) -> Stamp {
        Stamp { len, modified: Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs)) }
    }

    #[test]
    fn a_file_is_ready_after_two_looks_that_agree() {
        let mut t = Tracker::default();
        let a = PathBuf::from("/in/a.tif");
        let b = PathBuf::from("/in/b.tif");
        assert!(t.look(vec![(a.clone(), stamp(10, 1))]).is_empty(), "first sight: maybe still being written");
        // Still growing.
        assert!(t.look(vec![(a.clone(), stamp(20, 2)), (b.clone(), stamp(5, 2))]).is_empty());
        // Same size, touched again.
        assert!(t.look(vec![(a.clone(), stamp(20, 3)), (b.clone(), stamp(5, 2))]) == vec![b.clone()]);
        assert_eq!(t.look(vec![(a.clone(), stamp(20, 3))]), vec![a.clone()]);
        // Taken and forgotten: seen again (not moved yet), it needs two looks again.
        t.forget(&a);
        assert!(t.look(vec![(a.clone(), stamp(20, 3))]).is_empty());
        // An empty file is never ready.
        let e = PathBuf::from("/in/empty.tif");
        t.look(vec![(e.clone(), stamp(0, 1))]);
        assert!(t.look(vec![(e.clone(), stamp(0, 1))]).is_empty());
        // Gone, then back: starts over.
        t.look(vec![]);
        assert!(t.look(vec![(b.clone(), stamp(5, 2))]).is_empty());
    }

    #[test]
    fn candidates_and_free_names() {
        assert!(is_candidate("scan.tif"));
        for n in [".scan.tif", "scan.tif.part", "scan.TMP", "x.crdownload"] {
            assert!(!is_candidate(n), "{n}");
        }
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(free_name(dir.path(), "a.tif"), dir.path().join("a.tif"));
        std::fs::write(dir.path().join("a.tif"), b"x").unwrap();
        assert_eq!(free_name(dir.path(), "a.tif"), dir.path().join("a-2.tif"));
        std::fs::write(dir.path().join("a-2.tif.json"), b"{}").unwrap();
        assert_eq!(free_name(dir.path(), "a.tif"), dir.path().join("a-3.tif"));
        std::fs::write(dir.path().join("noext"), b"x").unwrap();
        assert_eq!(free_name(dir.path(), "noext"), dir.path().join("noext-2"));
    }

    #[test]
    fn watch_specs() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display().to_string();
        let w = WatchDir::parse(&format!("{d}=700000")).unwrap();
        assert_eq!((w.dir.as_path(), w.post_office.as_deref()), (dir.path(), Some("700000")));
        assert!(dir.path().join("done").is_dir() && dir.path().join("failed").is_dir());
        assert_eq!(WatchDir::parse(&d).unwrap().post_office, None);
        assert_eq!(WatchDir::parse(&format!("{d}=70 00")).unwrap_err().code(), "config");
        assert_eq!(WatchDir::parse(&format!("{d}/missing")).unwrap_err().code(), "config");
    }
}
