//! Trust in the runtime (issue #20): a scan replaced while `sohoa process` runs never
//! reaches the stored documents; a process killed mid-run is resumed at once by the next
//! run on the same machine; a page that kills its worker fails alone.
//! The worker's named failure points (`runtime::worker::faults`) place the replacement
//! and the crash on a given page; everything else is the normal code path.

use crate::common::*;
use serde_json::Value;
use sohoa::tools::synth::{BatchTruth, GenOptions, write_sample_set};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

fn sample(dir: &Path, seed: u64, docs: (usize, usize)) -> (PathBuf, BatchTruth) {
    let set = dir.join(format!("set{seed}"));
    let opts = GenOptions { seed, dpi: 150.0, dossiers: 1, docs_per_dossier: docs, pages_per_doc: (1, 1), ..Default::default() };
    write_sample_set(&set, &opts).unwrap();
    let truth: BatchTruth = serde_json::from_slice(&std::fs::read(set.join("batch.truth.json")).unwrap()).unwrap();
    (set.join("batch.tif"), truth)
}

fn wait_for(path: &Path, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(300);
    while !path.exists() {
        assert!(Instant::now() < deadline, "{what} never happened ({} missing)", path.display());
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn parse(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("stdout is one JSON object ({e}): {:?}; stderr={}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    })
}

/// Issue #20, case 1: another valid TIFF copied over the input after the first part was
/// read. The documents are those of the scan that was ingested, page for page.
#[test]
fn a_scan_replaced_during_process_does_not_reach_the_documents() {
    let dir = tempfile::tempdir().unwrap();
    let (original, truth) = sample(dir.path(), 61, (2, 2));
    let (other, other_truth) = sample(dir.path(), 62, (3, 3));
    assert_ne!(truth.pages.len(), other_truth.pages.len());
    let input = dir.path().join("scan.tif");
    std::fs::copy(&original, &input).unwrap();
    let flag = dir.path().join("replaced");
    let child = sohoa()
        .arg("process")
        .arg(&input)
        .arg("--data")
        .arg(dir.path().join("data"))
        .args(["--json", "--workers", "1", "--chunk-pages", "1"])
        .env("SOHOA_FAULT_PAUSE_AT_PAGE", "1")
        .env("SOHOA_FAULT_PAUSE_FILE", &flag)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for(&dir.path().join("replaced.paused"), "the pause before the second part");
    // Rewritten in place (same inode), as `cp` does.
    std::fs::copy(&other, &input).unwrap();
    std::fs::write(&flag, b"").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v = parse(&out);
    let batch = &v["batches"][0];
    // Every page and document is the ingested scan's, none the replacement's.
    assert_matches_truth(batch, &truth);
}

/// Issue #20, case 7: `sohoa process` killed (SIGKILL) mid-run, then run again: the new
/// run takes the dead process's jobs over at once (its pid is gone from this machine) and
/// completes the batch, without waiting for the lease to go stale.
#[test]
fn a_killed_process_is_taken_over_at_once_by_the_next_run() {
    let dir = tempfile::tempdir().unwrap();
    let (input, truth) = sample(dir.path(), 63, (2, 2));
    let data = dir.path().join("data");
    let flag = dir.path().join("never");
    let mut child = sohoa()
        .arg("process")
        .arg(&input)
        .arg("--data")
        .arg(&data)
        .args(["--json", "--workers", "1", "--chunk-pages", "1"])
        .env("SOHOA_FAULT_PAUSE_AT_PAGE", "2")
        .env("SOHOA_FAULT_PAUSE_FILE", &flag)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for(&dir.path().join("never.paused"), "the pause at the third part");
    child.kill().unwrap();
    child.wait().unwrap();
    // The lease is far from stale (60 s): only the dead pid lets the next run in.
    let out = sohoa().arg("process").arg(&input).arg("--data").arg(&data).args(["--json", "--workers", "1"]).env("RUST_LOG", "info").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("Taking over the jobs of a worker whose process no longer runs on this machine"), "{stderr}");
    assert_matches_truth(&parse(&out)["batches"][0], &truth);
}

/// Issue #20, no poison batch: a worker that dies (abort) whenever it starts page 2, in
/// one `sohoa process` command. Its supervisor runs the dead child again; the first death
/// is forgiven (a kill says nothing about the page); after the second, the job runs without
/// that page, which alone fails with "the worker stopped while processing this page", and
/// the command prints its whole report. The failure point stays armed in every child.
#[test]
fn a_page_that_kills_its_worker_twice_fails_alone() {
    let dir = tempfile::tempdir().unwrap();
    let (input, truth) = sample(dir.path(), 64, (2, 2));
    let data = dir.path().join("data");
    let out = sohoa()
        .arg("process")
        .arg(&input)
        .arg("--data")
        .arg(&data)
        .args(["--json", "--workers", "1", "--chunk-pages", "1"])
        .env("SOHOA_FAULT_ABORT_ON_PAGE", "2")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "page errors: {stderr}");
    assert_eq!(stderr.matches("The worker process died; running it again").count(), 2, "{stderr}");
    let batch = &parse(&out)["batches"][0];
    let pages = batch["pages"].as_array().unwrap();
    assert_eq!(pages.len(), truth.pages.len());
    for p in pages {
        let failed = p["warnings"].as_array().unwrap().iter().any(|w| w.as_str().unwrap().starts_with("error:"));
        if p["index"] == 2 {
            assert_eq!(p["warnings"][0], "error: the worker stopped while processing this page", "{p}");
        } else {
            assert!(!failed, "only page 2 fails: {p}");
        }
    }
}

/// Issue #20, case 6: with restarts used up (`SOHOA_MAX_RESTARTS=0`), a process that
/// aborts still ends with exactly one JSON error object (`worker-died`, exit 3); the same
/// command run again, without the fault, resumes the batch at once and stores every page.
#[test]
fn an_aborted_process_prints_one_json_error_and_the_next_run_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let (input, truth) = sample(dir.path(), 65, (1, 2));
    let data = dir.path().join("data");
    let run = |fault: bool| {
        let mut cmd = sohoa();
        cmd.arg("process").arg(&input).arg("--data").arg(&data).args(["--json", "--workers", "1", "--chunk-pages", "1"]);
        if fault {
            cmd.env("SOHOA_FAULT_ABORT_ON_PAGE", "1").env("SOHOA_MAX_RESTARTS", "0");
        }
        cmd.output().unwrap()
    };
    let out = run(true);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    let error = parse(&out);
    assert_eq!(error["error"]["code"], "worker-died", "{error}");
    assert!(error["error"]["message"].as_str().unwrap().contains("SIGABRT"), "{error}");
    assert_eq!(error.as_object().unwrap().len(), 1, "one error object: {error}");
    let out = run(false);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_matches_truth(&parse(&out)["batches"][0], &truth);
}

/// A SIGTERM sent to the `sohoa process` the user started (the supervisor) reaches its
/// child once and stops the command without a restart; the next run resumes the batch.
#[test]
fn sigterm_to_process_stops_it_without_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (input, truth) = sample(dir.path(), 66, (1, 2));
    let data = dir.path().join("data");
    let flag = dir.path().join("never");
    let child = sohoa()
        .arg("process")
        .arg(&input)
        .arg("--data")
        .arg(&data)
        .args(["--json", "--workers", "1", "--chunk-pages", "1"])
        .env("SOHOA_FAULT_PAUSE_AT_PAGE", "1")
        .env("SOHOA_FAULT_PAUSE_FILE", &flag)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for(&dir.path().join("never.paused"), "the pause at the second part");
    // SAFETY: kill(2) on our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(128 + libc::SIGTERM), "{stderr}");
    assert!(!stderr.contains("running it again"), "no restart after a requested stop: {stderr}");
    let out = sohoa().arg("process").arg(&input).arg("--data").arg(&data).args(["--json", "--workers", "1"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_matches_truth(&parse(&out)["batches"][0], &truth);
}

/// A small white page with a black box, as a PNG at `path`.
fn small_page(path: &Path, seed: u8) {
    let img = image::GrayImage::from_fn(400, 300, |x, y| image::Luma([if (60..340).contains(&x) && (100..120 + seed as u32).contains(&y) { 0 } else { 255 }]));
    img.save(path).unwrap();
}

/// `sohoa` run under a file size limit (`ulimit -f`, RLIMIT_FSIZE: writes past it fail with
/// EFBIG, SIGXFSZ ignored), the stand-in for a full disk that needs no mount and no root.
fn sohoa_with_file_limit(kib: u64, args: &[&std::ffi::OsStr]) -> std::process::Output {
    let mut cmd = std::process::Command::new("bash");
    cmd.arg("-c").arg(format!("trap '' XFSZ; ulimit -f {kib}; exec \"$0\" \"$@\"")).arg(env!("CARGO_BIN_EXE_sohoa")).args(args);
    let base = sohoa();
    for (k, v) in base.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    cmd.output().unwrap()
}

/// Issue #20, case 5: the disk fills up under the catalog during `sohoa process` (a 64 KiB
/// file size limit, so the catalog's write-ahead log cannot grow). The run fails with the
/// real cause (never "attempted to call begin_with at non-zero transaction depth", the
/// message of a connection left inside a failed transaction), and once there is room again
/// the same command completes the batch.
#[test]
fn a_full_disk_under_the_catalog_fails_with_its_cause_and_the_batch_is_retried() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (first, page) = (dir.path().join("first.png"), dir.path().join("page.png"));
    small_page(&first, 1);
    small_page(&page, 9);
    // The catalog exists (its schema is larger than the limit).
    let out = sohoa().arg("ingest").arg(&first).arg("--data").arg(&data).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let args = [std::ffi::OsStr::new("process"), page.as_os_str(), std::ffi::OsStr::new("--data"), data.as_os_str(), std::ffi::OsStr::new("--json")];
    let out = sohoa_with_file_limit(64, &args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    let v = parse(&out);
    let message = v["error"]["message"].as_str().unwrap_or_else(|| panic!("{v}"));
    assert!(!stderr.contains("transaction depth") && !message.contains("transaction depth"), "{stderr}");
    assert!(message.contains("disk") || message.contains("full") || message.contains("too large"), "the cause is named: {message}");
    assert!(!message.contains("Cannot read local file"), "the input is not blamed: {message}");
    // Room again: the same command finishes the batch.
    let out = sohoa().args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(matches!(out.status.code(), Some(0) | Some(1)), "{stderr}");
    assert_eq!(parse(&out)["batches"][0]["pages"].as_array().unwrap().len(), 1, "{stderr}");
}

/// Issue #20, case 5, the store's side: the original cannot be written into a local store
/// whose disk is full; the message names the store and the object, not the input.
#[test]
fn a_full_store_is_blamed_not_the_input() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let first = dir.path().join("first.png");
    small_page(&first, 1);
    let out = sohoa().arg("ingest").arg(&first).arg("--data").arg(&data).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let scan = repo().join("samples/batch.tif");
    let size_kib = std::fs::metadata(&scan).unwrap().len() / 1024;
    assert!(size_kib > 2048, "samples/batch.tif is {size_kib} KiB");
    let args = [std::ffi::OsStr::new("process"), scan.as_os_str(), std::ffi::OsStr::new("--data"), data.as_os_str(), std::ffi::OsStr::new("--json")];
    let out = sohoa_with_file_limit(1024, &args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let v = parse(&out);
    assert_eq!((out.status.code(), v["error"]["code"].as_str()), (Some(3), Some("store-write-failed")), "{stderr}");
    let message = v["error"]["message"].as_str().unwrap();
    assert!(message.contains("into the object store at") && message.contains("objects"), "{message}");
    assert!(!message.contains("Cannot read local file") && !message.contains("batch.tif:"), "{message}");
}
