//! The durable job queue: one job per batch, claimed by one worker at a time.
//!
//! Protocol: a worker claims the oldest runnable job (queued and due, or running with a
//! heartbeat older than `stale_after`, i.e. its worker died), heartbeats while it works,
//! then completes it (rows written, batch "done") or fails it (retried with exponential
//! backoff while attempts remain and the error is retryable, else "failed"). Every state
//! change checks that the job is still held by the caller's `worker_id`; a worker whose job
//! was taken over gets `job-lost` and must stop.
//!
//! Claims are safe with many workers in many processes: on PostgreSQL a transaction
//! selects the candidate `FOR UPDATE SKIP LOCKED`; on SQLite one `UPDATE ... WHERE id =
//! (SELECT ...) RETURNING` inside `BEGIN IMMEDIATE` (one writer at a time on the file).
//! Every attempt counts, including those of workers that died: a job that keeps killing
//! its worker is failed once it has used `max_attempts`.

use std::time::Duration;

use sqlx::Row;

use super::{Backend, Catalog, CatalogError};
use crate::model::BatchReport;

/// Attempts a job gets before it is failed for good.
pub const MAX_ATTEMPTS: u32 = 5;
/// Longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// A claimed job: what the worker needs to process one batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: String,
    pub batch_id: String,
    /// Attempts so far, including this one (1 on the first claim).
    pub attempts: u32,
    pub source: String,
    pub original_key: String,
    pub original_blake3: String,
    /// The files the batch was made from (see `worker::Manifest`), JSON.
    pub manifest_json: String,
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

const STALE_GIVE_UP: &str = "Worker stopped sending heartbeats and no attempts are left";

impl Catalog {
    /// Claims the oldest runnable job, if any.
    pub async fn claim_job(
        &self,
        worker_id: &str,
        stale_after: Duration,
    ) -> Result<Option<Job>, CatalogError> {
        self.claim(None, worker_id, stale_after).await
    }

    /// Claims the job of one batch if it is runnable (used by one-shot `sohoa process`).
    pub async fn claim_job_for_batch(
        &self,
        batch_id: &str,
        worker_id: &str,
        stale_after: Duration,
    ) -> Result<Option<Job>, CatalogError> {
        self.claim(Some(batch_id), worker_id, stale_after).await
    }

    async fn claim(
        &self,
        batch_id: Option<&str>,
        worker_id: &str,
        stale_after: Duration,
    ) -> Result<Option<Job>, CatalogError> {
        let now = self.now_ms();
        let cutoff = now.saturating_sub(stale_after.as_millis() as i64);
        let mut tx = self.begin_write().await?;

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
        let swept = sqlx::query(sweep)
            .bind(STALE_GIVE_UP)
            .bind(cutoff)
            .fetch_all(&mut *tx)
            .await?;
        for row in &swept {
            let b: String = row.try_get(0)?;
            tracing::warn!(batch_id = %b, "Job failed: its worker died on the last attempt");
            sqlx::query("UPDATE batches SET state = 'failed', finished_at = $1 WHERE id = $2")
                .bind(now)
                .bind(&b)
                .execute(&mut *tx)
                .await?;
        }

        // $1 now, $2 stale cutoff, then the batch id (when restricted) as `$<batch_param>`.
        let candidates = |batch_param: &str| {
            format!(
                "SELECT id FROM jobs
                 WHERE ((status = 'queued' AND run_after <= $1)
                     OR (status = 'running' AND heartbeat_at < $2 AND attempts < max_attempts))
                   {}
                 ORDER BY created_at, id LIMIT 1",
                if batch_id.is_some() {
                    format!("AND batch_id = ${batch_param}")
                } else {
                    String::new()
                }
            )
        };
        let claimed = match self.backend {
            Backend::Sqlite => {
                // One statement: the pick and the claim cannot be separated.
                let sql = format!(
                    "UPDATE jobs SET status = 'running', worker_id = $3, heartbeat_at = $1, attempts = attempts + 1
                     WHERE id = ({})
                     RETURNING id, batch_id, attempts",
                    candidates("4")
                );
                let mut q = sqlx::query(&sql).bind(now).bind(cutoff).bind(worker_id);
                if let Some(b) = batch_id {
                    q = q.bind(b);
                }
                q.fetch_optional(&mut *tx).await?
            }
            Backend::Postgres => {
                // SKIP LOCKED: concurrent claimers pass over each other's candidates.
                let sql = format!("{} FOR UPDATE SKIP LOCKED", candidates("3"));
                let mut q = sqlx::query_scalar::<_, String>(&sql).bind(now).bind(cutoff);
                if let Some(b) = batch_id {
                    q = q.bind(b);
                }
                match q.fetch_optional(&mut *tx).await? {
                    None => None,
                    Some(id) => Some(
                        sqlx::query(
                            "UPDATE jobs SET status = 'running', worker_id = $1, heartbeat_at = $2, attempts = attempts + 1
                             WHERE id = $3
                             RETURNING id, batch_id, attempts",
                        )
                        .bind(worker_id)
                        .bind(now)
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
        let id: String = row.try_get(0)?;
        let batch: String = row.try_get(1)?;
        let attempts: i64 = row.try_get(2)?;
        let b = sqlx::query(
            "UPDATE batches SET state = 'running' WHERE id = $1
             RETURNING source, original_key, original_blake3, manifest_json",
        )
        .bind(&batch)
        .fetch_one(&mut *tx)
        .await?;
        let job = Job {
            id,
            batch_id: batch,
            attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
            source: b.try_get(0)?,
            original_key: b.try_get(1)?,
            original_blake3: b.try_get(2)?,
            manifest_json: b.try_get(3)?,
        };
        tx.commit().await?;
        tracing::info!(batch_id = %job.batch_id, job_id = %job.id, worker_id, attempt = job.attempts, "Job claimed");
        Ok(Some(job))
    }

    /// Records that the worker is alive. `false` if the job is no longer held by
    /// `worker_id` (taken over after a stale heartbeat, or finished): stop working on it.
    pub async fn heartbeat(&self, job_id: &str, worker_id: &str) -> Result<bool, CatalogError> {
        let n = sqlx::query(
            "UPDATE jobs SET heartbeat_at = $1 WHERE id = $2 AND worker_id = $3 AND status = 'running'",
        )
        .bind(self.now_ms())
        .bind(job_id)
        .bind(worker_id)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Stores the batch's rows, marks the batch done and the job done, in one transaction.
    /// Completing a job twice (same worker) rewrites the same rows.
    pub async fn complete_job(
        &self,
        job_id: &str,
        worker_id: &str,
        report: &BatchReport,
    ) -> Result<(), CatalogError> {
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
            return Err(CatalogError::JobLost {
                job_id: job_id.to_string(),
                worker_id: worker_id.to_string(),
            });
        };
        if batch != report.batch_id {
            return Err(CatalogError::Invalid(format!(
                "report is for batch {}, job {job_id} is for batch {batch}",
                report.batch_id
            )));
        }
        self.write_report(&mut tx, report, now).await?;
        tx.commit().await?;
        tracing::info!(batch_id = %batch, job_id, worker_id, "Job done");
        Ok(())
    }

    /// Records a failed attempt: back to the queue after a backoff when `retryable` and
    /// attempts remain, otherwise the job and its batch are failed. `error` is kept.
    pub async fn fail_job(
        &self,
        job_id: &str,
        worker_id: &str,
        error: &str,
        retryable: bool,
    ) -> Result<(), CatalogError> {
        let now = self.now_ms();
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "UPDATE jobs SET last_error = $1
             WHERE id = $2 AND worker_id = $3 AND status = 'running'
             RETURNING batch_id, attempts, max_attempts",
        )
        .bind(error)
        .bind(job_id)
        .bind(worker_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Err(CatalogError::JobLost {
                job_id: job_id.to_string(),
                worker_id: worker_id.to_string(),
            });
        };
        let batch: String = row.try_get(0)?;
        let attempts = u32::try_from(row.try_get::<i64, _>(1)?).unwrap_or(u32::MAX);
        let max_attempts = u32::try_from(row.try_get::<i64, _>(2)?).unwrap_or(0);
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
                sqlx::query("UPDATE batches SET state = 'queued' WHERE id = $1")
                    .bind(&batch)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                tracing::warn!(batch_id = %batch, job_id, attempt = attempts, retry_in_s = delay.as_secs(), error, "Job attempt failed, will retry");
            }
            None => {
                sqlx::query("UPDATE jobs SET status = 'failed' WHERE id = $1")
                    .bind(job_id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("UPDATE batches SET state = 'failed', finished_at = $1 WHERE id = $2")
                    .bind(now)
                    .bind(&batch)
                    .execute(&mut *tx)
                    .await?;
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
        sqlx::query("UPDATE batches SET state = 'queued', finished_at = NULL WHERE id = $1")
            .bind(batch_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        tracing::info!(batch_id, "Failed batch requeued");
        Ok(true)
    }

    /// How many jobs are queued, running, done and failed.
    pub async fn queue_counts(&self) -> Result<QueueCounts, CatalogError> {
        let rows = sqlx::query("SELECT status, COUNT(*) FROM jobs GROUP BY status")
            .fetch_all(&self.pool)
            .await?;
        let mut c = QueueCounts::default();
        for row in &rows {
            let status: String = row.try_get(0)?;
            let n = u64::try_from(row.try_get::<i64, _>(1)?).unwrap_or(0);
            match status.as_str() {
                "queued" => c.queued = n,
                "running" => c.running = n,
                "done" => c.done = n,
                "failed" => c.failed = n,
                other => {
                    return Err(CatalogError::Corrupt(format!(
                        "unknown job status {other:?}"
                    )));
                }
            }
        }
        Ok(c)
    }

    /// The job of a batch, if the batch exists.
    pub async fn job_status(&self, batch_id: &str) -> Result<Option<JobStatus>, CatalogError> {
        let row = sqlx::query(
            "SELECT id, status, attempts, max_attempts, worker_id, last_error FROM jobs
             WHERE batch_id = $1 ORDER BY created_at DESC LIMIT 1",
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

#[cfg(test)]
mod pure_tests {
    use super::*;

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
