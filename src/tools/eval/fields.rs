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
//!
//! `--keep DIR` writes each document as read ([`KeptDoc`]: OCR words with their boxes, page
//! widths, truth) and `--from DIR` scores such a folder again ([`score_kept`]), so the
//! extractor can be worked on against the same readings without a quarter hour of OCR.

use std::path::{Path, PathBuf};

use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use super::set::{Defects, degrade};
use crate::model::{ColorMode, DocumentFields, OcrPage, PageImage};
use crate::runtime::pipeline::{PageWork, PipelineOptions, run_pages, start_engines};
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

/// Where the scored documents come from.
#[derive(Debug, Clone)]
pub enum Source {
    /// Generate `docs` documents of `seed`, read them on `threads` page threads with the OCR
    /// models of the data folder `data`; with `keep`, write each document's reading there.
    Generate { docs: usize, seed: u64, threads: usize, data: PathBuf, keep: Option<PathBuf> },
    /// The documents an earlier run kept in this folder.
    Kept(PathBuf),
}

/// One page as read: its pixel width and OCR.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeptPage {
    pub width: u32,
    pub ocr: OcrPage,
}

/// One document as read, with what its fields must be (`--keep`: `DIR/doc-NNNN.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeptDoc {
    pub seed: u64,
    pub index: usize,
    pub kind: String,
    pub truth: DocumentFields,
    pub pages: Vec<KeptPage>,
}

/// The file of document `index` in a `--keep` folder.
fn kept_path(dir: &Path, index: usize) -> PathBuf {
    dir.join(format!("doc-{index:04}.json"))
}

/// Scores documents as read (pure): their fields are read from the OCR exactly as the
/// pipeline reads them ([`crate::runtime::pipeline::document_fields`]).
pub fn score_kept(seed: u64, docs: &[KeptDoc]) -> FieldsReport {
    let mut scored = Vec::with_capacity(docs.len());
    let mut lines = Vec::with_capacity(docs.len());
    for doc in docs {
        let read = crate::stages::fields::extract_from_ocr(doc.pages.iter().map(|p| (&p.ocr, p.width)));
        scored.push((doc.kind.clone(), doc.truth.clone(), read));
        let mut shown = String::new();
        for p in &doc.pages {
            for l in crate::stages::fields::PageLines::from_ocr(&p.ocr, p.width).lines {
                shown.push_str(&format!("    {:?} {}\n", l.span, l.text));
            }
            shown.push_str("    ----\n");
        }
        lines.push(shown);
    }
    let pages = docs.iter().map(|d| d.pages.len()).sum();
    let mut report = score(seed, pages, &scored);
    report.lines = lines;
    report
}

/// Generates `docs` documents of `seed`, reads them through the pipeline's page stage on
/// `threads` page threads with the OCR models in `models`; with `keep`, writes each
/// document's reading there.
pub fn read_documents(docs: usize, seed: u64, threads: usize, models: &Path, keep: Option<&Path>) -> Result<Vec<KeptDoc>, String> {
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
    if let Some(dir) = keep {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let mut engines = start_engines(&opts).map_err(|e| e.to_string())?;
    // Pages are rendered on the pipeline's decode thread as they are needed.
    let mut owner = Vec::with_capacity(total);
    for (d, doc) in set.iter().enumerate() {
        owner.extend(std::iter::repeat_n(d, doc.pages.len()));
    }
    let source = set.iter().enumerate().flat_map(move |(d, doc)| {
        let dpi = if d % 2 == 0 { 200.0 } else { 300.0 };
        scan(doc, d, seed, dpi).into_iter().map(move |img| (img, dpi))
    });
    let source = source.enumerate().map(|(i, (img, dpi))| {
        let page = PageImage { index: i, image: image::DynamicImage::ImageLuma8(img), color: ColorMode::Gray, dpi, warnings: Vec::new() };
        PageWork::new(i as u64, Ok(page), total, threads)
    });
    let mut read: Vec<Option<KeptPage>> = vec![None; total];
    let mut written = vec![false; docs];
    let mut keep_error: Option<String> = None;
    run_pages(&mut engines, source, &opts, |done| {
        let i = done.report.index;
        if let Some(p) = done.pdf_page {
            read[i] = Some(KeptPage { width: p.image.width, ocr: p.ocr });
        }
        eprint!("\rpages read: {}/{total}", read.iter().filter(|p| p.is_some()).count());
        // A document is written as soon as its pages are read, so an interrupted run
        // keeps what it read.
        if let Some(dir) = keep {
            for d in 0..docs {
                let mine = (0..total).filter(|&k| owner[k] == d);
                if !written[d] && mine.clone().all(|k| read[k].is_some()) {
                    let doc = kept_doc(&set[d], seed, d, mine.filter_map(|k| read[k].clone()).collect());
                    let path = kept_path(dir, d);
                    let wrote = serde_json::to_vec(&doc).map_err(|e| e.to_string()).and_then(|json| std::fs::write(&path, json).map_err(|e| e.to_string()));
                    if let Err(e) = wrote {
                        keep_error.get_or_insert(format!("{}: {e}", path.display()));
                    }
                    written[d] = true;
                }
            }
        }
        Ok(())
    })
    .map_err(|e| e.to_string())?;
    eprintln!();
    if let Some(e) = keep_error {
        return Err(format!("could not keep a document: {e}"));
    }
    Ok(set.iter().enumerate().map(|(d, doc)| kept_doc(doc, seed, d, (0..total).filter(|&k| owner[k] == d).filter_map(|k| read[k].clone()).collect())).collect())
}

fn kept_doc(doc: &OfficialDoc, seed: u64, index: usize, pages: Vec<KeptPage>) -> KeptDoc {
    KeptDoc { seed, index, kind: doc.kind.clone(), truth: doc.truth.clone(), pages }
}

/// The documents of a `--keep` folder, in order (`doc-0000.json`, `doc-0001.json`, … up to
/// the first missing one).
pub fn load_kept(dir: &Path) -> Result<Vec<KeptDoc>, String> {
    let mut out = Vec::new();
    loop {
        let path = kept_path(dir, out.len());
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => break,
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        out.push(serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", path.display()))?);
    }
    if out.is_empty() {
        return Err(format!("no {} in {}", kept_path(Path::new(""), 0).display(), dir.display()));
    }
    Ok(out)
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
pub fn run_cli(source: &Source, json: bool) -> u8 {
    let t = std::time::Instant::now();
    let kept = match source {
        Source::Kept(dir) => load_kept(dir),
        Source::Generate { docs, seed, threads, data, keep } => match crate::stages::ocr::models::materialize_models(data) {
            Ok(models) => read_documents((*docs).max(1), *seed, *threads, &models, keep.as_deref()),
            Err(e) => {
                eprintln!("error: eval-fields could not write the OCR models to {}: {e}", data.display());
                return 2;
            }
        },
    };
    let kept = match kept {
        Ok(k) => k,
        Err(e) => {
            eprintln!("error: eval-fields could not run: {e}");
            return 2;
        }
    };
    let mut report = score_kept(kept.first().map_or(0, |d| d.seed), &kept);
    report.seconds = t.elapsed().as_secs_f64();
    let mut shown = std::collections::BTreeSet::new();
    for m in &report.misses {
        eprintln!("doc {} ({}): {} read {:?}, truth {:?}", m.doc, m.kind, m.field, m.read, m.truth);
        if shown.insert(m.doc) {
            eprint!("{}", report.lines.get(m.doc).map_or("", String::as_str));
        }
    }
    super::emit(&report, report.seconds, json, print);
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

    #[test]
    fn kept_documents_are_scored_again_as_read() {
        use crate::model::OcrWord;
        let w = |t: &str, left: u32, line: u32| OcrWord { text: t.into(), left, top: 0, width: 100, height: 30, confidence: 90.0, line: (0, 0, line) };
        let ocr = OcrPage { words: vec![w("Số:", 10, 0), w("12/QĐ-UBND", 120, 0)], confidence: Some(90.0), text: String::new() };
        let truth = DocumentFields { so_ky_hieu: Some("12/QĐ-UBND".into()), ..Default::default() };
        let doc = KeptDoc { seed: 4, index: 0, kind: "official".into(), truth, pages: vec![KeptPage { width: 2000, ocr }] };
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(kept_path(dir.path(), 0), serde_json::to_vec(&doc).unwrap()).unwrap();
        let docs = load_kept(dir.path()).unwrap();
        assert_eq!(docs.len(), 1);
        let r = score_kept(docs[0].seed, &docs);
        assert_eq!((r.seed, r.docs, r.pages), (4, 1, 1));
        let f = |n: &str| r.fields.iter().find(|f| f.field == n).unwrap().exact;
        assert_eq!(f("so_ky_hieu"), 1, "{:?}", r.misses);
        assert!(r.lines[0].contains("Số: 12/QĐ-UBND"));
        assert!(load_kept(&dir.path().join("none")).is_err(), "an empty folder is an error, not a perfect score");
    }
}
