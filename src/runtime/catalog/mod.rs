//! The catalog: the durable record of batches, pages, dossiers and documents, and the job
//! queue that drives the workers. One logical schema on SQLite (default, a file in the data
//! directory) and PostgreSQL (several hosts), reached through `sqlx::AnyPool`.
//!
//! Owns: the schema and its migrations (`migrations/{sqlite,postgres}`), the mapping
//! between rows and the report types of [`crate::model`], the queue protocol
//! (`queue.rs`), and search over the documents' OCR text (`search.rs`: FTS5 on SQLite,
//! tsvector on PostgreSQL, diacritic-insensitive). Invariants:
//! - a batch is created together with its job, in one transaction; one batch per original
//!   (by BLAKE3), so ingesting the same scan twice yields [`CreateOutcome::Duplicate`];
//! - a batch's pages, dossiers and documents become visible all at once, when its job
//!   completes (one transaction that first deletes leftovers), so a batch is never
//!   half-visible and completing twice is harmless;
//! - [`Catalog::batch_report`] returns exactly the [`BatchReport`] that was stored;
//! - every write transaction takes the write lock first (`BEGIN IMMEDIATE` on SQLite, row
//!   locks on PostgreSQL), so several processes may share one catalog;
//! - on SQLite, the writers of one process also take turns on an in-process lock
//!   ([`WriteTx`]) before asking SQLite for its write lock, so they queue instead of
//!   meeting SQLite's busy handler, which polls with sleeps of 1 to 100 ms.
//!
//! Timestamps are unix milliseconds taken from this process's clock; ids are TEXT; lists
//! are JSON in TEXT columns; booleans are 0/1 integers (the common ground of `sqlx::Any`).
//! Placeholders are `$N` on both backends (sqlx's SQLite driver accepts them). Never bind
//! a `None` float through `Any` (see `write_report`).
//! Called by intake (create batches), the worker (claim, heartbeat, complete, fail), the
//! API and the CLI (reports, documents, queue counts), certification (`certify.rs`: the
//! certification book and the certified copies).

mod audit;
mod certify;
mod dossiers;
mod fields;
mod queue;
mod records;
mod search;
mod tokens;

pub use audit::{AuditAction, AuditBreak, AuditEvent, NewAuditEvent, audit_row_hash};
pub use certify::{BookPlace, CertificationEntry, CertifiedDocument};
pub use dossiers::{Attachment, DossierRecord, DossierResult, ReuseHit};
pub use fields::{fold_value, parse_field_filter};
pub use queue::{ClaimFilter, Job, JobKind, JobStatus, LeaseHolder, MAX_ATTEMPTS, MAX_PAGE_DEATHS, PartRecord, QueueCounts, poison_pages, retry_delay};
pub use records::{BatchListing, DocumentRecord};
pub use search::{SearchHit, SearchQuery, fold_vietnamese, index_text, is_citizen_id};
pub use tokens::{NewToken, TokenRecord};

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::{MigrateError, Migrator};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Any, AnyConnection, AnyPool, ConnectOptions, Executor, Row, Transaction};

use crate::model::{BatchState, PageKind};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("src/runtime/catalog/migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("src/runtime/catalog/migrations/postgres");

/// How long a SQLite connection waits for another writer before giving up.
const SQLITE_BUSY_TIMEOUT_MS: u64 = 30_000;

/// Why a catalog operation failed.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("Invalid catalog URL {url:?}: {reason}")]
    Config { url: String, reason: String },
    #[error("No catalog at {path}: check --data/--catalog, or create one with `sohoa ingest` or `sohoa process`")]
    Missing { path: String },
    #[error("Cannot open catalog {url}: {source}")]
    Connect { url: String, source: sqlx::Error },
    #[error("Catalog migration failed: {0}")]
    Migrate(#[from] MigrateError),
    #[error("Catalog query failed: {0}")]
    Db(#[from] sqlx::Error),
    #[error("Job {job_id} is no longer held by worker {worker_id}")]
    JobLost { job_id: String, worker_id: String },
    #[error("Invalid catalog input: {0}")]
    Invalid(String),
    #[error("Catalog row is corrupt: {0}")]
    Corrupt(String),
    /// The catalog file is not a database, or a damaged one.
    #[error("Catalog {url} is damaged or not a sohoa catalog: {detail}; restore it from a backup or move it away")]
    Damaged { url: String, detail: String },
    #[error("Document prefix {prefix:?} matches several documents")]
    Ambiguous { prefix: String },
}

/// What a database error means for the caller: its code and whether to retry.
fn classify_sqlx(e: &sqlx::Error) -> (&'static str, bool) {
    use sqlx::error::ErrorKind;
    match e {
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::PoolTimedOut | sqlx::Error::Protocol(_) | sqlx::Error::WorkerCrashed => {
            ("catalog-unavailable", true)
        }
        sqlx::Error::PoolClosed => ("catalog-unavailable", false),
        sqlx::Error::Configuration(_) => ("catalog-config", false),
        sqlx::Error::Database(db) => {
            match db.kind() {
                ErrorKind::UniqueViolation => return ("catalog-conflict", false),
                ErrorKind::ForeignKeyViolation | ErrorKind::NotNullViolation | ErrorKind::CheckViolation => return ("catalog-constraint", false),
                _ => {}
            }
            if let Some(pg) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
                let code = pg.code();
                // serialization failure, deadlock, lock not available, too many connections,
                // shutdown in progress, connection exceptions.
                let transient = matches!(code, "40001" | "40P01" | "55P03" | "53300" | "57P01" | "57P02" | "57P03") || code.starts_with("08");
                return if transient { ("catalog-busy", true) } else { ("catalog-db", false) };
            }
            if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                // Extended result codes; the primary code is the low byte.
                let primary = db.code().and_then(|c| c.parse::<i32>().ok()).map(|c| c & 0xff);
                // SQLITE_BUSY, SQLITE_LOCKED
                if matches!(primary, Some(5) | Some(6)) {
                    return ("catalog-busy", true);
                }
            }
            ("catalog-db", false)
        }
        _ => ("catalog-db", false),
    }
}

impl CatalogError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            CatalogError::Config { .. } => "catalog-config",
            CatalogError::Missing { .. } => "catalog-missing",
            CatalogError::Connect { source, .. } => match classify_sqlx(source) {
                ("catalog-config", _) => "catalog-config",
                _ => "catalog-unavailable",
            },
            CatalogError::Migrate(_) => "catalog-migration",
            CatalogError::Db(e) => classify_sqlx(e).0,
            CatalogError::JobLost { .. } => "job-lost",
            CatalogError::Invalid(_) => "catalog-invalid",
            CatalogError::Corrupt(_) | CatalogError::Damaged { .. } => "catalog-corrupt",
            CatalogError::Ambiguous { .. } => "document-ambiguous",
        }
    }

    /// The SQLite error saying the file is not a database or is damaged (`SQLITE_NOTADB`,
    /// `SQLITE_CORRUPT`), if this is one.
    fn damaged_file(&self) -> Option<String> {
        let e = match self {
            CatalogError::Db(e) | CatalogError::Connect { source: e, .. } => e,
            CatalogError::Migrate(MigrateError::Execute(e)) => e,
            _ => return None,
        };
        let sqlx::Error::Database(db) = e else { return None };
        db.try_downcast_ref::<sqlx::sqlite::SqliteError>()?;
        let primary = db.code().and_then(|c| c.parse::<i32>().ok()).map(|c| c & 0xff);
        matches!(primary, Some(11) | Some(26)).then(|| db.message().to_string())
    }

    /// True for failures that may go away on their own (database busy or unreachable).
    pub fn is_retryable(&self) -> bool {
        match self {
            CatalogError::Connect { source, .. } | CatalogError::Db(source) => classify_sqlx(source).1,
            _ => false,
        }
    }
}

/// A batch to record, with the original scan already in the object store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBatch {
    pub id: String,
    pub source: String,
    pub original_key: String,
    pub original_blake3: String,
    pub original_bytes: u64,
    /// The files the batch was made from (see `worker::Manifest`), JSON.
    pub manifest_json: String,
    /// Pages in the batch (0 if unknown).
    pub page_count: u64,
    /// Split the batch into `pages` jobs of this many pages when it has more; 0: one job.
    pub chunk_pages: u64,
    /// The post office the batch was received at (a clerk's token, a hot folder's tag).
    pub post_office: Option<String>,
}

impl NewBatch {
    /// The page ranges of the batch's `pages` jobs, or `None` for one `batch` job.
    pub fn page_ranges(&self) -> Option<Vec<(u64, u64)>> {
        let (n, c) = (self.page_count, self.chunk_pages);
        if c == 0 || n <= c {
            return None;
        }
        Some((0..n.div_ceil(c)).map(|i| (i * c, ((i + 1) * c).min(n))).collect())
    }
}

/// Result of [`Catalog::create_batch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateOutcome {
    Created,
    /// The same original (by BLAKE3) was already recorded as this batch; nothing inserted.
    Duplicate {
        batch_id: String,
    },
}

/// Which database the catalog lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Handle on the catalog database. Cheap to clone (clones share the pool).
#[derive(Clone)]
pub struct Catalog {
    pool: AnyPool,
    backend: Backend,
    /// Added to the system clock; only tests move it (see [`Catalog::advance_clock`]).
    clock_offset_ms: Arc<AtomicI64>,
    /// Whose turn it is to write, among this process's writers (SQLite only).
    write_turn: Arc<tokio::sync::Mutex<()>>,
}

/// A write transaction (see [`Catalog::begin_write`]): a connection of the pool inside
/// `BEGIN`, and on SQLite this process's write turn, held until it commits, rolls back or
/// is dropped. Used like the connection it derefs to (`.execute(&mut *tx)`).
///
/// The transaction is plain SQL (`BEGIN IMMEDIATE`/`COMMIT`/`ROLLBACK`), not sqlx's
/// `Transaction`, whose depth counter stays at one when a `COMMIT` fails and SQLite has
/// already rolled back by itself (a full disk): that connection then refused every later
/// transaction ("attempted to call begin_with at non-zero transaction depth"). Here a
/// transaction that does not end cleanly (`COMMIT` or `ROLLBACK` failed, or dropped
/// unfinished) rolls back and its connection is closed, never handed to the next writer.
pub(crate) struct WriteTx {
    conn: Option<sqlx::pool::PoolConnection<Any>>,
    turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl WriteTx {
    pub(crate) async fn commit(self) -> Result<(), sqlx::Error> {
        self.finish("COMMIT").await
    }

    pub(crate) async fn rollback(self) -> Result<(), sqlx::Error> {
        self.finish("ROLLBACK").await
    }

    /// Ends the transaction with `statement`; a connection that fails to end it is closed.
    async fn finish(mut self, statement: &'static str) -> Result<(), sqlx::Error> {
        let mut conn = self.conn.take().expect("an open transaction");
        match (&mut *conn).execute(statement).await {
            Ok(_) => Ok(()),
            Err(e) => {
                discard(conn).await;
                Err(e)
            }
        }
    }
}

/// A connection whose transaction did not end cleanly: rolled back if it can be, then
/// closed (the pool opens a fresh one).
async fn discard(mut conn: sqlx::pool::PoolConnection<Any>) {
    let _ = (&mut *conn).execute("ROLLBACK").await;
    let _ = conn.close().await;
}

impl Drop for WriteTx {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else { return };
        // Dropped inside the transaction (an early return on an error): roll back before
        // this process's next writer gets its turn.
        let turn = self.turn.take();
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn(async move {
                    discard(conn).await;
                    drop(turn);
                });
            }
            // No runtime: closing the connection ends the transaction (the database rolls it back).
            Err(_) => drop(conn.detach()),
        }
    }
}

impl std::ops::Deref for WriteTx {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        self.conn.as_ref().expect("an open transaction")
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        self.conn.as_mut().expect("an open transaction")
    }
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog").field("backend", &self.backend).finish()
    }
}

/// Resolves the catalog URL: which backend, the URL to connect with, and the URL to show
/// in messages (no password).
fn resolve_url(url: Option<&str>, data_dir: &Path, create: bool) -> Result<(Backend, String, String), CatalogError> {
    if !create {
        // A read must not leave an empty catalog behind a mistyped path.
        let file = match url {
            None => Some(data_dir.join("catalog.db")),
            Some(raw) if raw.starts_with("sqlite:") => {
                let path = raw.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
                Some(PathBuf::from(path.split('?').next().unwrap_or(path)))
            }
            Some(_) => None,
        };
        if let Some(file) = file
            && !file.is_file()
        {
            return Err(CatalogError::Missing { path: file.display().to_string() });
        }
    }
    let Some(raw) = url else {
        std::fs::create_dir_all(data_dir)
            .map_err(|e| CatalogError::Config { url: "default".into(), reason: format!("cannot create data directory {}: {e}", data_dir.display()) })?;
        let dir = std::fs::canonicalize(data_dir)
            .map_err(|e| CatalogError::Config { url: "default".into(), reason: format!("cannot resolve data directory {}: {e}", data_dir.display()) })?;
        let path = dir.join("catalog.db");
        let url = SqliteConnectOptions::new().filename(&path).create_if_missing(create).to_url_lossy().to_string();
        return Ok((Backend::Sqlite, url, path.display().to_string()));
    };
    if raw.starts_with("sqlite:") {
        let url = if raw.contains("mode=") {
            raw.to_string()
        } else if raw.contains('?') {
            format!("{raw}&mode={}", if create { "rwc" } else { "rw" })
        } else {
            format!("{raw}?mode={}", if create { "rwc" } else { "rw" })
        };
        return Ok((Backend::Sqlite, url, raw.to_string()));
    }
    if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
        let shown = match url::Url::parse(raw) {
            Ok(mut u) => {
                if u.password().is_some() {
                    let _ = u.set_password(Some("***"));
                }
                u.to_string()
            }
            Err(e) => {
                return Err(CatalogError::Config { url: raw.to_string(), reason: e.to_string() });
            }
        };
        return Ok((Backend::Postgres, raw.to_string(), shown));
    }
    Err(CatalogError::Config { url: raw.to_string(), reason: "expected sqlite:///path/to/catalog.db or postgres://user@host/database".into() })
}

pub(crate) fn system_now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

impl Catalog {
    /// Opens (creating if needed) the catalog and brings its schema up to date.
    ///
    /// `None`: SQLite file `<data_dir>/catalog.db` in WAL mode. Otherwise a `sqlite://` or
    /// `postgres://` URL.
    pub async fn open(url: Option<&str>, data_dir: &Path) -> Result<Catalog, CatalogError> {
        Catalog::open_with(url, data_dir, true).await
    }

    /// Opens a catalog that must already exist (the read commands): a SQLite file that is
    /// not there is [`CatalogError::Missing`], and nothing is created.
    pub async fn open_existing(url: Option<&str>, data_dir: &Path) -> Result<Catalog, CatalogError> {
        Catalog::open_with(url, data_dir, false).await
    }

    async fn open_with(url: Option<&str>, data_dir: &Path, create: bool) -> Result<Catalog, CatalogError> {
        sqlx::any::install_default_drivers();
        let (backend, url, shown) = resolve_url(url, data_dir, create)?;
        let opts = AnyConnectOptions::from_str(&url).map_err(|e| CatalogError::Config { url: shown.clone(), reason: e.to_string() })?;
        let pool = AnyPoolOptions::new()
            .max_connections(match backend {
                Backend::Sqlite => 4,
                Backend::Postgres => 8,
            })
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute(format!("PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}").as_str()).await?;
                    }
                    Ok(())
                })
            })
            .connect_with(opts)
            .await
            .map_err(|source| CatalogError::Connect { url: shown.clone(), source })?;
        let catalog = Catalog { pool, backend, clock_offset_ms: Arc::new(AtomicI64::new(0)), write_turn: Arc::default() };
        let set_up = async {
            if backend == Backend::Sqlite {
                // Persistent in the file; readers then never block the writer.
                sqlx::query("PRAGMA journal_mode = WAL").execute(&catalog.pool).await.map_err(CatalogError::from)?;
            }
            catalog.migrate().await?;
            catalog.backfill_search().await
        };
        // A file that is not a database fails here, on its first read: say which file.
        set_up.await.map_err(|e| match e.damaged_file() {
            Some(detail) => CatalogError::Damaged { url: shown.clone(), detail },
            None => e,
        })?;
        tracing::debug!(catalog = %shown, ?backend, "Catalog opened");
        Ok(catalog)
    }

    async fn migrate(&self) -> Result<(), CatalogError> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        // Two processes opening a fresh SQLite file at once may both try to apply the
        // first migration; the loser succeeds on a second look.
        let mut attempt = 0;
        loop {
            match migrator.run(&self.pool).await {
                Ok(()) => return Ok(()),
                Err(e) if attempt < 2 && matches!(e, MigrateError::Execute(_)) => {
                    attempt += 1;
                    tracing::warn!(error = %e, attempt, "Catalog migration failed, retrying");
                    tokio::time::sleep(Duration::from_millis(200 * attempt)).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Which database this catalog lives in.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes the pool (waits for connections to be returned).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Current time in unix milliseconds as the catalog sees it.
    pub(crate) fn now_ms(&self) -> i64 {
        system_now_ms() + self.clock_offset_ms.load(Ordering::Relaxed)
    }

    /// Moves this catalog's clock (and its clones') forward, to test backoff and stale
    /// heartbeats without sleeping.
    #[doc(hidden)]
    pub fn advance_clock(&self, by: Duration) {
        self.clock_offset_ms.fetch_add(by.as_millis() as i64, Ordering::Relaxed);
    }

    /// Starts a transaction that holds the write lock from its first statement on SQLite
    /// (`BEGIN IMMEDIATE`, waiting up to the busy timeout), so a read inside it can never be
    /// invalidated by another writer. On SQLite it first waits for this process's write
    /// turn: a writer of this process never polls for a lock another one holds.
    pub(crate) async fn begin_write(&self) -> Result<WriteTx, CatalogError> {
        let turn = self.write_turn().await;
        let mut conn = self.pool.acquire().await?;
        let begin = match self.backend {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN",
        };
        if let Err(e) = (&mut *conn).execute(begin).await {
            // Busy: the connection is fine. Anything else: it may be in a bad state.
            if classify_sqlx(&e).0 != "catalog-busy" {
                discard(conn).await;
            }
            return Err(e.into());
        }
        Ok(WriteTx { conn: Some(conn), turn })
    }

    /// This process's turn to write to SQLite (`None` on PostgreSQL, whose writers wait on
    /// row locks, not by polling). Taken by every write, transaction or single statement.
    pub(crate) async fn write_turn(&self) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        match self.backend {
            Backend::Sqlite => Some(Arc::clone(&self.write_turn).lock_owned().await),
            Backend::Postgres => None,
        }
    }

    /// Starts a read-only transaction that sees one snapshot throughout, so a report is
    /// never assembled from rows of two different completions.
    pub(crate) async fn begin_read(&self) -> Result<Transaction<'static, Any>, CatalogError> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN DEFERRED").await?,
            Backend::Postgres => self.pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").await?,
        })
    }

    /// Records a new batch (state "queued") and its job in one transaction, unless the
    /// same original is already recorded.
    pub async fn create_batch(&self, b: &NewBatch) -> Result<CreateOutcome, CatalogError> {
        let bytes = to_i64(b.original_bytes, "original_bytes")?;
        let now = self.now_ms();
        let mut tx = self.begin_write().await?;
        let inserted = sqlx::query(
            "INSERT INTO batches (id, source, original_key, original_blake3, original_bytes, state, created_at, warnings_json, manifest_json, page_count, post_office)
             VALUES ($1, $2, $3, $4, $5, 'queued', $6, '[]', $7, $8, $9)
             ON CONFLICT (original_blake3) DO NOTHING",
        )
        .bind(&b.id)
        .bind(&b.source)
        .bind(&b.original_key)
        .bind(&b.original_blake3)
        .bind(bytes)
        .bind(now)
        .bind(&b.manifest_json)
        .bind(to_i64(b.page_count, "page_count")?)
        .bind(b.post_office.as_deref())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            let existing: String =
                sqlx::query("SELECT id FROM batches WHERE original_blake3 = $1").bind(&b.original_blake3).fetch_one(&mut *tx).await?.try_get(0)?;
            tx.rollback().await?;
            return Ok(CreateOutcome::Duplicate { batch_id: existing });
        }
        match b.page_ranges() {
            None => {
                sqlx::query(
                    "INSERT INTO jobs (id, batch_id, status, attempts, max_attempts, run_after, created_at, kind)
                     VALUES ($1, $2, 'queued', 0, $3, $4, $4, 'batch')",
                )
                .bind(uuid::Uuid::now_v7().to_string())
                .bind(&b.id)
                .bind(MAX_ATTEMPTS as i64)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            Some(ranges) => {
                for (start, end) in ranges {
                    sqlx::query(
                        "INSERT INTO jobs (id, batch_id, status, attempts, max_attempts, run_after, created_at, kind, page_start, page_end)
                         VALUES ($1, $2, 'queued', 0, $3, $4, $4, 'pages', $5, $6)",
                    )
                    .bind(format!("{}/p{start:06}", b.id))
                    .bind(&b.id)
                    .bind(MAX_ATTEMPTS as i64)
                    .bind(now)
                    .bind(to_i64(start, "page_start")?)
                    .bind(to_i64(end, "page_end")?)
                    .execute(&mut *tx)
                    .await?;
                }
            }
        }
        tx.commit().await?;
        Ok(CreateOutcome::Created)
    }

    /// Where the batch came from (the path or name given at ingest).
    pub async fn batch_source(&self, batch_id: &str) -> Result<Option<String>, CatalogError> {
        Ok(sqlx::query_scalar("SELECT source FROM batches WHERE id = $1").bind(batch_id).fetch_optional(&self.pool).await?)
    }

    /// The batch's state; `None` if there is no such batch.
    pub async fn batch_state(&self, batch_id: &str) -> Result<Option<BatchState>, CatalogError> {
        let row = sqlx::query("SELECT state FROM batches WHERE id = $1").bind(batch_id).fetch_optional(&self.pool).await?;
        match row {
            Some(r) => {
                let name: String = r.try_get(0)?;
                BatchState::parse(&name).map(Some).ok_or_else(|| CatalogError::Corrupt(format!("batch {batch_id} has the unknown state {name:?}")))
            }
            None => Ok(None),
        }
    }
}

/// Row id of the `seq`-th dossier of a batch.
fn dossier_row_id(batch_id: &str, seq: usize) -> String {
    format!("{batch_id}/d{seq}")
}

fn page_kind_str(kind: PageKind) -> &'static str {
    match kind {
        PageKind::Content => "content",
        PageKind::Separator => "separator",
        PageKind::Blank => "blank",
    }
}

fn parse_page_kind(s: &str) -> Option<PageKind> {
    match s {
        "content" => Some(PageKind::Content),
        "separator" => Some(PageKind::Separator),
        "blank" => Some(PageKind::Blank),
        _ => None,
    }
}

/// SQLite stores NaN as NULL; keep the column NOT NULL by recording a non-finite skew as 0.
fn finite_or_zero(x: f32) -> f64 {
    if x.is_finite() { f64::from(x) } else { 0.0 }
}

fn to_i64(v: u64, what: &str) -> Result<i64, CatalogError> {
    i64::try_from(v).map_err(|_| CatalogError::Invalid(format!("{what} {v} does not fit the catalog")))
}

fn from_i64<T: TryFrom<i64>>(v: i64, what: &str) -> Result<T, CatalogError> {
    T::try_from(v).map_err(|_| CatalogError::Corrupt(format!("{what} = {v} is out of range")))
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<String, CatalogError> {
    serde_json::to_string(v).map_err(|e| CatalogError::Invalid(e.to_string()))
}

fn parse_json_list(s: &str, what: &str) -> Result<Vec<String>, CatalogError> {
    serde_json::from_str(s).map_err(|e| CatalogError::Corrupt(format!("{what}: {e}")))
}

#[cfg(test)]
mod tests;
