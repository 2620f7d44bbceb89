//! PDFs built with lopdf in the test, decoded page by page.

use std::io::Write;

use image::{DynamicImage, GrayImage, Luma, Rgb, RgbImage};
use lopdf::{Dictionary, Document, Object, Stream, StringFormat, dictionary};

use super::*;

/// One page of a test PDF.
struct TestPage {
    width_pt: f64,
    height_pt: f64,
    rotate: i64,
    content: String,
    images: Vec<(&'static str, Stream)>,
    helvetica: bool,
}

impl TestPage {
    /// A page exactly covered by image `Im0` (the usual scanner output).
    fn scan(width_pt: f64, height_pt: f64, image: Stream) -> Self {
        Self {
            width_pt,
            height_pt,
            rotate: 0,
            content: format!("q {width_pt} 0 0 {height_pt} 0 0 cm /Im0 Do Q"),
            images: vec![("Im0", image)],
            helvetica: false,
        }
    }
}

fn build_doc(pages: Vec<TestPage>) -> Document {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica",
    });
    let mut kids = Vec::new();
    for p in pages {
        let mut xobjects = Dictionary::new();
        for (name, stream) in p.images {
            xobjects.set(name, doc.add_object(stream));
        }
        let mut resources = dictionary! { "XObject" => xobjects };
        if p.helvetica {
            resources.set("Font", dictionary! { "F1" => font_id });
        }
        let content_id = doc.add_object(Stream::new(Dictionary::new(), p.content.into_bytes()));
        let mut page = dictionary! {
            "Type" => "Page",
            "Parent" => pages_id,
            "MediaBox" => vec![0.into(), 0.into(), Object::Real(p.width_pt as f32), Object::Real(p.height_pt as f32)],
            "Resources" => resources,
            "Contents" => content_id,
        };
        if p.rotate != 0 {
            page.set("Rotate", p.rotate);
        }
        kids.push(Object::Reference(doc.add_object(page)));
    }
    let count = kids.len() as i64;
    doc.objects.insert(pages_id, Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => count }));
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    let id = Object::String(vec![7u8; 16], StringFormat::Hexadecimal);
    doc.trailer.set("ID", vec![id.clone(), id]);
    doc
}

fn save(mut doc: Document) -> Vec<u8> {
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

fn pdf(pages: Vec<TestPage>) -> Vec<u8> {
    save(build_doc(pages))
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn image_stream(w: u32, h: u32, extra: Dictionary, data: Vec<u8>) -> Stream {
    let mut dict = dictionary! {
        "Type" => "XObject", "Subtype" => "Image", "Width" => w as i64, "Height" => h as i64,
    };
    dict.extend(&extra);
    Stream::new(dict, data).with_compression(false)
}

fn jpeg(img: &DynamicImage) -> Vec<u8> {
    let mut out = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Jpeg).unwrap();
    out
}

fn open(bytes: Vec<u8>) -> PdfSource {
    PdfSource::open(bytes).unwrap()
}

#[test]
fn source_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<PdfSource>();
}

#[test]
fn rgb_jpeg_scan_is_taken_as_is() {
    // 200x100 px at 100 dpi: 144x72 pt. Left half red, right half blue.
    let img = RgbImage::from_fn(200, 100, |x, _| if x < 100 { Rgb([220, 20, 20]) } else { Rgb([20, 20, 220]) });
    let stream = image_stream(
        200,
        100,
        dictionary! { "ColorSpace" => "DeviceRGB", "BitsPerComponent" => 8, "Filter" => "DCTDecode" },
        jpeg(&DynamicImage::ImageRgb8(img)),
    );
    let src = open(pdf(vec![TestPage::scan(144.0, 72.0, stream)]));
    assert_eq!(src.page_count(), 1);
    let page = src.decode_page(0).unwrap();
    assert_eq!(page.color, ColorMode::Rgb);
    assert_eq!((page.image.width(), page.image.height()), (200, 100));
    assert!((page.dpi - 100.0).abs() < 0.01, "{}", page.dpi);
    assert!(page.warnings.is_empty(), "{:?}", page.warnings);
    let rgb = page.image.to_rgb8();
    let [r, _, b] = rgb.get_pixel(20, 50).0;
    assert!(r > 180 && b < 60);
    let [r, _, b] = rgb.get_pixel(180, 50).0;
    assert!(b > 180 && r < 60);
}

#[test]
fn gray_jpeg_scan_is_gray() {
    let img = GrayImage::from_fn(300, 150, |x, _| Luma([(x % 256) as u8]));
    let stream = image_stream(
        300,
        150,
        dictionary! { "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8, "Filter" => "DCTDecode" },
        jpeg(&DynamicImage::ImageLuma8(img)),
    );
    // 300 px over 72 pt: 300 dpi.
    let page = open(pdf(vec![TestPage::scan(72.0, 36.0, stream)])).decode_page(0).unwrap();
    assert_eq!(page.color, ColorMode::Gray);
    assert!(matches!(page.image, DynamicImage::ImageLuma8(_)));
    assert!((page.dpi - 300.0).abs() < 0.01);
}

#[test]
fn flate_gray_with_png_predictor_is_exact() {
    let (w, h) = (30u32, 20u32);
    let value = |x: u32, y: u32| ((x * 7 + y * 11) % 256) as u8;
    // PNG predictors: even rows "Sub", odd rows "Up".
    let mut raw = Vec::new();
    for y in 0..h {
        if y % 2 == 0 {
            raw.push(1);
            for x in 0..w {
                let left = if x == 0 { 0 } else { value(x - 1, y) };
                raw.push(value(x, y).wrapping_sub(left));
            }
        } else {
            raw.push(2);
            for x in 0..w {
                raw.push(value(x, y).wrapping_sub(value(x, y - 1)));
            }
        }
    }
    let stream = image_stream(
        w,
        h,
        dictionary! {
            "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8, "Filter" => "FlateDecode",
            "DecodeParms" => dictionary! { "Predictor" => 15, "Colors" => 1, "Columns" => w as i64, "BitsPerComponent" => 8 },
        },
        zlib(&raw),
    );
    let page = open(pdf(vec![TestPage::scan(7.2, 4.8, stream)])).decode_page(0).unwrap();
    assert_eq!(page.color, ColorMode::Gray);
    assert!((page.dpi - 300.0).abs() < 0.01);
    let g = page.image.to_luma8();
    for (x, y) in [(0, 0), (5, 1), (29, 19), (13, 10)] {
        assert_eq!(g.get_pixel(x, y)[0], value(x, y), "({x},{y})");
    }
}

/// A 1-bit 64x32 image: black rectangle x 8..24, y 4..12, else white (PDF sample 1 = white).
fn bilevel_bits() -> (Vec<u8>, impl Fn(u32, u32) -> bool) {
    let black = |x: u32, y: u32| (8..24).contains(&x) && (4..12).contains(&y);
    let mut packed = vec![0u8; 8 * 32];
    for y in 0..32 {
        for x in 0..64 {
            if !black(x, y) {
                packed[(y * 8 + x / 8) as usize] |= 0x80 >> (x % 8);
            }
        }
    }
    (packed, black)
}

fn assert_bilevel_rect(page: &PageImage, black: impl Fn(u32, u32) -> bool) {
    assert_eq!(page.color, ColorMode::Bilevel);
    let g = page.image.to_luma8();
    assert_eq!(g.dimensions(), (64, 32));
    for y in 0..32 {
        for x in 0..64 {
            assert_eq!(g.get_pixel(x, y)[0], if black(x, y) { 0 } else { 255 }, "({x},{y})");
        }
    }
}

#[test]
fn one_bit_flate_scan_is_bilevel_and_honours_decode() {
    let (packed, black) = bilevel_bits();
    let plain = image_stream(64, 32, dictionary! { "ColorSpace" => "DeviceGray", "BitsPerComponent" => 1, "Filter" => "FlateDecode" }, zlib(&packed));
    // Same picture stored inverted with /Decode [1 0].
    let inverted: Vec<u8> = packed.iter().map(|b| !b).collect();
    let decoded = image_stream(
        64,
        32,
        dictionary! {
            "ColorSpace" => "DeviceGray", "BitsPerComponent" => 1, "Filter" => "FlateDecode",
            "Decode" => vec![1.into(), 0.into()],
        },
        zlib(&inverted),
    );
    // 64 px over 23.04 pt = 200 dpi.
    let src = open(pdf(vec![TestPage::scan(23.04, 11.52, plain), TestPage::scan(23.04, 11.52, decoded)]));
    for i in 0..2 {
        let page = src.decode_page(i).unwrap();
        assert!((page.dpi - 200.0).abs() < 0.01);
        assert_eq!(page.index, i);
        assert_bilevel_rect(&page, &black);
    }
}

#[test]
fn ccitt_g4_scan_is_bilevel() {
    let (_, black) = bilevel_bits();
    let mut enc = fax::encoder::Encoder::new(fax::VecWriter::new());
    for y in 0..32 {
        let row = (0..64).map(|x| if black(x, y) { fax::Color::Black } else { fax::Color::White });
        enc.encode_line(row, 64).unwrap();
    }
    let data = enc.finish().unwrap().finish();
    let stream = image_stream(
        64,
        32,
        dictionary! {
            "ColorSpace" => "DeviceGray", "BitsPerComponent" => 1, "Filter" => "CCITTFaxDecode",
            "DecodeParms" => dictionary! { "K" => -1, "Columns" => 64, "Rows" => 32 },
        },
        data,
    );
    let page = open(pdf(vec![TestPage::scan(23.04, 11.52, stream)])).decode_page(0).unwrap();
    assert!((page.dpi - 200.0).abs() < 0.01);
    assert_bilevel_rect(&page, &black);
}

#[test]
fn born_digital_text_is_rasterized_at_300_dpi() {
    let page =
        TestPage { width_pt: 612.0, height_pt: 792.0, rotate: 0, content: "BT /F1 48 Tf 72 700 Td (Hello) Tj ET".into(), images: vec![], helvetica: true };
    let page = open(pdf(vec![page])).decode_page(0).unwrap();
    assert_eq!((page.image.width(), page.image.height()), (2550, 3300));
    assert_eq!(page.dpi, 300.0);
    assert_eq!(page.color, ColorMode::Gray, "black text renders without colour");
    let g = page.image.to_luma8();
    // "Hello" at 48 pt from x = 72 pt, baseline 700 pt: ink within x 72..220 pt,
    // y (from top) 92-36..92 pt -> px x 300..917, y 233..383.
    let dark = |x0: u32, x1: u32, y0: u32, y1: u32| (y0..y1).flat_map(|y| (x0..x1).map(move |x| (x, y))).filter(|&(x, y)| g.get_pixel(x, y)[0] < 100).count();
    let ink = dark(300, 917, 233, 390);
    assert!(ink > 5000, "dark pixels where the text is: {ink}");
    assert_eq!(dark(0, 2550, 600, 3300), 0, "the rest of the page is blank");
}

#[test]
fn image_not_covering_the_page_is_rasterized() {
    let img = GrayImage::from_pixel(100, 100, Luma([0]));
    let stream = image_stream(100, 100, dictionary! { "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8, "Filter" => "FlateDecode" }, zlib(img.as_raw()));
    let mut page = TestPage::scan(144.0, 144.0, stream);
    page.content = "q 72 0 0 72 0 0 cm /Im0 Do Q".into(); // bottom-left quarter only
    let page = open(pdf(vec![page])).decode_page(0).unwrap();
    assert_eq!(page.dpi, 300.0);
    assert_eq!((page.image.width(), page.image.height()), (600, 600));
    let g = page.image.to_luma8();
    assert!(g.get_pixel(100, 500)[0] < 20, "image drawn bottom-left");
    assert!(g.get_pixel(500, 100)[0] > 235, "top-right is blank");
}

#[test]
fn page_rotation_is_applied_to_the_scan() {
    // 200x100 gray image with a black block at its top-left, on a 144x72 pt page that is
    // shown rotated 90 degrees clockwise: the block must end up top-right of a 100x200 image.
    let img = GrayImage::from_fn(200, 100, |x, y| Luma([if x < 20 && y < 10 { 0 } else { 255 }]));
    let stream = image_stream(200, 100, dictionary! { "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8, "Filter" => "FlateDecode" }, zlib(img.as_raw()));
    let mut page = TestPage::scan(144.0, 72.0, stream);
    page.rotate = 90;
    let page = open(pdf(vec![page])).decode_page(0).unwrap();
    assert!(page.warnings.is_empty(), "{:?}", page.warnings);
    assert_eq!((page.image.width(), page.image.height()), (100, 200));
    assert!((page.dpi - 100.0).abs() < 0.01);
    let g = page.image.to_luma8();
    assert_eq!(g.get_pixel(95, 5)[0], 0, "block top-right");
    assert_eq!(g.get_pixel(5, 5)[0], 255);
}

#[test]
fn indexed_and_cmyk_scans_become_rgb() {
    let palette = Object::String(vec![255, 255, 255, 200, 0, 0], StringFormat::Hexadecimal);
    let indexed = image_stream(
        2,
        1,
        dictionary! {
            "ColorSpace" => vec!["Indexed".into(), "DeviceRGB".into(), 1.into(), palette],
            "BitsPerComponent" => 8, "Filter" => "FlateDecode",
        },
        zlib(&[0, 1]),
    );
    let cmyk = image_stream(1, 1, dictionary! { "ColorSpace" => "DeviceCMYK", "BitsPerComponent" => 8, "Filter" => "FlateDecode" }, zlib(&[0, 255, 255, 0]));
    let src = open(pdf(vec![TestPage::scan(1.44, 0.72, indexed), TestPage::scan(0.72, 0.72, cmyk)]));
    let p = src.decode_page(0).unwrap();
    assert_eq!(p.color, ColorMode::Rgb);
    assert_eq!(p.image.to_rgb8().get_pixel(1, 0).0, [200, 0, 0]);
    let p = src.decode_page(1).unwrap();
    assert_eq!(p.image.to_rgb8().get_pixel(0, 0).0, [255, 0, 0]);
}

#[test]
fn own_searchable_pdf_round_trips() {
    // A scan with an invisible text layer (our own output) is still taken as is.
    let mut g = GrayImage::from_pixel(248, 351, Luma([255]));
    for x in 10..100 {
        g.put_pixel(x, 20, Luma([0]));
    }
    let pdf_page = crate::model::PdfPage {
        image: crate::stages::pdf::encode_page_image(&DynamicImage::ImageLuma8(g.clone()), ColorMode::Bilevel),
        dpi: 30.0,
        ocr: crate::model::OcrPage {
            words: vec![crate::model::OcrWord { text: "Số".into(), left: 10, top: 10, width: 90, height: 12, confidence: 90.0, line: (0, 0, 0) }],
            ..Default::default()
        },
    };
    let bytes = crate::stages::pdf::write_searchable_pdf(&[pdf_page], &Default::default()).unwrap();
    let page = open(bytes).decode_page(0).unwrap();
    assert_eq!(page.color, ColorMode::Bilevel);
    assert!((page.dpi - 30.0).abs() < 0.01, "{}", page.dpi);
    assert_eq!(page.image.to_luma8(), g);
}

#[test]
fn password_protected_pdf_is_a_clear_error() {
    let img = GrayImage::from_pixel(10, 10, Luma([128]));
    let make = |user: &str| {
        let stream = image_stream(10, 10, dictionary! { "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8, "Filter" => "FlateDecode" }, zlib(img.as_raw()));
        let mut doc = build_doc(vec![TestPage::scan(7.2, 7.2, stream)]);
        let state = lopdf::EncryptionState::try_from(lopdf::EncryptionVersion::V2 {
            document: &doc,
            owner_password: "owner",
            user_password: user,
            key_length: 128,
            permissions: lopdf::Permissions::all(),
        })
        .unwrap();
        doc.encrypt(&state).unwrap();
        save(doc)
    };
    let err = PdfSource::open(make("secret")).unwrap_err();
    assert_eq!(err.code(), "pdf-encrypted");
    assert!(err.to_string().contains("remove the password"), "{err}");
    // Permissions-only encryption (empty user password) opens like any PDF.
    let page = open(make("")).decode_page(0).unwrap();
    assert_eq!(page.image.to_luma8().get_pixel(5, 5)[0], 128);
}

#[test]
fn corrupt_input_and_bad_pages_are_typed_errors() {
    assert_eq!(PdfSource::open(b"hello, not a pdf".to_vec()).unwrap_err().code(), "pdf-corrupt");
    assert_eq!(pdf_page_count(b"%PDF-1.4\n garbage \n%%EOF").unwrap_err().code(), "pdf-corrupt");

    let good = image_stream(10, 10, dictionary! { "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8, "Filter" => "FlateDecode" }, zlib(&[200; 100]));
    let short = image_stream(100, 100, dictionary! { "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8, "Filter" => "FlateDecode" }, zlib(&[0; 10]));
    let bytes = pdf(vec![TestPage::scan(7.2, 7.2, good), TestPage::scan(72.0, 72.0, short)]);
    assert_eq!(pdf_page_count(&bytes).unwrap(), PdfPageCount { read: 2, declared: Some(2) });
    let src = open(bytes);
    assert!(src.decode_page(0).is_ok());
    let err = decode_pdf_page(&src, 1).unwrap_err();
    assert_eq!(err.code(), "pdf-page-undecodable");
    assert!(err.to_string().contains("page 1"), "{err}");
    assert_eq!(src.decode_page(2).unwrap_err().code(), "pdf-page-out-of-range");
    let all: Vec<_> = src.pages().collect();
    assert!(all[0].is_ok() && all[1].is_err());
}

#[test]
#[ignore = "timing: cargo test --release --lib intake::pdf::tests::timing -- --ignored --nocapture"]
fn timing_a4_300_dpi() {
    use std::time::Instant;
    let (w, h) = (2480, 3508);
    let gray = GrayImage::from_fn(w, h, |x, y| Luma([if (x / 40 + y / 60) % 7 == 0 { 20 } else { 240 }]));
    let rgb = DynamicImage::ImageRgb8(DynamicImage::ImageLuma8(gray.clone()).to_rgb8());
    let gray = DynamicImage::ImageLuma8(gray);
    for (name, img, mode) in [("bilevel", &gray, ColorMode::Bilevel), ("gray", &gray, ColorMode::Gray), ("rgb", &rgb, ColorMode::Rgb)] {
        let t = Instant::now();
        let enc = crate::stages::pdf::encode_page_image(img, mode);
        let t_enc = t.elapsed();
        let pages: Vec<_> = (0..10).map(|_| crate::model::PdfPage { image: enc.clone(), dpi: 300.0, ocr: Default::default() }).collect();
        let t = Instant::now();
        let bytes = crate::stages::pdf::write_searchable_pdf(&pages, &Default::default()).unwrap();
        let t_write = t.elapsed();
        let src = open(bytes.clone());
        let t = Instant::now();
        for p in src.pages() {
            assert_eq!(p.unwrap().color, mode);
        }
        let t_dec = t.elapsed() / 10;
        println!("{name}: encode {t_enc:?}/page, write 10 pages {t_write:?} ({} KB), decode {t_dec:?}/page", bytes.len() / 1024);
    }
    let text = TestPage {
        width_pt: 595.0,
        height_pt: 842.0,
        rotate: 0,
        content: "BT /F1 12 Tf 72 700 Td (Hello world) Tj ET".into(),
        images: vec![],
        helvetica: true,
    };
    let src = open(pdf(vec![text]));
    let t = Instant::now();
    src.decode_page(0).unwrap();
    println!("rasterize A4 text page at 300 dpi: {:?}", t.elapsed());
}

/// A page of text as ink amounts: 1 where there is ink (a text-like pattern), 0 elsewhere.
fn ink_text(w: u32, h: u32) -> GrayImage {
    GrayImage::from_fn(w, h, |x, y| Luma([if (y % 24) < 12 && (x % 10) < 6 && x > 20 && x < w - 20 { 255 } else { 0 }]))
}

#[test]
fn devicen_and_separation_images_are_ink_amounts() {
    let (w, h) = (200u32, 120u32);
    let ink = ink_text(w, h);
    // Its tint transform maps ink to gray (1 - t), as the rasterizer would need to get right.
    let tint = || dictionary! { "FunctionType" => 2, "Domain" => vec![0.into(), 1.into()], "C0" => vec![1.into()], "C1" => vec![0.into()], "N" => 1 };
    let separation = Object::Array(vec!["Separation".into(), "PANTONE 286 C".into(), "DeviceGray".into(), tint().into()]);
    let devicen = Object::Array(vec!["DeviceN".into(), Object::Array(vec!["Black".into(), "None".into()]), "DeviceGray".into(), tint().into()]);
    let two: Vec<u8> = ink.as_raw().iter().flat_map(|&v| [v, 255]).collect();
    for (name, space, data) in [("Separation", separation, ink.as_raw().clone()), ("DeviceN", devicen, two)] {
        let stream = image_stream(w, h, dictionary! { "ColorSpace" => space, "BitsPerComponent" => 8, "Filter" => "FlateDecode" }, zlib(&data));
        let page = open(pdf(vec![TestPage::scan(144.0, 86.4, stream)])).decode_page(0).unwrap();
        assert!(page.warnings.is_empty(), "{name}: taken as is: {:?}", page.warnings);
        assert_eq!(page.color, ColorMode::Gray, "{name}");
        let got = page.image.to_luma8();
        // Ink is dark, paper is white: not the negative.
        for (x, y) in [(25, 2), (0, 0), (w - 1, h - 1), (27, 14)] {
            assert_eq!(got.get_pixel(x, y)[0], 255 - ink.get_pixel(x, y)[0], "{name} at {x},{y}");
        }
    }
    // Process inks in a DeviceN go to their CMYK channel: full cyan is cyan.
    let cyan = Object::Array(vec!["DeviceN".into(), Object::Array(vec!["Cyan".into()]), "DeviceCMYK".into(), tint().into()]);
    let stream = image_stream(2, 1, dictionary! { "ColorSpace" => cyan, "BitsPerComponent" => 8 }, vec![255, 0]);
    let page = open(pdf(vec![TestPage::scan(144.0, 72.0, stream)])).decode_page(0).unwrap();
    assert_eq!(page.image.to_rgb8().get_pixel(0, 0).0, [0, 255, 255]);
    // A palette of ink amounts.
    let indexed = Object::Array(vec![
        "Indexed".into(),
        Object::Array(vec!["Separation".into(), "All".into(), "DeviceGray".into(), tint().into()]),
        1.into(),
        Object::String(vec![0, 255], StringFormat::Literal),
    ]);
    let stream = image_stream(8, 1, dictionary! { "ColorSpace" => indexed, "BitsPerComponent" => 1 }, vec![0b1010_0000]);
    let page = open(pdf(vec![TestPage::scan(144.0, 18.0, stream)])).decode_page(0).unwrap();
    assert_eq!(page.image.to_luma8().into_raw(), vec![0, 255, 0, 255, 255, 255, 255, 255]);
}

#[test]
fn a_pdf_cut_short_says_how_many_pages_it_declared_and_read() {
    use sohoa_testkit::hostile::{ScanSpace, last_scan_offset, pdf_of_scans};
    let pages: Vec<_> = (0..5u32).map(|i| (120, 80, GrayImage::from_fn(120, 80, |x, y| Luma([((x + y + 40 * i) % 256) as u8])).into_raw())).collect();
    let whole = pdf_of_scans(&pages, 100.0, ScanSpace::Gray);
    assert_eq!(pdf_page_count(&whole).unwrap(), PdfPageCount { read: 5, declared: Some(5) });
    // Cut at the last page's image object (the last three objects are its own).
    let cut = &whole[..last_scan_offset(&whole, 5)];
    assert_eq!(pdf_page_count(cut).unwrap(), PdfPageCount { read: 4, declared: Some(5) });
    // Through intake: four pages and a fifth that is reported lost, with the counts.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.pdf");
    std::fs::write(&path, cut).unwrap();
    let input = crate::stages::intake::Input::open(&path).unwrap();
    assert_eq!(input.page_count(), 5);
    let warnings = input.warnings();
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].contains("the PDF declares 5 pages and 4 could be read"), "{warnings:?}");
    let pages: Vec<_> = input.pages().collect();
    assert!(pages[..4].iter().all(|p| p.is_ok()));
    let lost = pages[4].as_ref().unwrap_err();
    assert!(lost.message.starts_with(crate::stages::intake::DAMAGED_FILE) && lost.message.contains("declares 5 pages"), "{}", lost.message);
}

#[test]
fn a_short_image_stream_is_an_incomplete_page() {
    let img = GrayImage::from_fn(100, 100, |x, _| Luma([x as u8]));
    let stream =
        image_stream(100, 100, dictionary! { "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8, "Filter" => "FlateDecode" }, zlib(&img.as_raw()[..7000]));
    let page = open(pdf(vec![TestPage::scan(72.0, 72.0, stream)])).decode_page(0).unwrap();
    assert!(page.warnings.iter().any(|w| crate::model::page_error_message(w).is_some_and(|m| m.starts_with("the image is incomplete"))), "{:?}", page.warnings);
    // A JPEG cut short inside a PDF too.
    let j = jpeg(&DynamicImage::ImageLuma8(GrayImage::from_fn(200, 200, |x, y| Luma([(x * y) as u8]))));
    let stream =
        image_stream(200, 200, dictionary! { "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8, "Filter" => "DCTDecode" }, j[..j.len() * 6 / 10].to_vec());
    let page = open(pdf(vec![TestPage::scan(144.0, 144.0, stream)])).decode_page(0).unwrap();
    assert!(page.warnings.contains(&crate::model::page_error(crate::stages::intake::image_file::INCOMPLETE_JPEG)), "{:?}", page.warnings);
}
