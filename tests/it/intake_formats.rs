//! Scanner output other than TIFF: a PDF whose pages are scanned images (as a scanner's
//! "scan to PDF" writes them) goes through the same pipeline to the same documents.

use crate::common::*;
use sohoa::model::{ColorMode, DocumentMeta, OcrPage, PdfPage};
use sohoa::tools::synth::{GenOptions, generate_batch};

#[test]
fn a_pdf_of_scanned_pages_splits_like_the_tiff() {
    let dir = tempfile::tempdir().unwrap();
    let opts = GenOptions { seed: 33, dpi: 200.0, dossiers: 1, docs_per_dossier: (2, 2), pages_per_doc: (1, 2), max_skew_deg: 3.0, ..Default::default() };
    let batch = generate_batch(&opts);
    let pages: Vec<PdfPage> = batch
        .pages
        .iter()
        .map(|p| PdfPage {
            image: sohoa::stages::pdf::encode_page_image(&image::DynamicImage::ImageLuma8(p.image.clone()), ColorMode::Gray),
            dpi: p.dpi,
            ocr: OcrPage::default(),
        })
        .collect();
    let meta = DocumentMeta {
        page_count: pages.len(),
        source_batch: "scanner".into(),
        scan_time: "2026-01-05T08:00:00+07:00".into(),
        title: "scan".into(),
        ..Default::default()
    };
    let pdf = dir.path().join("scan.pdf");
    std::fs::write(&pdf, sohoa::stages::pdf::write_searchable_pdf(&pages, &meta).unwrap()).unwrap();

    let (code, json, stderr) = process(&[&pdf], &dir.path().join("data"), &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_matches_truth(&json["batches"][0], &batch.truth);
    // The page resolution came from the PDF (image size / page size), not the 300 dpi guess.
    for p in json["batches"][0]["pages"].as_array().unwrap() {
        assert!(p["warnings"].as_array().unwrap().iter().all(|w| !w.as_str().unwrap().contains("assumed")), "{p}");
    }
}
