//! The one synthetic-page generator: sample scanner batches with ground truth (`sohoa
//! generate`, `sohoa bench`, the integration tests), single text pages for the image-stage
//! tests and `sohoa eval-imaging`, and the one defect model both use. Pages are drawn by
//! `stages::render` (one font set, one rasteriser); skew goes through
//! `stages::imaging::transform`.
//!
//! This file owns the batch generator: [`generate_batch`] makes what a post-office scanner
//! would output for a stack of dossiers, and [`BatchTruth`] says what every page is.
//! The stack follows the separator convention the pipeline reads:
//!
//! - each dossier starts with a cover sheet: a QR code `HS:<dossier code>` at the top left
//!   and the code in large text (codes valid per Circular 01/2018/TT-VPCP, Art. 19);
//! - each document starts with a separator sheet: `TP:<type code>` (QR and Code 128 in
//!   turn, see [`GenOptions::symbologies`]) and the type's Vietnamese name in large text,
//!   or sometimes a plain `PATCHT` sheet (an untyped document);
//! - then the document's content pages: Vietnamese administrative documents laid out per
//!   Decree 30/2020 (see `document`), Liberation Serif 13 pt, A4;
//! - optionally a blank back (a few specks) after some sheets (duplex).
//!
//! Every page is rotated by a random skew (recorded in [`PageTruth::skew_deg`], positive =
//! counter-clockwise on screen) and gets gaussian-like noise.
//!
//! Invariants (tested): the same [`GenOptions`] give identical pixels and truth; page
//! indexes are 0..n in order; every content page belongs to exactly one document and
//! separators, covers and blanks to none; a content page's `text` is exactly the strings
//! drawn on it (see `document` for the reading order), independent of the dpi.
//! Pages are planned sequentially from one seeded RNG, then rendered in parallel, each
//! from its own seed, so rayon's scheduling cannot change the output.
//!
//! Submodules: `text` (Vietnamese content), `official` (documents with known header
//! fields for `sohoa eval-fields`), `document` (a document on pages), `pages`
//! (single text pages), `defects` (the scanner defects), `cer` (character error rate).

pub mod cer;
pub mod defects;
pub mod document;
pub mod official;
pub mod pages;
pub mod sheets;
pub mod text;

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use image::{GrayImage, Luma};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

pub use crate::stages::render::Symbology;
pub use cer::cer;
pub use defects::{
    Edge, add_bleed_through, add_border, add_edge_shadow, add_noise, add_specks, box_blur, rotate_gray, rotate_gray_expand, rotate_quarter, tint, to_warm_rgb,
};
pub use pages::{A4_HEIGHT_IN, A4_WIDTH_IN, Align, BODY_PARAGRAPHS, Line, PageSpec, admin_document_lines, pt_to_px, render_admin_page, render_page};

use crate::model::DOC_KINDS;
use crate::stages::barcode::sheets::{layout_cover, layout_separator};
use crate::stages::render::{self, PageLayout};

/// What to generate. `Default` gives a small, realistic batch at 200 dpi.
#[derive(Debug, Clone, PartialEq)]
pub struct GenOptions {
    pub seed: u64,
    /// Scan resolution (clamped to 50..=1200).
    pub dpi: f32,
    pub dossiers: usize,
    /// Documents per dossier, inclusive range.
    pub docs_per_dossier: (usize, usize),
    /// Content pages per document, inclusive range (at least 1).
    pub pages_per_doc: (usize, usize),
    /// Skew drawn uniformly from [-max, +max] degrees for every page.
    pub max_skew_deg: f32,
    /// Insert blank backs after some sheets.
    pub blank_backs: bool,
    /// Probability of a blank back after a sheet when `blank_backs` is set.
    pub blank_back_prob: f64,
    /// Symbologies used in turn for `TP:` document separators (covers are always QR).
    /// Empty means QR and Code 128 alternating.
    pub symbologies: Vec<Symbology>,
    /// Probability that a document starts with a plain `PATCHT` sheet instead of `TP:`.
    pub plain_separator_prob: f64,
    /// Standard deviation of the gaussian noise, in gray levels (0 = none).
    pub noise_sigma: f32,
    /// Covers name a procedure of the sample catalog and a citizen
    /// (`HS:<code>|<procedure>|<citizen ID>`), and each dossier holds that procedure's
    /// components (all typed; `docs_per_dossier` and `plain_separator_prob` are then not
    /// used). Off: the plain convention, and the same batches as before.
    pub procedures: bool,
    /// With `procedures`: probability that a dossier lacks one required component.
    pub missing_prob: f64,
    /// With `procedures`: how many citizens the dossiers are drawn from (so several
    /// dossiers share one citizen, for the reuse lookup).
    pub citizens: usize,
}

impl Default for GenOptions {
    fn default() -> Self {
        GenOptions {
            seed: 1,
            dpi: 200.0,
            dossiers: 2,
            docs_per_dossier: (1, 4),
            pages_per_doc: (1, 3),
            max_skew_deg: 2.0,
            blank_backs: true,
            blank_back_prob: 0.2,
            symbologies: vec![Symbology::Qr, Symbology::Code128],
            plain_separator_prob: 0.15,
            noise_sigma: 4.0,
            procedures: false,
            missing_prob: 0.3,
            citizens: 2,
        }
    }
}

/// The scanner output and what it contains.
#[derive(Debug, Clone)]
pub struct GeneratedBatch {
    pub pages: Vec<GeneratedPage>,
    pub truth: BatchTruth,
}

#[derive(Debug, Clone, PartialEq)]
pub struct GeneratedPage {
    pub image: GrayImage,
    pub dpi: f32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchTruth {
    pub pages: Vec<PageTruth>,
    pub dossiers: Vec<DossierTruth>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageTruth {
    /// 0-based position in the batch.
    pub index: usize,
    /// "content", "separator" (covers included) or "blank".
    pub kind: String,
    /// The barcode payload of a separator or cover sheet.
    pub barcode: Option<String>,
    /// Skew applied, degrees, positive = counter-clockwise on screen.
    pub skew_deg: f32,
    /// Quarter turns applied (counter-clockwise degrees); always 0 for now.
    pub rotation: u16,
    /// Exact text of a content page, lines joined by '\n'; None for other pages.
    pub text: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DossierTruth {
    /// The dossier code on the cover sheet (without the `HS:` prefix).
    pub code: Option<String>,
    pub documents: Vec<DocumentTruth>,
    /// With `GenOptions::procedures`: the procedure and citizen on the cover, and the
    /// required components left out of the dossier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub procedure: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub citizen_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentTruth {
    /// Type code from the `TP:` separator; None after a plain `PATCHT` separator.
    pub r#type: Option<String>,
    /// Indexes of the document's content pages (separators and blanks excluded).
    pub source_pages: Vec<usize>,
}

/// Payload of plain separator sheets.
pub const PLAIN_SEPARATOR: &str = "PATCHT";
/// Prefix of dossier cover payloads.
pub const DOSSIER_PREFIX: &str = "HS:";
/// Prefix of document separator payloads.
pub const DOCUMENT_PREFIX: &str = "TP:";

enum Sheet {
    /// `payload`: what the QR carries (`HS:<code>`, or with the procedure and citizen).
    Cover {
        code: String,
        payload: String,
    },
    Separator {
        payload: String,
        symbology: Symbology,
        label: String,
    },
    Content(PageLayout),
    Blank,
}

struct PlannedPage {
    sheet: Sheet,
    skew_deg: f32,
    seed: u64,
}

/// Options made safe to run: ranges ordered, at least one page per document, dpi and
/// probabilities in range.
fn validated(opts: &GenOptions) -> GenOptions {
    let order = |(a, b): (usize, usize)| if a <= b { (a, b) } else { (b, a) };
    let (p0, p1) = order(opts.pages_per_doc);
    let mut o = opts.clone();
    o.dpi = if opts.dpi.is_finite() { opts.dpi.clamp(50.0, 1200.0) } else { 200.0 };
    o.docs_per_dossier = order(opts.docs_per_dossier);
    o.pages_per_doc = (p0.max(1), p1.max(1));
    o.max_skew_deg = if opts.max_skew_deg.is_finite() { opts.max_skew_deg.abs().min(45.0) } else { 0.0 };
    let prob = |p: f64| {
        if p.is_finite() { p.clamp(0.0, 1.0) } else { 0.0 }
    };
    o.blank_back_prob = prob(opts.blank_back_prob);
    o.plain_separator_prob = prob(opts.plain_separator_prob);
    o.noise_sigma = if opts.noise_sigma.is_finite() { opts.noise_sigma.clamp(0.0, 64.0) } else { 0.0 };
    o.missing_prob = prob(opts.missing_prob);
    o.citizens = opts.citizens.max(1);
    if o.symbologies.is_empty() {
        o.symbologies = vec![Symbology::Qr, Symbology::Code128];
    }
    o
}

struct Planner {
    rng: StdRng,
    opts: GenOptions,
    pages: Vec<PlannedPage>,
    truth: Vec<PageTruth>,
}

impl Planner {
    /// Adds a sheet (and maybe its blank back); returns the sheet's index.
    fn push(&mut self, sheet: Sheet, barcode: Option<String>) -> usize {
        let index = self.add(sheet, barcode);
        if self.opts.blank_backs && self.rng.random_bool(self.opts.blank_back_prob) {
            self.add(Sheet::Blank, None);
        }
        index
    }

    fn add(&mut self, sheet: Sheet, barcode: Option<String>) -> usize {
        let max = self.opts.max_skew_deg;
        let skew_deg = if max > 0.0 { (self.rng.random_range(-max..=max) * 100.0).round() / 100.0 } else { 0.0 };
        let seed = self.rng.random();
        let (kind, text) = match &sheet {
            Sheet::Cover { .. } | Sheet::Separator { .. } => ("separator", None),
            Sheet::Content(l) => ("content", Some(l.text())),
            Sheet::Blank => ("blank", None),
        };
        let index = self.pages.len();
        self.truth.push(PageTruth { index, kind: kind.to_string(), barcode, skew_deg, rotation: 0, text });
        self.pages.push(PlannedPage { sheet, skew_deg, seed });
        index
    }
}

/// Decides every page and the truth, sequentially from the seed.
fn plan(opts: &GenOptions) -> (Vec<PlannedPage>, BatchTruth) {
    let mut p = Planner { rng: StdRng::seed_from_u64(opts.seed), opts: opts.clone(), pages: Vec::new(), truth: Vec::new() };
    let mut dossiers = Vec::with_capacity(opts.dossiers);
    let mut separators = 0usize;
    if opts.procedures {
        plan_with_procedures(&mut p, &mut dossiers, &mut separators);
        let truth = BatchTruth { pages: p.truth, dossiers };
        return (p.pages, truth);
    }
    for _ in 0..opts.dossiers {
        let received = text::Date::random(&mut p.rng);
        let code = text::dossier_code(&mut p.rng, received);
        let payload = format!("{DOSSIER_PREFIX}{code}");
        p.push(Sheet::Cover { code: code.clone(), payload: payload.clone() }, Some(payload));
        let n_docs = p.rng.random_range(opts.docs_per_dossier.0..=opts.docs_per_dossier.1);
        let mut documents = Vec::with_capacity(n_docs);
        for _ in 0..n_docs {
            let kind = &DOC_KINDS[p.rng.random_range(0..DOC_KINDS.len())];
            let plain = p.rng.random_bool(opts.plain_separator_prob);
            let (payload, symbology, label, doc_type) = if plain {
                (PLAIN_SEPARATOR.to_string(), Symbology::Code128, "PATCH T".to_string(), None)
            } else {
                let sym = opts.symbologies[separators % opts.symbologies.len()];
                separators += 1;
                (format!("{DOCUMENT_PREFIX}{}", kind.code), sym, kind.name.to_string(), Some(kind.code.to_string()))
            };
            p.push(Sheet::Separator { payload: payload.clone(), symbology, label }, Some(payload));
            let n_pages = p.rng.random_range(opts.pages_per_doc.0..=opts.pages_per_doc.1);
            let (content, mut body) = text::compose(&mut p.rng, kind);
            let laid = document::layout_document(&content, &mut body, &mut p.rng, n_pages);
            let mut source_pages = Vec::with_capacity(n_pages);
            for page in laid {
                source_pages.push(p.push(Sheet::Content(page), None));
            }
            documents.push(DocumentTruth { r#type: doc_type, source_pages });
        }
        dossiers.push(DossierTruth { code: Some(code), documents, procedure: None, citizen_id: None, missing: None });
    }
    let truth = BatchTruth { pages: p.truth, dossiers };
    (p.pages, truth)
}

/// A citizen ID number: a province prefix, the century-and-sex digit, two birth-year
/// digits, six random digits.
fn citizen_id(rng: &mut StdRng) -> String {
    let prefix = ["001", "079", "052", "048", "031"][rng.random_range(0..5)];
    format!("{prefix}{}{:02}{:06}", rng.random_range(0..4), rng.random_range(0..100), rng.random_range(0..1_000_000u32))
}

/// The dossiers of a batch with procedures (see [`GenOptions::procedures`]).
fn plan_with_procedures(p: &mut Planner, dossiers: &mut Vec<DossierTruth>, separators: &mut usize) {
    let catalog = crate::stages::dossier::procedures::ProcedureCatalog::sample();
    let citizens: Vec<String> = (0..p.opts.citizens).map(|_| citizen_id(&mut p.rng)).collect();
    for _ in 0..p.opts.dossiers {
        let received = text::Date::random(&mut p.rng);
        let code = text::dossier_code(&mut p.rng, received);
        let procedure = &catalog.procedures()[p.rng.random_range(0..catalog.procedures().len())];
        let citizen = citizens[p.rng.random_range(0..citizens.len())].clone();
        let mut components: Vec<String> = procedure.required.clone();
        let mut missing = Vec::new();
        if !components.is_empty() && p.rng.random_bool(p.opts.missing_prob) {
            missing.push(components.remove(p.rng.random_range(0..components.len())));
        }
        for o in &procedure.optional {
            if p.rng.random_bool(0.3) {
                components.push(o.clone());
            }
        }
        let payload = format!("{DOSSIER_PREFIX}{code}|{}|{citizen}", procedure.code);
        p.push(Sheet::Cover { code: code.clone(), payload: payload.clone() }, Some(payload));
        let mut documents = Vec::with_capacity(components.len());
        for c in components {
            let kind = crate::model::doc_kind(&c).unwrap_or(&DOC_KINDS[0]);
            let sym = p.opts.symbologies[*separators % p.opts.symbologies.len()];
            *separators += 1;
            let payload = format!("{DOCUMENT_PREFIX}{}", kind.code);
            p.push(Sheet::Separator { payload: payload.clone(), symbology: sym, label: kind.name.to_string() }, Some(payload));
            let n_pages = p.rng.random_range(p.opts.pages_per_doc.0..=p.opts.pages_per_doc.1);
            let (content, mut body) = text::compose(&mut p.rng, kind);
            let laid = document::layout_document(&content, &mut body, &mut p.rng, n_pages);
            let source_pages = laid.into_iter().map(|page| p.push(Sheet::Content(page), None)).collect();
            documents.push(DocumentTruth { r#type: Some(kind.code.to_string()), source_pages });
        }
        dossiers.push(DossierTruth { code: Some(code), documents, procedure: Some(procedure.code.clone()), citizen_id: Some(citizen), missing: Some(missing) });
    }
}

fn render_planned(page: &PlannedPage, opts: &GenOptions) -> GrayImage {
    let dpi = opts.dpi;
    let mut rng = StdRng::seed_from_u64(page.seed);
    let layout = match &page.sheet {
        Sheet::Cover { code, payload } => layout_cover(payload, code, dpi),
        Sheet::Separator { payload, symbology, label } => layout_separator(payload, *symbology, label, dpi),
        Sheet::Content(l) => Some(l.clone()),
        Sheet::Blank => None,
    };
    let clean = match layout {
        Some(l) => render::render(&l, dpi),
        None => {
            let (w, h) = render::page_size_px(dpi);
            GrayImage::from_pixel(w, h, Luma([255]))
        }
    };
    let mut img = rotate_gray(&clean, page.skew_deg, 255);
    if matches!(page.sheet, Sheet::Blank) {
        let specks = rng.random_range(0..5);
        add_specks(&mut img, rng.random(), specks, render::mm_to_px(0.25, dpi).max(1.0));
    }
    add_noise(&mut img, rng.random(), opts.noise_sigma);
    img
}

/// Generates a batch: page images and their ground truth. Deterministic in `opts`.
pub fn generate_batch(opts: &GenOptions) -> GeneratedBatch {
    let opts = validated(opts);
    let (planned, truth) = plan(&opts);
    let pages = planned.par_iter().map(|p| GeneratedPage { image: render_planned(p, &opts), dpi: opts.dpi }).collect();
    GeneratedBatch { pages, truth }
}

fn tiff_err(e: tiff::TiffError) -> io::Error {
    io::Error::other(e)
}

/// Writes the pages as one multi-page TIFF: 8-bit gray, Deflate, horizontal predictor,
/// XResolution/YResolution in dots per inch.
pub fn write_multipage_tiff(pages: &[GeneratedPage], path: &Path) -> io::Result<()> {
    write_multipage_tiff_from(pages.iter().cloned(), path).map(|_| ())
}

/// As [`write_multipage_tiff`], from pages made one at a time (a long bench batch never
/// sits whole in memory). Returns the number of pages written.
pub fn write_multipage_tiff_from(pages: impl IntoIterator<Item = GeneratedPage>, path: &Path) -> io::Result<usize> {
    use tiff::encoder::{Compression, DeflateLevel, Predictor, Rational, TiffEncoder, colortype::Gray8};
    use tiff::tags::ResolutionUnit;
    let mut file = BufWriter::new(File::create(path)?);
    let mut n = 0;
    {
        let mut enc =
            TiffEncoder::new(&mut file).map_err(tiff_err)?.with_compression(Compression::Deflate(DeflateLevel::Fast)).with_predictor(Predictor::Horizontal);
        for p in pages {
            let (w, h) = p.image.dimensions();
            let mut img = enc.new_image::<Gray8>(w, h).map_err(tiff_err)?;
            let dpi = if p.dpi.is_finite() && p.dpi > 0.0 { p.dpi } else { 200.0 };
            img.resolution(ResolutionUnit::Inch, Rational { n: (dpi * 100.0).round() as u32, d: 100 });
            img.write_data(p.image.as_raw()).map_err(tiff_err)?;
            n += 1;
        }
    }
    file.flush()?;
    Ok(n)
}

/// Writes the truth as pretty JSON.
pub fn write_truth(truth: &BatchTruth, path: &Path) -> io::Result<()> {
    let json = serde_json::to_vec_pretty(truth).map_err(io::Error::other)?;
    std::fs::write(path, json)
}

/// Generates a batch into `dir` (created if missing): `batch.tif` and `batch.truth.json`.
pub fn write_sample_set(dir: &Path, opts: &GenOptions) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let batch = generate_batch(opts);
    write_multipage_tiff(&batch.pages, &dir.join("batch.tif"))?;
    write_truth(&batch.truth, &dir.join("batch.truth.json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small(seed: u64, dpi: f32) -> GenOptions {
        GenOptions { seed, dpi, dossiers: 2, docs_per_dossier: (1, 3), pages_per_doc: (1, 2), ..Default::default() }
    }

    /// Issue #24: covers with procedures, dossiers with missing components; the split
    /// and the completeness check read back exactly the truth.
    #[test]
    fn procedure_batches_carry_their_missing_components() {
        use crate::model::{PageKind, PageSignal};
        use crate::stages::dossier::procedures::ProcedureCatalog;
        use crate::stages::split::{SplitOptions, classify_barcode, plan_split};
        let opts =
            GenOptions { seed: 5, dpi: 60.0, dossiers: 8, pages_per_doc: (1, 1), procedures: true, missing_prob: 0.5, citizens: 2, ..Default::default() };
        let batch = generate_batch(&opts);
        let again = generate_batch(&opts);
        assert!(batch.truth == again.truth && batch.pages == again.pages, "deterministic");
        let truth = &batch.truth;
        let catalog = ProcedureCatalog::sample();
        let citizens: std::collections::BTreeSet<&str> = truth.dossiers.iter().filter_map(|d| d.citizen_id.as_deref()).collect();
        assert!(citizens.len() <= 2 && citizens.iter().all(|c| c.len() == 12));
        let incomplete = truth.dossiers.iter().filter(|d| !d.missing.as_ref().unwrap().is_empty()).count();
        assert!(incomplete > 0 && incomplete < truth.dossiers.len(), "{incomplete} of {} dossiers incomplete", truth.dossiers.len());
        let signals: Vec<PageSignal> = truth
            .pages
            .iter()
            .map(|t| {
                let action = t.barcode.as_deref().and_then(classify_barcode);
                let kind = match t.kind.as_str() {
                    "content" => PageKind::Content,
                    "blank" => PageKind::Blank,
                    _ => PageKind::Separator,
                };
                PageSignal { index: t.index, kind, action, keep: None, unread_sheet: false }
            })
            .collect();
        let plan = plan_split(&signals, SplitOptions::default());
        assert_eq!(plan.dossiers.len(), truth.dossiers.len());
        for (d, t) in plan.dossiers.iter().zip(&truth.dossiers) {
            assert_eq!((&d.code, &d.procedure, &d.citizen_id), (&t.code, &t.procedure, &t.citizen_id));
            let types: Vec<Option<&str>> = d.documents.iter().map(|doc| doc.doc_type.as_deref()).collect();
            let check = catalog.check(d.procedure.as_deref(), d.code.as_deref(), &types);
            assert_eq!(Some(&check.missing), t.missing.as_ref());
            assert_eq!(check.complete, Some(t.missing.as_ref().unwrap().is_empty()));
        }
    }

    #[test]
    fn same_seed_same_pixels_and_truth() {
        let a = generate_batch(&small(42, 100.0));
        let b = generate_batch(&small(42, 100.0));
        assert_eq!(a.truth, b.truth);
        assert_eq!(a.pages, b.pages);
        let c = generate_batch(&small(43, 100.0));
        assert_ne!(a.truth, c.truth, "another seed gives another batch");
    }

    #[test]
    fn truth_is_consistent() {
        let re = regex::Regex::new(r"^\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}-\d{6}-\d{4}$").unwrap();
        for seed in 0..6 {
            let opts = GenOptions { seed, dossiers: 3, ..Default::default() };
            let opts = validated(&opts);
            // Planning only: the truth does not need the pixels.
            let (planned, truth) = plan(&opts);
            assert_eq!(planned.len(), truth.pages.len());
            for (i, p) in truth.pages.iter().enumerate() {
                assert_eq!(p.index, i);
                assert!(p.skew_deg.abs() <= opts.max_skew_deg);
                assert_eq!(p.rotation, 0);
                match p.kind.as_str() {
                    "content" => assert!(p.barcode.is_none() && p.text.as_deref().is_some_and(|t| t.len() > 100)),
                    "separator" => assert!(p.barcode.is_some() && p.text.is_none()),
                    "blank" => assert!(p.barcode.is_none() && p.text.is_none()),
                    k => panic!("unknown kind {k}"),
                }
            }
            let mut owner = vec![0usize; truth.pages.len()];
            assert_eq!(truth.dossiers.len(), 3);
            for d in &truth.dossiers {
                let code = d.code.as_deref().unwrap();
                assert!(re.is_match(code), "{code}");
                assert!(truth.pages.iter().any(|p| p.barcode.as_deref() == Some(&format!("HS:{code}"))));
                assert!(!d.documents.is_empty());
                for doc in &d.documents {
                    assert!(!doc.source_pages.is_empty());
                    assert!(doc.source_pages.windows(2).all(|w| w[0] < w[1]));
                    if let Some(t) = &doc.r#type {
                        assert!(crate::model::doc_kind(t).is_some());
                    }
                    for &i in &doc.source_pages {
                        owner[i] += 1;
                    }
                    // The page before the first content page (skipping blanks) is this
                    // document's separator.
                    let sep = truth.pages[..doc.source_pages[0]].iter().rev().find(|p| p.kind != "blank").unwrap();
                    let want = match &doc.r#type {
                        Some(t) => format!("TP:{t}"),
                        None => PLAIN_SEPARATOR.to_string(),
                    };
                    assert_eq!(sep.barcode.as_deref(), Some(want.as_str()));
                }
            }
            for (i, p) in truth.pages.iter().enumerate() {
                assert_eq!(owner[i], usize::from(p.kind == "content"), "page {i} ({}) owners", p.kind);
            }
            // JSON round trip.
            let json = serde_json::to_string(&truth).unwrap();
            assert_eq!(serde_json::from_str::<BatchTruth>(&json).unwrap(), truth);
        }
    }

    #[test]
    fn content_text_does_not_depend_on_dpi() {
        let a = plan(&validated(&small(9, 150.0))).1;
        let b = plan(&validated(&small(9, 300.0))).1;
        assert_eq!(a, b);
    }

    /// Decodes the two symbologies separators use. (Unrestricted, rxing's try-harder mode
    /// finds false EAN-8 codes in body text: seed 3's first content page reads "22450036".)
    fn decode(img: &GrayImage) -> Option<String> {
        let (w, h) = img.dimensions();
        let mut hints =
            rxing::DecodeHints { PossibleFormats: Some([rxing::BarcodeFormat::QR_CODE, rxing::BarcodeFormat::CODE_128].into()), ..Default::default() };
        rxing::helpers::detect_in_luma_with_hints(img.as_raw().clone(), w, h, None, &mut hints).ok().map(|r| r.getText().to_string())
    }

    /// What kinds of barcode sheet a plan holds: (symbology, is PATCHT).
    fn sheet_kinds(planned: &[PlannedPage]) -> std::collections::HashSet<(Symbology, bool)> {
        planned
            .iter()
            .filter_map(|p| match &p.sheet {
                Sheet::Cover { .. } => Some((Symbology::Qr, false)),
                Sheet::Separator { symbology, payload, .. } => Some((*symbology, payload == PLAIN_SEPARATOR)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn separator_barcodes_decode_at_200_dpi() {
        let base = GenOptions {
            dpi: 200.0,
            dossiers: 1,
            docs_per_dossier: (3, 3),
            pages_per_doc: (1, 1),
            max_skew_deg: 2.0,
            blank_backs: false,
            plain_separator_prob: 0.3,
            ..Default::default()
        };
        // The first seed whose sheets include QR and Code 128 TP: sheets and a PATCHT sheet
        // (found from the plan, which is cheap; the search itself is deterministic).
        let (opts, planned, truth) = (0..100)
            .map(|seed| {
                let o = validated(&GenOptions { seed, ..base.clone() });
                let (p, t) = plan(&o);
                (o, p, t)
            })
            .find(|(_, p, _)| sheet_kinds(p).len() == 3)
            .expect("a seed with every kind of sheet");
        let mut decoded = 0;
        for (p, t) in planned.iter().zip(&truth.pages) {
            let Some(want) = &t.barcode else { continue };
            let img = render_planned(p, &opts);
            assert_eq!(decode(&img).as_deref(), Some(want.as_str()), "page {} skew {}", t.index, t.skew_deg);
            decoded += 1;
        }
        assert_eq!(decoded, 4);
    }

    #[test]
    fn separators_decode_at_150_and_300_dpi_when_skewed() {
        let code = "000.00.15.H40-250301-0007";
        for dpi in [150.0, 300.0] {
            let sheets = [
                (layout_cover(&format!("HS:{code}"), code, dpi).unwrap(), format!("HS:{code}")),
                (layout_separator("TP:GXN", Symbology::Code128, "Giấy xác nhận", dpi).unwrap(), "TP:GXN".into()),
                (layout_separator("TP:CCCD", Symbology::Qr, "Căn cước công dân", dpi).unwrap(), "TP:CCCD".into()),
            ];
            for (i, (sheet, want)) in sheets.iter().enumerate() {
                let skew = if i % 2 == 0 { 2.0 } else { -2.0 };
                let mut img = rotate_gray(&render::render(sheet, dpi), skew, 255);
                add_noise(&mut img, i as u64, 4.0);
                assert_eq!(decode(&img).as_deref(), Some(want.as_str()), "{want} at {dpi} dpi");
            }
        }
    }

    #[test]
    fn content_pages_carry_no_barcode() {
        let opts = validated(&GenOptions {
            seed: 3,
            dpi: 150.0,
            dossiers: 1,
            docs_per_dossier: (1, 1),
            pages_per_doc: (1, 1),
            blank_backs: false,
            ..Default::default()
        });
        let (planned, truth) = plan(&opts);
        let content = truth.pages.iter().position(|p| p.kind == "content").unwrap();
        assert_eq!(decode(&render_planned(&planned[content], &opts)), None);
    }

    #[test]
    fn tiff_round_trips() {
        use tiff::decoder::{Decoder, DecodingResult};
        use tiff::tags::Tag;
        let batch = generate_batch(&GenOptions { dpi: 100.0, dossiers: 1, docs_per_dossier: (1, 1), ..Default::default() });
        let dir = tempfile::tempdir().unwrap();
        write_sample_set(dir.path(), &GenOptions { dpi: 100.0, dossiers: 1, docs_per_dossier: (1, 1), ..Default::default() }).unwrap();
        let path = dir.path().join("batch.tif");
        let mut dec = Decoder::new(std::io::BufReader::new(File::open(&path).unwrap())).unwrap();
        let mut n = 0;
        loop {
            let page = &batch.pages[n];
            assert_eq!(dec.dimensions().unwrap(), page.image.dimensions());
            assert_eq!(dec.get_tag_u32(Tag::ResolutionUnit).unwrap(), 2, "inches");
            for tag in [Tag::XResolution, Tag::YResolution] {
                let (n, d) = match dec.get_tag(tag).unwrap() {
                    tiff::decoder::ifd::Value::Rational(n, d) => (n, d),
                    v => panic!("{tag:?} is {v:?}"),
                };
                assert!((n as f64 / d as f64 - 100.0).abs() < 1e-6, "{tag:?} {n}/{d}");
            }
            assert_eq!(dec.get_tag_u32(Tag::Compression).unwrap(), 8, "deflate");
            match dec.read_image().unwrap() {
                DecodingResult::U8(data) => {
                    assert!(data == *page.image.as_raw(), "page {n} pixels")
                }
                other => panic!("unexpected sample type {:?}", std::mem::discriminant(&other)),
            }
            n += 1;
            if !dec.more_images() {
                break;
            }
            dec.next_image().unwrap();
        }
        assert_eq!(n, batch.pages.len());
        let truth: BatchTruth = serde_json::from_slice(&std::fs::read(dir.path().join("batch.truth.json")).unwrap()).unwrap();
        assert_eq!(truth, batch.truth);
    }

    #[test]
    fn bad_options_do_not_panic() {
        let opts = GenOptions {
            dpi: f32::NAN,
            dossiers: 1,
            docs_per_dossier: (2, 0),
            pages_per_doc: (0, 0),
            max_skew_deg: -3.0,
            blank_back_prob: 7.0,
            plain_separator_prob: f64::NAN,
            noise_sigma: -1.0,
            symbologies: vec![],
            ..Default::default()
        };
        let v = validated(&opts);
        assert_eq!(v.dpi, 200.0);
        assert_eq!(v.docs_per_dossier, (0, 2));
        assert_eq!(v.pages_per_doc, (1, 1));
        let (_, truth) = plan(&v);
        assert_eq!(truth.dossiers.len(), 1);
        let empty = generate_batch(&GenOptions { dossiers: 0, ..Default::default() });
        assert!(empty.pages.is_empty() && empty.truth.dossiers.is_empty());
    }
}

#[cfg(test)]
mod preview {
    use super::*;

    /// Writes a batch's pages as PNGs for a person to look at:
    /// `SOHOA_PREVIEW_DIR=/tmp/p SOHOA_PREVIEW_DPI=300 cargo test --release --lib synth::preview -- --ignored`.
    #[test]
    #[ignore]
    fn write_preview_pngs() {
        let dir = std::env::var("SOHOA_PREVIEW_DIR").unwrap_or_else(|_| "/tmp/sohoa-preview".into());
        let dir = Path::new(&dir);
        std::fs::create_dir_all(dir).unwrap();
        let dpi = std::env::var("SOHOA_PREVIEW_DPI").ok().and_then(|s| s.parse().ok()).unwrap_or(300.0);
        let t = std::time::Instant::now();
        let batch = generate_batch(&GenOptions { dpi, ..Default::default() });
        eprintln!("{} pages at {dpi} dpi in {:?}", batch.pages.len(), t.elapsed());
        for (i, p) in batch.pages.iter().enumerate() {
            p.image.save(dir.join(format!("page-{i:03}.png"))).unwrap();
        }
        write_truth(&batch.truth, &dir.join("batch.truth.json")).unwrap();
        let t = std::time::Instant::now();
        let tif = dir.join("batch.tif");
        write_multipage_tiff(&batch.pages, &tif).unwrap();
        let size = std::fs::metadata(&tif).unwrap().len();
        eprintln!("TIFF written in {:?}: {} bytes", t.elapsed(), size);
    }
}
