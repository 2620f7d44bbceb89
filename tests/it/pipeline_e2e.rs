//! Issue 2, "Done when": documents found with the right dossier, type and pages; text of
//! the stored PDFs within 2% CER; `sohoa get` returns the catalogued bytes.

use crate::common::*;
use sohoa::tools::synth::{BatchTruth, GenOptions, write_sample_set};

#[test]
fn sample_batch_end_to_end() {
    let data = tempfile::tempdir().unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let truth: BatchTruth = serde_json::from_slice(&std::fs::read(repo().join("samples/batch.truth.json")).unwrap()).unwrap();
    let (code, json, stderr) = process(&[&repo().join("samples/batch.tif")], data.path(), &[]);
    assert_eq!(code, 0, "stderr: {stderr}");
    let batches = json["batches"].as_array().unwrap();
    assert_eq!(batches.len(), 1);
    assert_matches_truth(&batches[0], &truth);
    let stats = &json["stats"];
    assert_eq!(stats["pages"].as_u64().unwrap() as usize, truth.pages.len());
    assert!(stats["pages_per_min"].as_f64().unwrap() > 0.0);
    let cer = batch_cer(&batches[0], &truth, data.path(), scratch.path());
    let layout = batch_cer_default(&batches[0], &truth, data.path(), scratch.path());
    eprintln!("sample batch: CER {:.3}% (pdftotext -raw), {:.3}% (pdftotext layout mode)", cer * 100.0, layout * 100.0);
    assert!(layout <= 0.02, "layout-mode character error rate {layout:.4} > 2%");
    assert!(cer <= 0.01, "character error rate {cer:.4} > 1%");

    // `get` by blake3 returns exactly the catalogued bytes.
    let doc = &batches[0]["dossiers"][0]["documents"][0];
    let out = scratch.path().join("by-hash.pdf");
    assert_eq!(get(doc["blake3"].as_str().unwrap(), &out, data.path()), 0);
    let bytes = std::fs::read(&out).unwrap();
    assert_eq!(blake3::hash(&bytes).to_hex().as_str(), doc["blake3"].as_str().unwrap());
    assert_eq!(bytes.len() as u64, doc["bytes"].as_u64().unwrap());

    // The same scan again is detected, not processed twice.
    let (code, again, _) = process(&[&repo().join("samples/batch.tif")], data.path(), &[]);
    assert_eq!(code, 0);
    assert_eq!(again["batches"][0]["batch_id"], batches[0]["batch_id"]);
    assert!(again["batches"][0]["warnings"].as_array().unwrap().iter().any(|w| w.as_str().unwrap().contains("already processed")));
}

/// Fresh batches (other seeds, 200 and 300 dpi, skew up to ±5°) through the same checks.
#[test]
fn fresh_generated_batches() {
    for (seed, dpi) in [(101u64, 200.0f32), (202, 300.0)] {
        let dir = tempfile::tempdir().unwrap();
        let opts = GenOptions { seed, dpi, dossiers: 2, max_skew_deg: 5.0, ..Default::default() };
        write_sample_set(dir.path(), &opts).unwrap();
        let truth: BatchTruth = serde_json::from_slice(&std::fs::read(dir.path().join("batch.truth.json")).unwrap()).unwrap();
        let data = dir.path().join("data");
        let (code, json, stderr) = process(&[&dir.path().join("batch.tif")], &data, &[]);
        assert_eq!(code, 0, "seed {seed}: {stderr}");
        assert_matches_truth(&json["batches"][0], &truth);
        let cer = batch_cer(&json["batches"][0], &truth, &data, dir.path());
        let layout = batch_cer_default(&json["batches"][0], &truth, &data, dir.path());
        eprintln!("seed {seed} at {dpi} dpi: CER {:.3}% (pdftotext -raw), {:.3}% (layout mode)", cer * 100.0, layout * 100.0);
        assert!(layout <= 0.02, "layout-mode character error rate {layout:.4} > 2%");
        assert!(cer <= 0.01, "seed {seed} at {dpi} dpi: character error rate {cer:.4} > 1%");
    }
}

/// Issue #21: the stored PDF's language follows `--lang`: `--lang eng+vie` gives the
/// catalog `/Lang (en)` and an XMP `dc:language` holding both.
#[test]
fn pdf_language_follows_the_lang_flag() {
    let dir = tempfile::tempdir().unwrap();
    let opts = GenOptions { seed: 303, dpi: 200.0, dossiers: 1, docs_per_dossier: (1, 1), pages_per_doc: (1, 1), ..Default::default() };
    write_sample_set(dir.path(), &opts).unwrap();
    let data = dir.path().join("data");
    let (code, json, stderr) = process(&[&dir.path().join("batch.tif")], &data, &["--lang", "eng+vie"]);
    assert_eq!(code, 0, "{stderr}");
    let doc = &json["batches"][0]["dossiers"][0]["documents"][0];
    let out = dir.path().join("doc.pdf");
    assert_eq!(get(doc["blake3"].as_str().unwrap(), &out, &data), 0);
    let pdf = lopdf::Document::load(&out).unwrap();
    let catalog = pdf.catalog().unwrap();
    assert_eq!(catalog.get(b"Lang").unwrap().as_str().unwrap(), b"en");
    let xmp = pdf.get_object(catalog.get(b"Metadata").unwrap().as_reference().unwrap()).unwrap().as_stream().unwrap();
    let xmp = String::from_utf8_lossy(&xmp.content);
    let lang = xmp.split("<dc:language>").nth(1).and_then(|s| s.split("</dc:language>").next()).unwrap_or_else(|| panic!("no dc:language: {xmp}"));
    assert!(lang.contains(">en<") && lang.contains(">vi<"), "{lang}");
}
