//! Issue #19, separator part: a missed dossier cover sheet is never merged in silence. A
//! page that looks like a cover sheet but whose QR code cannot be read marks the dossier
//! `needs_review` in `sohoa process --json`, in the catalog and in `sohoa status`.

use crate::common::*;
use image::Luma;
use sohoa::stages::render::{self, Symbology};
use sohoa::tools::synth::{GenOptions, generate_batch, write_multipage_tiff};

#[test]
fn an_unreadable_cover_sheet_marks_the_dossier_for_review() {
    let dpi = 200.0;
    let mut batch =
        generate_batch(&GenOptions { seed: 19, dpi, dossiers: 2, docs_per_dossier: (1, 1), pages_per_doc: (1, 1), max_skew_deg: 1.0, ..Default::default() });
    // The second dossier's cover: its QR code (drawn at 22 mm, 20 mm) scrambled module by
    // module, so it still looks like a symbol but holds no finder patterns.
    let cover = batch.truth.pages.iter().filter(|p| p.barcode.as_deref().is_some_and(|b| b.starts_with("HS:"))).nth(1).expect("two covers").index;
    let payload = batch.truth.pages[cover].barcode.clone().unwrap();
    let (item, w_mm, _) = render::barcode(&payload, Symbology::Qr, dpi, 22.0, 20.0).unwrap();
    let m = item.module_px;
    let px = |mm: f32| render::mm_to_px(mm, dpi).round() as u32;
    let img = &mut batch.pages[cover].image;
    let (x0, y0, side) = (px(22.0), px(20.0), px(w_mm));
    for my in 0..side / m {
        for mx in 0..side / m {
            let dark = (mx.wrapping_mul(2_654_435_761) ^ my.wrapping_mul(40_503)).wrapping_mul(2_246_822_519) >> 29 < 4;
            for y in y0 + my * m..y0 + (my + 1) * m {
                for x in x0 + mx * m..x0 + (mx + 1) * m {
                    img.put_pixel(x, y, Luma([if dark { 20 } else { 245 }]));
                }
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let tif = dir.path().join("batch.tif");
    write_multipage_tiff(&batch.pages, &tif).unwrap();
    let data = dir.path().join("data");
    let (code, json, stderr) = process(&[&tif], &data, &[]);
    assert_eq!(code, 0, "{stderr}");
    let b = &json["batches"][0];
    // One dossier: the second's documents went into the first, which says so.
    let dossiers = b["dossiers"].as_array().unwrap();
    assert_eq!(dossiers.len(), 1, "{b}");
    assert_eq!(dossiers[0]["needs_review"], true, "{b}");
    let warnings: Vec<&str> = b["warnings"].as_array().unwrap().iter().map(|w| w.as_str().unwrap()).collect();
    assert!(warnings.iter().any(|w| w.starts_with(&format!("page {cover}:")) && w.contains("no barcode could be read")), "{warnings:?}");
    assert_eq!(b["pages"][cover]["kind"], "content");

    // The catalog keeps it: `sohoa status` lists the batch, and the batch shows the mark.
    let batch_id = b["batch_id"].as_str().unwrap();
    let out = sohoa().args(["status", "--json", "--data"]).arg(&data).output().unwrap();
    assert!(out.status.success());
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["needs_review"], serde_json::json!([batch_id]), "{status}");
    let out = sohoa().args(["status", batch_id, "--json", "--data"]).arg(&data).output().unwrap();
    let one: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(one["dossiers"][0]["needs_review"], true, "{one}");
    let text = sohoa().args(["status", "--data"]).arg(&data).output().unwrap();
    assert!(String::from_utf8_lossy(&text.stdout).contains(&format!("needs review (1): {batch_id}")));

    // The same batch with its cover intact: nothing to review.
    let clean =
        generate_batch(&GenOptions { seed: 19, dpi, dossiers: 2, docs_per_dossier: (1, 1), pages_per_doc: (1, 1), max_skew_deg: 1.0, ..Default::default() });
    let tif = dir.path().join("clean.tif");
    write_multipage_tiff(&clean.pages, &tif).unwrap();
    let (code, json, stderr) = process(&[&tif], &dir.path().join("data2"), &[]);
    assert_eq!(code, 0, "{stderr}");
    let dossiers = json["batches"][0]["dossiers"].as_array().unwrap();
    assert_eq!(dossiers.len(), 2);
    assert!(dossiers.iter().all(|d| d["needs_review"] == false), "{dossiers:?}");
}
