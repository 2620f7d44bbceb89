//! Where a batch is in its life, as the catalog records it.

use serde::{Deserialize, Serialize};

/// A batch's state: `queued` until a worker claims a job of it, `running` while its jobs
/// run, then `done` (documents stored and catalogued) or `failed` (for good).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BatchState {
    Queued,
    Running,
    Done,
    Failed,
}

impl BatchState {
    pub const ALL: [BatchState; 4] = [BatchState::Queued, BatchState::Running, BatchState::Done, BatchState::Failed];

    /// The name stored in the catalog and printed in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            BatchState::Queued => "queued",
            BatchState::Running => "running",
            BatchState::Done => "done",
            BatchState::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<BatchState> {
        BatchState::ALL.into_iter().find(|b| b.as_str() == s)
    }

    /// Done or failed: nothing more will happen to the batch.
    pub fn is_finished(self) -> bool {
        matches!(self, BatchState::Done | BatchState::Failed)
    }
}

impl std::fmt::Display for BatchState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip_through_their_names() {
        for s in BatchState::ALL {
            assert_eq!(BatchState::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{s}\""));
        }
        assert_eq!(BatchState::parse("Done"), None);
    }
}
