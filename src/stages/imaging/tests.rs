//! Accuracy tests on rendered Vietnamese administrative pages with known defects.

use super::analysis::Analysis;
use super::*;
use crate::model::{ColorMode, PageImage};
use crate::tools::eval;
use crate::tools::synth::{self, Edge, Line, PageSpec};
use image::DynamicImage;
use image::GrayImage;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

/// Rendered clean pages, cached per (dpi, variant): rendering dominates test time.
fn base(dpi: u32, variant: u64) -> GrayImage {
    static CACHE: OnceLock<Mutex<HashMap<(u32, u64), GrayImage>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(img) = cache.lock().unwrap().get(&(dpi, variant)) {
        return img.clone();
    }
    let pt = if variant.is_multiple_of(2) { 13.0 } else { 12.0 };
    let img = synth::render_admin_page(dpi as f32, synth::pt_to_px(pt, dpi as f32), variant);
    cache.lock().unwrap().insert((dpi, variant), img.clone());
    img
}

/// A scanned-looking page: `deg` skew, then the usual defects chosen by `seed`.
fn scanned(dpi: u32, variant: u64, deg: f32, seed: u64) -> GrayImage {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut img = base(dpi, variant);
    if rng.random_bool(0.4) {
        img = synth::box_blur(&img, if dpi >= 300 { 2 } else { 1 });
    }
    let wedge = rng.random_bool(0.3);
    img = synth::rotate_gray(&img, deg, if wedge { 25 } else { 255 });
    synth::tint(&mut img, rng.random_range(0.88..1.0));
    if rng.random_bool(0.3) {
        let d = dpi / 5;
        synth::add_border(&mut img, d, 0, 0, d / 2, 20);
    }
    synth::add_noise(&mut img, seed, rng.random_range(4.0..14.0));
    synth::add_specks(&mut img, seed + 1, 300, dpi as f32 / 100.0);
    img
}

fn page(img: GrayImage, color: ColorMode, dpi: f32) -> PageImage {
    PageImage { index: 0, image: DynamicImage::ImageLuma8(img), color, dpi, warnings: vec![] }
}

/// Skew over a fixed-seed set of 24 pages, 200 and 300 dpi, angles across [-15, +15],
/// with noise, specks, blur, paper tint, dark bands and black rotation wedges.
#[test]
fn skew_accuracy_over_seeded_pages() {
    let mut rng = StdRng::seed_from_u64(1);
    let mut errs = Vec::new();
    for i in 0..24u64 {
        let dpi = if i % 2 == 0 { 200 } else { 300 };
        let deg: f32 = match i {
            0 => 0.0,
            1 => 14.9,
            2 => -14.9,
            _ => rng.random_range(-15.0..15.0),
        };
        let img = scanned(dpi, i % 3, deg, 100 + i);
        let est = estimate_skew(&img, dpi as f32);
        let err = (est.angle_deg - deg).abs();
        println!("page {i:2} {dpi} dpi: true {deg:7.3} est {:7.3} conf {:.2}", est.angle_deg, est.confidence);
        assert!(est.confidence >= deskew::MIN_CONFIDENCE, "page {i}: confidence {}", est.confidence);
        errs.push(err);
    }
    let mae = errs.iter().sum::<f32>() / errs.len() as f32;
    let max = errs.iter().cloned().fold(0.0, f32::max);
    println!("skew MAE {mae:.4} deg, max {max:.4} deg");
    assert!(mae <= 0.02, "MAE {mae}");
    assert!(max <= 0.1, "max error {max}");
}

/// Every quarter turn of text pages (with a few degrees of skew) is recognised, and the
/// skew is still measured on turned pages.
#[test]
fn orientation_of_quarter_turned_pages() {
    let mut rng = StdRng::seed_from_u64(2);
    let mut wrong = Vec::new();
    for i in 0..6u64 {
        let dpi = if i % 2 == 0 { 200 } else { 300 };
        let deg: f32 = rng.random_range(-4.0..4.0);
        let upright = scanned(dpi, i % 3, deg, 200 + i);
        for q in 0..4u32 {
            let img = synth::rotate_quarter(&upright, q);
            let (a, _) = Analysis::new(&img, dpi as f32);
            let fit = deskew::fit_lines(&a);
            let o = orientation::detect(&a, &fit);
            println!("page {i} {dpi} dpi turned {:3}: got {:3} conf {:.2} skew {:6.3} (true {deg:6.3})", q * 90, o.rotation, o.confidence, fit.raw_angle);
            if o.rotation != (q * 90) as u16 || o.confidence < orientation::MIN_CONFIDENCE {
                wrong.push((i, q * 90, o));
            }
            assert!((fit.raw_angle - deg).abs() < 0.1, "page {i} turn {q}: skew {}", fit.raw_angle);
        }
    }
    assert!(wrong.is_empty(), "wrong orientations: {wrong:?}");
}

/// A landscape sheet whose text runs horizontally is already upright.
#[test]
fn landscape_page_with_horizontal_text_stays() {
    let spec = PageSpec::a4_landscape(200.0, synth::pt_to_px(13.0, 200.0));
    let lines = synth::admin_document_lines(4);
    let mut img = synth::render_page(&spec, &lines);
    synth::add_noise(&mut img, 3, 8.0);
    let o = detect_orientation(&img, 200.0);
    assert_eq!(o.rotation, 0, "{o:?}");
    assert!(o.confidence >= orientation::MIN_CONFIDENCE);
    let turned = synth::rotate_quarter(&img, 2);
    assert_eq!(detect_orientation(&turned, 200.0).rotation, 180);
}

fn blank_sheet(dpi: u32, seed: u64) -> GrayImage {
    let a4 = PageSpec::a4(dpi as f32, 10.0);
    let w = (a4.width_in * dpi as f32) as u32;
    let h = (a4.height_in * dpi as f32) as u32;
    let mut img = GrayImage::from_pixel(w, h, image::Luma([243]));
    synth::add_noise(&mut img, seed, 10.0);
    synth::add_specks(&mut img, seed + 1, 400, dpi as f32 / 100.0);
    img
}

/// Duplex backs with noise, specks, shadows and show-through are blank; a page with one
/// short line of text is not.
#[test]
fn blank_verdicts() {
    for dpi in [200u32, 300] {
        let d = dpi as f32;
        let noisy = blank_sheet(dpi, 1);
        let mut bleed = blank_sheet(dpi, 2);
        // Show-through darkening paper by up to 30 % of the back's ink (243 -> ~175).
        synth::add_bleed_through(&mut bleed, &base(dpi, 1), 0.3);
        let mut shadow = blank_sheet(dpi, 3);
        synth::add_edge_shadow(&mut shadow, Edge::Left, (0.5 * d) as u32, 90);
        synth::add_edge_shadow(&mut shadow, Edge::Bottom, (0.3 * d) as u32, 120);
        let mut bordered = blank_sheet(dpi, 4);
        bordered = synth::rotate_gray(&bordered, 2.0, 20);
        synth::add_border(&mut bordered, dpi / 6, dpi / 10, 0, 0, 15);
        let mut dust = blank_sheet(dpi, 5);
        synth::add_specks(&mut dust, 6, 40, dpi as f32 / 30.0);
        for (name, img) in [("noise", &noisy), ("bleed", &bleed), ("shadow", &shadow), ("border", &bordered), ("dust", &dust)] {
            let v = blank_verdict(img, d);
            println!("{dpi} dpi {name}: {v:?}");
            assert!(v.blank, "{dpi} dpi {name} page should be blank: {v:?}");
        }
        let one_line = {
            let spec = PageSpec::a4(d, synth::pt_to_px(13.0, d));
            let mut img = synth::render_page(&spec, &[Line::left("Trang này để trống")]);
            synth::tint(&mut img, 0.95);
            synth::add_noise(&mut img, 9, 10.0);
            synth::add_specks(&mut img, 10, 400, d / 100.0);
            img
        };
        let v = blank_verdict(&one_line, d);
        println!("{dpi} dpi one line: {v:?}");
        assert!(!v.blank, "{dpi} dpi one short line is not blank: {v:?}");
        let full = scanned(dpi, 0, 1.0, 11);
        let v = blank_verdict(&full, d);
        assert!(!v.blank && v.ink_fraction > 0.01, "{v:?}");
    }
}

/// Pages without line structure keep angle 0: a photo-like page, a nearly empty page.
#[test]
fn low_confidence_pages_are_not_rotated() {
    let dpi = 200.0;
    // Smooth random blobs with texture, like a halftone-free photo.
    let mut rng = StdRng::seed_from_u64(4);
    let seedimg = GrayImage::from_fn(40, 56, |_, _| image::Luma([rng.random_range(0..=255u8)]));
    let (w, h) = ((synth::A4_WIDTH_IN * dpi) as u32, (synth::A4_HEIGHT_IN * dpi) as u32);
    let mut photo = image::imageops::resize(&seedimg, w, h, image::imageops::FilterType::Triangle);
    synth::add_noise(&mut photo, 5, 25.0);
    let s = estimate_skew(&photo, dpi);
    println!("photo: {s:?}");
    assert_eq!(s.angle_deg, 0.0);
    let spec = PageSpec::a4(dpi, synth::pt_to_px(13.0, dpi));
    let sparse = synth::rotate_gray(&synth::render_page(&spec, &[Line::left("Số: 12/UBND-VP")]), 3.0, 255);
    let s = estimate_skew(&sparse, dpi);
    println!("one line: {s:?}");
    assert_eq!(s.angle_deg, 0.0);
}

fn dark_fraction(img: &GrayImage, x0: u32, y0: u32, x1: u32, y1: u32) -> f32 {
    let mut n = 0;
    for y in y0..y1 {
        for x in x0..x1 {
            if img.get_pixel(x, y).0[0] < 100 {
                n += 1;
            }
        }
    }
    n as f32 / ((x1 - x0) * (y1 - y0)).max(1) as f32
}

/// The whole stage on a turned, skewed, bordered page: upright output of transposed size,
/// straight lines, no black borders or corners.
#[test]
fn clean_page_turns_deskews_and_removes_borders() {
    let dpi = 300u32;
    let upright = base(dpi, 2);
    let mut img = synth::rotate_gray(&upright, 4.0, 20);
    synth::add_border(&mut img, 70, 0, 40, 50, 15);
    synth::add_noise(&mut img, 12, 8.0);
    let img = synth::rotate_quarter(&img, 1);
    let (w, h) = img.dimensions();
    let out = clean_page(page(img, ColorMode::Gray, dpi as f32));
    println!("skew {} rotation {} warnings {:?}", out.skew_deg, out.rotation, out.warnings);
    assert_eq!(out.rotation, 90);
    assert!((out.skew_deg - 4.0).abs() < 0.1, "skew {}", out.skew_deg);
    assert!(!out.blank);
    assert_eq!(out.image.width(), h);
    assert_eq!(out.image.height(), w);
    assert_eq!(out.gray.dimensions(), (h, w));
    let again = estimate_skew(&out.gray, dpi as f32);
    assert!(again.angle_deg.abs() < 0.1, "residual skew {again:?}");
    assert_eq!(detect_orientation(&out.gray, dpi as f32).rotation, 0);
    // Edge bands of the output carry no dark border left-overs.
    let g = &out.gray;
    let (ow, oh) = g.dimensions();
    let band = 40;
    for (name, r) in [("left", (0, 0, band, oh)), ("right", (ow - band, 0, ow, oh)), ("top", (0, 0, ow, band)), ("bottom", (0, oh - band, ow, oh))] {
        let f = dark_fraction(g, r.0, r.1, r.2, r.3);
        assert!(f < 0.01, "{name} edge still {f} dark");
    }
}

#[test]
fn clean_page_keeps_colour_mode() {
    let dpi = 200.0;
    let gray = synth::rotate_gray(&base(200, 0), -2.5, 255);
    let rgb = synth::to_warm_rgb(&gray);
    let p = PageImage { index: 3, image: DynamicImage::ImageRgb8(rgb), color: ColorMode::Rgb, dpi, warnings: vec!["from decoder".into()] };
    let out = clean_page(p);
    assert!(matches!(out.image, DynamicImage::ImageRgb8(_)));
    assert_eq!(out.color, ColorMode::Rgb);
    assert_eq!(out.index, 3);
    assert_eq!(out.warnings, vec!["from decoder".to_string()]);
    assert!((out.skew_deg + 2.5).abs() < 0.1, "skew {}", out.skew_deg);
    // Rotation corners are filled with the warm paper colour, not black.
    let px = out.image.to_rgb8().get_pixel(2, 2).0;
    assert!(px[0] > 230 && px[2] < px[0], "corner {px:?}");
    assert_eq!(out.gray.dimensions(), (out.image.width(), out.image.height()));

    let bilevel = GrayImage::from_fn(gray.width(), gray.height(), |x, y| image::Luma([if gray.get_pixel(x, y).0[0] < 128 { 0 } else { 255 }]));
    let out = clean_page(page(bilevel, ColorMode::Bilevel, dpi));
    assert!((out.skew_deg + 2.5).abs() < 0.1, "skew {}", out.skew_deg);
    assert!(out.gray.pixels().all(|p| p.0[0] == 0 || p.0[0] == 255));
    assert!(matches!(out.image, DynamicImage::ImageLuma8(_)));
}

#[test]
fn blank_page_is_flagged_and_left_unturned() {
    let img = blank_sheet(200, 8);
    let (w, h) = img.dimensions();
    let out = clean_page(page(img, ColorMode::Gray, 200.0));
    assert!(out.blank);
    assert_eq!((out.rotation, out.skew_deg), (0, 0.0));
    assert_eq!(out.gray.dimensions(), (w, h));
    // Listed with its ink figure, so a clerk can check it.
    let note = out.warnings.iter().find(|w| w.starts_with("dropped as blank: counted ink ")).expect("the blank page is listed");
    assert!(note.contains(" % of the page"), "{note}");
}

/// A page of text drawn as its negative (light text on black, as an image in a colour
/// space read the wrong way round renders) is text, not an empty sheet.
#[test]
fn a_negative_page_of_text_is_not_blank() {
    for dpi in [200u32, 300] {
        let mut negative = scanned(dpi, 0, 0.5, 21);
        negative.iter_mut().for_each(|v| *v = 255 - *v);
        let v = blank_verdict(&negative, dpi as f32);
        assert!(!v.blank && v.ink_fraction > 0.01, "{dpi} dpi negative: {v:?}");
        // The negative of an empty sheet is still empty.
        let mut dark = blank_sheet(dpi, 22);
        dark.iter_mut().for_each(|v| *v = 255 - *v);
        assert!(blank_verdict(&dark, dpi as f32).blank, "{dpi} dpi negative of a blank sheet");
    }
}

/// A page holding only a few small glyphs (a page number, a short note in small print)
/// is kept.
#[test]
fn a_page_with_a_few_tiny_glyphs_is_not_blank() {
    for dpi in [200u32, 300] {
        let d = dpi as f32;
        for (pt, text) in [(5.0, "Trang 2"), (5.0, "ghi chú"), (6.0, "Trang 2"), (7.0, "Số: 15")] {
            let spec = PageSpec::a4(d, synth::pt_to_px(pt, d));
            let mut img = synth::render_page(&spec, &[Line::left(text)]);
            synth::tint(&mut img, 0.95);
            synth::add_noise(&mut img, 31, 8.0);
            let v = blank_verdict(&img, d);
            println!("{dpi} dpi {pt} pt {text:?}: {v:?}");
            assert!(!v.blank, "{dpi} dpi {pt} pt {text:?}: {v:?}");
        }
    }
}

#[test]
fn odd_input_does_not_panic() {
    for (w, h) in [(0, 0), (1, 1), (3, 500), (500, 2), (40, 40)] {
        let img = GrayImage::from_pixel(w, h, image::Luma([200]));
        let _ = estimate_skew(&img, 300.0);
        let _ = detect_orientation(&img, 300.0);
        let _ = blank_verdict(&img, 300.0);
        let out = clean_page(page(img, ColorMode::Gray, f32::NAN));
        assert_eq!(out.gray.dimensions(), (w, h));
        assert!(out.warnings.iter().any(|w| w.contains("resolution")));
    }
    let black = GrayImage::from_pixel(800, 1100, image::Luma([0]));
    let out = clean_page(page(black, ColorMode::Gray, 100.0));
    assert!(out.gray.pixels().all(|p| p.0[0] == 0), "a black page is not a border");
}

/// Min-of-N timing of the stage parts in process CPU time (run with
/// `RAYON_NUM_THREADS=1 cargo test --release --lib imaging::tests::timing_report -- --ignored --nocapture`).
#[test]
#[ignore]
fn timing_report() {
    let img = scanned(300, 0, 3.3, 9);
    // Process CPU time (all threads), so other load on the machine does not count.
    let cpu = || {
        let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: `ts` is a valid, writable timespec; the call only writes into it.
        unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
        std::time::Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
    };
    let min_of = |f: &dyn Fn()| {
        (0..12)
            .map(|_| {
                let t = cpu();
                f();
                cpu().saturating_sub(t)
            })
            .min()
            .unwrap_or_default()
    };
    let (w, h) = img.dimensions();
    for q in [0u16, 90] {
        let d = min_of(&|| {
            let _ = super::transform::rotate::<1>(img.as_raw(), w, h, q, 3.3, [240]);
        });
        println!("rotate quarter {q}: {d:?}");
    }
    let d = min_of(&|| {
        let _ = super::transform::rotate::<1>(img.as_raw(), w, h, 90, 0.0, [240]);
    });
    println!("exact quarter turn: {d:?}");
    let d = min_of(&|| {
        let _ = super::analysis::downscale::<1>(img.as_raw(), w, h, 3);
    });
    println!("downscale: {d:?}");
    let small = super::analysis::downscale::<1>(img.as_raw(), w, h, 3);
    let d = min_of(&|| {
        let _ = Analysis::from_small(small.clone(), 3, 300.0);
    });
    println!("analysis: {d:?}");
    let (a, _) = Analysis::from_small(small.clone(), 3, 300.0);
    println!(
        "blank: {:?}",
        min_of(&|| {
            let _ = blank::verdict(&a);
        })
    );
    println!(
        "fit_lines: {:?}",
        min_of(&|| {
            let _ = deskew::fit_lines(&a);
        })
    );
    let fit = deskew::fit_lines(&a);
    println!(
        "orientation: {:?}",
        min_of(&|| {
            let _ = orientation::detect(&a, &fit);
        })
    );
    for (name, q) in [("upright", 0u32), ("turned 90", 1)] {
        let turned = synth::rotate_quarter(&img, q);
        let p = page(turned, ColorMode::Gray, 300.0);
        let d = min_of(&|| {
            let _ = clean_page(p.clone());
        });
        println!("clean_page gray 300 dpi {name}: {d:?}");
    }
    let warm = synth::to_warm_rgb(&img);
    for scalar in [true, false] {
        super::transform::SCALAR_ONLY.store(scalar, std::sync::atomic::Ordering::Relaxed);
        for q in [0u16, 90] {
            let d = min_of(&|| {
                let _ = super::transform::rotate::<3>(warm.as_raw(), w, h, q, 3.3, [240, 230, 220]);
            });
            println!("rotate rgb quarter {q} (scalar only: {scalar}): {d:?}");
        }
    }
    println!(
        "downscale rgb: {:?}",
        min_of(&|| {
            let _ = super::analysis::downscale::<3>(warm.as_raw(), w, h, 3);
        })
    );
    println!(
        "luma: {:?}",
        min_of(&|| {
            let _ = super::luma(&warm);
        })
    );
    println!(
        "paper colour: {:?}",
        min_of(&|| {
            let _ = super::paper_colour(&warm, 240, 3);
        })
    );
    let rgb = PageImage { index: 0, image: DynamicImage::ImageRgb8(warm.clone()), color: ColorMode::Rgb, dpi: 300.0, warnings: vec![] };
    println!(
        "clean_page rgb 300 dpi: {:?}",
        min_of(&|| {
            let _ = clean_page(rgb.clone());
        })
    );
}

/// Regression: on an all-capitals page the mark rows above and below the lines split off
/// as separate bands and outnumber the lines; they must still rejoin their lines.
#[test]
fn orientation_of_all_capitals_page() {
    let d = 200.0;
    let spec = PageSpec::a4(d, synth::pt_to_px(13.0, d));
    let caps: Vec<String> = synth::BODY_PARAGRAPHS.iter().map(|p| p.to_uppercase()).collect();
    let lines: Vec<Line> = caps.iter().map(|s| Line::left(s)).collect();
    let mut img = synth::render_page(&spec, &lines);
    synth::add_noise(&mut img, 21, 8.0);
    for q in 0..4 {
        let o = detect_orientation(&synth::rotate_quarter(&img, q), d);
        assert_eq!(o.rotation, (q * 90) as u16, "{o:?}");
        assert!(o.confidence >= orientation::MIN_CONFIDENCE, "{o:?}");
    }
}

/// Longer accuracy run (about a minute in release): many pages, sizes 10-14 pt,
/// 150-400 dpi, heavier noise and blur, sparse pages, all four turns.
/// `cargo test --release --lib imaging::tests::stress -- --ignored --nocapture`
#[test]
#[ignore]
fn stress() {
    let mut rng = StdRng::seed_from_u64(77);
    let (mut n, mut wrong, mut errs) = (0, Vec::new(), Vec::new());
    for i in 0..40u64 {
        let dpi = [150u32, 200, 300, 400][i as usize % 4];
        let d = dpi as f32;
        let pt = rng.random_range(10.0..14.0);
        let mut lines = synth::admin_document_lines(i);
        if i % 5 == 0 {
            lines.truncate(8); // sparse: header and one paragraph
        }
        let mut img = synth::render_page(&PageSpec::a4(d, synth::pt_to_px(pt, d)), &lines);
        let deg: f32 = rng.random_range(-15.0..15.0);
        img = synth::box_blur(&img, rng.random_range(0..=dpi / 100));
        img = synth::rotate_gray(&img, deg, if rng.random_bool(0.5) { 30 } else { 255 });
        synth::tint(&mut img, rng.random_range(0.85..1.0));
        synth::add_noise(&mut img, i, rng.random_range(5.0..22.0));
        synth::add_specks(&mut img, i + 1000, 600, d / 80.0);
        for q in 0..4u32 {
            let t = synth::rotate_quarter(&img, q);
            let (a, _) = Analysis::new(&t, d);
            let fit = deskew::fit_lines(&a);
            let o = orientation::detect(&a, &fit);
            n += 1;
            errs.push((fit.estimate().angle_deg - deg).abs());
            if o.rotation != (q * 90) as u16 || o.confidence < orientation::MIN_CONFIDENCE {
                wrong.push((i, dpi, pt, q * 90, o));
            }
        }
    }
    let mae = errs.iter().sum::<f32>() / errs.len() as f32;
    let max = errs.iter().cloned().fold(0.0, f32::max);
    println!("orientation {}/{n} right; skew MAE {mae:.4} max {max:.4}", n - wrong.len());
    println!("wrong: {wrong:?}");
    assert!(wrong.is_empty());
}

/// The issue's accuracy targets on the `eval-imaging` set (fixed seed, 24 content pages at
/// 200 and 300 dpi skewed across ±15° and turned by random quarter turns, with noise, blur,
/// JPEG artefacts and scanner borders; 8 hard blank sheets; 4 one-line pages).
#[test]
fn eval_set_meets_accuracy_targets() {
    let set = eval::build_set(24, 11, false);
    let r = eval::evaluate(&set, 11);
    for p in &r.pages {
        println!(
            "{}: skew {:?} -> {:.3}, rotation {:?} -> {}, blank {} -> {}",
            p.name, p.truth_skew_deg, p.skew_deg, p.truth_rotation, p.rotation, p.truth_blank, p.blank
        );
    }
    println!("skew MAE {:.4} max {:.4}; orientation {:.3}; blank {:.3}", r.skew.mae_deg, r.skew.max_err_deg, r.orientation_accuracy, r.blank_accuracy);
    assert_eq!(r.content_pages, 24);
    assert!(r.skew.mae_deg <= 0.05, "skew MAE {}", r.skew.mae_deg);
    assert!(r.skew.max_err_deg <= 0.3, "skew max {}", r.skew.max_err_deg);
    assert!(r.orientation_accuracy >= 0.995, "orientation {:?}", r.orientation_wrong);
    assert!(r.blank_accuracy >= 0.99, "blank accuracy {}", r.blank_accuracy);
    assert_eq!(r.content_called_blank, 0);
}

/// Issue #3: after the image stage, OCR character error rate ≤ 1% on pages skewed anywhere
/// in ±15°, as on straight pages. A fixed-seed `eval-imaging` set with realistic scanner
/// defects (12 content pages, 200 and 300 dpi, skewed across ±15° with the first two at
/// ±14.9° and turned by random quarter turns); every page goes through `clean_page` and is
/// read by Tesseract `vie` with sohoa's models, as is its straight twin with the same
/// defects. Reads what the pipeline reads ([`eval::OcrInput::PIPELINE`]), on two threads.
#[test]
fn issue3_ocr_cer_on_skewed_pages_as_on_straight() {
    let set = eval::build_set_with(12, 11, eval::Defects::Realistic, true);
    let dir = tempfile::tempdir().unwrap();
    let models = crate::stages::ocr::models::materialize_models(dir.path()).unwrap();
    let pages = eval::ocr_pages(&set, &models, eval::OcrInput::PIPELINE, 2, |p| {
        println!("{}: CER {:.3}% (straight {:.3}%)", p.name, p.cer * 100.0, p.cer_straight.unwrap_or(f64::NAN) * 100.0)
    })
    .unwrap();
    let s = eval::OcrScore::from_pages(eval::OcrInput::PIPELINE, &pages);
    let straight = s.cer_straight.unwrap();
    println!(
        "CER skewed {:.3}% (worst page {:.3}%), straight {:.3}% (worst {:.3}%)",
        s.cer_skewed * 100.0,
        s.worst_page_cer * 100.0,
        straight * 100.0,
        s.worst_page_cer_straight.unwrap() * 100.0
    );
    assert_eq!(s.pages, 12);
    assert!(s.cer_skewed <= 0.01, "skewed pages: CER {:.3}%", s.cer_skewed * 100.0);
    // Half a point. Measured on this set: 0.560% skewed, 0.265% straight; the gap is
    // three pages at ±14.9° whose corner line ends the generator rotates out of its own
    // frame (the text is not in the input image, see docs/design-notes.md, "Image stage"). A wrong
    // angle, a missed quarter turn or a blurring resample costs far more than this.
    assert!(s.cer_skewed <= straight + 0.005, "skewed {:.3}% vs straight {:.3}%", s.cer_skewed * 100.0, straight * 100.0);
    // No page much worse skewed than straight (a wrong angle or a lost line would be).
    assert!(s.worst_page_excess.unwrap() <= 0.02, "worst page {:+.3} points over its straight twin", s.worst_page_excess.unwrap() * 100.0);
}
