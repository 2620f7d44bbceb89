//! Named failure points for the crash-and-resume tests: a worker that dies on a given page,
//! or waits at a given part until the test has done something to its input. They are read
//! from environment variables that only the tests set; unset (always, in production) they
//! cost one lookup per process.
//!
//! - `SOHOA_FAULT_ABORT_ON_PAGE=<n>`: the process aborts (`std::process::abort`, as an OOM
//!   kill or a crash in a native library would end it) when batch page `n` is handed to a
//!   page thread, after the page was recorded in the lease.
//! - `SOHOA_FAULT_PAUSE_AT_PAGE=<n>` with `SOHOA_FAULT_PAUSE_FILE=<path>`: before the
//!   part starting at batch page `n` is opened, the worker creates `<path>.paused` and
//!   waits until `<path>` exists (at most ten minutes). Nothing else changes: the part is
//!   then opened and run by the normal code.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

struct Faults {
    abort_on_page: Option<usize>,
    pause: Option<(usize, PathBuf)>,
}

fn faults() -> &'static Faults {
    static FAULTS: OnceLock<Faults> = OnceLock::new();
    FAULTS.get_or_init(|| {
        let page = |var: &str| std::env::var(var).ok().and_then(|v| v.trim().parse::<usize>().ok());
        let pause = match (page("SOHOA_FAULT_PAUSE_AT_PAGE"), std::env::var_os("SOHOA_FAULT_PAUSE_FILE")) {
            (Some(n), Some(path)) => Some((n, PathBuf::from(path))),
            _ => None,
        };
        Faults { abort_on_page: page("SOHOA_FAULT_ABORT_ON_PAGE"), pause }
    })
}

/// Aborts the process if `SOHOA_FAULT_ABORT_ON_PAGE` names `page`.
pub(crate) fn abort_on_page(page: usize) {
    if faults().abort_on_page == Some(page) {
        tracing::error!(page, "SOHOA_FAULT_ABORT_ON_PAGE: aborting.");
        std::process::abort();
    }
}

/// Waits at the part starting at `start` if `SOHOA_FAULT_PAUSE_AT_PAGE` names it.
pub(crate) fn pause_at_part(start: usize) {
    let Some((page, flag)) = &faults().pause else { return };
    if *page != start {
        return;
    }
    let mut marker = flag.clone().into_os_string();
    marker.push(".paused");
    let _ = std::fs::write(&marker, b"");
    tracing::info!(page, flag = %flag.display(), "SOHOA_FAULT_PAUSE_AT_PAGE: waiting for the flag file.");
    let deadline = Instant::now() + Duration::from_secs(600);
    while !flag.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
}
