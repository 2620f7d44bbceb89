//! Per-encoder timings and sizes of the stored page image (issue 25): the page JPEG,
//! mixed raster content and CCITT G4, on a noisy 300 dpi A4 page in gray, in gray with a
//! photo, and in colour.
//!
//! `cargo bench --bench encode`; each encoder's output size is printed once before its
//! timing (`sohoa eval-size` has the sizes and legibility per set).

use criterion::{Criterion, black_box, criterion_group, criterion_main};
use image::DynamicImage;
use sohoa::model::ColorMode;
use sohoa::stages::pdf::{PageEncoding, mrc};
use sohoa::tools::synth::{GenOptions, generate_batch};

fn page() -> image::GrayImage {
    let opts = GenOptions {
        seed: 25,
        dpi: 300.0,
        dossiers: 1,
        docs_per_dossier: (1, 1),
        pages_per_doc: (1, 1),
        max_skew_deg: 0.0,
        blank_backs: false,
        noise_sigma: 8.0,
        ..Default::default()
    };
    let batch = generate_batch(&opts);
    let i = batch.truth.pages.iter().position(|p| p.kind == "content").expect("a content page");
    batch.pages[i].image.clone()
}

fn bench(c: &mut Criterion) {
    let gray = page();
    let colour = sohoa::tools::eval::size::colourise(&gray, 300.0, true, 7);
    let bilevel = image::GrayImage::from_fn(gray.width(), gray.height(), |x, y| image::Luma([if gray.get_pixel(x, y)[0] >= 128 { 255 } else { 0 }]));
    // The gray page with a 1.2 x 1.5 inch photo (smooth tones, texture, a dark region) pasted
    // over its lower right: the MRC keeps it as a full-resolution region.
    let mut photo = gray.clone();
    let (x0, y0) = (photo.width() - 480, photo.height() - 900);
    for y in 0..450 {
        for x in 0..360 {
            let v = if y < 100 && (x as i32 - 180).abs() < 120 { 40.0 } else { 125.0 + 70.0 * (x as f32 / 23.0).sin() * (y as f32 / 31.0).cos() };
            let grain = ((x * 131 + y * 71) % 23) as f32 - 11.0;
            photo.put_pixel(x0 + x, y0 + y, image::Luma([(v + grain).clamp(0.0, 255.0) as u8]));
        }
    }
    let cases = [
        ("gray", DynamicImage::ImageLuma8(gray.clone()), ColorMode::Gray),
        ("gray-photo", DynamicImage::ImageLuma8(photo), ColorMode::Gray),
        ("colour", DynamicImage::ImageRgb8(colour), ColorMode::Rgb),
        ("bilevel", DynamicImage::ImageLuma8(bilevel), ColorMode::Bilevel),
    ];
    let mut group = c.benchmark_group("encode-300dpi-a4");
    group.sample_size(10);
    for (name, img, color) in &cases {
        let encoders: &[(&str, Option<PageEncoding>)] = if *color == ColorMode::Bilevel {
            &[("g4", Some(PageEncoding::Bilevel))]
        } else {
            &[("jpeg-q85", Some(PageEncoding::Jpeg)), ("mrc", Some(PageEncoding::Mrc))]
        };
        for (encoder, force) in encoders {
            let enc = mrc::encode_as(img, *color, 300.0, *force);
            let bytes = enc.data.len() + enc.mask.as_ref().map_or(0, |m| m.data.len() + m.photos.iter().map(|p| p.data.len()).sum::<usize>());
            eprintln!("{name}/{encoder}: {} KB", bytes / 1000);
            group.bench_function(format!("{name}/{encoder}"), |b| b.iter(|| black_box(mrc::encode_as(black_box(img), *color, 300.0, *force))));
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
