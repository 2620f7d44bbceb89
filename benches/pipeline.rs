//! The stages around OCR, which should cost next to nothing: decode, encode for the PDF,
//! PDF writing, hashing. Pages are a generated A4 batch at 300 dpi (seed 7).
//!
//! `cargo bench --bench pipeline` (the README's performance table quotes these).

use criterion::{Criterion, black_box, criterion_group, criterion_main};
use image::DynamicImage;
use sha2::Digest;
use sohoa::model::{ColorMode, DocumentMeta, OcrPage, OcrWord, PdfPage};
use sohoa::stages::intake::Input;
use sohoa::tools::synth::{GenOptions, generate_batch, write_multipage_tiff};

/// A page's worth of word boxes: 40 lines of 12 words, as Tesseract gives for a full page.
fn words() -> OcrPage {
    let mut words = Vec::new();
    for line in 0..40u32 {
        for w in 0..12u32 {
            words.push(OcrWord {
                text: "thủ_tục".into(),
                left: 300 + w * 160,
                top: 400 + line * 70,
                width: 140,
                height: 40,
                confidence: 91.0,
                line: (1, 1, line),
            });
        }
    }
    OcrPage { text: "thủ tục hành chính ".repeat(480), confidence: Some(91.0), words }
}

fn bench(c: &mut Criterion) {
    let batch = generate_batch(&GenOptions { seed: 7, dpi: 300.0, dossiers: 1, docs_per_dossier: (1, 1), pages_per_doc: (3, 3), ..Default::default() });
    let dir = tempfile::tempdir().unwrap();
    let tif = dir.path().join("batch.tif");
    write_multipage_tiff(&batch.pages, &tif).unwrap();
    let content = batch.truth.pages.iter().find(|p| p.kind == "content").unwrap().index;
    let page = DynamicImage::ImageLuma8(batch.pages[content].image.clone());
    let png = dir.path().join("page.png");
    page.save(&png).unwrap();

    let input = Input::open(&tif).unwrap();
    let n = input.page_count() as u32;
    c.bench_function("decode/tiff_deflate_page_300dpi", |b| {
        b.iter_custom(|iters| {
            let start = std::time::Instant::now();
            let mut left = iters;
            while left > 0 {
                for p in input.pages().take(left.min(n as u64) as usize) {
                    black_box(p.unwrap());
                    left -= 1;
                }
            }
            start.elapsed()
        })
    });
    let png_input = Input::open(&png).unwrap();
    c.bench_function("decode/png_page_300dpi", |b| b.iter(|| black_box(png_input.pages().next().unwrap().unwrap())));
    c.bench_function("encode/jpeg_gray_page_300dpi", |b| b.iter(|| black_box(sohoa::stages::pdf::encode_page_image(&page, ColorMode::Gray))));

    let encoded = sohoa::stages::pdf::encode_page_image(&page, ColorMode::Gray);
    let pages: Vec<PdfPage> = (0..3).map(|_| PdfPage { image: encoded.clone(), dpi: 300.0, ocr: words() }).collect();
    let meta = DocumentMeta {
        page_count: 3,
        source_batch: "bench".into(),
        scan_time: "2026-01-05T08:00:00+07:00".into(),
        title: "bench".into(),
        ..Default::default()
    };
    c.bench_function("pdf/write_3_pages_with_text_layer", |b| b.iter(|| black_box(sohoa::stages::pdf::write_searchable_pdf(&pages, &meta).unwrap())));

    let pdf = sohoa::stages::pdf::write_searchable_pdf(&pages, &meta).unwrap();
    eprintln!("hashing a {} KiB PDF", pdf.len() / 1024);
    c.bench_function("hash/blake3_and_sha256_document", |b| {
        b.iter(|| {
            black_box(blake3::hash(&pdf));
            black_box(sha2::Sha256::digest(&pdf));
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(4));
    targets = bench
}
criterion_main!(benches);
