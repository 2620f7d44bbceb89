//! `sohoa eval-fields`: scores the document-field extractor (`crate::stages::fields`)
//! end to end on generated administrative documents with known fields.
//!
//! Each document of `crate::tools::synth::official` is rendered (200 and 300 dpi in
//! turn), skewed by up to ±6° with an office scanner's defects (`set::degrade`,
//! realistic), and goes through the pipeline's page stage (`pipeline::run_pages`: clean,
//! barcodes, OCR with the models of the data folder); its fields are read from the OCR
//! exactly as the pipeline reads them when it closes a document
//! ([`crate::runtime::pipeline::document_fields`]). Scores: per field, the share of
//! documents whose reading equals the truth exactly (a field the document does not have
//! must read `null`); for CCCD numbers, recall over the numbers printed and the numbers
//! read that were not printed (false ones).

use std::path::Path;

use rand::{Rng, SeedableRng};
use serde::Serialize;

use super::set::{Defects, degrade};
use crate::model::{ColorMode, DocumentFields, PageImage, PdfPage};
use crate::runtime::pipeline::{PageWork, PipelineOptions, document_fields, run_pages, start_engines};
use crate::stages::ocr::OcrConfig;
use crate::tools::synth::official::{OfficialDoc, official_document};

/// The fields scored, in table order (the header fields of the issue first).
pub const SCORED: &[&str] = &["so_ky_hieu", "ngay", "loai", "co_quan", "trich_yeu", "nguoi_ky", "co_quan_chu_quan", "chuc_vu", "tham_quyen"];

/// One field's score.
#[derive(Debug, Clone, Serialize)]
pub struct FieldScore {
    pub field: String,
    /// Documents whose truth has the field (the others must read `null`).
    pub present: usize,
    pub exact: usize,
    /// `exact / docs`.
    pub rate: f64,
}

/// A field read wrong.
#[derive(Debug, Clone, Serialize)]
pub struct Miss {
    pub doc: usize,
    pub kind: String,
    pub field: String,
    pub truth: Option<String>,
    pub read: Option<String>,
}

/// The scores of a run.
#[derive(Debug, Clone, Serialize)]
pub struct FieldsReport {
    pub seed: u64,
    pub docs: usize,
    pub pages: usize,
    pub fields: Vec<FieldScore>,
    /// CCCD numbers printed, found, and read but not printed.
    pub cccd_printed: usize,
    pub cccd_found: usize,
    pub cccd_false: usize,
    pub cccd_recall: f64,
    pub misses: Vec<Miss>,
    /// Wall time of the run, seconds.
    pub seconds: f64,
    /// Per document, the lines read (with their pixel spans), to show with its misses.
    #[serde(skip)]
    pub lines: Vec<String>,
}

fn get(f: &DocumentFields, name: &str) -> Option<String> {
    match name {
        "so_ky_hieu" => f.so_ky_hieu.clone(),
        "ngay" => f.ngay.clone(),
        "loai" => f.loai.clone(),
        "co_quan" => f.co_quan.clone(),
        "co_quan_chu_quan" => f.co_quan_chu_quan.clone(),
        "trich_yeu" => f.trich_yeu.clone(),
        "nguoi_ky" => f.nguoi_ky.clone(),
        "chuc_vu" => f.chuc_vu.clone(),
        "tham_quyen" => f.tham_quyen.clone(),
        _ => None,
    }
}

/// Scores readings against truths (pure): `docs[i]` is (kind, truth, read).
pub fn score(seed: u64, pages: usize, docs: &[(String, DocumentFields, DocumentFields)]) -> FieldsReport {
    let n = docs.len();
    let mut misses = Vec::new();
    let mut fields = Vec::new();
    for name in SCORED {
        let (mut present, mut exact) = (0, 0);
        for (i, (kind, truth, read)) in docs.iter().enumerate() {
            let (t, r) = (get(truth, name), get(read, name));
            present += usize::from(t.is_some());
            if t == r {
                exact += 1;
            } else {
                misses.push(Miss { doc: i, kind: kind.clone(), field: name.to_string(), truth: t, read: r });
            }
        }
        fields.push(FieldScore { field: name.to_string(), present, exact, rate: if n > 0 { exact as f64 / n as f64 } else { 0.0 } });
    }
    let (mut printed, mut found, mut false_ids) = (0, 0, 0);
    for (i, (kind, truth, read)) in docs.iter().enumerate() {
        printed += truth.cccd.len();
        found += truth.cccd.iter().filter(|id| read.cccd.contains(id)).count();
        let extra: Vec<&String> = read.cccd.iter().filter(|id| !truth.cccd.contains(id)).collect();
        false_ids += extra.len();
        let missed: Vec<&String> = truth.cccd.iter().filter(|id| !read.cccd.contains(id)).collect();
        if !extra.is_empty() || !missed.is_empty() {
            misses.push(Miss { doc: i, kind: kind.clone(), field: "cccd".into(), truth: Some(truth.cccd.join(", ")), read: Some(read.cccd.join(", ")) });
        }
    }
    FieldsReport {
        seed,
        docs: n,
        pages,
        fields,
        cccd_printed: printed,
        cccd_found: found,
        cccd_false: false_ids,
        cccd_recall: if printed > 0 { found as f64 / printed as f64 } else { 1.0 },
        misses,
        seconds: 0.0,
        lines: Vec::new(),
    }
}

/// The page images of a document as scanned: rendered at `dpi`, skewed, with defects.
fn scan(doc: &OfficialDoc, index: usize, seed: u64, dpi: f32) -> Vec<image::GrayImage> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed ^ 0xF1E1D5 ^ ((index as u64) << 8));
    doc.pages
        .iter()
        .map(|layout| {
            let clean = crate::stages::render::render(layout, dpi);
            let deg = rng.random_range(-6.0f32..6.0);
            degrade(&clean, dpi, deg, 0, rng.random(), Defects::Realistic)
        })
        .collect()
}

/// Generates `docs` documents of `seed`, reads them through the pipeline's page stage on
/// `threads` page threads with the OCR models in `models`, and scores the fields.
pub fn evaluate(docs: usize, seed: u64, threads: usize, models: &Path) -> Result<FieldsReport, String> {
    let t = std::time::Instant::now();
    let set: Vec<OfficialDoc> = (0..docs).map(|i| official_document(seed, i)).collect();
    let total: usize = set.iter().map(|d| d.pages.len()).sum();
    let threads = threads.max(1);
    let mut opts = PipelineOptions::new(OcrConfig {
        models: Some(models.to_path_buf()),
        // Accuracy, not speed: on a shared machine a page may take longer than the
        // pipeline's deadline without being any harder to read.
        deadline_ms: 3_600_000,
        ..Default::default()
    });
    opts.workers = threads;
    let mut engines = start_engines(&opts).map_err(|e| e.to_string())?;
    // Pages are rendered on the pipeline's decode thread as they are needed.
    let mut owner = Vec::with_capacity(total);
    for (d, doc) in set.iter().enumerate() {
        owner.extend(std::iter::repeat_n(d, doc.pages.len()));
    }
    let set_ref = &set;
    let source = set.iter().enumerate().flat_map(move |(d, doc)| {
        let dpi = if d % 2 == 0 { 200.0 } else { 300.0 };
        scan(doc, d, seed, dpi).into_iter().map(move |img| (img, dpi))
    });
    let source = source.enumerate().map(|(i, (img, dpi))| {
        let page = PageImage { index: i, image: image::DynamicImage::ImageLuma8(img), color: ColorMode::Gray, dpi, warnings: Vec::new() };
        PageWork::new(i as u64, Ok(page), total, threads)
    });
    let mut read: Vec<Option<PdfPage>> = vec![None; total];
    run_pages(&mut engines, source, &opts, |done| {
        let i = done.report.index;
        if let Some(p) = done.pdf_page {
            let page = PdfPage { image: crate::model::EncodedImage { data: Vec::new(), ..p.image }, dpi: p.dpi, ocr: p.ocr };
            read[i] = Some(page);
        }
        eprint!("\rpages read: {}/{total}", read.iter().filter(|p| p.is_some()).count());
        Ok(())
    })
    .map_err(|e| e.to_string())?;
    eprintln!();
    let mut scored = Vec::with_capacity(docs);
    let mut lines = Vec::with_capacity(docs);
    for (d, doc) in set_ref.iter().enumerate() {
        let pages: Vec<PdfPage> = (0..total).filter(|&i| owner[i] == d).filter_map(|i| read[i].clone()).collect();
        scored.push((doc.kind.clone(), doc.truth.clone(), document_fields(&pages)));
        let mut shown = String::new();
        for p in &pages {
            for l in crate::stages::fields::PageLines::from_ocr(&p.ocr, p.image.width).lines {
                shown.push_str(&format!("    {:?} {}\n", l.span, l.text));
            }
            shown.push_str("    ----\n");
        }
        lines.push(shown);
    }
    let mut report = score(seed, total, &scored);
    report.lines = lines;
    report.seconds = t.elapsed().as_secs_f64();
    Ok(report)
}

/// Prints the report as the README's table.
pub fn print(r: &FieldsReport) {
    println!("Document fields, {} documents ({} pages), seed {}: exact readings per field", r.docs, r.pages, r.seed);
    println!("| field | documents with it | exact | rate |");
    println!("|---|---:|---:|---:|");
    for f in &r.fields {
        println!("| {} | {} | {}/{} | {:.1}% |", f.field, f.present, f.exact, r.docs, f.rate * 100.0);
    }
    println!("| cccd (recall) | {} numbers | {}/{} | {:.1}% |", r.cccd_printed, r.cccd_found, r.cccd_printed, r.cccd_recall * 100.0);
    println!("| cccd (false ones) | | {} | |", r.cccd_false);
}

/// `sohoa eval-fields`: exit 0 when every header field of the issue reads exactly on at
/// least 95% of the documents, CCCD recall is at least 99% and no number is false; 1
/// otherwise; 2 when the run could not be made.
pub fn run_cli(docs: usize, seed: u64, threads: usize, data: &Path, json: bool) -> u8 {
    let models = match crate::stages::ocr::models::materialize_models(data) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: eval-fields could not write the OCR models to {}: {e}", data.display());
            return 2;
        }
    };
    let report = match evaluate(docs.max(1), seed, threads, &models) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: eval-fields could not run: {e}");
            return 2;
        }
    };
    let mut shown = std::collections::BTreeSet::new();
    for m in &report.misses {
        eprintln!("doc {} ({}): {} read {:?}, truth {:?}", m.doc, m.kind, m.field, m.read, m.truth);
        if shown.insert(m.doc) {
            eprint!("{}", report.lines.get(m.doc).map_or("", String::as_str));
        }
    }
    eprintln!("Done in {:.0} s.", report.seconds);
    if json {
        match serde_json::to_string(&report) {
            Ok(s) => println!("{s}"),
            Err(e) => eprintln!("error: {e}"),
        }
    } else {
        print(&report);
    }
    u8::from(!passes(&report))
}

/// The bar: ≥ 95% exact on each of its header fields, CCCD recall ≥ 99%, no false
/// CCCD number.
pub fn passes(r: &FieldsReport) -> bool {
    let header = ["so_ky_hieu", "ngay", "loai", "co_quan", "trich_yeu", "nguoi_ky"];
    r.fields.iter().filter(|f| header.contains(&f.field.as_str())).all(|f| f.rate >= 0.95) && r.cccd_recall >= 0.99 && r.cccd_false == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_count_exact_readings_and_false_ids() {
        let truth = DocumentFields { so_ky_hieu: Some("1/QĐ-X".into()), cccd: vec!["052190123456".into()], ..Default::default() };
        let right = truth.clone();
        let wrong = DocumentFields { so_ky_hieu: Some("1/QD-X".into()), loai: Some("QĐ".into()), cccd: vec!["001203004567".into()], ..Default::default() };
        let r = score(1, 2, &[("a".into(), truth.clone(), right), ("b".into(), truth, wrong)]);
        let f = |n: &str| r.fields.iter().find(|f| f.field == n).unwrap().clone();
        assert_eq!((f("so_ky_hieu").exact, f("so_ky_hieu").present), (1, 2));
        assert_eq!(f("loai").exact, 1, "a guess where there is nothing is wrong");
        assert_eq!(f("ngay").exact, 2, "null and null agree");
        assert_eq!((r.cccd_printed, r.cccd_found, r.cccd_false), (2, 1, 1));
        assert!(!passes(&r));
        assert_eq!(r.misses.iter().filter(|m| m.doc == 1).count(), 3);
    }
}
