//! Scale-out: `sohoa ingest` queues, several `sohoa worker` processes share a real
//! PostgreSQL catalog and one object store; one worker is killed (SIGKILL) mid-batch and
//! every batch still completes, with no document lost or duplicated.

use crate::common::*;
use serde_json::Value;
use sohoa::tools::synth::{BatchTruth, GenOptions, write_sample_set};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

fn ingest(input: &Path, data: &Path, catalog: &str) -> Value {
    ingest_with(input, data, catalog, &[])
}

fn ingest_with(input: &Path, data: &Path, catalog: &str, extra: &[&str]) -> Value {
    let out = sohoa().arg("ingest").arg(input).arg("--data").arg(data).args(["--catalog", catalog, "--json"]).args(extra).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn status(batch: Option<&str>, data: &Path, catalog: &str) -> Value {
    let mut cmd = sohoa();
    cmd.arg("status");
    if let Some(b) = batch {
        cmd.arg(b);
    }
    let out = cmd.arg("--data").arg(data).args(["--catalog", catalog, "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn worker(data: &Path, catalog: &str) -> Child {
    sohoa()
        .arg("worker")
        .arg("--data")
        .arg(data)
        .args(["--catalog", catalog, "--workers", "1", "--stale-after", "3", "--poll", "0.2", "--exit-when-idle"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

#[test]
fn three_workers_one_killed_mid_batch_on_postgres() {
    let Some(catalog) = sohoa_testkit::postgres::shared_database_or_skip("workers") else { return };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut batches = Vec::new();
    for seed in [41u64, 42, 43] {
        let set = dir.path().join(format!("scan{seed}"));
        let opts = GenOptions { seed, dpi: 150.0, dossiers: 1, docs_per_dossier: (2, 2), pages_per_doc: (1, 2), ..Default::default() };
        write_sample_set(&set, &opts).unwrap();
        let truth: BatchTruth = serde_json::from_slice(&std::fs::read(set.join("batch.truth.json")).unwrap()).unwrap();
        // Whole-batch jobs: each worker holds one batch when one is killed (page-level
        // parts are killed in `one_big_batch_is_shared_by_workers_and_survives_a_kill`).
        let queued = ingest_with(&set.join("batch.tif"), &data, &catalog, &["--chunk-pages", "0"]);
        let id = queued["batches"][0]["batch_id"].as_str().unwrap().to_string();
        assert_eq!(status(Some(&id), &data, &catalog)["state"], "queued");
        batches.push((id, truth, set));
    }
    // The same scan again is reported, not queued twice.
    let again = ingest(&batches[0].2.join("batch.tif"), &data, &catalog);
    assert_eq!(again["batches"][0]["batch_id"], batches[0].0.as_str());
    assert_eq!(again["batches"][0]["duplicate"], true);
    assert_eq!(status(None, &data, &catalog)["queued"], 3);

    let mut workers: Vec<Child> = (0..3).map(|_| worker(&data, &catalog)).collect();
    // Kill one worker once all three hold a batch.
    let deadline = Instant::now() + Duration::from_secs(120);
    while status(None, &data, &catalog)["running"].as_u64().unwrap() < 3 {
        assert!(Instant::now() < deadline, "workers never claimed the batches");
        std::thread::sleep(Duration::from_millis(100));
    }
    // Let it get into the batch (pages decoded, OCR running, maybe documents stored).
    std::thread::sleep(Duration::from_millis(1500));
    workers[0].kill().unwrap();
    workers[0].wait().unwrap();
    for w in &mut workers[1..] {
        assert!(w.wait().unwrap().success());
    }

    let counts = status(None, &data, &catalog);
    assert_eq!((counts["done"].as_u64(), counts["failed"].as_u64(), counts["running"].as_u64()), (Some(3), Some(0), Some(0)), "{counts}");
    let mut catalog_docs = std::collections::BTreeSet::new();
    for (id, truth, _) in &batches {
        let b = status(Some(id), &data, &catalog);
        assert_eq!(b["state"], "done");
        assert_matches_truth(&b, truth);
        // 150 dpi is below what Decree 30/2020 asks of digitized copies: said, not fatal.
        let content = b["pages"].as_array().unwrap().iter().find(|p| p["kind"] == "content").unwrap();
        assert!(content["warnings"].as_array().unwrap().iter().any(|w| w.as_str().unwrap().contains("below the 200 dpi")), "{content}");
        for d in b["dossiers"].as_array().unwrap() {
            for doc in d["documents"].as_array().unwrap() {
                catalog_docs.insert(doc["blake3"].as_str().unwrap().to_string());
                // Each stored document reads back with the catalogued hash.
                let out = dir.path().join("check.pdf");
                let code =
                    sohoa().args(["get", doc["id"].as_str().unwrap(), "-o"]).arg(&out).arg("--data").arg(&data).args(["--catalog", &catalog]).status().unwrap();
                assert!(code.success());
                assert_eq!(blake3::hash(&std::fs::read(&out).unwrap()).to_hex().as_str(), doc["blake3"].as_str().unwrap());
            }
        }
    }
    // Catalog documents == documents in the store: nothing lost, nothing extra.
    let stored: std::collections::BTreeSet<String> =
        walk(&data.join("objects/documents")).into_iter().map(|p| p.file_stem().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(stored, catalog_docs);
}

/// One big batch split into parts of 2 pages: three workers share it, one is killed
/// (SIGKILL) once the first parts are done; its parts are taken over, and the batch is
/// assembled once, with every page and document as the truth says.
#[test]
fn one_big_batch_is_shared_by_workers_and_survives_a_kill() {
    let Some(catalog) = sohoa_testkit::postgres::shared_database_or_skip("shared_batch") else { return };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let set = dir.path().join("scan");
    let opts = GenOptions { seed: 51, dpi: 150.0, dossiers: 2, docs_per_dossier: (2, 2), pages_per_doc: (1, 2), ..Default::default() };
    write_sample_set(&set, &opts).unwrap();
    let truth: BatchTruth = serde_json::from_slice(&std::fs::read(set.join("batch.truth.json")).unwrap()).unwrap();
    let queued = ingest_with(&set.join("batch.tif"), &data, &catalog, &["--chunk-pages", "2"]);
    let id = queued["batches"][0]["batch_id"].as_str().unwrap().to_string();
    let pages = truth.pages.len() as u64;
    assert!(pages >= 8, "a batch of {pages} pages is too small to share");
    assert_eq!(status(Some(&id), &data, &catalog)["progress"], serde_json::json!({"pages": pages, "pages_done": 0}));

    let mut workers: Vec<Child> = (0..3).map(|_| worker(&data, &catalog)).collect();
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let done = status(Some(&id), &data, &catalog)["progress"]["pages_done"].as_u64().unwrap();
        if done >= 2 {
            break;
        }
        assert!(Instant::now() < deadline, "no part of the batch was done");
        std::thread::sleep(Duration::from_millis(100));
    }
    workers[0].kill().unwrap();
    workers[0].wait().unwrap();
    for w in &mut workers[1..] {
        assert!(w.wait().unwrap().success());
    }
    let b = status(Some(&id), &data, &catalog);
    assert_eq!(b["state"], "done", "{b}");
    assert_matches_truth(&b, &truth);
    assert_eq!(b["progress"], serde_json::json!({"pages": pages, "pages_done": pages}));
    assert!(b["workers"].as_array().unwrap().len() >= 2, "the batch was not shared: {}", b["workers"]);
    let mut catalog_docs = std::collections::BTreeSet::new();
    for d in b["dossiers"].as_array().unwrap() {
        for doc in d["documents"].as_array().unwrap() {
            assert!(catalog_docs.insert(doc["blake3"].as_str().unwrap().to_string()), "document stored twice");
        }
    }
    let stored: std::collections::BTreeSet<String> =
        walk(&data.join("objects/documents")).into_iter().map(|p| p.file_stem().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(stored, catalog_docs);
    // The parts were intermediate: gone once the documents are stored.
    assert!(!data.join("objects/work").join(&id).exists() || std::fs::read_dir(data.join("objects/work").join(&id)).unwrap().next().is_none());
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else if p.extension().is_some_and(|x| x == "pdf") {
            out.push(p);
        }
    }
    out
}
