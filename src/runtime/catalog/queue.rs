//! The durable job queue: the work of a batch, claimed by one worker at a time per job.
//!
//! A small batch is one `batch` job (the whole pipeline in one go). A batch of more than
//! `chunk_pages` pages is split into `pages` jobs, one per range of pages, that any worker
//! anywhere may run (several workers share one big batch); each stores its processed pages
//! as one object and records its key. Completing the last `pages` job of a batch creates
//! the batch's `assemble` job, claimed at once by the completing worker, in the same
//! transaction (on PostgreSQL the batch row is locked first, so two workers finishing the
//! last two ranges at once cannot both miss it): it cuts the pages into documents, stores
//! them and commits the report.
//!
//! Protocol: a worker claims the oldest runnable job (assemble jobs first) (queued and due, or running with a
//! heartbeat older than `stale_after`, i.e. its worker died), heartbeats while it works,
//! then completes it (rows written, batch "done") or fails it (retried with exponential
//! backoff while attempts remain and the error is retryable, else "failed"). Every state
//! change checks that the job is still held by the caller's `worker_id`; a worker whose job
//! was taken over gets `job-lost` and must stop.
//!
//! The lease: a claim records who holds the job (worker id, host, boot id, pid and the
//! process's start time). A running job held by a process of this machine and this boot
//! that no longer exists (killed, crashed) is taken over at once by the next claim on the
//! machine, without waiting for its heartbeat to go stale; a pid reused by another process
//! is told apart by its start time. The page threads record the pages they are on
//! ([`Catalog::lease_pages`]); when a job is taken over from a dead worker, those pages
//! are added to the job's `died_on` history, and a page in progress at
//! [`MAX_PAGE_DEATHS`] deaths is not run again: it fails alone ([`Job::poison_pages`]).
//!
//! Claims are safe with many workers in many processes: on PostgreSQL a transaction
//! selects the candidate `FOR UPDATE SKIP LOCKED`; on SQLite one `UPDATE ... WHERE id =
//! (SELECT ...) RETURNING` inside `BEGIN IMMEDIATE` (one writer at a time on the file).
//! Every attempt counts, including those of workers that died: a job that keeps killing
//! its worker is failed once it has used `max_attempts`.

use std::time::Duration;

use sqlx::Row;

use super::{Backend, Catalog, CatalogError};
use crate::model::{BatchReport, BatchState};

/// Attempts a job gets before it is failed for good.
pub const MAX_ATTEMPTS: u32 = 5;
/// Longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    /// The whole batch: pages, documents, report.
    Batch,
    /// Pages `start..end` of the batch, processed and stored as one result object.
    Pages { start: usize, end: usize },
    /// The batch's processed pages cut into documents, stored, and the report committed.
    Assemble,
}

/// Which jobs a claim may take.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClaimFilter<'a> {
    /// Only jobs of these batches (`sohoa process` runs its own batches).
    pub batches: Option<&'a [String]>,
    /// Only `pages` jobs (a worker already running page threads takes more pages).
    pub pages_only: bool,
}

/// Where the stored result of a done `pages` job is (see `runtime::worker::part`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartRecord {
    pub job_id: String,
    pub start: usize,
    pub end: usize,
    pub key: String,
    pub blake3: String,
}

/// A claimed job: what the worker needs to run it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: String,
    pub kind: JobKind,
    pub batch_id: String,
    /// Attempts so far, including this one (1 on the first claim).
    pub attempts: u32,
    pub source: String,
    pub original_key: String,
    pub original_blake3: String,
    /// The files the batch was made from (see `worker::Manifest`), JSON.
    pub manifest_json: String,
    /// Pages its workers died on [`MAX_PAGE_DEATHS`] times: not run again, failed alone.
    pub poison_pages: Vec<usize>,
}

/// Number of jobs in each status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueCounts {
    pub queued: u64,
    pub running: u64,
    pub done: u64,
    pub failed: u64,
}

/// Where the job of a batch stands (for the API and `sohoa` status output).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobStatus {
    pub job_id: String,
    /// "queued", "running", "done" or "failed".
    pub status: String,
    pub attempts: u32,
    pub max_attempts: u32,
    pub worker_id: Option<String>,
    pub last_error: Option<String>,
}

/// After a failed attempt: how long to wait before the next one, or `None` to fail the
/// job for good (error not retryable, or no attempts left). The wait is `2^attempts`
/// seconds, capped at five minutes.
pub fn retry_delay(attempts: u32, max_attempts: u32, retryable: bool) -> Option<Duration> {
    if !retryable || attempts >= max_attempts {
        return None;
    }
    let secs = 1u64.checked_shl(attempts).unwrap_or(u64::MAX);
    Some(Duration::from_secs(secs).min(MAX_BACKOFF))
}

/// Deaths of its worker a page may be in progress at before it is no longer run: one is
/// forgiven (a kill or a reboot says nothing about the page), the second is the page's.
pub const MAX_PAGE_DEATHS: usize = 2;

/// The pages in progress at [`MAX_PAGE_DEATHS`] deaths or more, from a `died_on` history
/// ("1,2;2": pages 1 and 2 at the first death, page 2 at the second).
pub fn poison_pages(died_on: &str) -> Vec<usize> {
    let mut deaths: std::collections::BTreeMap<usize, usize> = Default::default();
    for death in died_on.split(';') {
        let pages: std::collections::BTreeSet<usize> = death.split(',').filter_map(|p| p.trim().parse().ok()).collect();
        for p in pages {
            *deaths.entry(p).or_default() += 1;
        }
    }
    deaths.into_iter().filter(|&(_, n)| n >= MAX_PAGE_DEATHS).map(|(p, _)| p).collect()
}

/// The process that holds a lease: host name, boot id, pid and start time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseHolder {
    pub host: String,
    /// `/proc/sys/kernel/random/boot_id` and the pid namespace: a pid means nothing across
    /// a reboot or in another container.
    pub boot: String,
    pub pid: i64,
    /// The process's start time in clock ticks since boot (`/proc/<pid>/stat`, field 22),
    /// so a pid reused by another process does not look alive.
    pub started: i64,
}

impl LeaseHolder {
    /// This process.
    pub fn current() -> &'static LeaseHolder {
        static CURRENT: std::sync::OnceLock<LeaseHolder> = std::sync::OnceLock::new();
        CURRENT.get_or_init(|| {
            let pid = std::process::id();
            LeaseHolder {
                host: std::fs::read_to_string("/proc/sys/kernel/hostname")
                    .or_else(|_| std::fs::read_to_string("/etc/hostname"))
                    .map(|h| h.trim().to_string())
                    .unwrap_or_default(),
                boot: boot_id().unwrap_or_default(),
                pid: i64::from(pid),
                started: process_start(i64::from(pid)).unwrap_or(0),
            }
        })
    }
}

/// The boot id, with the pid namespace: containers of one kernel that share a host name
/// but not their pids never judge each other's processes.
fn boot_id() -> Option<String> {
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok().map(|b| b.trim().to_string()).filter(|b| !b.is_empty())?;
    let ns = std::fs::read_link("/proc/self/ns/pid").map(|l| l.display().to_string()).unwrap_or_default();
    Some(format!("{boot} {ns}"))
}

/// Start time of process `pid` in clock ticks since boot, if it exists.
fn process_start(pid: i64) -> Option<i64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// Whether the lease of `pid` (started at `started`) on this machine, this boot, is held
/// by a process that no longer runs. `false` when it cannot be told (no /proc).
fn holder_is_dead(pid: i64, started: i64) -> bool {
    if boot_id().is_none() || pid <= 0 {
        return false;
    }
    match process_start(pid) {
        None => std::path::Path::new("/proc/self/stat").exists(),
        Some(s) => started != 0 && s != started,
    }
}

const STALE_GIVE_UP: &str = "Worker stopped sending heartbeats and no attempts are left";

impl Catalog {
    /// Claims the oldest runnable job, if any.
    pub async fn claim_job(&self, worker_id: &str, stale_after: Duration) -> Result<Option<Job>, CatalogError> {
        self.claim(ClaimFilter::default(), worker_id, stale_after).await
    }

    /// Claims the job of one batch if it is runnable (used by one-shot `sohoa process`).
    pub async fn claim_job_for_batch(&self, batch_id: &str, worker_id: &str, stale_after: Duration) -> Result<Option<Job>, CatalogError> {
        let batches = [batch_id.to_string()];
        self.claim(ClaimFilter { batches: Some(&batches), pages_only: false }, worker_id, stale_after).await
    }

    /// Claims the oldest runnable job that `filter` allows: assemble jobs first, then by
    /// age and page order.
    pub async fn claim(&self, filter: ClaimFilter<'_>, worker_id: &str, stale_after: Duration) -> Result<Option<Job>, CatalogError> {
        if filter.batches.is_some_and(|b| b.is_empty()) {
            return Ok(None);
        }
        let now = self.now_ms();
        let cutoff = now.saturating_sub(stale_after.as_millis() as i64);
        let mut tx = self.begin_write().await?;

        // Jobs held by a process of this machine that no longer exists: stale at once.
        let me = LeaseHolder::current();
        if !me.boot.is_empty() {
            let holders = sqlx::query(
                "SELECT DISTINCT worker_id, lease_pid, lease_started FROM jobs
                 WHERE status = 'running' AND heartbeat_at >= $1 AND lease_host = $2 AND lease_boot = $3 AND lease_pid <> $4",
            )
            .bind(cutoff)
            .bind(&me.host)
            .bind(&me.boot)
            .bind(me.pid)
            .fetch_all(&mut *tx)
            .await?;
            for row in holders {
                let (worker, pid, started): (Option<String>, Option<i64>, Option<i64>) = (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
                let (Some(worker), Some(pid)) = (worker, pid) else { continue };
                if !holder_is_dead(pid, started.unwrap_or(0)) {
                    continue;
                }
                let n = sqlx::query("UPDATE jobs SET heartbeat_at = $1 WHERE status = 'running' AND worker_id = $2 AND lease_pid = $3 AND lease_boot = $4")
                    .bind(cutoff - 1)
                    .bind(&worker)
                    .bind(pid)
                    .bind(&me.boot)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                tracing::warn!(worker_id = %worker, pid, jobs = n, "Taking over the jobs of a worker whose process no longer runs on this machine.");
            }
        }

        // Jobs whose worker died on their last attempt: fail them, they would never run.
        let sweep = match self.backend {
            Backend::Sqlite => {
                "UPDATE jobs SET status = 'failed', last_error = $1
                 WHERE status = 'running' AND heartbeat_at < $2 AND attempts >= max_attempts
                 RETURNING batch_id"
            }
            Backend::Postgres => {
                "UPDATE jobs SET status = 'failed', last_error = $1
                 WHERE id IN (SELECT id FROM jobs
                              WHERE status = 'running' AND heartbeat_at < $2 AND attempts >= max_attempts
                              FOR UPDATE SKIP LOCKED)
                 RETURNING batch_id"
            }
        };
        let swept = sqlx::query(sweep).bind(STALE_GIVE_UP).bind(cutoff).fetch_all(&mut *tx).await?;
        for row in &swept {
            let b: String = row.try_get(0)?;
            tracing::warn!(batch_id = %b, "Job failed: its worker died on the last attempt");
            fail_batch(&mut tx, &b, now).await?;
        }

        // $1 now, $2 stale cutoff, then the batch ids (when restricted) from `$<first>`.
        let candidates = |first: usize| {
            let batches = match filter.batches {
                Some(list) => format!("AND batch_id IN ({})", (0..list.len()).map(|i| format!("${}", first + i)).collect::<Vec<_>>().join(", ")),
                None => String::new(),
            };
            format!(
                "SELECT id FROM jobs
                 WHERE ((status = 'queued' AND run_after <= $1)
                     OR (status = 'running' AND heartbeat_at < $2 AND attempts < max_attempts))
                   {batches} {}
                 ORDER BY CASE WHEN kind = 'assemble' THEN 0 ELSE 1 END, created_at, COALESCE(page_start, 0), id LIMIT 1",
                if filter.pages_only { "AND kind = 'pages'" } else { "" }
            )
        };
        let claimed = match self.backend {
            Backend::Sqlite => {
                // One statement: the pick and the claim cannot be separated.
                let sql = format!(
                    "UPDATE jobs SET status = 'running', worker_id = $3, heartbeat_at = $1, attempts = attempts + 1, {}
                     WHERE id = ({})
                     RETURNING {JOB_COLUMNS}",
                    take_lease(4),
                    candidates(8)
                );
                let mut q = sqlx::query(&sql).bind(now).bind(cutoff).bind(worker_id).bind(&me.host).bind(&me.boot).bind(me.pid).bind(me.started);
                for b in filter.batches.unwrap_or_default() {
                    q = q.bind(b);
                }
                q.fetch_optional(&mut *tx).await?
            }
            Backend::Postgres => {
                // SKIP LOCKED: concurrent claimers pass over each other's candidates.
                let sql = format!("{} FOR UPDATE SKIP LOCKED", candidates(3));
                let mut q = sqlx::query_scalar::<_, String>(&sql).bind(now).bind(cutoff);
                for b in filter.batches.unwrap_or_default() {
                    q = q.bind(b);
                }
                match q.fetch_optional(&mut *tx).await? {
                    None => None,
                    Some(id) => Some(
                        sqlx::query(&format!(
                            "UPDATE jobs SET status = 'running', worker_id = $1, heartbeat_at = $2, attempts = attempts + 1, {}
                             WHERE id = $7
                             RETURNING {JOB_COLUMNS}",
                            take_lease(3)
                        ))
                        .bind(worker_id)
                        .bind(now)
                        .bind(&me.host)
                        .bind(&me.boot)
                        .bind(me.pid)
                        .bind(me.started)
                        .bind(&id)
                        .fetch_one(&mut *tx)
                        .await?,
                    ),
                }
            }
        };
        let Some(row) = claimed else {
            tx.commit().await?;
            return Ok(None);
        };
        let job = job_from_claim(&mut tx, &row).await?;
        tx.commit().await?;
        tracing::info!(batch_id = %job.batch_id, job_id = %job.id, worker_id, attempt = job.attempts, "Job claimed");
        Ok(Some(job))
    }

    /// Records that the worker is alive. `false` if the job is no longer held by
    /// `worker_id` (taken over after a stale heartbeat, or finished): stop working on it.
    pub async fn heartbeat(&self, job_id: &str, worker_id: &str) -> Result<bool, CatalogError> {
        let _turn = self.write_turn().await;
        let n = sqlx::query("UPDATE jobs SET heartbeat_at = $1 WHERE id = $2 AND worker_id = $3 AND status = 'running'")
            .bind(self.now_ms())
            .bind(job_id)
            .bind(worker_id)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(n == 1)
    }

    /// Records that the worker is alive, for every job it holds. Returns how many.
    pub async fn heartbeat_worker(&self, worker_id: &str) -> Result<u64, CatalogError> {
        let _turn = self.write_turn().await;
        Ok(sqlx::query("UPDATE jobs SET heartbeat_at = $1 WHERE worker_id = $2 AND status = 'running'")
            .bind(self.now_ms())
            .bind(worker_id)
            .execute(&self.pool)
            .await?
            .rows_affected())
    }

    /// Records the pages the page threads are on for a job this worker holds (written as a
    /// page starts, so a worker that dies on it leaves the page in its lease).
    pub async fn lease_pages(&self, job_id: &str, worker_id: &str, pages: &[usize]) -> Result<(), CatalogError> {
        let list = pages.iter().map(|p| p.to_string()).collect::<Vec<_>>().join(",");
        let _turn = self.write_turn().await;
        sqlx::query("UPDATE jobs SET lease_pages = $1 WHERE id = $2 AND worker_id = $3 AND status = 'running'")
            .bind(list)
            .bind(job_id)
            .bind(worker_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Marks a `pages` job done with its stored result. When it was the batch's last
    /// `pages` job, creates the batch's `assemble` job, already claimed by `worker_id`,
    /// and returns it.
    pub async fn complete_pages_job(&self, job_id: &str, worker_id: &str, result_key: &str, result_blake3: &str) -> Result<Option<Job>, CatalogError> {
        let now = self.now_ms();
        let mut tx = self.begin_write().await?;
        let batch: Option<String> = sqlx::query_scalar(
            "UPDATE jobs SET status = 'done', heartbeat_at = $1, result_key = $2, result_blake3 = $3
             WHERE id = $4 AND worker_id = $5 AND status = 'running' AND kind = 'pages'
             RETURNING batch_id",
        )
        .bind(now)
        .bind(result_key)
        .bind(result_blake3)
        .bind(job_id)
        .bind(worker_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(batch) = batch else {
            return Err(CatalogError::JobLost { job_id: job_id.to_string(), worker_id: worker_id.to_string() });
        };
        if self.backend == Backend::Postgres {
            // Serialises the completions of one batch: the count below sees them all.
            sqlx::query("SELECT id FROM batches WHERE id = $1 FOR UPDATE").bind(&batch).fetch_one(&mut *tx).await?;
        }
        let open: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE batch_id = $1 AND kind = 'pages' AND status <> 'done'")
            .bind(&batch)
            .fetch_one(&mut *tx)
            .await?;
        let state: String = sqlx::query_scalar("SELECT state FROM batches WHERE id = $1").bind(&batch).fetch_one(&mut *tx).await?;
        let mut assemble = None;
        if open == 0 && BatchState::parse(&state) != Some(BatchState::Failed) {
            let id = format!("{batch}/assemble");
            let row = sqlx::query(&format!(
                "INSERT INTO jobs (id, batch_id, status, attempts, max_attempts, worker_id, heartbeat_at, run_after, created_at, kind)
                 VALUES ($1, $2, 'running', 1, $3, $4, $5, $5, $5, 'assemble')
                 ON CONFLICT (id) DO NOTHING
                 RETURNING {JOB_COLUMNS}"
            ))
            .bind(&id)
            .bind(&batch)
            .bind(MAX_ATTEMPTS as i64)
            .bind(worker_id)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(row) = row {
                assemble = Some(job_from_claim(&mut tx, &row).await?);
            }
        }
        tx.commit().await?;
        tracing::debug!(batch_id = %batch, job_id, worker_id, assemble = assemble.is_some(), "Pages job done");
        Ok(assemble)
    }

    /// The results of a batch's done `pages` jobs, in page order.
    pub async fn part_records(&self, batch_id: &str) -> Result<Vec<PartRecord>, CatalogError> {
        let rows = sqlx::query(
            "SELECT id, page_start, page_end, result_key, result_blake3 FROM jobs
             WHERE batch_id = $1 AND kind = 'pages' AND status = 'done' ORDER BY page_start",
        )
        .bind(batch_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let key: Option<String> = r.try_get(3)?;
                let blake3: Option<String> = r.try_get(4)?;
                let (Some(key), Some(blake3)) = (key, blake3) else {
                    return Err(CatalogError::Corrupt(format!("pages job {} is done without a result", r.try_get::<String, _>(0)?)));
                };
                Ok(PartRecord {
                    job_id: r.try_get(0)?,
                    start: super::from_i64(r.try_get::<i64, _>(1)?, "jobs.page_start")?,
                    end: super::from_i64(r.try_get::<i64, _>(2)?, "jobs.page_end")?,
                    key,
                    blake3,
                })
            })
            .collect()
    }

    /// An assemble job found a `pages` result unreadable (`error` says why): the assemble
    /// job is dropped (it is created anew when the range is done again) and the range is
    /// queued again, unless the `pages` job has used its `max_attempts` claims, in which
    /// case it and its batch are failed with `error` (a part that never reads back is not
    /// redone forever). `true` when the range was queued again.
    pub async fn reopen_pages_job(&self, assemble_job_id: &str, worker_id: &str, pages_job_id: &str, error: &str) -> Result<bool, CatalogError> {
        let now = self.now_ms();
        let mut tx = self.begin_write().await?;
        let n = sqlx::query("DELETE FROM jobs WHERE id = $1 AND worker_id = $2 AND status = 'running' AND kind = 'assemble'")
            .bind(assemble_job_id)
            .bind(worker_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n != 1 {
            return Err(CatalogError::JobLost { job_id: assemble_job_id.to_string(), worker_id: worker_id.to_string() });
        }
        let row = sqlx::query("SELECT batch_id, attempts, max_attempts FROM jobs WHERE id = $1 AND kind = 'pages'")
            .bind(pages_job_id)
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(row) = row {
            let batch: String = row.try_get(0)?;
            let (attempts, max_attempts): (i64, i64) = (row.try_get(1)?, row.try_get(2)?);
            if attempts >= max_attempts {
                sqlx::query("UPDATE jobs SET status = 'failed', worker_id = NULL, heartbeat_at = NULL, last_error = $1 WHERE id = $2")
                    .bind(error)
                    .bind(pages_job_id)
                    .execute(&mut *tx)
                    .await?;
                fail_batch(&mut tx, &batch, now).await?;
                tx.commit().await?;
                tracing::error!(batch_id = %batch, pages_job_id, attempts, error, "Pages result unreadable after every attempt; batch failed");
                return Ok(false);
            }
        }
        sqlx::query(
            "UPDATE jobs SET status = 'queued', worker_id = NULL, heartbeat_at = NULL, result_key = NULL, result_blake3 = NULL, run_after = $1, last_error = $2
             WHERE id = $3 AND kind = 'pages'",
        )
        .bind(now)
        .bind(error)
        .bind(pages_job_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        tracing::warn!(pages_job_id, error, "Pages result unreadable; that range is queued again");
        Ok(true)
    }

    /// Pages of a batch, and how many of them are processed (done `pages` jobs, or all
    /// of them once the batch is done).
    pub async fn batch_progress(&self, batch_id: &str) -> Result<Option<(u64, u64)>, CatalogError> {
        let row = sqlx::query("SELECT page_count, state FROM batches WHERE id = $1").bind(batch_id).fetch_optional(&self.pool).await?;
        let Some(row) = row else { return Ok(None) };
        let total = row.try_get::<Option<i64>, _>(0)?.unwrap_or(0).max(0) as u64;
        let state: String = row.try_get(1)?;
        if BatchState::parse(&state) == Some(BatchState::Done) {
            return Ok(Some((total, total)));
        }
        let done: Option<i64> = sqlx::query_scalar(
            "SELECT CAST(COALESCE(SUM(page_end - page_start), 0) AS BIGINT) FROM jobs WHERE batch_id = $1 AND kind = 'pages' AND status = 'done'",
        )
        .bind(batch_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(Some((total, done.unwrap_or(0).max(0) as u64)))
    }

    /// Lets go of every job the worker holds, as if its heartbeat had gone stale: any
    /// worker (this one included) may claim them again. Each counts as an attempt.
    pub async fn release_worker(&self, worker_id: &str) -> Result<u64, CatalogError> {
        let _turn = self.write_turn().await;
        Ok(sqlx::query("UPDATE jobs SET heartbeat_at = 0, worker_id = NULL WHERE worker_id = $1 AND status = 'running'")
            .bind(worker_id)
            .execute(&self.pool)
            .await?
            .rows_affected())
    }

    /// The workers that completed jobs of a batch (several when they shared it).
    pub async fn batch_workers(&self, batch_id: &str) -> Result<Vec<String>, CatalogError> {
        Ok(sqlx::query_scalar("SELECT DISTINCT worker_id FROM jobs WHERE batch_id = $1 AND status = 'done' AND worker_id IS NOT NULL ORDER BY worker_id")
            .bind(batch_id)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Stores the batch's rows, marks the batch done and the job done, in one transaction.
    /// Completing a job twice (same worker) rewrites the same rows.
    pub async fn complete_job(&self, job_id: &str, worker_id: &str, report: &BatchReport) -> Result<(), CatalogError> {
        let now = self.now_ms();
        let mut tx = self.begin_write().await?;
        let batch: Option<String> = sqlx::query_scalar(
            "UPDATE jobs SET status = 'done', heartbeat_at = $1
             WHERE id = $2 AND worker_id = $3 AND status IN ('running', 'done')
             RETURNING batch_id",
        )
        .bind(now)
        .bind(job_id)
        .bind(worker_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(batch) = batch else {
            return Err(CatalogError::JobLost { job_id: job_id.to_string(), worker_id: worker_id.to_string() });
        };
        if batch != report.batch_id {
            return Err(CatalogError::Invalid(format!("report is for batch {}, job {job_id} is for batch {batch}", report.batch_id)));
        }
        self.write_report(&mut tx, report, now).await?;
        tx.commit().await?;
        tracing::info!(batch_id = %batch, job_id, worker_id, "Job done");
        Ok(())
    }

    /// Records a failed attempt: back to the queue after a backoff when `retryable` and
    /// attempts remain, otherwise the job and its batch are failed. `error` is kept.
    pub async fn fail_job(&self, job_id: &str, worker_id: &str, error: &str, retryable: bool) -> Result<(), CatalogError> {
        let now = self.now_ms();
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "UPDATE jobs SET last_error = $1
             WHERE id = $2 AND worker_id = $3 AND status = 'running'
             RETURNING batch_id, attempts, max_attempts, kind",
        )
        .bind(error)
        .bind(job_id)
        .bind(worker_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Err(CatalogError::JobLost { job_id: job_id.to_string(), worker_id: worker_id.to_string() });
        };
        let batch: String = row.try_get(0)?;
        let attempts = u32::try_from(row.try_get::<i64, _>(1)?).unwrap_or(u32::MAX);
        let max_attempts = u32::try_from(row.try_get::<i64, _>(2)?).unwrap_or(0);
        let kind: String = row.try_get(3)?;
        match retry_delay(attempts, max_attempts, retryable) {
            Some(delay) => {
                sqlx::query(
                    "UPDATE jobs SET status = 'queued', worker_id = NULL, heartbeat_at = NULL, run_after = $1
                     WHERE id = $2",
                )
                .bind(now + delay.as_millis() as i64)
                .bind(job_id)
                .execute(&mut *tx)
                .await?;
                if kind == "batch" {
                    // The batch's only job waits: so does the batch. (A split batch stays
                    // running while its other parts go on.)
                    sqlx::query("UPDATE batches SET state = 'queued' WHERE id = $1").bind(&batch).execute(&mut *tx).await?;
                }
                tx.commit().await?;
                tracing::warn!(batch_id = %batch, job_id, attempt = attempts, retry_in_s = delay.as_secs(), error, "Job attempt failed, will retry");
            }
            None => {
                sqlx::query("UPDATE jobs SET status = 'failed' WHERE id = $1").bind(job_id).execute(&mut *tx).await?;
                fail_batch(&mut tx, &batch, now).await?;
                tx.commit().await?;
                tracing::error!(batch_id = %batch, job_id, attempt = attempts, retryable, error, "Job failed");
            }
        }
        Ok(())
    }

    /// Puts a failed batch back in the queue with a fresh set of attempts (an operator's
    /// retry; re-ingesting the same original only reports a duplicate). The last error is
    /// kept until the next attempt. `false` if the batch has no failed job.
    pub async fn requeue_failed(&self, batch_id: &str) -> Result<bool, CatalogError> {
        let now = self.now_ms();
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE jobs SET status = 'queued', attempts = 0, worker_id = NULL, heartbeat_at = NULL, run_after = $1
             WHERE batch_id = $2 AND status = 'failed'",
        )
        .bind(now)
        .bind(batch_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        sqlx::query("UPDATE batches SET state = 'queued', finished_at = NULL WHERE id = $1").bind(batch_id).execute(&mut *tx).await?;
        tx.commit().await?;
        tracing::info!(batch_id, "Failed batch requeued");
        Ok(true)
    }

    /// How many batches are queued, running, done and failed.
    pub async fn queue_counts(&self) -> Result<QueueCounts, CatalogError> {
        let rows = sqlx::query("SELECT state, COUNT(*) FROM batches GROUP BY state").fetch_all(&self.pool).await?;
        let mut c = QueueCounts::default();
        for row in &rows {
            let status: String = row.try_get(0)?;
            let n = u64::try_from(row.try_get::<i64, _>(1)?).unwrap_or(0);
            match BatchState::parse(&status) {
                Some(BatchState::Queued) => c.queued = n,
                Some(BatchState::Running) => c.running = n,
                Some(BatchState::Done) => c.done = n,
                Some(BatchState::Failed) => c.failed = n,
                None => {
                    let other = status;
                    return Err(CatalogError::Corrupt(format!("unknown batch state {other:?}")));
                }
            }
        }
        Ok(c)
    }

    /// The job of a batch, if the batch exists.
    pub async fn job_status(&self, batch_id: &str) -> Result<Option<JobStatus>, CatalogError> {
        let row = sqlx::query(
            "SELECT id, status, attempts, max_attempts, worker_id, last_error FROM jobs
             WHERE batch_id = $1
             ORDER BY CASE WHEN last_error IS NULL THEN 1 ELSE 0 END, attempts DESC, created_at DESC, id LIMIT 1",
        )
        .bind(batch_id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(JobStatus {
            job_id: row.try_get(0)?,
            status: row.try_get(1)?,
            attempts: u32::try_from(row.try_get::<i64, _>(2)?).unwrap_or(u32::MAX),
            max_attempts: u32::try_from(row.try_get::<i64, _>(3)?).unwrap_or(0),
            worker_id: row.try_get(4)?,
            last_error: row.try_get(5)?,
        }))
    }
}

/// Columns of a claimed job row, read by [`job_from_claim`].
const JOB_COLUMNS: &str = "id, batch_id, attempts, kind, page_start, page_end, died_on";

/// The lease part of a claim, the holder's host, boot, pid and start time in placeholders
/// `$first` to `$first+3`: the holder recorded; a job taken over from a worker that was on
/// pages (it was running: its holder died or went stale) adds them to its death history.
fn take_lease(first: usize) -> String {
    format!(
        "died_on = CASE WHEN status = 'running' AND lease_pages IS NOT NULL AND lease_pages <> ''
                   THEN COALESCE(died_on || ';', '') || lease_pages ELSE died_on END,
         lease_pages = NULL, lease_host = ${}, lease_boot = ${}, lease_pid = ${}, lease_started = ${}",
        first,
        first + 1,
        first + 2,
        first + 3
    )
}

/// The claimed job of `row` (see [`JOB_COLUMNS`]), with its batch marked running.
async fn job_from_claim(tx: &mut super::WriteTx, row: &sqlx::any::AnyRow) -> Result<Job, CatalogError> {
    let id: String = row.try_get(0)?;
    let batch: String = row.try_get(1)?;
    let attempts: i64 = row.try_get(2)?;
    let kind: String = row.try_get(3)?;
    let died_on: Option<String> = row.try_get(6)?;
    let kind = match kind.as_str() {
        "batch" => JobKind::Batch,
        "assemble" => JobKind::Assemble,
        "pages" => {
            let start: Option<i64> = row.try_get(4)?;
            let end: Option<i64> = row.try_get(5)?;
            match (start, end) {
                (Some(s), Some(e)) if 0 <= s && s < e => JobKind::Pages { start: s as usize, end: e as usize },
                _ => return Err(CatalogError::Corrupt(format!("pages job {id} has no valid page range"))),
            }
        }
        other => return Err(CatalogError::Corrupt(format!("job {id} has unknown kind {other:?}"))),
    };
    let b = sqlx::query(
        "UPDATE batches SET state = 'running' WHERE id = $1
         RETURNING source, original_key, original_blake3, manifest_json",
    )
    .bind(&batch)
    .fetch_one(&mut **tx)
    .await?;
    Ok(Job {
        id,
        kind,
        batch_id: batch,
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
        source: b.try_get(0)?,
        original_key: b.try_get(1)?,
        original_blake3: b.try_get(2)?,
        manifest_json: b.try_get(3)?,
        poison_pages: died_on.as_deref().map(poison_pages).unwrap_or_default(),
    })
}

/// Fails a batch for good, and its parts still waiting in the queue (they would only
/// produce pages nobody assembles).
async fn fail_batch(tx: &mut super::WriteTx, batch: &str, now: i64) -> Result<(), CatalogError> {
    sqlx::query("UPDATE batches SET state = 'failed', finished_at = $1 WHERE id = $2").bind(now).bind(batch).execute(&mut **tx).await?;
    sqlx::query("UPDATE jobs SET status = 'failed', last_error = COALESCE(last_error, $1) WHERE batch_id = $2 AND status = 'queued'")
        .bind("another part of this batch failed")
        .bind(batch)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

#[cfg(test)]
mod pure_tests {
    use super::*;

    #[test]
    fn a_page_is_poison_after_two_deaths_in_its_lease() {
        assert_eq!(poison_pages(""), Vec::<usize>::new());
        assert_eq!(poison_pages("3"), Vec::<usize>::new(), "one death is forgiven");
        assert_eq!(poison_pages("1,2;2"), vec![2]);
        assert_eq!(poison_pages("2,2;1"), Vec::<usize>::new(), "a page counts once per death");
        assert_eq!(poison_pages("4;5;4,5;x"), vec![4, 5]);
    }

    #[test]
    fn this_process_is_alive_and_a_reused_pid_is_not() {
        let me = LeaseHolder::current();
        if me.boot.is_empty() {
            return; // no /proc
        }
        assert!(me.started > 0 && me.pid == i64::from(std::process::id()));
        assert!(!holder_is_dead(me.pid, me.started));
        assert!(holder_is_dead(me.pid, me.started + 1), "same pid, another start time: another process");
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = i64::from(child.id());
        child.wait().unwrap();
        assert!(holder_is_dead(pid, 1));
    }

    #[test]
    fn backoff_doubles_and_is_capped_then_gives_up() {
        assert_eq!(retry_delay(1, 5, true), Some(Duration::from_secs(2)));
        assert_eq!(retry_delay(2, 5, true), Some(Duration::from_secs(4)));
        assert_eq!(retry_delay(4, 5, true), Some(Duration::from_secs(16)));
        assert_eq!(retry_delay(5, 5, true), None);
        assert_eq!(retry_delay(1, 5, false), None);
        assert_eq!(retry_delay(9, 20, true), Some(MAX_BACKOFF));
        assert_eq!(retry_delay(200, 500, true), Some(MAX_BACKOFF));
        assert_eq!(retry_delay(0, 0, true), None);
    }
}
