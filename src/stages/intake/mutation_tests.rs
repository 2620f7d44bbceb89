//! The intake mutation test: thousands of seeded corruptions (bit flips, truncations,
//! spliced heads and tails, huge declared sizes, overwritten runs) of small valid TIFF,
//! PDF, PNG and JPEG files go through [`Input::open`] and every page's decode, in this
//! process. Every case must end as a refused input, decoded pages or page failures: no
//! panic escapes, nothing aborts, and no page comes out over the page budget. Seeds are
//! fixed, so a failing case is found again by its number.

use super::{Input, limits};
use crate::model::PageImage;
use sohoa_testkit::hostile::{MUTATIONS, Rng, mutate, tiff_raw};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

/// Corruptions per format.
const CASES: usize = 1500;

#[derive(Debug, Default)]
struct Tally {
    refused: usize,
    pages_ok: usize,
    page_errors: usize,
    panics: Vec<String>,
}

/// Runs `CASES` corruptions of `seeds` (files of one format) through intake.
fn run(ext: &str, seeds: &[Vec<u8>], base_seed: u64) -> Tally {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("case.{ext}"));
    let mut tally = Tally::default();
    for case in 0..CASES {
        let mut rng = Rng::new(base_seed ^ (case as u64).wrapping_mul(0x9E37_79B9));
        let file = &seeds[rng.below(seeds.len())];
        let other = &seeds[rng.below(seeds.len())];
        let how = MUTATIONS[rng.below(MUTATIONS.len())];
        let bytes = mutate(file, other, how, &mut rng);
        std::fs::write(&path, &bytes).unwrap();
        match catch_unwind(AssertUnwindSafe(|| decode_all(&path))) {
            Ok(None) => tally.refused += 1,
            Ok(Some((ok, failed))) => {
                tally.pages_ok += ok;
                tally.page_errors += failed;
            }
            Err(_) => tally.panics.push(format!("{ext} case {case} ({how:?})")),
        }
    }
    tally
}

/// Opens `path` and decodes every page: `None` if the input is refused, else the number of
/// pages decoded and failed.
fn decode_all(path: &Path) -> Option<(usize, usize)> {
    let input = Input::open(path).ok()?;
    let (mut ok, mut failed) = (0, 0);
    for page in input.pages() {
        match page {
            Ok(p) => {
                within_budget(&p);
                ok += 1;
            }
            Err(_) => failed += 1,
        }
    }
    assert_eq!(ok + failed, input.page_count(), "every page comes out once");
    Some((ok, failed))
}

fn within_budget(p: &PageImage) {
    let bytes = p.image.as_bytes().len() as u64;
    assert!(u64::from(p.image.width()) * u64::from(p.image.height()) <= limits::MAX_PAGE_PIXELS);
    assert!(bytes <= limits::MAX_DECODED_BYTES);
}

fn report(ext: &str, t: &Tally) {
    println!("{ext}: {CASES} corruptions: {} refused, {} pages decoded, {} page errors, {} panics", t.refused, t.pages_ok, t.page_errors, t.panics.len());
    assert!(t.panics.is_empty(), "panics escaped intake: {:?}", t.panics);
    // The corruptions reach the decoders (not only the sniffing of the first bytes).
    assert!(t.pages_ok + t.page_errors > CASES / 4, "{t:?}");
}

fn gray(w: u32, h: u32) -> image::GrayImage {
    image::GrayImage::from_fn(w, h, |x, y| image::Luma([if (x / 3 + y / 5) % 4 == 0 { 20 } else { 235 }]))
}

fn encoded(img: image::DynamicImage, format: image::ImageFormat) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

fn tiff_seeds() -> Vec<Vec<u8>> {
    use tiff::encoder::{Compression, DeflateLevel, TiffEncoder, colortype};
    let mut seeds = Vec::new();
    for compression in [Compression::Lzw, Compression::Deflate(DeflateLevel::default()), Compression::Packbits, Compression::Uncompressed] {
        let mut out = std::io::Cursor::new(Vec::new());
        {
            let mut enc = TiffEncoder::new(&mut out).unwrap().with_compression(compression);
            enc.write_image::<colortype::Gray8>(48, 40, gray(48, 40).as_raw()).unwrap();
            let rgb = image::DynamicImage::ImageLuma8(gray(40, 32)).to_rgb8();
            enc.write_image::<colortype::RGB8>(40, 32, rgb.as_raw()).unwrap();
        }
        seeds.push(out.into_inner());
    }
    let ga: Vec<u8> = gray(32, 24).as_raw().iter().flat_map(|&v| [v, 200]).collect();
    seeds.push(tiff_raw(32, 24, 8, 2, 1, &[2], &[], &ga));
    seeds.push(tiff_raw(24, 8, 1, 1, 0, &[], &[], &[0x0F; 24]));
    seeds
}

fn png_seeds() -> Vec<Vec<u8>> {
    use image::{DynamicImage, ImageFormat::Png};
    let g = gray(50, 30);
    let rgba = image::RgbaImage::from_fn(30, 20, |x, y| image::Rgba([x as u8 * 8, y as u8 * 12, 90, 128 + x as u8]));
    let g16 = image::ImageBuffer::<image::Luma<u16>, _>::from_fn(20, 20, |x, y| image::Luma([(x * y * 150) as u16]));
    vec![
        encoded(DynamicImage::ImageLuma8(g.clone()), Png),
        encoded(DynamicImage::ImageRgba8(rgba), Png),
        encoded(DynamicImage::ImageLuma16(g16), Png),
        encoded(DynamicImage::ImageLumaA8(DynamicImage::ImageLuma8(g).to_luma_alpha8()), Png),
    ]
}

fn jpeg_seeds() -> Vec<Vec<u8>> {
    use image::{DynamicImage, ImageFormat::Jpeg};
    let g = gray(64, 48);
    let plain = encoded(DynamicImage::ImageLuma8(g.clone()), Jpeg);
    let rgb = encoded(DynamicImage::ImageRgb8(DynamicImage::ImageLuma8(g).to_rgb8()), Jpeg);
    // With an EXIF block saying 200 dpi.
    let mut exif = b"Exif\0\0II*\0\x08\0\0\0\x02\0".to_vec();
    exif.extend([0x1A, 0x01, 5, 0, 1, 0, 0, 0, 38, 0, 0, 0]);
    exif.extend([0x28, 0x01, 3, 0, 1, 0, 0, 0, 2, 0, 0, 0]);
    exif.extend([0, 0, 0, 0, 200, 0, 0, 0, 1, 0, 0, 0]);
    let mut with_exif = vec![0xFF, 0xD8, 0xFF, 0xE1];
    with_exif.extend(((exif.len() + 2) as u16).to_be_bytes());
    with_exif.extend(&exif);
    with_exif.extend(&rgb[2..]);
    vec![plain, rgb, with_exif]
}

fn pdf_seeds() -> Vec<Vec<u8>> {
    use lopdf::{Dictionary, Document, Object, Stream, dictionary};
    // Pages of 36 x 24 pt (small: a rasterized page is 150 x 100 px).
    let page_of = |doc: &mut Document, pages_id, space: Object, data: Vec<u8>, filter: Option<&str>, bpc: i64, extra: &str| {
        let mut dict =
            dictionary! { "Type" => "XObject", "Subtype" => "Image", "Width" => 30, "Height" => 20, "ColorSpace" => space, "BitsPerComponent" => bpc };
        if let Some(f) = filter {
            dict.set("Filter", f);
        }
        let image = doc.add_object(Stream::new(dict, data).with_compression(filter.is_none()));
        let content = doc.add_object(Stream::new(Dictionary::new(), format!("q 36 0 0 24 0 0 cm /Im0 Do Q {extra}").into_bytes()));
        doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages_id, "MediaBox" => vec![0.into(), 0.into(), 36.into(), 24.into()],
            "Resources" => dictionary! { "XObject" => dictionary! { "Im0" => image } }, "Contents" => content,
        })
    };
    let g = gray(30, 20);
    let jpeg = encoded(image::DynamicImage::ImageLuma8(g.clone()), image::ImageFormat::Jpeg);
    let mut docs = Vec::new();
    for variant in 0..3 {
        let mut doc = Document::with_version("1.5");
        let pages_id = doc.new_object_id();
        let mut kids: Vec<Object> = Vec::new();
        match variant {
            0 => {
                kids.push(page_of(&mut doc, pages_id, "DeviceGray".into(), g.as_raw().clone(), None, 8, "").into());
                kids.push(page_of(&mut doc, pages_id, "DeviceGray".into(), jpeg.clone(), Some("DCTDecode"), 8, "").into());
            }
            1 => {
                let devicen = Object::Array(vec![
                    "DeviceN".into(),
                    Object::Array(vec!["Black".into(), "Spot".into()]),
                    "DeviceGray".into(),
                    dictionary! { "FunctionType" => 2, "Domain" => vec![0.into(), 1.into()], "C0" => vec![1.into()], "C1" => vec![0.into()], "N" => 1 }.into(),
                ]);
                let data: Vec<u8> = g.as_raw().iter().flat_map(|&v| [255 - v, 0]).collect();
                kids.push(page_of(&mut doc, pages_id, devicen, data, None, 8, "").into());
                let indexed = Object::Array(vec!["Indexed".into(), "DeviceRGB".into(), 1.into(), Object::string_literal(vec![255, 255, 255, 10, 20, 30])]);
                kids.push(page_of(&mut doc, pages_id, indexed, vec![0x5A; 80], None, 1, "").into());
            }
            _ => {
                // A page with a line drawn over the image: rasterized.
                kids.push(page_of(&mut doc, pages_id, "DeviceGray".into(), g.as_raw().clone(), None, 8, "0 0 m 30 20 l S").into());
            }
        }
        let count = kids.len() as i64;
        doc.objects.insert(pages_id, Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => count }));
        let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
        doc.trailer.set("Root", catalog);
        let mut out = Vec::new();
        doc.save_to(&mut out).unwrap();
        docs.push(out);
    }
    docs
}

#[test]
fn mutated_tiffs_never_panic() {
    report("tif", &run("tif", &tiff_seeds(), 0x7117));
}

#[test]
fn mutated_pdfs_never_panic() {
    report("pdf", &run("pdf", &pdf_seeds(), 0x9DF));
}

#[test]
fn mutated_pngs_never_panic() {
    report("png", &run("png", &png_seeds(), 0x9E6));
}

#[test]
fn mutated_jpegs_never_panic() {
    report("jpg", &run("jpg", &jpeg_seeds(), 0x19E6));
}

#[test]
fn the_seeds_themselves_decode() {
    let dir = tempfile::tempdir().unwrap();
    for (ext, seeds) in [("tif", tiff_seeds()), ("pdf", pdf_seeds()), ("png", png_seeds()), ("jpg", jpeg_seeds())] {
        for (i, s) in seeds.iter().enumerate() {
            let path = dir.path().join(format!("s{i}.{ext}"));
            std::fs::write(&path, s).unwrap();
            let (ok, failed) = decode_all(&path).unwrap_or_else(|| panic!("{ext} seed {i} refused"));
            assert_eq!(failed, 0, "{ext} seed {i}");
            assert!(ok >= 1);
        }
    }
}
