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
    let message = bad["warnings"][0].as_str().unwrap();
    assert!(message.contains("could not be decoded"), "{bad}");
    // Said once (issue #20), and with the file's name (issue #19).
    assert_eq!(message.matches("could not be decoded").count(), 1, "{message}");
    assert!(message.contains(&format!("page-{:03}.png: ", content[0])), "{message}");
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

/// A page as (width, height, gray samples).
type GrayPage = (u32, u32, Vec<u8>);

/// The generated batch of `page_folder`'s pages, and the indexes of its content pages.
fn batch_pages(seed: u64) -> (Vec<GrayPage>, Vec<usize>) {
    let opts = sohoa::tools::synth::GenOptions { seed, dpi: 150.0, dossiers: 1, max_skew_deg: 0.0, ..Default::default() };
    let batch = sohoa::tools::synth::generate_batch(&opts);
    let content = batch.truth.pages.iter().filter(|p| p.kind == "content").map(|p| p.index).collect();
    (batch.pages.iter().map(|p| (p.image.width(), p.image.height(), p.image.as_raw().clone())).collect(), content)
}

/// Issue #19: a TIFF cut short keeps the pages before the break, and the batch says where
/// it breaks (exit 1).
#[test]
fn issue_19_a_tiff_cut_short_keeps_its_first_pages() {
    use tiff::encoder::{TiffEncoder, colortype};
    let dir = tempfile::tempdir().unwrap();
    let (pages, content) = batch_pages(11);
    let path = dir.path().join("batch.tif");
    let mut bytes = std::io::Cursor::new(Vec::new());
    {
        let mut enc = TiffEncoder::new(&mut bytes).unwrap();
        for (w, h, gray) in &pages {
            enc.write_image::<colortype::Gray8>(*w, *h, gray).unwrap();
        }
    }
    let bytes = bytes.into_inner();
    // Where the last page's data starts.
    let mut dec = tiff::decoder::Decoder::new(std::io::Cursor::new(&bytes)).unwrap();
    for _ in 1..pages.len() {
        dec.next_image().unwrap();
    }
    let last_start = dec.get_tag_u64_vec(tiff::tags::Tag::StripOffsets).unwrap()[0] as usize;
    // Cut inside the last page: its directory (after its data) is gone.
    std::fs::write(&path, &bytes[..last_start + 100]).unwrap();
    let (code, json, stderr) = process(&[&path], &dir.path().join("data"), &[]);
    assert_eq!(code, 1, "a damaged file exits 1: {stderr}");
    let report = &json["batches"][0];
    let n = pages.len();
    assert_eq!(report["pages"].as_array().unwrap().len(), n);
    let warnings = report["warnings"].to_string();
    assert!(warnings.contains(&format!("the TIFF breaks at its page {n}")), "{warnings}");
    assert!(report["pages"][n - 1]["warnings"][0].as_str().unwrap().contains("damaged file"), "{}", report["pages"][n - 1]);
    let stored = stored_pages(report);
    for &i in content.iter().filter(|&&i| i < n - 1) {
        assert!(stored.contains(&(i as u64)), "page {i} must be stored: {stored:?}");
    }
}

/// Issue #19: a PDF cut short says how many pages it declared and how many were read
/// (exit 1), and keeps those.
#[test]
fn issue_19_a_pdf_cut_short_reports_declared_and_read_pages() {
    use sohoa_testkit::hostile::{ScanSpace, last_scan_offset, pdf_of_scans};
    let dir = tempfile::tempdir().unwrap();
    let (pages, content) = batch_pages(12);
    let n = pages.len();
    let whole = pdf_of_scans(&pages, 150.0, ScanSpace::Gray);
    let path = dir.path().join("scan.pdf");
    std::fs::write(&path, &whole[..last_scan_offset(&whole, n)]).unwrap();
    let (code, json, stderr) = process(&[&path], &dir.path().join("data"), &[]);
    assert_eq!(code, 1, "a damaged file exits 1: {stderr}");
    let report = &json["batches"][0];
    let warnings = report["warnings"].to_string();
    assert!(warnings.contains(&format!("the PDF declares {n} pages and {} could be read", n - 1)), "{warnings}");
    assert_eq!(report["pages"].as_array().unwrap().len(), n);
    let stored = stored_pages(report);
    for &i in content.iter().filter(|&&i| i < n - 1) {
        assert!(stored.contains(&(i as u64)), "page {i} must be stored: {stored:?}");
    }
}

/// Issue #19: a JPEG cut short is stored with a page error saying it is incomplete
/// (exit 1), and its file is named in a folder batch.
#[test]
fn issue_19_a_jpeg_cut_short_is_an_incomplete_page() {
    let dir = tempfile::tempdir().unwrap();
    let (folder, _, content) = page_folder(dir.path(), 13);
    let png = folder.join(format!("page-{:03}.png", content[0]));
    let jpg = png.with_extension("jpg");
    image::open(&png).unwrap().to_luma8().save(&jpg).unwrap();
    std::fs::remove_file(&png).unwrap();
    let bytes = std::fs::read(&jpg).unwrap();
    std::fs::write(&jpg, &bytes[..bytes.len() * 55 / 100]).unwrap();
    let (code, json, stderr) = process(&[&folder], &dir.path().join("data"), &[]);
    assert_eq!(code, 1, "an incomplete page exits 1: {stderr}");
    let page = &json["batches"][0]["pages"][content[0]];
    let name = jpg.file_name().unwrap().to_str().unwrap();
    let want = format!("error: {name}: the image is incomplete");
    assert!(page["warnings"].as_array().unwrap().iter().any(|w| w.as_str().unwrap().starts_with(&want)), "{page}");
}

/// Issue #20: a FIFO is refused at once (not waited on) and a symbolic link loop is called
/// one (exit 2).
#[test]
fn issue_20_a_fifo_and_a_symlink_loop_exit_2_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("scan.tif");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let a = dir.path().join("a.pdf");
    let b = dir.path().join("b.pdf");
    std::os::unix::fs::symlink(&b, &a).unwrap();
    std::os::unix::fs::symlink(&a, &b).unwrap();
    for (input, needle) in [(&fifo, "not a regular file (a FIFO (named pipe))"), (&a, "a symbolic link loop")] {
        let out = sohoa().arg("process").arg(input).arg("--data").arg(dir.path().join("data")).output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(needle), "{stderr}");
    }
}
