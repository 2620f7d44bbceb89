//! The supervisor: `sohoa process`, `sohoa worker` and `sohoa serve` do their work in a
//! child process, so
//! that a page which takes its process down (an abort in a native library, a segfault, the
//! OOM killer) does not take the command down with it.
//!
//! The command the user started stays the parent. It runs itself again as the child (with
//! `SOHOA_SUPERVISED=1`), waits, and passes the child's exit code through. When the child
//! dies from a signal the parent did not forward, the parent runs it again: the new child
//! takes over the dead one's jobs at once (its lease names a pid that no longer exists),
//! and the page the dead child was on counts one death (a page in progress at two deaths
//! fails alone, see `runtime::worker::lease`). So one poisoned page costs two restarts and
//! one page warning, and the command still prints its whole report.
//!
//! - `sohoa process` restarts the child at most `SOHOA_MAX_RESTARTS` times (default 6);
//!   past that it prints one `worker-died` error (one JSON object with `--json`) and exits
//!   3. The queue bounds the attempts of each job on its own (5).
//! - `sohoa worker` and `sohoa serve` restart it for as long as they run, waiting 1 s,
//!   2 s, 4 s… (at most 60 s) between deaths that come less than ten minutes apart.
//!
//! Signals: the child runs in its own process group, so a Ctrl-C at the terminal reaches
//! the parent only, which forwards SIGINT, SIGTERM, SIGHUP and SIGQUIT to the child once
//! and does not restart it. If the parent itself is killed (SIGKILL), the kernel kills the
//! child (`PR_SET_PDEATHSIG`), and the next run takes over its jobs.

use crate::runtime::error::{Error, exit};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant};

/// Set in the child's environment: this process is the supervised one.
pub const SUPERVISED_ENV: &str = "SOHOA_SUPERVISED";
/// How many times `sohoa process` runs its child again after a death.
pub const MAX_RESTARTS_ENV: &str = "SOHOA_MAX_RESTARTS";
const DEFAULT_MAX_RESTARTS: u32 = 6;
/// A `sohoa worker` child that ran this long before dying restarts without backoff.
const LONG_LIFE: Duration = Duration::from_secs(600);
const SIGNALS: [libc::c_int; 4] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT];

/// How long the supervisor keeps restarting a dying child.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// At most this many restarts, none of them delayed (`sohoa process`).
    Bounded(u32),
    /// Always, with exponential backoff between quick deaths (`sohoa worker`).
    Forever,
}

impl Policy {
    /// `Bounded` with the limit of `SOHOA_MAX_RESTARTS` (default 6).
    pub fn bounded_from_env() -> Self {
        let limit = std::env::var(MAX_RESTARTS_ENV).ok().and_then(|v| v.trim().parse().ok()).unwrap_or(DEFAULT_MAX_RESTARTS);
        Policy::Bounded(limit)
    }
}

/// Whether this process is the supervised child (or supervision is off).
pub fn is_child() -> bool {
    std::env::var_os(SUPERVISED_ENV).is_some()
}

/// What the supervisor does after its child ended: a pure decision, tested without
/// processes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// The child exited: pass its code through.
    Exit(u8),
    /// The child stopped on a signal the parent forwarded: the conventional 128 + signal.
    Stopped(u8),
    /// The child died: run it again after this delay.
    Restart(Duration),
    /// The child died once too often.
    GiveUp,
}

/// Decides what follows a child's end. `deaths` counts this death; `forwarded` is the
/// signal the parent passed on, if any; `lived` is how long the child ran.
pub fn next(policy: Policy, status: std::process::ExitStatus, forwarded: Option<i32>, deaths: u32, lived: Duration) -> Next {
    if let Some(code) = status.code() {
        return Next::Exit(u8::try_from(code).unwrap_or(exit::STORAGE));
    }
    let signal = status.signal().unwrap_or(0);
    if forwarded.is_some() {
        return Next::Stopped(128u8.saturating_add(u8::try_from(signal).unwrap_or(0)));
    }
    match policy {
        Policy::Bounded(limit) if deaths > limit => Next::GiveUp,
        Policy::Bounded(_) => Next::Restart(Duration::ZERO),
        Policy::Forever if lived >= LONG_LIFE => Next::Restart(Duration::from_secs(1)),
        Policy::Forever => Next::Restart(Duration::from_secs(1u64 << deaths.saturating_sub(1).min(6)).min(Duration::from_secs(60))),
    }
}

static CHILD: AtomicI32 = AtomicI32::new(0);
static FORWARDED: AtomicI32 = AtomicI32::new(0);

extern "C" fn forward(signal: libc::c_int) {
    FORWARDED.store(signal, Ordering::SeqCst);
    let pid = CHILD.load(Ordering::SeqCst);
    if pid > 0 {
        // SAFETY: kill(2) is async-signal-safe.
        unsafe { libc::kill(pid, signal) };
    }
}

fn install_forwarding() {
    for signal in SIGNALS {
        // SAFETY: a plain handler that only touches atomics and calls kill(2).
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = forward as *const () as libc::sighandler_t;
            action.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
    }
}

/// The name of a signal, for messages.
pub fn signal_name(signal: i32) -> String {
    let name = match signal {
        libc::SIGABRT => "SIGABRT, an abort",
        libc::SIGSEGV => "SIGSEGV, a memory fault",
        libc::SIGBUS => "SIGBUS, a memory fault",
        libc::SIGILL => "SIGILL",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL, killed (the OOM killer or a kill -9)",
        libc::SIGTERM => "SIGTERM",
        libc::SIGINT => "SIGINT",
        _ => return format!("signal {signal}"),
    };
    format!("signal {signal}, {name}")
}

/// Runs this command line again as a supervised child until it exits; returns the exit
/// code to end with. `json` makes the final give-up error one JSON object on stdout.
pub fn run(policy: Policy, json: bool) -> u8 {
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => return crate::cli::report(&Error::Internal(format!("cannot find the sohoa executable to supervise: {e}")), json),
    };
    install_forwarding();
    let parent = std::process::id() as libc::pid_t;
    let mut deaths = 0u32;
    loop {
        let mut command = std::process::Command::new(&exe);
        command.args(std::env::args_os().skip(1)).env(SUPERVISED_ENV, "1");
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            command.pre_exec(move || {
                libc::setpgid(0, 0);
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                if libc::getppid() != parent {
                    libc::_exit(exit::STORAGE as i32);
                }
                Ok(())
            });
        }
        let started = Instant::now();
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(e) => return crate::cli::report(&Error::Internal(format!("cannot start the supervised sohoa process: {e}")), json),
        };
        CHILD.store(child.id() as i32, Ordering::SeqCst);
        // A signal that came before the pid was known is passed on now.
        let early = FORWARDED.load(Ordering::SeqCst);
        if early != 0 {
            // SAFETY: kill(2) on our own child.
            unsafe { libc::kill(child.id() as i32, early) };
        }
        let status = loop {
            match child.wait() {
                Ok(status) => break status,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return crate::cli::report(&Error::Internal(format!("cannot wait for the supervised sohoa process: {e}")), json),
            }
        };
        CHILD.store(0, Ordering::SeqCst);
        let forwarded = Some(FORWARDED.load(Ordering::SeqCst)).filter(|s| *s != 0);
        if status.code().is_none() && forwarded.is_none() {
            // A worker that ran long before dying starts its backoff again.
            let long_life = policy == Policy::Forever && started.elapsed() >= LONG_LIFE;
            deaths = if long_life { 1 } else { deaths + 1 };
        }
        match next(policy, status, forwarded, deaths, started.elapsed()) {
            Next::Exit(code) | Next::Stopped(code) => return code,
            Next::GiveUp => {
                let signal = signal_name(status.signal().unwrap_or(0));
                let times = if deaths > 1 { format!(", {deaths} times") } else { String::new() };
                return crate::cli::report(
                    &Error::WorkerDied(format!(
                        "the worker process died ({signal}{times}); run the same command again to resume: its jobs are taken over at once, and a page in progress at two deaths fails alone"
                    )),
                    json,
                );
            }
            Next::Restart(delay) => {
                let signal = signal_name(status.signal().unwrap_or(0));
                tracing::warn!(signal = %signal, deaths, delay_s = delay.as_secs(), "The worker process died; running it again to resume its jobs.");
                std::thread::sleep(delay);
                if FORWARDED.load(Ordering::SeqCst) != 0 {
                    return 128u8.saturating_add(u8::try_from(FORWARDED.load(Ordering::SeqCst)).unwrap_or(0));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::ExitStatus;

    fn exited(code: i32) -> ExitStatus {
        ExitStatus::from_raw(code << 8)
    }
    fn killed(signal: i32) -> ExitStatus {
        ExitStatus::from_raw(signal)
    }

    #[test]
    fn an_exit_code_passes_through() {
        for code in [0, 1, 2, 3] {
            assert_eq!(next(Policy::Bounded(6), exited(code), None, 0, Duration::ZERO), Next::Exit(code as u8));
        }
    }

    #[test]
    fn a_forwarded_signal_stops_without_restart() {
        assert_eq!(next(Policy::Forever, killed(libc::SIGTERM), Some(libc::SIGTERM), 0, Duration::ZERO), Next::Stopped(143));
        assert_eq!(next(Policy::Bounded(6), killed(libc::SIGINT), Some(libc::SIGINT), 0, Duration::ZERO), Next::Stopped(130));
    }

    #[test]
    fn process_restarts_a_bounded_number_of_times() {
        let abort = killed(libc::SIGABRT);
        for deaths in 1..=2 {
            assert_eq!(next(Policy::Bounded(2), abort, None, deaths, Duration::ZERO), Next::Restart(Duration::ZERO));
        }
        assert_eq!(next(Policy::Bounded(2), abort, None, 3, Duration::ZERO), Next::GiveUp);
        assert_eq!(next(Policy::Bounded(0), killed(libc::SIGKILL), None, 1, Duration::ZERO), Next::GiveUp);
    }

    #[test]
    fn worker_backs_off_between_quick_deaths_and_forgives_a_long_life() {
        let abort = killed(libc::SIGSEGV);
        let delays: Vec<_> = (1..=9).map(|d| next(Policy::Forever, abort, None, d, Duration::from_secs(5))).collect();
        let secs: Vec<u64> = delays
            .iter()
            .map(|n| match n {
                Next::Restart(d) => d.as_secs(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(secs, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(next(Policy::Forever, abort, None, 9, Duration::from_secs(3600)), Next::Restart(Duration::from_secs(1)));
    }
}
