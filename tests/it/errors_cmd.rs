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

    // A batch that does not exist, in a catalog that does.
    std::fs::create_dir_all(&data).unwrap();
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
