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
        fields: Default::default(),
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

/// Issue #19: a scanner's PDF whose page images are in a DeviceN or Separation colour space
/// (ink amounts: 0 is paper) splits like the gray scan; no page of text is dropped as
/// blank, and every page dropped as blank is listed with its ink figure.
#[test]
fn issue_19_devicen_and_separation_scans_are_not_dropped_as_blank() {
    use sohoa_testkit::hostile::{ScanSpace, pdf_of_scans};
    let dir = tempfile::tempdir().unwrap();
    let opts = GenOptions { seed: 34, dpi: 150.0, dossiers: 1, docs_per_dossier: (2, 2), pages_per_doc: (1, 2), max_skew_deg: 0.0, ..Default::default() };
    let batch = generate_batch(&opts);
    let pages: Vec<_> = batch.pages.iter().map(|p| (p.image.width(), p.image.height(), p.image.as_raw().clone())).collect();
    for (k, space) in [ScanSpace::DeviceN, ScanSpace::Separation].into_iter().enumerate() {
        let pdf = dir.path().join(format!("scan-{k}.pdf"));
        std::fs::write(&pdf, pdf_of_scans(&pages, 150.0, space)).unwrap();
        let (code, json, stderr) = process(&[&pdf], &dir.path().join(format!("data-{k}")), &[]);
        assert_eq!(code, 0, "{space:?}: {stderr}");
        let report = &json["batches"][0];
        assert_matches_truth(report, &batch.truth);
        for (p, truth) in report["pages"].as_array().unwrap().iter().zip(&batch.truth.pages) {
            let listed = p["warnings"].as_array().unwrap().iter().any(|w| w.as_str().unwrap().starts_with("dropped as blank: counted ink "));
            assert_eq!(listed, p["kind"] == "blank", "{space:?}: {p}");
            if truth.kind == "content" {
                assert_eq!(p["kind"], "content", "{space:?}: {p}");
            }
        }
    }
}
