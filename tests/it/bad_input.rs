//! Bad input gets a clear error and loses nothing: a corrupt page fails that page, not
//! the batch; an empty or foreign file exits 2 before anything is queued.

use crate::common::*;
use sohoa_testkit::hostile::{pdf_with_image, png_of_size};

#[test]
fn zero_byte_and_non_image_inputs_exit_2_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.tif");
    std::fs::write(&empty, b"").unwrap();
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "not a scan").unwrap();
    for (input, needle) in [(&empty, "empty"), (&text, "not a supported scan")] {
        let out = sohoa().arg("process").arg(input).arg("--data").arg(dir.path().join("data")).output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(needle), "{stderr}");
    }
    // Nothing was queued.
    assert!(!dir.path().join("data/objects/originals").exists());
}

/// A generated one-dossier batch at 150 dpi written as `pages/page-NNN.png` under `dir`:
/// the folder, the number of pages and the indexes of its content pages.
fn page_folder(dir: &std::path::Path, seed: u64) -> (std::path::PathBuf, usize, Vec<usize>) {
    let pages = dir.join("pages");
    std::fs::create_dir(&pages).unwrap();
    let opts = sohoa::tools::synth::GenOptions { seed, dpi: 150.0, dossiers: 1, max_skew_deg: 0.0, ..Default::default() };
    let batch = sohoa::tools::synth::generate_batch(&opts);
    let content = batch.truth.pages.iter().filter(|p| p.kind == "content").map(|p| p.index).collect();
    for (i, page) in batch.pages.iter().enumerate() {
        page.image.save(pages.join(format!("page-{i:03}.png"))).unwrap();
    }
    (pages, batch.pages.len(), content)
}

/// The input pages stored in some document of a `process --json` batch.
fn stored_pages(report: &serde_json::Value) -> Vec<u64> {
    report["dossiers"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| d["documents"].as_array().unwrap().iter())
        .flat_map(|doc| doc["source_pages"].as_array().unwrap().iter().map(|p| p.as_u64().unwrap()))
        .collect()
}

#[test]
fn a_truncated_page_fails_that_page_and_the_rest_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let (pages, _, content) = page_folder(dir.path(), 5);
    assert!(content.len() >= 2);
    let path = pages.join(format!("page-{:03}.png", content[0]));
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 3]).unwrap();
    let (code, json, stderr) = process(&[&pages], &dir.path().join("data"), &[]);
    assert_eq!(code, 1, "page errors exit 1: {stderr}");
    let report = &json["batches"][0];
    let bad = &report["pages"][content[0]];
    assert!(bad["warnings"][0].as_str().unwrap().contains("could not be decoded"), "{bad}");
    let stored = stored_pages(report);
    for &i in &content[1..] {
        assert!(stored.contains(&(i as u64)), "page {i} must be stored: {stored:?}");
    }
    assert!(!stored.contains(&(content[0] as u64)));
    // PNG pages without a pHYs chunk: 300 dpi assumed, and said.
    let ok = &report["pages"][content[1]]["warnings"];
    assert!(ok.as_array().unwrap().iter().any(|w| w.as_str().unwrap().contains("assumed 300 dpi")), "{ok}");
}

#[test]
fn pages_over_the_page_budget_fail_alone_and_the_good_pages_are_stored() {
    let dir = tempfile::tempdir().unwrap();
    let (pages, n, content) = page_folder(dir.path(), 7);
    // After the good pages (sorted by name): an 806-byte kind of PDF, a 15000 x 15000
    // image on a Letter page, a 20000 x 20000 PNG.
    let hostile: [(&str, Vec<u8>, &str); 3] = [
        ("z1-line.pdf", pdf_with_image(100_000, 1, false, 612.0, 792.0), "100000×1 pixels at 11765×0.09 dpi, finer than the limit of 1200 dpi"),
        ("z2-big.pdf", pdf_with_image(15_000, 15_000, true, 612.0, 792.0), "15000×15000 pixels at 1765×1364 dpi, finer than the limit of 1200 dpi"),
        ("z3-huge.png", png_of_size(20_000, 20_000), "20000×20000 pixels (400 Mpx), over the limit of 260 Mpx a page (A0 at 400 dpi)"),
    ];
    for (name, bytes, _) in &hostile {
        std::fs::write(pages.join(name), bytes).unwrap();
    }
    let (code, json, stderr) = process(&[&pages], &dir.path().join("data"), &[]);
    assert_eq!(code, 1, "page errors exit 1: {stderr}");
    let report = &json["batches"][0];
    assert_eq!(report["pages"].as_array().unwrap().len(), n + hostile.len());
    for (k, (name, _, needle)) in hostile.iter().enumerate() {
        let warnings = &report["pages"][n + k]["warnings"];
        assert!(warnings.as_array().unwrap().iter().any(|w| w.as_str().unwrap().contains(needle)), "{name}: {warnings}");
    }
    let stored = stored_pages(report);
    for &i in &content {
        assert!(stored.contains(&(i as u64)), "page {i} must be stored: {stored:?}");
    }
    assert!(stored.iter().all(|&i| (i as usize) < n), "{stored:?}");
}
