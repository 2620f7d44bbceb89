//! The real S3 path: documents and originals in a real Garage server (started by the
//! test), and an S3 outage in the middle of a batch that loses nothing.

use crate::common::*;
use object_store::ObjectStore;
use serde_json::Value;
use sohoa::tools::synth::{BatchTruth, GenOptions, write_sample_set};
use sohoa_testkit::garage::{self, GarageServer};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn with_s3(mut cmd: Command, g: &GarageServer) -> Command {
    for (k, v) in g.env() {
        cmd.env(k, v);
    }
    cmd
}

/// Keys of the PDFs stored under `prefix`, listed straight from Garage.
fn stored_documents(g: &GarageServer, prefix: &str) -> std::collections::BTreeSet<String> {
    let s3 = object_store::aws::AmazonS3Builder::new()
        .with_endpoint(g.endpoint())
        .with_bucket_name(garage::BUCKET)
        .with_region(garage::REGION)
        .with_access_key_id(garage::ACCESS_KEY)
        .with_secret_access_key(garage::SECRET_KEY)
        .with_allow_http(true)
        .build()
        .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        use futures::TryStreamExt;
        let prefix = object_store::path::Path::from(format!("{prefix}/documents"));
        let objects: Vec<_> = s3.list(Some(&prefix)).try_collect().await.unwrap();
        objects.into_iter().map(|o| o.location.filename().unwrap().trim_end_matches(".pdf").to_string()).collect()
    })
}

fn documents(batch: &Value) -> Vec<Value> {
    batch["dossiers"].as_array().unwrap().iter().flat_map(|d| d["documents"].as_array().unwrap().clone()).collect()
}

/// Every catalogued document reads back through `sohoa get` with its BLAKE3.
fn check_documents(batch: &Value, g: &GarageServer, data: &Path, store: &str, scratch: &Path) {
    for doc in documents(batch) {
        let out = scratch.join(format!("{}.pdf", doc["id"].as_str().unwrap()));
        let mut cmd = with_s3(sohoa(), g);
        cmd.args(["get", doc["id"].as_str().unwrap(), "-o"]).arg(&out).arg("--data").arg(data).args(["--store", store]);
        assert!(cmd.status().unwrap().success());
        assert_eq!(blake3::hash(&std::fs::read(&out).unwrap()).to_hex().as_str(), doc["blake3"].as_str().unwrap());
    }
}

#[test]
fn process_into_garage_and_get_back() {
    let Some(g) = garage::start_or_skip() else { return };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let store = g.store_url("post-office-1");
    let truth: BatchTruth = serde_json::from_slice(&std::fs::read(repo().join("samples/batch.truth.json")).unwrap()).unwrap();
    let mut cmd = with_s3(sohoa(), &g);
    cmd.arg("process").arg(repo().join("samples/batch.tif")).arg("--data").arg(&data).args(["--store", &store, "--json"]);
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let batch = &json["batches"][0];
    assert_matches_truth(batch, &truth);
    check_documents(batch, &g, &data, &store, dir.path());
    let catalogued: std::collections::BTreeSet<String> = documents(batch).iter().map(|d| d["blake3"].as_str().unwrap().to_string()).collect();
    assert_eq!(stored_documents(&g, "post-office-1"), catalogued);
    // Nothing was written to the local folder store.
    assert!(!data.join("objects").exists());
}

#[test]
fn an_s3_outage_mid_batch_loses_nothing() {
    let Some(mut g) = garage::start_or_skip() else { return };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let store = g.store_url("outage");
    let set = dir.path().join("scan");
    let opts = GenOptions { seed: 61, dpi: 150.0, dossiers: 2, docs_per_dossier: (2, 2), pages_per_doc: (1, 2), ..Default::default() };
    write_sample_set(&set, &opts).unwrap();
    let truth: BatchTruth = serde_json::from_slice(&std::fs::read(set.join("batch.truth.json")).unwrap()).unwrap();

    let mut cmd = with_s3(sohoa(), &g);
    cmd.arg("ingest").arg(set.join("batch.tif")).arg("--data").arg(&data).args(["--store", &store, "--json"]);
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let id = serde_json::from_slice::<Value>(&out.stdout).unwrap()["batches"][0]["batch_id"].as_str().unwrap().to_string();

    let mut cmd = with_s3(sohoa(), &g);
    cmd.arg("worker").arg("--data").arg(&data).args(["--store", &store, "--workers", "1", "--poll", "0.2", "--exit-when-idle"]);
    let mut worker = cmd.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null()).spawn().unwrap();
    let status = |id: Option<&str>| -> Value {
        let mut cmd = sohoa();
        cmd.arg("status");
        if let Some(id) = id {
            cmd.arg(id);
        }
        serde_json::from_slice(&cmd.arg("--data").arg(&data).arg("--json").output().unwrap().stdout).unwrap()
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while status(None)["running"] != 1 {
        assert!(Instant::now() < deadline, "the worker never claimed the batch");
        std::thread::sleep(Duration::from_millis(100));
    }
    // The store goes away while pages are being recognised and documents stored.
    std::thread::sleep(Duration::from_millis(1500));
    g.stop();
    std::thread::sleep(Duration::from_secs(8));
    g.restart().unwrap();
    assert!(worker.wait().unwrap().success());

    let batch = status(Some(&id));
    assert_eq!(batch["state"], "done", "{batch}");
    assert_matches_truth(&batch, &truth);
    check_documents(&batch, &g, &data, &store, dir.path());
    let catalogued: std::collections::BTreeSet<String> = documents(&batch).iter().map(|d| d["blake3"].as_str().unwrap().to_string()).collect();
    assert_eq!(stored_documents(&g, "outage"), catalogued);
}
