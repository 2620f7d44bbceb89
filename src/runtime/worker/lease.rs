//! The worker's lease on its jobs: one heartbeat task per worker renews every job it
//! holds; a worker that stops beating loses its jobs to whoever claims them after
//! `stale_after` (the catalog's claim takes stale jobs over).

use crate::runtime::catalog::Catalog;
use std::time::Duration;

/// Heartbeats come four times per staleness window, so one late beat never loses a job.
pub fn heartbeat_every(stale_after: Duration) -> Duration {
    (stale_after / 4).max(Duration::from_millis(200))
}

/// The running heartbeat task of one worker.
pub(super) struct Heartbeat {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Heartbeat {
    /// Beats for `worker` every `every` until [`Heartbeat::stop`].
    pub(super) fn start(catalog: Catalog, worker: String, every: Duration) -> Heartbeat {
        let (stop, mut hb_rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = &mut hb_rx => break,
                    _ = tokio::time::sleep(every) => {
                        if let Err(e) = catalog.heartbeat_worker(&worker).await {
                            tracing::warn!(error = %e, "Heartbeat failed.");
                        }
                    }
                }
            }
        });
        Heartbeat { stop, task }
    }

    pub(super) async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}
