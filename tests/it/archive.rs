//! Issue 25, archival PDFs: bilevel scans stay 1-bit (CCITT G4) through deskew and
//! storage; the stored PDFs are PDF/A-2b.

use crate::common::*;
use image::{DynamicImage, GrayImage};
use lopdf::{Document, Object};
use sohoa::tools::synth::{GenOptions, generate_batch};
use std::path::Path;

/// A single-page, uncompressed, 1-bit TIFF (BlackIsZero: bit 1 = white), as a fax or a
/// document scanner in line-art mode writes it.
pub fn write_bilevel_tiff(page: &GrayImage, dpi: u32, path: &Path) {
    let (w, h) = page.dimensions();
    let stride = w.div_ceil(8) as usize;
    let mut data = vec![0u8; stride * h as usize];
    for (y, row) in page.as_raw().chunks_exact(w as usize).enumerate() {
        for (x, &v) in row.iter().enumerate() {
            if v >= 128 {
                data[y * stride + x / 8] |= 0x80 >> (x % 8);
            }
        }
    }
    let entries: [(u16, u16, u32); 12] = [
        (256, 4, w),
        (257, 4, h),
        (258, 3, 1),
        (259, 3, 1),
        (262, 3, 1),
        (273, 4, 174),
        (277, 3, 1),
        (278, 4, h),
        (279, 4, data.len() as u32),
        (282, 5, 158),
        (283, 5, 166),
        (296, 3, 2),
    ];
    let mut out = b"II*\0".to_vec();
    out.extend(8u32.to_le_bytes());
    out.extend((entries.len() as u16).to_le_bytes());
    for (tag, kind, value) in entries {
        out.extend(tag.to_le_bytes());
        out.extend(kind.to_le_bytes());
        out.extend(1u32.to_le_bytes());
        if kind == 3 {
            out.extend((value as u16).to_le_bytes());
            out.extend([0, 0]);
        } else {
            out.extend(value.to_le_bytes());
        }
    }
    out.extend(0u32.to_le_bytes());
    assert_eq!(out.len(), 158);
    for _ in 0..2 {
        out.extend(dpi.to_le_bytes());
        out.extend(1u32.to_le_bytes());
    }
    out.extend(&data);
    std::fs::write(path, out).unwrap();
}

/// The image XObjects of a PDF's pages, in page order: (dictionary, raw stream bytes).
pub fn page_images(doc: &Document) -> Vec<(lopdf::Dictionary, Vec<u8>)> {
    let mut out = Vec::new();
    for (_, page_id) in doc.get_pages() {
        let page = doc.get_dictionary(page_id).unwrap();
        let resources = page.get(b"Resources").and_then(|r| doc.dereference(r)).unwrap().1.as_dict().unwrap().clone();
        let xobjects = resources.get(b"XObject").and_then(|x| doc.dereference(x)).unwrap().1.as_dict().unwrap().clone();
        for (_, r) in xobjects.iter() {
            let stream = doc.get_object(r.as_reference().unwrap()).unwrap().as_stream().unwrap();
            out.push((stream.dict.clone(), stream.content.clone()));
        }
    }
    out
}

/// Issue 25: a deskewed 1-bit scan is stored as a 1-bit CCITT G4 image, pixel for pixel
/// the deskewed page, and a fraction of the 8-bit JPEG it used to become.
#[test]
fn issue_25_bilevel_scan_stays_one_bit_ccitt_g4() {
    let dir = tempfile::tempdir().unwrap();
    let opts = GenOptions {
        seed: 2501,
        dpi: 300.0,
        dossiers: 1,
        docs_per_dossier: (1, 1),
        pages_per_doc: (1, 1),
        max_skew_deg: 2.5,
        blank_backs: false,
        noise_sigma: 0.0,
        ..Default::default()
    };
    let batch = generate_batch(&opts);
    let content = batch.truth.pages.iter().position(|p| p.kind == "content").expect("a content page");
    assert!(batch.truth.pages[content].skew_deg.abs() > 0.3, "the page is skewed, so deskew resamples it");
    let bilevel = GrayImage::from_fn(batch.pages[content].image.width(), batch.pages[content].image.height(), |x, y| {
        image::Luma([if batch.pages[content].image.get_pixel(x, y)[0] >= 128 { 255 } else { 0 }])
    });
    let tiff = dir.path().join("line-art.tif");
    write_bilevel_tiff(&bilevel, 300, &tiff);

    // What the pipeline does to the page before storing it.
    let input = sohoa::stages::intake::Input::open(&tiff).unwrap();
    let page = input.pages().next().unwrap().unwrap();
    assert_eq!(page.color, sohoa::model::ColorMode::Bilevel);
    let clean = sohoa::stages::imaging::clean_page(page);
    assert!(clean.skew_deg.abs() > 0.3, "deskewed by {}", clean.skew_deg);
    let deskewed = clean.image.to_luma8();
    assert!(deskewed.as_raw().iter().all(|&v| v == 0 || v == 255), "deskew keeps the page bilevel");
    let jpeg_before = sohoa::stages::pdf::encode_page_image(&clean.image, sohoa::model::ColorMode::Gray).data.len();

    let data = dir.path().join("data");
    let (code, json, stderr) = process(&[&tiff], &data, &[]);
    assert_eq!(code, 0, "{stderr}");
    let doc_id = json["batches"][0]["dossiers"][0]["documents"][0]["id"].as_str().unwrap().to_string();
    let pdf_path = dir.path().join("out.pdf");
    assert_eq!(get(&doc_id, &pdf_path, &data), 0);
    let pdf_bytes = std::fs::read(&pdf_path).unwrap();
    let doc = Document::load_mem(&pdf_bytes).unwrap();
    let images = page_images(&doc);
    assert_eq!(images.len(), 1);
    let (dict, stream) = &images[0];
    assert_eq!(dict.get(b"Filter").unwrap(), &Object::Name(b"CCITTFaxDecode".to_vec()));
    assert_eq!(dict.get(b"BitsPerComponent").unwrap().as_i64().unwrap(), 1);
    let parms = dict.get(b"DecodeParms").unwrap().as_dict().unwrap();
    assert_eq!(parms.get(b"K").unwrap().as_i64().unwrap(), -1);
    assert_eq!(parms.get(b"Columns").unwrap().as_i64().unwrap(), i64::from(deskewed.width()));
    assert_eq!(parms.get(b"Rows").unwrap().as_i64().unwrap(), i64::from(deskewed.height()));

    // Decoded by poppler (an independent decoder), the image is the deskewed page.
    let prefix = dir.path().join("img");
    let status = std::process::Command::new("pdfimages").arg("-png").arg(&pdf_path).arg(&prefix).status().expect("pdfimages (poppler-utils) runs");
    assert!(status.success());
    let decoded = image::open(dir.path().join("img-000.png")).unwrap().to_luma8();
    assert_eq!(decoded.dimensions(), deskewed.dimensions());
    let differ = decoded.as_raw().iter().zip(deskewed.as_raw()).filter(|(a, b)| a != b).count();
    assert_eq!(differ, 0, "{differ} pixels differ from the deskewed page");
    // And by our own decoder, from the stream bytes.
    let mut own = Vec::new();
    fax::decoder::decode_g4(stream.iter().copied(), deskewed.width() as u16, Some(deskewed.height() as u16), |t| {
        own.extend(fax::decoder::pels(t, deskewed.width() as u16).map(|c| if c == fax::Color::Black { 0u8 } else { 255 }));
    })
    .unwrap();
    assert_eq!(own, *deskewed.as_raw());

    let packed = deskewed.width().div_ceil(8) as usize * deskewed.height() as usize;
    eprintln!("bilevel 300 dpi page: PDF {} bytes, G4 image {} bytes, 1-bit raw {packed}, as 8-bit JPEG {jpeg_before}", pdf_bytes.len(), stream.len());
    assert!(stream.len() * 8 < packed, "G4 {} bytes vs {packed} packed", stream.len());
    assert!(pdf_bytes.len() * 4 < jpeg_before, "PDF {} bytes vs JPEG {jpeg_before}", pdf_bytes.len());
}

/// Issue 25: a 2-colour palette PNG is a bilevel page, stored 1-bit, not as RGB JPEG.
#[test]
fn issue_25_two_colour_png_is_stored_one_bit() {
    let dir = tempfile::tempdir().unwrap();
    let opts = GenOptions {
        seed: 2502,
        dpi: 200.0,
        dossiers: 1,
        docs_per_dossier: (1, 1),
        pages_per_doc: (1, 1),
        max_skew_deg: 0.0,
        blank_backs: false,
        noise_sigma: 0.0,
        ..Default::default()
    };
    let batch = generate_batch(&opts);
    let content = batch.truth.pages.iter().position(|p| p.kind == "content").unwrap();
    let g = &batch.pages[content].image;
    // A palette of dark blue-black and off-white, written as RGB (what a decoder of a
    // palette PNG hands over).
    let rgb = image::RgbImage::from_fn(g.width(), g.height(), |x, y| image::Rgb(if g.get_pixel(x, y)[0] >= 128 { [250, 250, 250] } else { [16, 16, 16] }));
    let png = dir.path().join("two-colour.png");
    DynamicImage::ImageRgb8(rgb).save(&png).unwrap();
    let data = dir.path().join("data");
    let (code, json, stderr) = process(&[&png], &data, &[]);
    assert_eq!(code, 0, "{stderr}");
    let doc_id = json["batches"][0]["dossiers"][0]["documents"][0]["id"].as_str().unwrap().to_string();
    let pdf_path = dir.path().join("out.pdf");
    assert_eq!(get(&doc_id, &pdf_path, &data), 0);
    let doc = Document::load(&pdf_path).unwrap();
    let images = page_images(&doc);
    assert_eq!(images.len(), 1);
    assert_eq!(images[0].0.get(b"Filter").unwrap(), &Object::Name(b"CCITTFaxDecode".to_vec()));
    assert_eq!(images[0].0.get(b"BitsPerComponent").unwrap().as_i64().unwrap(), 1);
    assert_eq!(images[0].0.get(b"ColorSpace").unwrap(), &Object::Name(b"DeviceGray".to_vec()));
}

/// Issue 25: every document `process` stores is PDF/A-2b (the structural check and
/// `qpdf --check`), gray and colour; `SOHOA_PDF_PROFILE=plain` writes plain PDFs.
#[test]
fn issue_25_stored_documents_are_pdfa_2b() {
    let dir = tempfile::tempdir().unwrap();
    let opts = GenOptions {
        seed: 2503,
        dpi: 200.0,
        dossiers: 1,
        docs_per_dossier: (2, 2),
        pages_per_doc: (1, 1),
        max_skew_deg: 1.0,
        blank_backs: false,
        ..Default::default()
    };
    let batch = generate_batch(&opts);
    let gray_tiff = dir.path().join("gray.tif");
    sohoa::tools::synth::write_multipage_tiff(&batch.pages, &gray_tiff).unwrap();
    let content = batch.truth.pages.iter().position(|p| p.kind == "content").unwrap();
    let colour_png = dir.path().join("colour.png");
    DynamicImage::ImageRgb8(sohoa::tools::eval::size::colourise(&batch.pages[content].image, 200.0, true, 1)).save(&colour_png).unwrap();

    for (input, intent_n) in [(&gray_tiff, 1), (&colour_png, 3)] {
        let data = dir.path().join(format!("data-{intent_n}"));
        let (code, json, stderr) = process(&[input], &data, &[]);
        assert_eq!(code, 0, "{stderr}");
        let mut docs = 0;
        for d in json["batches"][0]["dossiers"].as_array().unwrap() {
            for doc in d["documents"].as_array().unwrap() {
                let pdf = dir.path().join(format!("{}.pdf", doc["id"].as_str().unwrap()));
                assert_eq!(get(doc["id"].as_str().unwrap(), &pdf, &data), 0);
                let parsed = Document::load(&pdf).unwrap();
                let issues = sohoa::stages::pdf::check_pdfa(&parsed);
                assert!(issues.is_empty(), "{}: {issues:?}", pdf.display());
                let intents = parsed.catalog().unwrap().get(b"OutputIntents").unwrap().as_array().unwrap().clone();
                let profile = intents[0].as_dict().unwrap().get(b"DestOutputProfile").unwrap().as_reference().unwrap();
                assert_eq!(parsed.get_object(profile).unwrap().as_stream().unwrap().dict.get(b"N").unwrap().as_i64().unwrap(), intent_n);
                qpdf_check(&pdf);
                docs += 1;
            }
        }
        assert!(docs >= 1);
    }

    // The profile from the environment: plain PDFs claim nothing.
    let data = dir.path().join("data-plain");
    let out = sohoa().arg("process").arg(&colour_png).arg("--data").arg(&data).arg("--json").env("SOHOA_PDF_PROFILE", "plain").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = json["batches"][0]["dossiers"][0]["documents"][0]["id"].as_str().unwrap().to_string();
    let pdf = dir.path().join("plain.pdf");
    assert_eq!(get(&id, &pdf, &data), 0);
    let parsed = Document::load(&pdf).unwrap();
    assert!(!parsed.catalog().unwrap().has(b"OutputIntents"));
    assert!(!sohoa::stages::pdf::check_pdfa(&parsed).is_empty());
    // A bad profile is refused at start-up, naming the setting.
    let out = sohoa().arg("process").arg(&colour_png).arg("--data").arg(&data).arg("--pdf-profile").arg("pdfa-9").output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("pdf_profile"));
}

/// `qpdf --check` passes (qpdf is in scripts/install-deps.sh).
pub fn qpdf_check(pdf: &Path) {
    let out = std::process::Command::new("qpdf").arg("--check").arg(pdf).output().expect("qpdf is installed (scripts/install-deps.sh)");
    assert!(out.status.success(), "qpdf --check {}: {}{}", pdf.display(), String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
}

/// Issue 25: the text under a red seal is read. A seal is impressed over the signer's
/// title and name; its red is as dark as ink in luma, and before seal ink was dropped from
/// the OCR input Tesseract lost whole lines it crosses (3-6% CER on such pages against
/// 0.1-0.3% on the same pages in gray).
#[test]
fn issue_25_text_under_a_red_seal_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let opts = GenOptions { seed: 2517, dpi: 300.0, dossiers: 1, max_skew_deg: 0.0, noise_sigma: 0.0, blank_backs: false, ..Default::default() };
    let batch = generate_batch(&opts);
    let (mut errors, mut chars, mut pages) = (0.0, 0usize, 0);
    for (page, truth) in batch.pages.iter().zip(&batch.truth.pages).filter(|(_, t)| t.kind == "content").take(2) {
        // PNG without a resolution: intake assumes 300 dpi, the page's own.
        let png = dir.path().join(format!("sealed-{}.png", truth.index));
        DynamicImage::ImageRgb8(sohoa::tools::eval::size::colourise(&page.image, 300.0, true, truth.index as u64)).save(&png).unwrap();
        let data = dir.path().join(format!("data-{}", truth.index));
        let (code, json, stderr) = process(&[&png], &data, &[]);
        assert_eq!(code, 0, "{stderr}");
        let id = json["batches"][0]["dossiers"][0]["documents"][0]["id"].as_str().unwrap().to_string();
        let pdf = dir.path().join(format!("{id}.pdf"));
        assert_eq!(get(&id, &pdf, &data), 0);
        let text = pdftotext_mode(&pdf, &["-raw"]);
        let reference = truth.text.as_deref().unwrap();
        let n = reference.chars().filter(|c| !c.is_whitespace()).count();
        let cer = sohoa::tools::synth::cer(reference, &text);
        eprintln!("page {}: CER {:.3}% over {n} characters", truth.index, cer * 100.0);
        errors += cer * n as f64;
        chars += n;
        pages += 1;
    }
    assert_eq!(pages, 2);
    let cer = errors / chars as f64;
    assert!(cer < 0.01, "text layer CER on sealed pages {:.2}%", cer * 100.0);
}
