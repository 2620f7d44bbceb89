use super::patch::{PatchKind, render_patch};
use super::sheets::{Sheet, render_sheet, sheets_pdf};
use super::*;
use crate::stages::render::{self, Symbology};
use crate::stages::split::rules::SeparatorRules;
use crate::tools::synth::{self, GenOptions};

const CODE: &str = "000.00.15.H40-250301-0007";

/// A white A4 page at `dpi` with `code` pasted at (x_mm, y_mm).
fn page_with(code: &GrayImage, dpi: f32, x_mm: f32, y_mm: f32) -> GrayImage {
    let (w, h) = render::page_size_px(dpi);
    let mut page = GrayImage::from_pixel(w, h, image::Luma([250]));
    let px = |mm: f32| (mm * dpi / 25.4).round() as i64;
    imageops::overlay(&mut page, code, px(x_mm), px(y_mm));
    page
}

/// Skew, noise and optional blur, like a scanner.
fn degrade(img: &GrayImage, deg: f32, upside_down: bool, blur: f32, seed: u64) -> GrayImage {
    let mut img = synth::rotate_gray(img, deg, 255);
    if upside_down {
        imageops::rotate180_in_place(&mut img);
    }
    if blur > 0.0 {
        img = imageops::blur(&img, blur);
    }
    synth::add_noise(&mut img, seed, 6.0);
    img
}

fn texts(scan: &BarcodeScan) -> Vec<&str> {
    scan.barcodes.iter().map(|b| b.text.as_str()).collect()
}

/// Module size for `mm` at `dpi`, whole pixels.
fn module(mm: f32, dpi: f32) -> u32 {
    ((mm * dpi / 25.4).round() as u32).max(2)
}

#[test]
fn reads_each_symbology_at_each_resolution_skewed_and_upside_down() {
    let cases = [
        (BarcodeFormat::QR_CODE, format!("HS:{CODE}"), 0.8),
        (BarcodeFormat::DATA_MATRIX, "TP:CCCD".to_string(), 0.8),
        (BarcodeFormat::CODE_128, "TP:GKS".to_string(), 0.4),
        (BarcodeFormat::CODE_39, "PATCHT".to_string(), 0.4),
    ];
    let mut seed = 0;
    for dpi in [150.0, 200.0, 300.0, 600.0] {
        for (format, text, module_mm) in &cases {
            let one_d = matches!(format, BarcodeFormat::CODE_128 | BarcodeFormat::CODE_39);
            let code = render_barcode(text, *format, module(*module_mm, dpi), module(16.0, dpi)).unwrap();
            for (deg, flip) in [(0.0, false), (15.0, false), (-15.0, true), (7.0, true)] {
                seed += 1;
                let page = degrade(&page_with(&code, dpi, 30.0, 40.0), deg, flip, if dpi >= 300.0 { 1.0 } else { 0.0 }, seed);
                let scan = scan_page(&page, dpi);
                assert_eq!(texts(&scan), vec![text.as_str()], "{format:?} at {dpi} dpi, {deg}°, flipped {flip} (1D {one_d})");
                assert!(scan.warnings.is_empty(), "{:?}", scan.warnings);
            }
        }
    }
}

#[test]
fn reads_several_codes_on_one_page() {
    let dpi = 300.0;
    let (w, h) = render::page_size_px(dpi);
    let mut page = GrayImage::from_pixel(w, h, image::Luma([250]));
    let qr = render_barcode(&format!("HS:{CODE}"), BarcodeFormat::QR_CODE, 9, 0).unwrap();
    let c128 = render_barcode("TP:CCCD", BarcodeFormat::CODE_128, 5, 190).unwrap();
    let dm = render_barcode("https://example.gov.vn/form/77", BarcodeFormat::DATA_MATRIX, 8, 0).unwrap();
    imageops::overlay(&mut page, &qr, 200, 200);
    imageops::overlay(&mut page, &c128, 1200, 1500);
    imageops::overlay(&mut page, &dm, 300, 2800);
    let page = degrade(&page, 4.0, false, 0.0, 1);
    let scan = scan_page(&page, dpi);
    let mut got = texts(&scan);
    got.sort();
    assert_eq!(got, vec!["HS:000.00.15.H40-250301-0007", "TP:CCCD", "https://example.gov.vn/form/77"]);
}

#[test]
fn an_empty_page_has_no_barcode() {
    for dpi in [150.0, 300.0] {
        let (w, h) = render::page_size_px(dpi);
        let mut page = GrayImage::from_pixel(w, h, image::Luma([245]));
        synth::add_noise(&mut page, 3, 8.0);
        assert_eq!(scan_page(&page, dpi), BarcodeScan::default());
    }
}

/// A QR printed on a form is read, but matches no rule: the page stays content.
#[test]
fn a_code_that_matches_no_rule_is_not_a_separator() {
    let dpi = 200.0;
    let qr = render_barcode("https://dichvucong.gov.vn/p/home/dvc-tra-cuu-ho-so.html?ma=H40.25", BarcodeFormat::QR_CODE, 5, 0).unwrap();
    let scan = scan_page(&degrade(&page_with(&qr, dpi, 160.0, 250.0), 2.0, false, 0.0, 9), dpi);
    assert_eq!(scan.barcodes.len(), 1);
    assert_eq!(SeparatorRules::default().classify(&scan.barcodes[0].text), None);
}

#[test]
fn patch_codes_are_read_from_the_bars() {
    let mut seed = 100;
    for dpi in [150.0, 200.0, 300.0, 600.0] {
        for kind in PatchKind::ALL {
            let bars = render_patch(kind, dpi, 60.0, 0);
            for (deg, quarter) in [(0.0, false), (12.0, false), (-15.0, false), (3.0, true)] {
                seed += 1;
                let mut page = page_with(&bars, dpi, 40.0, 30.0);
                if quarter {
                    // Turned a quarter counter-clockwise: the leading (top) edge is on
                    // the left, the bars are vertical and read left to right.
                    page = imageops::rotate270(&page);
                }
                let page = degrade(&page, deg, false, 0.8, seed);
                let scan = scan_page(&page, dpi);
                assert_eq!(texts(&scan), vec![kind.text()], "{kind:?} at {dpi} dpi, {deg}°, quarter {quarter}");
            }
        }
    }
}

#[test]
fn patch_t_is_a_plain_separator_by_default() {
    let r = SeparatorRules::default();
    assert_eq!(r.classify(PatchKind::T.text()).unwrap().action, crate::model::SeparatorAction::Plain);
    for k in [PatchKind::P1, PatchKind::P2, PatchKind::P3, PatchKind::P4, PatchKind::P6] {
        assert_eq!(r.classify(k.text()), None);
        assert_eq!(PatchKind::parse(&k.label()), Some(k));
    }
}

/// Generated batches (QR and Code 128 separators, skewed up to ±15°, every other page
/// upside down): every separator is read with the right text and no content page splits.
/// The skew is applied here into a larger canvas, as a scanner bed larger than the sheet
/// would see it (the generator's own skew keeps the page size and can cut off a corner
/// code).
#[test]
fn generated_batches_find_every_separator_and_split_nothing_else() {
    let rules = SeparatorRules::default();
    for (i, dpi) in [150.0, 200.0, 300.0].into_iter().enumerate() {
        let batch = synth::generate_batch(&GenOptions {
            seed: 40 + i as u64,
            dpi,
            dossiers: 2,
            docs_per_dossier: (2, 3),
            pages_per_doc: (1, 2),
            max_skew_deg: 0.0,
            symbologies: vec![Symbology::Qr, Symbology::Code128],
            plain_separator_prob: 0.3,
            noise_sigma: 6.0,
            ..Default::default()
        });
        let mut separators = 0;
        for (n, (page, truth)) in batch.pages.iter().zip(&batch.truth.pages).enumerate() {
            let skew = [15.0, -15.0, 9.5, -4.0, 12.0, -11.0, 2.0][n % 7];
            let mut img = synth::rotate_gray_expand(&page.image, skew, 255);
            if n % 2 == 1 {
                imageops::rotate180_in_place(&mut img);
            }
            let scan = scan_page(&img, dpi);
            let split: Vec<&str> = scan.barcodes.iter().filter(|b| rules.classify(&b.text).is_some()).map(|b| b.text.as_str()).collect();
            match truth.barcode.as_deref() {
                Some(want) => {
                    separators += 1;
                    assert_eq!(split, vec![want], "page {n} at {dpi} dpi, skew {skew}");
                }
                None => assert!(split.is_empty(), "page {n} ({}) at {dpi} dpi: false split {split:?}", truth.kind),
            }
        }
        assert!(separators >= 5, "{separators}");
    }
}

/// `sohoa separators` output, rasterised by pdftoppm at 200 dpi and read back.
#[test]
fn printed_sheets_round_trip_through_pdftoppm() {
    let sheets = vec![
        Sheet::Dossier(CODE.to_string()),
        Sheet::Type("CCCD".to_string()),
        Sheet::Type("QD".to_string()),
        Sheet::Patch(PatchKind::T),
        Sheet::Patch(PatchKind::P2),
    ];
    let pdf = sheets_pdf(&sheets).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sheets.pdf");
    std::fs::write(&path, &pdf).unwrap();
    let status = std::process::Command::new("pdftoppm")
        .args(["-r", "200", "-gray", "-png"])
        .arg(&path)
        .arg(dir.path().join("p"))
        .status()
        .expect("pdftoppm (poppler-utils) is installed");
    assert!(status.success());
    let mut pngs: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|e| e == "png")).collect();
    pngs.sort();
    assert_eq!(pngs.len(), sheets.len());
    for (png, sheet) in pngs.iter().zip(&sheets) {
        let img = image::open(png).unwrap().to_luma8();
        let scan = scan_page(&img, 200.0);
        assert_eq!(texts(&scan), vec![sheet.payload().as_str()], "{sheet:?}");
    }
}

/// The same PDF through the pipeline's own intake (the embedded 300 dpi images).
#[test]
fn printed_sheets_round_trip_through_intake() {
    let sheets = vec![Sheet::Dossier(CODE.to_string()), Sheet::Type("GKS".to_string()), Sheet::Patch(PatchKind::T)];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sheets.pdf");
    std::fs::write(&path, sheets_pdf(&sheets).unwrap()).unwrap();
    let input = crate::stages::intake::Input::open(&path).unwrap();
    let pages: Vec<_> = input.pages().collect();
    assert_eq!(pages.len(), sheets.len());
    for (page, sheet) in pages.into_iter().zip(&sheets) {
        let page = page.unwrap();
        let scan = scan_page(&page.image.to_luma8(), page.dpi);
        assert_eq!(texts(&scan), vec![sheet.payload().as_str()], "{sheet:?} at {} dpi", page.dpi);
    }
}

#[test]
fn printed_sheets_show_the_type_name_and_read_back_skewed() {
    assert_eq!(sheets::type_name("cccd"), Some("Căn cước công dân"));
    let img = render_sheet(&Sheet::Type("GKS".into()), 200.0).unwrap();
    let scan = scan_page(&degrade(&img, -10.0, true, 0.7, 5), 200.0);
    assert_eq!(texts(&scan), vec!["TP:GKS"]);
    assert!(sheets::check(&[Sheet::Dossier("ABC".into()), Sheet::Type("ZZZ".into())]).len() == 2);
    assert!(matches!(sheets_pdf(&[]), Err(sheets::SheetError::Nothing)));
}

/// A call that never answers in time is abandoned with a warning; the caller goes on.
#[test]
fn an_overrunning_call_is_abandoned() {
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let r = run_with_budget(Duration::from_millis(20), move || {
        let _ = release_rx.recv(); // blocks until released: a stand-in for rxing looping
        1
    });
    assert!(r.unwrap_err().contains("gave up"));
    // Let the abandoned thread finish: it counts itself back.
    drop(release_tx);
    assert_eq!(run_with_budget(Duration::from_secs(60), || 2), Ok(2));
}

/// Seed of the generated separator set (README "Separator sheets", `scripts/compare_barcodes.py`).
pub const SET_SEED: u64 = 1;
/// Sheets of the set that may go unread: 37 are today (zxing-cpp alone misses 81 of the
/// same sheets, 38 of them patch sheets it has no reader for; see the README), plus a
/// margin of 3 for decoder calls abandoned under a loaded machine. Every other sheet must
/// yield its payload.
const SET_MISSED_FLOOR: usize = 40;

/// Issue #19: the generated separator set (300 sheets, 300 content pages; every
/// symbology, module size, position, turn and scanner defect of `tools::synth::sheets`):
/// recall at least zxing-cpp's, no content page becomes a separator, and every sheet that
/// is missed is at least flagged for review.
#[test]
fn generated_separator_set_is_read_with_no_false_separator() {
    let pages = synth::sheets::plan_set(SET_SEED, 300, 300);
    let out = synth::sheets::read_set(&pages);
    let missed: Vec<String> = out
        .iter()
        .filter(|o| o.page.is_sheet() && !o.correct())
        .map(|o| format!("page {} {:?} read {:?} flagged {}: {}", o.page.index, o.page.payload, o.texts, o.unread_sheet, o.page.describe()))
        .collect();
    let false_separators: Vec<String> = out
        .iter()
        .filter(|o| !o.page.is_sheet() && !o.correct())
        .map(|o| format!("page {} read {:?}: {}", o.page.index, o.separators, o.page.describe()))
        .collect();
    eprintln!("generated separator set: {} of 300 sheets read; missed: {missed:#?}", 300 - missed.len());
    assert!(false_separators.is_empty(), "{false_separators:#?}");
    assert!(missed.len() <= SET_MISSED_FLOOR, "{} sheets missed (floor {SET_MISSED_FLOOR}): {missed:#?}", missed.len());
}
