//! Content-addressed object store: the only module that talks to `object_store`.
//!
//! Owns the key layout (`documents/<2 hex>/<blake3>.pdf`, `originals/<2 hex>/<blake3>.<ext>`)
//! and the write protocol. Invariants:
//! - a write returns `Ok` only after the object has been read back and its size and BLAKE3
//!   match what was written (so a stored key always names intact bytes);
//! - writing bytes that are already there (same size and BLAKE3) is a no-op, so a retried
//!   batch re-stores nothing;
//! - a read through [`Store::get_verified`] never returns bytes whose hash differs from the
//!   one asked for (`store-corrupt`).
//!
//! Backends: the local filesystem (default: `<data_dir>/objects`), S3-compatible stores
//! (`s3://bucket/prefix`, configured from the standard `AWS_*` variables, with retries), and
//! whatever else [`object_store::parse_url_opts`] understands. Called by the pipeline (store
//! originals and output PDFs), the API (serve documents) and the CLI (`get`).

use crate::model::ObjectKey;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::client::{HttpError, HttpErrorKind};
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::prefix::PrefixStore;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, RetryConfig, WriteMultipart};
use tokio::io::AsyncReadExt;
use url::Url;

/// Objects larger than this are uploaded in parts of this size.
pub const MULTIPART_THRESHOLD: usize = 8 * 1024 * 1024;
/// Parts uploaded concurrently for one multipart upload (bounds memory to about
/// `MULTIPART_CONCURRENCY * MULTIPART_THRESHOLD`).
const MULTIPART_CONCURRENCY: usize = 4;
/// Read size when streaming a local file into an upload.
const FILE_READ_CHUNK: usize = 1024 * 1024;

/// Why an object store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("Invalid object store URL {url:?}: {reason}")]
    Config { url: String, reason: String },
    #[error("Invalid object key {key:?}: {reason}")]
    InvalidKey { key: String, reason: String },
    #[error("Object {key} not found")]
    NotFound { key: String },
    #[error("Object {key} is corrupt: {detail}")]
    Corrupt { key: String, detail: String },
    #[error("Object store refused access to {key}: {source}")]
    Denied { key: String, source: object_store::Error },
    #[error("Object store operation on {key} failed: {source}")]
    Backend { key: String, retryable: bool, source: object_store::Error },
    #[error("Cannot read local file {path}: {source}")]
    LocalIo { path: PathBuf, source: std::io::Error },
    /// The local store's own disk failed the write (full, over quota, read-only).
    #[error("Cannot write {key} into the object store at {path}: {source}")]
    LocalWrite { key: String, path: PathBuf, source: std::io::Error },
}

impl StoreError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::Config { .. } => "store-config",
            StoreError::InvalidKey { .. } => "store-invalid-key",
            StoreError::NotFound { .. } => "store-not-found",
            StoreError::Corrupt { .. } => "store-corrupt",
            StoreError::Denied { .. } => "store-denied",
            StoreError::Backend { retryable: true, .. } => "store-unavailable",
            StoreError::Backend { retryable: false, .. } => "store-failed",
            StoreError::LocalIo { .. } => "store-local-io",
            StoreError::LocalWrite { .. } => "store-write-failed",
        }
    }

    /// True for failures that may go away on their own (network errors, 5xx, throttling).
    pub fn is_retryable(&self) -> bool {
        matches!(self, StoreError::Backend { retryable: true, .. } | StoreError::LocalWrite { .. })
    }

    /// Maps an `object_store` error on `key` to a [`StoreError`].
    pub fn from_object_store(key: &str, e: object_store::Error) -> StoreError {
        let key = key.to_string();
        match e {
            object_store::Error::NotFound { .. } => StoreError::NotFound { key },
            object_store::Error::InvalidPath { source } => StoreError::InvalidKey { key, reason: source.to_string() },
            e @ (object_store::Error::PermissionDenied { .. } | object_store::Error::Unauthenticated { .. }) => StoreError::Denied { key, source: e },
            e => {
                let retryable = is_retryable_object_store_error(&e);
                StoreError::Backend { key, retryable, source: e }
            }
        }
    }
}

/// Decides whether an `object_store` error is worth retrying later.
///
/// Retryable: transport errors (connect, request, timeout, interrupted), HTTP 5xx and 429,
/// and unclassified errors from remote stores. Not retryable: local filesystem errors,
/// 4xx, missing objects, bad paths, unsupported operations, configuration errors.
pub fn is_retryable_object_store_error(e: &object_store::Error) -> bool {
    let object_store::Error::Generic { store, source } = e else {
        return false;
    };
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(source.as_ref());
    let mut status: Option<u16> = None;
    while let Some(err) = cur {
        if let Some(h) = err.downcast_ref::<HttpError>() {
            return matches!(h.kind(), HttpErrorKind::Connect | HttpErrorKind::Request | HttpErrorKind::Timeout | HttpErrorKind::Interrupted);
        }
        if status.is_none() {
            status = http_status_in(&err.to_string());
        }
        cur = err.source();
    }
    match status {
        Some(s) => s >= 500 || s == 429 || s == 408,
        None => *store != "LocalFileSystem",
    }
}

/// Finds the HTTP status in an `object_store` retry error message
/// ("... non-2xx status code: 503 Service Unavailable: ...").
fn http_status_in(msg: &str) -> Option<u16> {
    const MARK: &str = "status code: ";
    let at = msg.find(MARK)? + MARK.len();
    let digits = msg.get(at..at + 3)?;
    digits.parse().ok()
}

/// Lowercase 64-hex-digit BLAKE3 of `bytes`.
pub fn blake3_hex(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex().to_string()
}

fn shard(blake3_hex: &str) -> &str {
    blake3_hex.get(..2).unwrap_or("__")
}

fn is_blake3_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// A handle on the configured object store. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    inner: Arc<dyn ObjectStore>,
    /// Where the objects live, for logs (no credentials).
    location: String,
    /// The same store when it is a local folder: local files are copied in by the kernel
    /// ([`copy_into_place`]), and objects are read back for verification straight from
    /// their files, in large chunks hashed on all cores (object_store's local reader
    /// streams small chunks, about twice as slow).
    local: Option<Arc<LocalFileSystem>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("location", &self.location).finish()
    }
}

impl Store {
    /// Opens the object store named by `url`, or `<data_dir>/objects` when `url` is `None`.
    ///
    /// - `file:///abs/path`: local directory (created);
    /// - `s3://bucket/prefix`: S3 or an S3-compatible service, configured from
    ///   `AWS_ENDPOINT_URL`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`,
    ///   `AWS_ALLOW_HTTP` and the other `AWS_*` variables `object_store` knows;
    /// - anything else `object_store::parse_url_opts` accepts (`memory:///`, `gs://`, `az://`).
    pub fn open(url: Option<&str>, data_dir: &Path) -> Result<Store, StoreError> {
        let Some(raw) = url else {
            return Self::open_local(&data_dir.join("objects"), "default");
        };
        let bad = |reason: String| StoreError::Config { url: redact(raw), reason };
        let parsed = Url::parse(raw).map_err(|e| bad(format!("{e}; expected file:///absolute/path, s3://bucket/prefix or another object_store URL")))?;
        match parsed.scheme() {
            "file" => {
                let path = parsed.to_file_path().map_err(|()| bad("a file URL needs an absolute path and no host (file:///data/objects)".into()))?;
                Self::open_local(&path, raw)
            }
            "s3" | "s3a" => {
                let bucket = parsed.host_str().unwrap_or_default();
                if bucket.is_empty() {
                    return Err(bad("missing bucket name (s3://bucket/prefix)".into()));
                }
                let retry = RetryConfig { max_retries: 5, retry_timeout: Duration::from_secs(60), ..Default::default() };
                let s3 = AmazonS3Builder::from_env().with_url(raw).with_retry(retry).build().map_err(|e| bad(e.to_string()))?;
                let prefix = parsed.path().trim_matches('/').to_string();
                Ok(Self::with_prefix(Arc::new(s3), &prefix, redact(raw)))
            }
            _ => {
                let (store, prefix) = object_store::parse_url_opts(&parsed, std::env::vars()).map_err(|e| bad(e.to_string()))?;
                let store: Arc<dyn ObjectStore> = Arc::from(store);
                Ok(Self::with_prefix(store, prefix.as_ref(), redact(raw)))
            }
        }
    }

    fn open_local(dir: &Path, label: &str) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Config { url: label.to_string(), reason: format!("cannot create {}: {e}", dir.display()) })?;
        let fs = LocalFileSystem::new_with_prefix(dir).map_err(|e| StoreError::Config { url: label.to_string(), reason: e.to_string() })?;
        let fs = Arc::new(fs);
        Ok(Store { inner: fs.clone(), location: dir.display().to_string(), local: Some(fs) })
    }

    fn with_prefix(store: Arc<dyn ObjectStore>, prefix: &str, location: String) -> Store {
        let inner: Arc<dyn ObjectStore> = if prefix.is_empty() { store } else { Arc::new(PrefixStore::new(store, prefix.to_string())) };
        Store { inner, location, local: None }
    }

    /// Wraps an existing `object_store` (tests, embedding).
    pub fn from_object_store(inner: Arc<dyn ObjectStore>, location: impl Into<String>) -> Store {
        Store { inner, location: location.into(), local: None }
    }

    /// Where the objects live (no credentials), for logs.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// Key of an output PDF: `documents/<first 2 hex>/<blake3>.pdf`.
    pub fn document_key(blake3_hex: &str) -> ObjectKey {
        ObjectKey::from_stored(format!("documents/{}/{blake3_hex}.pdf", shard(blake3_hex)))
    }

    /// Key of an original scan: `originals/<first 2 hex>/<blake3>.<ext>`.
    pub fn original_key(blake3_hex: &str, ext: &str) -> ObjectKey {
        let ext = ext.trim_start_matches('.').to_ascii_lowercase();
        ObjectKey::from_stored(format!("originals/{}/{blake3_hex}.{ext}", shard(blake3_hex)))
    }

    /// Stores `bytes` under `key` and returns once they have been read back intact.
    /// A no-op when the same bytes are already there.
    pub async fn put_verified(&self, key: &str, bytes: Bytes) -> Result<(), StoreError> {
        let path = object_path(key)?;
        let size = bytes.len() as u64;
        let hash = blake3_hex(&bytes);
        if self.holds(&path, key, size, &hash).await? {
            tracing::debug!(key, "Object already stored, skipping write");
            return Ok(());
        }
        if bytes.len() > MULTIPART_THRESHOLD {
            let upload = self.inner.put_multipart(&path).await.map_err(|e| StoreError::from_object_store(key, e))?;
            let mut w = WriteMultipart::new_with_chunk_size(upload, MULTIPART_THRESHOLD);
            w.put(bytes);
            w.finish().await.map_err(|e| StoreError::from_object_store(key, e))?;
        } else {
            self.inner.put(&path, PutPayload::from_bytes(bytes)).await.map_err(|e| StoreError::from_object_store(key, e))?;
        }
        self.verify_written(&path, key, size, &hash).await
    }

    /// Stores the local file at `file` under `key`, streaming it in parts, and returns once
    /// the object has been read back intact. A no-op when the same bytes are already there.
    pub async fn put_file_verified(&self, key: &str, file: &Path) -> Result<(), StoreError> {
        let hashed = hash_file(file).await.map_err(|source| StoreError::LocalIo { path: file.to_path_buf(), source })?;
        self.put_file_verified_as(key, file, hashed).await
    }

    /// [`Store::put_file_verified`] of a file whose size and BLAKE3 the caller has just
    /// computed (`hashed`): it is not hashed again before the upload; the read-back check
    /// still compares against `hashed`, so a file that changed since fails verification.
    pub async fn put_file_verified_as(&self, key: &str, file: &Path, hashed: (u64, String)) -> Result<(), StoreError> {
        let path = object_path(key)?;
        let local = |source| StoreError::LocalIo { path: file.to_path_buf(), source };
        let (size, hash) = hashed;
        if self.holds(&path, key, size, &hash).await? {
            tracing::debug!(key, "Object already stored, skipping write");
            return Ok(());
        }
        if let Some(dest) = self.local_file(&path) {
            // A local store: the kernel copies the file (copy_file_range), no bytes pass
            // through this process (`sohoa ingest` of a 135 MB scan: 0.22-0.33 s with the
            // upload streamed, 0.19-0.24 s copied; `cp` of it alone takes 0.045 s).
            let src = file.to_path_buf();
            let dest_shown = dest.clone();
            tokio::task::spawn_blocking(move || copy_into_place(&src, &dest)).await.map_err(|e| local(std::io::Error::other(e)))?.map_err(|(side, e)| {
                match side {
                    CopySide::Read => local(e),
                    CopySide::Write => StoreError::LocalWrite { key: key.to_string(), path: dest_shown, source: e },
                }
            })?;
        } else if size <= MULTIPART_THRESHOLD as u64 {
            let bytes = tokio::fs::read(file).await.map_err(local)?;
            self.inner.put(&path, PutPayload::from(bytes)).await.map_err(|e| StoreError::from_object_store(key, e))?;
        } else {
            let upload = self.inner.put_multipart(&path).await.map_err(|e| StoreError::from_object_store(key, e))?;
            let mut w = WriteMultipart::new_with_chunk_size(upload, MULTIPART_THRESHOLD);
            let mut f = tokio::fs::File::open(file).await.map_err(local)?;
            let mut buf = BytesMut::with_capacity(FILE_READ_CHUNK);
            loop {
                buf.clear();
                let n = match (&mut f).take(FILE_READ_CHUNK as u64).read_buf(&mut buf).await {
                    Ok(n) => n,
                    Err(e) => {
                        let _ = w.abort().await;
                        return Err(local(e));
                    }
                };
                if n == 0 {
                    break;
                }
                if let Err(e) = w.wait_for_capacity(MULTIPART_CONCURRENCY).await {
                    let _ = w.abort().await;
                    return Err(StoreError::from_object_store(key, e));
                }
                w.write(&buf);
            }
            w.finish().await.map_err(|e| StoreError::from_object_store(key, e))?;
        }
        // Also catches a file that changed while it was being uploaded.
        self.verify_written(&path, key, size, &hash).await
    }

    /// Reads the object at `key` and checks it hashes to `blake3_hex`
    /// (`store-corrupt` otherwise).
    pub async fn get_verified(&self, key: &str, blake3_hex: &str) -> Result<Bytes, StoreError> {
        let path = object_path(key)?;
        let want = blake3_hex.to_ascii_lowercase();
        if !is_blake3_hex(&want) {
            return Err(StoreError::InvalidKey { key: key.to_string(), reason: format!("{blake3_hex:?} is not a 64-digit BLAKE3 hex digest") });
        }
        let bytes =
            self.inner.get(&path).await.map_err(|e| StoreError::from_object_store(key, e))?.bytes().await.map_err(|e| StoreError::from_object_store(key, e))?;
        let got = self::blake3_hex(&bytes);
        if got != want {
            tracing::error!(key, expected = %want, actual = %got, "Stored object does not match its hash");
            return Err(StoreError::Corrupt { key: key.to_string(), detail: format!("BLAKE3 is {got}, expected {want}") });
        }
        Ok(bytes)
    }

    /// Streams the object at `key` into the file `dest` (never whole in memory), checking
    /// it hashes to `blake3_hex`; on a mismatch the file is removed (`store-corrupt`).
    pub async fn get_file_verified(&self, key: &str, blake3_hex: &str, dest: &Path) -> Result<u64, StoreError> {
        use tokio::io::AsyncWriteExt;
        let path = object_path(key)?;
        let want = blake3_hex.to_ascii_lowercase();
        let local = |source| StoreError::LocalIo { path: dest.to_path_buf(), source };
        let mut stream = self.inner.get(&path).await.map_err(|e| StoreError::from_object_store(key, e))?.into_stream();
        let mut file = tokio::fs::File::create(dest).await.map_err(local)?;
        let mut hasher = blake3::Hasher::new();
        let mut size = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = match chunk {
                Ok(c) => c,
                Err(e) => {
                    let _ = tokio::fs::remove_file(dest).await;
                    return Err(StoreError::from_object_store(key, e));
                }
            };
            hasher.update(&chunk);
            size += chunk.len() as u64;
            file.write_all(&chunk).await.map_err(local)?;
        }
        file.flush().await.map_err(local)?;
        let got = hasher.finalize().to_hex().to_string();
        if got != want {
            let _ = tokio::fs::remove_file(dest).await;
            tracing::error!(key, expected = %want, actual = %got, "Stored object does not match its hash");
            return Err(StoreError::Corrupt { key: key.to_string(), detail: format!("BLAKE3 is {got}, expected {want}") });
        }
        Ok(size)
    }

    /// Streams the object at `key`, or the bytes `range` of it, never whole in memory. The
    /// caller checks the hash of a whole object as it goes (`api::documents`).
    pub async fn get_stream(
        &self,
        key: &str,
        range: Option<std::ops::Range<u64>>,
    ) -> Result<futures::stream::BoxStream<'static, Result<Bytes, StoreError>>, StoreError> {
        let path = object_path(key)?;
        let opts = object_store::GetOptions { range: range.map(object_store::GetRange::Bounded), ..Default::default() };
        let result = self.inner.get_opts(&path, opts).await.map_err(|e| StoreError::from_object_store(key, e))?;
        let key = key.to_string();
        Ok(result.into_stream().map(move |chunk| chunk.map_err(|e| StoreError::from_object_store(&key, e))).boxed())
    }

    /// Key of the processed pages of part of a batch (an intermediate result, deleted once
    /// the batch is assembled): `work/<batch>/<blake3>.pages`.
    pub fn pages_key(batch_id: &str, blake3_hex: &str) -> ObjectKey {
        ObjectKey::from_stored(format!("work/{batch_id}/{blake3_hex}.pages"))
    }

    /// Deletes every object under `prefix` (intermediate results only: originals and
    /// documents are never deleted). Returns how many were deleted.
    pub async fn delete_prefix(&self, prefix: &str) -> Result<usize, StoreError> {
        let path = object_path(prefix.trim_end_matches('/'))?;
        let mut listing = self.inner.list(Some(&path));
        let mut keys = Vec::new();
        while let Some(meta) = listing.next().await {
            keys.push(meta.map_err(|e| StoreError::from_object_store(prefix, e))?.location);
        }
        for key in &keys {
            match self.inner.delete(key).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(StoreError::from_object_store(key.as_ref(), e)),
            }
        }
        Ok(keys.len())
    }

    /// Whether an object exists at `key`.
    pub async fn exists(&self, key: &str) -> Result<bool, StoreError> {
        let path = object_path(key)?;
        match self.inner.head(&path).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(StoreError::from_object_store(key, e)),
        }
    }

    /// Whether `path` already holds exactly `size` bytes hashing to `hash`.
    async fn holds(&self, path: &ObjectPath, key: &str, size: u64, hash: &str) -> Result<bool, StoreError> {
        match self.inner.head(path).await {
            Ok(meta) if meta.size == size => {}
            Ok(_) | Err(object_store::Error::NotFound { .. }) => return Ok(false),
            Err(e) => return Err(StoreError::from_object_store(key, e)),
        }
        match self.stream_hash(path, key).await {
            Ok((n, h)) => Ok(n == size && h == hash),
            // Deleted between head and get: write it.
            Err(StoreError::NotFound { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn verify_written(&self, path: &ObjectPath, key: &str, size: u64, hash: &str) -> Result<(), StoreError> {
        let (n, h) = self.stream_hash(path, key).await?;
        if n != size || h != hash {
            tracing::error!(key, expected_bytes = size, actual_bytes = n, "Object read back differs from what was written");
            return Err(StoreError::Corrupt {
                key: key.to_string(),
                detail: format!("read back {n} bytes with BLAKE3 {h}, wrote {size} bytes with BLAKE3 {hash}"),
            });
        }
        Ok(())
    }

    /// The file behind `path` when the store is a local folder.
    fn local_file(&self, path: &ObjectPath) -> Option<PathBuf> {
        self.local.as_ref().and_then(|fs| fs.path_to_filesystem(path).ok())
    }

    /// Size and BLAKE3 of the object at `path`, streamed (never fully in memory).
    async fn stream_hash(&self, path: &ObjectPath, key: &str) -> Result<(u64, String), StoreError> {
        if let Some(file) = self.local_file(path) {
            return hash_file(&file).await.map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => StoreError::NotFound { key: key.to_string() },
                _ => StoreError::LocalIo { path: file, source: e },
            });
        }
        let mut stream = self.inner.get(path).await.map_err(|e| StoreError::from_object_store(key, e))?.into_stream();
        let mut hasher = blake3::Hasher::new();
        let mut n = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| StoreError::from_object_store(key, e))?;
            n += chunk.len() as u64;
            hasher.update(&chunk);
        }
        Ok((n, hasher.finalize().to_hex().to_string()))
    }
}

fn object_path(key: &str) -> Result<ObjectPath, StoreError> {
    ObjectPath::parse(key).map_err(|e| StoreError::InvalidKey { key: key.to_string(), reason: e.to_string() })
}

/// Copies `src` to `dest` the way object_store's local store writes: into a staging file
/// beside it (`<name>#<digits>`, which that store never lists), then renamed, so a reader
/// never sees a partial object. Blocking.
/// Which end of a local copy failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CopySide {
    Read,
    Write,
}

/// Whether a failed copy's error is the destination's: its disk full, over its quota, a
/// file over the size limit, read-only, or a folder that cannot be written.
fn write_side(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(e.kind(), StorageFull | QuotaExceeded | FileTooLarge | ReadOnlyFilesystem)
}

fn copy_into_place(src: &Path, dest: &Path) -> Result<(), (CopySide, std::io::Error)> {
    // The source is opened first: a scan that cannot be read is the input's fault.
    std::fs::File::open(src).map_err(|e| (CopySide::Read, e))?;
    let wrote = |e: std::io::Error| (CopySide::Write, e);
    if let Some(dir) = dest.parent() {
        std::fs::create_dir_all(dir).map_err(wrote)?;
    }
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let mut staging = dest.as_os_str().to_owned();
    staging.push(format!("#{}{nanos:09}", std::process::id()));
    let staging = PathBuf::from(staging);
    let copied = std::fs::copy(src, &staging).map_err(|e| if write_side(&e) { (CopySide::Write, e) } else { (CopySide::Read, e) });
    let copied = copied.and_then(|_| std::fs::rename(&staging, dest).map_err(wrote));
    if copied.is_err() {
        let _ = std::fs::remove_file(&staging);
    }
    copied
}

/// Size and BLAKE3 of a local file, read in a blocking task.
/// [`hash_file_blocking`] on a blocking thread.
pub async fn hash_file(path: &Path) -> std::io::Result<(u64, String)> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || hash_file_blocking(&path)).await.map_err(std::io::Error::other)?
}

/// Size and BLAKE3 (hex) of a local file, read in 8 MiB chunks, each hashed on all cores
/// (rayon). Not memory-mapped: a mapped scan would count whole in the process's resident
/// memory, a chunk does not.
/// Blocking.
fn hash_file_blocking(path: &Path) -> std::io::Result<(u64, String)> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut hasher = blake3::Hasher::new();
    // No bigger than the file: small objects (parts, documents) are read back often, on
    // any blocking thread, and a freed 8 MiB buffer stays resident in that thread's arena.
    let len = file.metadata().map(|m| m.len()).unwrap_or(HASH_CHUNK as u64);
    let mut buf = vec![0u8; (len as usize).clamp(1, HASH_CHUNK)];
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update_rayon(&buf[..n]);
    }
    Ok((hasher.count(), hasher.finalize().to_hex().to_string()))
}

/// Read size of [`hash_file_blocking`].
const HASH_CHUNK: usize = 8 * 1024 * 1024;

/// The URL without user info, for messages.
fn redact(raw: &str) -> String {
    match Url::parse(raw) {
        Ok(mut u) => {
            let _ = u.set_password(None);
            let _ = u.set_username("");
            u.to_string()
        }
        Err(_) => raw.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(len: usize, seed: u64) -> Bytes {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let v: Vec<u8> = (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        Bytes::from(v)
    }

    #[test]
    fn keys_are_sharded_by_hash() {
        let h = "ab".to_string() + &"0".repeat(62);
        assert_eq!(Store::document_key(&h), format!("documents/ab/{h}.pdf"));
        assert_eq!(Store::original_key(&h, ".TIF"), format!("originals/ab/{h}.tif"));
        // Bad input never panics.
        assert_eq!(Store::document_key("a"), "documents/__/a.pdf");
    }

    #[test]
    fn open_rejects_bad_urls() {
        let dir = tempfile::tempdir().unwrap();
        for url in ["not a url", "file://host/x", "s3:///prefix", "nosuchscheme://x/y"] {
            let err = Store::open(Some(url), dir.path()).unwrap_err();
            assert_eq!(err.code(), "store-config", "{url}: {err}");
        }
    }

    #[test]
    fn s3_urls_build_a_store_without_network() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(Some("s3://sohoa-bucket/site/hn"), dir.path()).unwrap();
        assert_eq!(store.location(), "s3://sohoa-bucket/site/hn");
    }

    #[test]
    fn classifies_object_store_errors() {
        let http = |kind| object_store::Error::Generic { store: "S3", source: Box::new(HttpError::new(kind, std::io::Error::other("x"))) };
        assert!(is_retryable_object_store_error(&http(HttpErrorKind::Connect)));
        assert!(is_retryable_object_store_error(&http(HttpErrorKind::Timeout)));
        assert!(!is_retryable_object_store_error(&http(HttpErrorKind::Decode)));
        let msg = |store, m: &str| object_store::Error::Generic { store, source: m.to_string().into() };
        let e503 = "Error performing PUT in 1s - Server returned non-2xx status code: 503 Service Unavailable: ";
        let e400 = "Error performing PUT in 1s - Server returned non-2xx status code: 400 Bad Request: ";
        assert!(is_retryable_object_store_error(&msg("S3", e503)));
        assert!(!is_retryable_object_store_error(&msg("S3", e400)));
        assert!(is_retryable_object_store_error(&msg("S3", "connection reset")));
        assert!(!is_retryable_object_store_error(&msg("LocalFileSystem", "disk full")));
        let nf = object_store::Error::NotFound { path: "x".into(), source: "gone".into() };
        let e = StoreError::from_object_store("x", nf);
        assert_eq!((e.code(), e.is_retryable()), ("store-not-found", false));
        let e = StoreError::from_object_store("k", msg("S3", e503));
        assert_eq!((e.code(), e.is_retryable()), ("store-unavailable", true));
    }

    #[tokio::test]
    async fn local_put_get_verify_and_idempotent_rewrite() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(None, dir.path()).unwrap();
        let bytes = sample(10_000, 1);
        let hash = blake3_hex(&bytes);
        let key = Store::document_key(&hash);
        assert!(!store.exists(&key).await.unwrap());
        store.put_verified(&key, bytes.clone()).await.unwrap();
        assert!(store.exists(&key).await.unwrap());
        let file = dir.path().join("objects").join(key.as_str());
        assert_eq!(std::fs::read(&file).unwrap(), bytes.as_ref());
        assert_eq!(store.get_verified(&key, &hash).await.unwrap(), bytes);

        // Rewriting the same bytes is a no-op: the file is not replaced.
        let before = std::fs::metadata(&file).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        store.put_verified(&key, bytes.clone()).await.unwrap();
        let after = std::fs::metadata(&file).unwrap();
        assert_eq!(before.modified().unwrap(), after.modified().unwrap());

        // Asking for another hash is a corruption, a missing key is not found.
        let other = blake3_hex(b"other");
        let e = store.get_verified(&key, &other).await.unwrap_err();
        assert_eq!(e.code(), "store-corrupt");
        let e = store.get_verified(&Store::document_key(&other), &other).await.unwrap_err();
        assert_eq!((e.code(), e.is_retryable()), ("store-not-found", false));
        let e = store.get_verified(&key, "xyz").await.unwrap_err();
        assert_eq!(e.code(), "store-invalid-key");
    }

    #[tokio::test]
    async fn tampered_object_is_detected_and_repaired_by_rewrite() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(None, dir.path()).unwrap();
        let bytes = sample(4096, 2);
        let hash = blake3_hex(&bytes);
        let key = Store::document_key(&hash);
        store.put_verified(&key, bytes.clone()).await.unwrap();

        // Same size, one byte flipped.
        let file = dir.path().join("objects").join(key.as_str());
        let mut tampered = bytes.to_vec();
        tampered[100] ^= 0x01;
        std::fs::write(&file, &tampered).unwrap();
        let e = store.get_verified(&key, &hash).await.unwrap_err();
        assert_eq!((e.code(), e.is_retryable()), ("store-corrupt", false));

        // A verified write notices the damage and replaces the object.
        store.put_verified(&key, bytes.clone()).await.unwrap();
        assert_eq!(store.get_verified(&key, &hash).await.unwrap(), bytes);
    }

    #[tokio::test]
    async fn large_objects_and_files_go_through_multipart() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("file://{}", dir.path().join("elsewhere").display());
        let store = Store::open(Some(&url), dir.path()).unwrap();
        let big = sample(MULTIPART_THRESHOLD * 2 + 12_345, 3);
        let hash = blake3_hex(&big);
        let key = Store::original_key(&hash, "tif");
        store.put_verified(&key, big.clone()).await.unwrap();
        assert_eq!(store.get_verified(&key, &hash).await.unwrap(), big);
        assert!(dir.path().join("elsewhere").join(key.as_str()).is_file());

        // The same bytes from a file: already there, no-op.
        let src = dir.path().join("scan.tif");
        std::fs::write(&src, &big).unwrap();
        store.put_file_verified(&key, &src).await.unwrap();

        // Files into a local folder are copied by the kernel; into any other store a
        // large one is streamed in parts, a small one goes in one put.
        let memory = Store::open(Some("memory:///"), dir.path()).unwrap();
        assert!(memory.local.is_none() && store.local.is_some());
        for (seed, store) in [(4, &store), (6, &memory)] {
            let big2 = sample(MULTIPART_THRESHOLD + 1, seed);
            std::fs::write(&src, &big2).unwrap();
            let hash2 = blake3_hex(&big2);
            let key2 = Store::original_key(&hash2, "tif");
            store.put_file_verified(&key2, &src).await.unwrap();
            assert_eq!(store.get_verified(&key2, &hash2).await.unwrap(), big2);

            let small = sample(100, seed + 1);
            std::fs::write(&src, &small).unwrap();
            let hash3 = blake3_hex(&small);
            let key3 = Store::original_key(&hash3, "pdf");
            store.put_file_verified(&key3, &src).await.unwrap();
            assert_eq!(store.get_verified(&key3, &hash3).await.unwrap(), small);

            let e = store.put_file_verified(&key3, &dir.path().join("missing")).await.unwrap_err();
            assert_eq!(e.code(), "store-local-io");
        }
        // The local copies left no staging file behind, and a listing shows the objects.
        let mut names = Vec::new();
        let mut dirs = vec![dir.path().join("elsewhere")];
        while let Some(d) = dirs.pop() {
            for entry in std::fs::read_dir(d).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() { dirs.push(path) } else { names.push(path.file_name().unwrap().to_string_lossy().into_owned()) }
            }
        }
        assert_eq!(names.len(), 3, "{names:?}");
        assert!(names.iter().all(|n| !n.contains('#')), "{names:?}");
    }

    #[test]
    fn a_failed_local_copy_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("objects/originals/ab/x.tif");
        let (side, e) = copy_into_place(&dir.path().join("missing.tif"), &dest).unwrap_err();
        assert_eq!((side, e.kind()), (CopySide::Read, std::io::ErrorKind::NotFound), "the input's fault, not the store's");
        assert!(!dest.parent().unwrap().exists());
        let src = dir.path().join("scan.tif");
        std::fs::write(&src, b"scan").unwrap();
        copy_into_place(&src, &dest).unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"scan");
        assert_eq!(std::fs::read_dir(dest.parent().unwrap()).unwrap().count(), 1);
    }

    #[tokio::test]
    async fn memory_url_goes_through_parse_url() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(Some("memory:///some/prefix"), dir.path()).unwrap();
        let bytes = sample(10, 6);
        let hash = blake3_hex(&bytes);
        store.put_verified("k/one", bytes.clone()).await.unwrap();
        assert_eq!(store.get_verified("k/one", &hash).await.unwrap(), bytes);
    }
}
