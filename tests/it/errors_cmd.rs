//! One error type at the top: every command fails with the documented exit code, a message
//! on stderr and, with `--json`, exactly one `{"error":{"code","message"}}` object; the
//! configuration is merged from `sohoa.toml`, the environment and flags, and checked once.

use crate::common::*;
use serde_json::Value;
use std::process::Output;

/// The one error object of a failed `--json` command, and its exit code.
fn json_error(out: &Output) -> (i32, String, String) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("one JSON object on stdout ({e}): {:?}; stderr={stderr}", String::from_utf8_lossy(&out.stdout)));
    assert_eq!(v.as_object().unwrap().keys().collect::<Vec<_>>(), ["error"], "{v}");
    let (code, message) = (v["error"]["code"].as_str().unwrap().to_string(), v["error"]["message"].as_str().unwrap().to_string());
    assert!(stderr.contains(&message), "stderr carries the message too: {stderr}");
    (out.status.code().unwrap_or(-1), code, message)
}

#[test]
fn json_failures_print_one_error_object_with_a_stable_code() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // An input that does not exist: bad input, exit 2, nothing created.
    let out = sohoa().arg("process").arg(dir.path().join("missing.tif")).arg("--data").arg(&data).arg("--json").output().unwrap();
    let (exit, code, message) = json_error(&out);
    assert_eq!((exit, code.as_str()), (2, "input-not-found"));
    assert!(message.contains("missing.tif"), "{message}");
    assert!(!data.join("catalog.db").exists());

    // Read commands never create state: no catalog there is an error, and stays so.
    for args in [&["status", "--json"][..], &["search", "thẩm", "--json"], &["get", "doc_x", "-o", "-"]] {
        let out = sohoa().args(args).arg("--data").arg(&data).output().unwrap();
        if args[0] == "get" {
            // `get` has no --json: the error is on stderr only.
            assert_eq!(out.status.code(), Some(2));
            assert!(String::from_utf8_lossy(&out.stderr).contains("No catalog at"), "{}", String::from_utf8_lossy(&out.stderr));
            continue;
        }
        let (exit, code, message) = json_error(&out);
        assert_eq!((exit, code.as_str()), (2, "catalog-missing"), "{args:?}");
        assert!(message.contains("catalog.db"), "{message}");
    }
    assert!(!data.exists(), "a read command created the data folder");

    // A batch that does not exist, in a catalog that does.
    let out = sohoa().args(["ingest", "--json"]).arg(repo().join("samples/batch.tif")).arg("--data").arg(&data).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    // A warning logged on the second ingest: no colour codes on a stderr that is no terminal.
    let out = sohoa().args(["ingest"]).arg(repo().join("samples/batch.tif")).arg("--data").arg(&data).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("already ingested") && !stderr.contains('\x1b'), "{stderr:?}");
    let out = sohoa().args(["status", "bat_nope", "--json"]).arg("--data").arg(&data).output().unwrap();
    let (exit, code, _) = json_error(&out);
    assert_eq!((exit, code.as_str()), (2, "not-found"));

    // A bad catalog URL and a bad store URL exit alike.
    let out = sohoa().args(["status", "--json", "--catalog", "mysql://db/x"]).arg("--data").arg(&data).output().unwrap();
    let (exit, code, _) = json_error(&out);
    assert_eq!((exit, code.as_str()), (2, "catalog-config"));
    let out = sohoa().args(["ingest", "--json", "--store", "ftp://host/x"]).arg(repo().join("samples/batch.tif")).arg("--data").arg(&data).output().unwrap();
    let (exit, code, _) = json_error(&out);
    assert_eq!((exit, code.as_str()), (2, "store-config"));

    // A usage error the grammar cannot see.
    let out = sohoa().args(["search", "--json"]).arg("--data").arg(&data).output().unwrap();
    let (exit, code, _) = json_error(&out);
    assert_eq!((exit, code.as_str()), (2, "bad-usage"));
}

#[test]
fn settings_come_from_the_file_unless_a_flag_or_the_environment_says_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    // A bad value in <data>/sohoa.toml fails every command at start-up, naming the key.
    std::fs::write(data.join("sohoa.toml"), "workers = 0\n").unwrap();
    let out = sohoa().args(["status", "--json"]).arg("--data").arg(&data).output().unwrap();
    let (exit, code, message) = json_error(&out);
    assert_eq!((exit, code.as_str()), (2, "config"));
    assert!(message.starts_with("workers: "), "{message}");
    // A flag overrides the file's value.
    let out = sohoa().args(["worker", "--exit-when-idle", "--workers", "1"]).arg("--data").arg(&data).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    // So does the environment.
    let out = sohoa().args(["worker", "--exit-when-idle"]).env("SOHOA_WORKERS", "1").arg("--data").arg(&data).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    // An unknown key is refused, and --config names another file.
    let other = dir.path().join("other.toml");
    std::fs::write(&other, "chunk_pages = 4\nwokers = 2\n").unwrap();
    let out = sohoa().args(["status", "--json", "--config"]).arg(&other).arg("--data").arg(&data).output().unwrap();
    let (exit, code, message) = json_error(&out);
    assert_eq!((exit, code.as_str()), (2, "config"));
    assert!(message.contains("wokers"), "{message}");
    std::fs::write(&other, "chunk_pages = 4\n").unwrap();
    let out = sohoa().args(["status", "--json", "--config"]).arg(&other).arg("--data").arg(&data).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn outputs_are_regular_files_or_standard_output() {
    let dir = tempfile::tempdir().unwrap();
    let sheets = |out: &std::path::Path| sohoa().args(["separators", "--patch", "T", "-o"]).arg(out).output().unwrap();
    // Standard output.
    let out = sohoa().args(["separators", "--patch", "T", "-o", "-"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.starts_with(b"%PDF-"), "a PDF on stdout");
    // A regular file, then replaced in place.
    let file = dir.path().join("sheets.pdf");
    std::fs::write(&file, b"old").unwrap();
    assert_eq!(sheets(&file).status.code(), Some(0));
    assert!(std::fs::read(&file).unwrap().starts_with(b"%PDF-"));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary file left beside it");
    // A symbolic link, a directory and a FIFO are refused and left as they are.
    let target = dir.path().join("target.txt");
    std::fs::write(&target, b"keep").unwrap();
    let link = dir.path().join("link.pdf");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let sub = dir.path().join("folder");
    std::fs::create_dir(&sub).unwrap();
    let fifo = dir.path().join("fifo");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    for path in [&link, &sub, &fifo] {
        let out = sheets(path);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{}: {stderr}", path.display());
        assert!(stderr.contains("will not write"), "{stderr}");
    }
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    assert_eq!(std::fs::read(&target).unwrap(), b"keep");
    assert!(sub.is_dir());
}

/// Issue #20: a `catalog.db` that is not a database is named in the error (with `--json`,
/// one error object), for a read command and for `process`.
#[test]
fn a_corrupt_catalog_is_reported_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("catalog.db"), vec![0x5au8; 64 * 1024]).unwrap();
    for args in [&["status", "--json"][..], &["process", "--json"]] {
        let mut cmd = sohoa();
        cmd.args(args);
        if args[0] == "process" {
            cmd.arg(repo().join("samples/batch.tif"));
        }
        let out = cmd.arg("--data").arg(&data).output().unwrap();
        let (exit, code, message) = json_error(&out);
        assert_eq!((exit, code.as_str()), (3, "catalog-corrupt"), "{args:?}: {message}");
        assert!(message.contains(&data.join("catalog.db").display().to_string()) || message.contains("catalog.db"), "{message}");
    }
}
