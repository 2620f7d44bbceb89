//! The `sohoa` executable: process set-up, then the command line (`sohoa::cli`).

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    // One Tesseract engine per thread; Tesseract's own OpenMP threads would fight them.
    // libgomp reads OMP_THREAD_LIMIT when it is loaded, before `main`, so setting it here
    // is too late: run ourselves again with it set.
    if std::env::var_os("OMP_THREAD_LIMIT").is_none() {
        use std::os::unix::process::CommandExt;
        if let Ok(exe) = std::env::current_exe() {
            let err = std::process::Command::new(exe).args(std::env::args_os().skip(1)).env("OMP_THREAD_LIMIT", "1").exec();
            eprintln!("warning: could not restart with OMP_THREAD_LIMIT=1 ({err}); OCR may be slower");
        }
    }
    // Page buffers go back to the system between pages (see `sohoa::alloc`).
    let tuned = sohoa::alloc::tune();
    let cli = match sohoa::cli::args::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { sohoa::exit::BAD_INPUT } else { sohoa::exit::OK });
        }
    };
    sohoa::cli::init_logging();
    if !tuned {
        tracing::debug!("malloc thresholds left at the C library's defaults");
    }
    // `process`, `worker` and `serve` run in a supervised child, run again when a page kills it.
    use sohoa::cli::args::Command;
    use sohoa::supervise::{self, Policy};
    if !supervise::is_child() {
        match &cli.command {
            Command::Process { json, .. } => return ExitCode::from(supervise::run(Policy::bounded_from_env(), *json)),
            Command::Worker { .. } | Command::Serve { .. } => return ExitCode::from(supervise::run(Policy::Forever, false)),
            _ => {}
        }
    }
    ExitCode::from(sohoa::cli::run(cli))
}
