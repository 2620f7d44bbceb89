//! Separator detection (`barcode::scan_page`) on A4 pages at 300 dpi and at 200 dpi (the
//! resolution of `sohoa bench`'s batch, where the search runs on the page's own pixels).
//!
//! `RAYON_NUM_THREADS=1 cargo bench --bench barcode` for one-core numbers, the figures
//! docs/performance.md's "Barcodes" section reports (targets: ≤ 100 ms for a page without a
//! barcode, ≤ 150 ms with one).

use criterion::{Criterion, black_box, criterion_group, criterion_main};
use image::GrayImage;
use sohoa::stages::barcode::{self, patch::PatchKind, sheets};
use sohoa::stages::render;
use sohoa::tools::synth::{self, GenOptions};

fn scanned(img: &GrayImage, deg: f32, seed: u64) -> GrayImage {
    let mut img = synth::rotate_gray(img, deg, 255);
    synth::add_noise(&mut img, seed, 5.0);
    img
}

/// The generated content page with the most ink (a dense page of body text).
fn dense_content_page(dpi: f32) -> GrayImage {
    let batch = synth::generate_batch(&GenOptions {
        seed: 11,
        dpi,
        dossiers: 1,
        docs_per_dossier: (4, 4),
        pages_per_doc: (1, 2),
        blank_backs: false,
        max_skew_deg: 1.5,
        ..Default::default()
    });
    batch
        .pages
        .iter()
        .zip(&batch.truth.pages)
        .filter(|(_, t)| t.kind == "content")
        .max_by_key(|(p, _)| p.image.pixels().filter(|px| px.0[0] < 128).count())
        .map(|(p, _)| p.image.clone())
        .expect("a content page")
}

fn bench(c: &mut Criterion) {
    for dpi in [300.0, 200.0] {
        bench_at(c, dpi);
    }
    bench_set(c);
}

/// A batch as a counter scans it, most pages content: the first 8 sheets and 32 content
/// pages of the generated separator set (`tools::synth::sheets`, seed 1), every page read
/// once per iteration. The time per iteration divided by 40 is the mean time per page
/// (target ≤ 100 ms); the hard sheets alone show what a sheet-like page may cost.
fn bench_set(c: &mut Criterion) {
    use sohoa::tools::synth::sheets::{plan_set, render_set_page};
    let plan = plan_set(1, 300, 300);
    let pick: Vec<_> = plan.iter().filter(|p| p.is_sheet()).take(8).chain(plan.iter().filter(|p| !p.is_sheet()).take(32)).collect();
    let pages: Vec<(GrayImage, f32)> = pick.iter().map(|p| render_set_page(p)).collect();
    let mut g = c.benchmark_group("barcode_separator_set");
    g.sample_size(10);
    g.bench_function("batch_8_sheets_32_content_pages", |b| {
        b.iter(|| {
            for (img, dpi) in &pages {
                black_box(barcode::scan_page(black_box(img), *dpi));
            }
        })
    });
    g.bench_function("content_pages_32", |b| {
        b.iter(|| {
            for (img, dpi) in &pages[8..] {
                black_box(barcode::scan_page(black_box(img), *dpi));
            }
        })
    });
    g.finish();
}

fn bench_at(c: &mut Criterion, dpi: f32) {
    let cover = scanned(&sheets::render_sheet(&sheets::Sheet::Dossier("000.00.15.H40-250301-0007".into()), dpi).unwrap(), 3.0, 1);
    let separator = scanned(&sheets::render_sheet(&sheets::Sheet::Type("CCCD".into()), dpi).unwrap(), -2.0, 2);
    let patch = scanned(&sheets::render_sheet(&sheets::Sheet::Patch(PatchKind::T), dpi).unwrap(), 1.0, 3);
    let content = dense_content_page(dpi);
    let (w, h) = render::page_size_px(dpi);
    let mut blank = GrayImage::from_pixel(w, h, image::Luma([245]));
    synth::add_noise(&mut blank, 4, 5.0);

    // What is measured is a successful read (or none, on pages without a separator).
    for (img, want) in
        [(&cover, Some("HS:000.00.15.H40-250301-0007")), (&separator, Some("TP:CCCD")), (&patch, Some("PATCHT")), (&content, None), (&blank, None)]
    {
        let got: Vec<String> = barcode::scan_page(img, dpi).barcodes.into_iter().map(|b| b.text).collect();
        assert_eq!(got, want.into_iter().map(String::from).collect::<Vec<_>>(), "at {dpi} dpi");
    }

    let mut g = c.benchmark_group(format!("barcode_scan_page_{dpi}dpi"));
    g.sample_size(20);
    for (name, img) in
        [("separator_qr_cover", &cover), ("separator_code128", &separator), ("separator_patch_t", &patch), ("dense_content", &content), ("blank", &blank)]
    {
        g.bench_function(name, |b| b.iter(|| black_box(barcode::scan_page(black_box(img), dpi))));
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
