//! End-to-end tests of the writer with poppler-utils (pdftotext, pdfinfo, pdfimages).

use std::path::{Path, PathBuf};
use std::process::Command;

use image::{DynamicImage, GrayImage, Luma, Rgb, RgbImage};

use super::*;
use crate::model::{ColorMode, DocumentMeta, OcrPage, OcrWord, PdfPage};

fn word(text: &str, left: u32, top: u32, width: u32, height: u32, line: u32) -> OcrWord {
    OcrWord { text: text.into(), left, top, width, height, confidence: 95.0, line: (0, 0, line) }
}

/// Splits a line's text into words laid left to right with plausible box widths.
fn line_words(text: &str, left: u32, top: u32, height: u32, line: u32) -> Vec<OcrWord> {
    let mut x = left;
    text.split(' ')
        .map(|w| {
            let width = w.chars().count() as u32 * height * 6 / 10;
            let out = word(w, x, top, width, height, line);
            x += width + height / 2;
            out
        })
        .collect()
}

const LINES: [&str; 3] = ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Số: 12/UBND-VP", "Hà Nội, ngày 05 tháng 01 năm 2026"];

/// A 2480x3508 page would be realistic; a 1240x1754 page at 150 dpi (A4) keeps tests fast.
fn synthetic_page(color: ColorMode) -> PdfPage {
    let (w, h) = (1240, 1754);
    let img = match color {
        ColorMode::Rgb => DynamicImage::ImageRgb8(RgbImage::from_pixel(w, h, Rgb([250, 248, 240]))),
        _ => DynamicImage::ImageLuma8(GrayImage::from_pixel(w, h, Luma([255]))),
    };
    let mut words = Vec::new();
    for (i, line) in LINES.iter().enumerate() {
        words.extend(line_words(line, 150, 200 + i as u32 * 80, 40, i as u32));
    }
    PdfPage { image: encode_page_image(&img, color), dpi: 150.0, ocr: OcrPage { text: LINES.join("\n"), confidence: Some(95.0), words } }
}

fn meta(pages: usize) -> DocumentMeta {
    DocumentMeta {
        dossier_code: Some("000.00.15.H40-250301-0007".into()),
        document_type: Some("Công văn".into()),
        page_count: pages,
        source_batch: "batch-2026-01-05-001".into(),
        scan_time: "2026-01-05T10:30:00+07:00".into(),
        title: "Công văn số 12/UBND-VP".into(),
        fields: Default::default(),
    }
}

fn write_tmp(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn run(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd).args(args).output().unwrap_or_else(|e| panic!("{cmd} must be installed (poppler-utils): {e}"));
    assert!(out.status.success(), "{cmd} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// The value of a `Key: value` line of pdfinfo's output ("" if absent).
fn field(out: &str, key: &str) -> String {
    out.lines().find_map(|l| l.strip_prefix(key)?.strip_prefix(':')).map(|v| v.trim().to_string()).unwrap_or_default()
}

fn nonempty_lines(s: &str) -> Vec<String> {
    s.lines().map(|l| l.trim_matches(|c: char| c.is_whitespace() || c == '\u{c}').to_string()).filter(|l| !l.is_empty()).collect()
}

#[test]
fn pdftotext_gives_vietnamese_words_in_order_with_line_breaks() {
    let dir = tempfile::tempdir().unwrap();
    let pdf = write_searchable_pdf(&[synthetic_page(ColorMode::Gray)], &meta(1)).unwrap();
    let path = write_tmp(dir.path(), "a.pdf", &pdf);
    let p = path.to_str().unwrap();
    let text = run("pdftotext", &["-enc", "UTF-8", p, "-"]);
    assert_eq!(nonempty_lines(&text), LINES, "default mode:\n{text}");
    let raw = run("pdftotext", &["-raw", "-enc", "UTF-8", p, "-"]);
    assert_eq!(nonempty_lines(&raw), LINES, "raw mode:\n{raw}");
    let layout = run("pdftotext", &["-layout", "-enc", "UTF-8", p, "-"]);
    let squeezed: Vec<String> = nonempty_lines(&layout).iter().map(|l| l.split_whitespace().collect::<Vec<_>>().join(" ")).collect();
    assert_eq!(squeezed, LINES, "layout mode:\n{layout}");
}

#[test]
fn pdfinfo_reports_version_size_and_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let pages = [synthetic_page(ColorMode::Gray), synthetic_page(ColorMode::Bilevel)];
    let pdf = write_searchable_pdf(&pages, &meta(2)).unwrap();
    let path = write_tmp(dir.path(), "a.pdf", &pdf);
    let p = path.to_str().unwrap();
    let info = run("pdfinfo", &["-enc", "UTF-8", p]);
    let f = |key: &str| field(&info, key);
    assert_eq!(f("PDF version"), "1.7", "{info}");
    assert_eq!(f("Pages"), "2", "{info}");
    // 1240 x 1754 px at 150 dpi = 595.2 x 841.92 pt.
    assert!(f("Page size").starts_with("595.2 x 841.92 pts"), "{info}");
    assert_eq!(f("Title"), "Công văn số 12/UBND-VP", "{info}");
    assert_eq!(f("Producer"), "sohoa", "{info}");
    let custom = run("pdfinfo", &["-custom", "-enc", "UTF-8", p]);
    let f = |key: &str| field(&custom, key);
    assert_eq!(f("DossierCode"), "000.00.15.H40-250301-0007", "{custom}");
    assert_eq!(f("DocumentType"), "Công văn", "{custom}");
    assert_eq!(f("PageCount"), "2", "{custom}");
    assert_eq!(f("SourceBatch"), "batch-2026-01-05-001", "{custom}");
    assert_eq!(f("ScanTime"), "2026-01-05T10:30:00+07:00", "{custom}");
    let xmp = run("pdfinfo", &["-meta", p]);
    assert!(xmp.contains("<sohoa:DossierCode>000.00.15.H40-250301-0007</sohoa:DossierCode>"), "{xmp}");
    assert!(xmp.contains("<xmp:CreateDate>2026-01-05T10:30:00+07:00</xmp:CreateDate>"), "{xmp}");
    let dated = run("pdfinfo", &["-isodates", p]);
    assert_eq!(field(&dated, "CreationDate"), "2026-01-05T10:30:00+07", "{dated}");
}

#[test]
fn output_is_deterministic_and_content_addressed() {
    let pages = [synthetic_page(ColorMode::Rgb), synthetic_page(ColorMode::Bilevel)];
    let a = write_searchable_pdf(&pages, &meta(2)).unwrap();
    let b = write_searchable_pdf(&pages, &meta(2)).unwrap();
    assert_eq!(blake3::hash(&a), blake3::hash(&b));
    let mut other = meta(2);
    other.source_batch.push('x');
    let c = write_searchable_pdf(&pages, &other).unwrap();
    assert_ne!(a, c);
    // The /ID moves with the content.
    let id_of = |pdf: &[u8]| {
        let doc = lopdf::Document::load_mem(pdf).unwrap();
        doc.trailer.get(b"ID").unwrap().as_array().unwrap()[0].as_str().unwrap().to_vec()
    };
    assert_ne!(id_of(&a), id_of(&c));
}

#[test]
fn colour_modes_round_trip_through_pdfimages() {
    let dir = tempfile::tempdir().unwrap();
    let pages = [synthetic_page(ColorMode::Bilevel), synthetic_page(ColorMode::Gray), synthetic_page(ColorMode::Rgb)];
    let pdf = write_searchable_pdf(&pages, &meta(3)).unwrap();
    let path = write_tmp(dir.path(), "a.pdf", &pdf);
    let list = run("pdfimages", &["-list", path.to_str().unwrap()]);
    // page num type width height color comp bpc enc interp object ID x-ppi y-ppi ...
    let rows: Vec<Vec<&str>> = list.lines().skip(2).map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(rows.len(), 3, "{list}");
    let facts: Vec<(&str, &str, &str, &str, &str)> = rows.iter().map(|r| (r[5], r[6], r[7], r[8], r[12])).collect();
    assert_eq!(facts, [("gray", "1", "1", "ccitt", "150"), ("gray", "1", "8", "jpeg", "150"), ("rgb", "3", "8", "jpeg", "150"),], "{list}");
}

#[test]
fn bilevel_black_stays_black() {
    let dir = tempfile::tempdir().unwrap();
    let mut g = GrayImage::from_pixel(160, 100, Luma([255]));
    for y in 0..50 {
        for x in 0..80 {
            g.put_pixel(x, y, Luma([0]));
        }
    }
    let page = PdfPage { image: encode_page_image(&DynamicImage::ImageLuma8(g), ColorMode::Bilevel), dpi: 72.0, ocr: OcrPage::default() };
    let pdf = write_searchable_pdf(&[page], &meta(1)).unwrap();
    let path = write_tmp(dir.path(), "a.pdf", &pdf);
    let prefix = dir.path().join("r");
    run("pdftoppm", &["-r", "72", "-gray", path.to_str().unwrap(), prefix.to_str().unwrap()]);
    let png = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().path()).find(|p| p.extension().is_some_and(|e| e == "pgm")).expect("pdftoppm output");
    let img = image::open(png).unwrap().to_luma8();
    assert_eq!(img.dimensions(), (160, 100));
    assert!(img.get_pixel(10, 10)[0] < 30, "top-left block is black");
    assert!(img.get_pixel(150, 90)[0] > 225, "rest is white");
}

#[test]
fn bad_inputs_are_typed_errors() {
    assert_eq!(write_searchable_pdf(&[], &meta(0)).unwrap_err().code(), "pdf-no-pages");
    let mut p = synthetic_page(ColorMode::Gray);
    p.dpi = 0.0;
    assert_eq!(write_searchable_pdf(&[p], &meta(1)).unwrap_err().code(), "pdf-invalid-dpi");
    let mut p = synthetic_page(ColorMode::Bilevel);
    p.image.height += 1;
    assert_eq!(write_searchable_pdf(&[p], &meta(1)).unwrap_err().code(), "pdf-invalid-image");
    let mut p = synthetic_page(ColorMode::Rgb);
    p.image.data.truncate(10);
    assert_eq!(write_searchable_pdf(&[p], &meta(1)).unwrap_err().code(), "pdf-invalid-image");
}

#[test]
fn number_formatting_has_no_exponent_or_negative_zero() {
    assert_eq!(num(595.2), "595.2");
    assert_eq!(num(1e-9), "0");
    assert_eq!(num(-0.0004), "0");
    assert_eq!(num(12.0), "12");
    assert_eq!(num(1e7), "10000000");
    assert_eq!(num(f64::NAN), "0");
}

#[test]
#[ignore = "writes /tmp/sohoa-pdf-sample.pdf for manual inspection"]
fn write_sample_for_inspection() {
    let pages = [synthetic_page(ColorMode::Gray), synthetic_page(ColorMode::Bilevel)];
    std::fs::write("/tmp/sohoa-pdf-sample.pdf", write_searchable_pdf(&pages, &meta(2)).unwrap()).unwrap();
}

#[test]
fn jpeg_pages_decode_back_close_to_the_samples() {
    fn mean_error(a: &[u8], b: &[u8]) -> f64 {
        a.iter().zip(b).map(|(x, y)| (*x as f64 - *y as f64).abs()).sum::<f64>() / a.len() as f64
    }
    // Odd sizes (not a multiple of the 8/16-pixel MCU) and both colour modes.
    for (w, h) in [(333u32, 171u32), (16, 16), (1, 7)] {
        let gray = image::GrayImage::from_fn(w, h, |x, y| image::Luma([((x * 7 + y * 3) % 200 + 30) as u8]));
        let rgb = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 128]));
        for (img, color, bound) in [(DynamicImage::ImageLuma8(gray), ColorMode::Gray, 6.0), (DynamicImage::ImageRgb8(rgb), ColorMode::Rgb, 8.0)] {
            let enc = encode_page_image(&img, color);
            assert_eq!(enc.filter, crate::model::ImageFilter::Dct);
            let back = image::load_from_memory_with_format(&enc.data, image::ImageFormat::Jpeg).unwrap();
            assert_eq!((back.width(), back.height()), (w, h));
            let (want, got) = match color {
                ColorMode::Gray => (img.to_luma8().into_raw(), back.to_luma8().into_raw()),
                _ => (img.to_rgb8().into_raw(), back.to_rgb8().into_raw()),
            };
            let err = mean_error(&want, &got);
            assert!(err < bound, "{w}x{h} {color:?}: mean error {err}");
        }
    }
}

/// Issue 25: the writer's PDF/A-2b output passes the structural check and `qpdf --check`;
/// the intent follows the pages' colour; `plain` claims nothing.
#[test]
fn pdfa_2b_output_passes_the_checks() {
    let dir = tempfile::tempdir().unwrap();
    for (name, pages, components) in [
        ("gray", vec![synthetic_page(ColorMode::Gray), synthetic_page(ColorMode::Bilevel)], 1),
        ("colour", vec![synthetic_page(ColorMode::Bilevel), synthetic_page(ColorMode::Rgb)], 3),
    ] {
        let opts = PdfOptions { languages: language_tags("vie"), profile: PdfProfile::Pdfa2b };
        let bytes = write_pdf(&pages, &meta(pages.len()), &opts).unwrap();
        let doc = lopdf::Document::load_mem(&bytes).unwrap();
        assert_eq!(check_pdfa(&doc), vec![], "{name}");
        let intents = doc.catalog().unwrap().get(b"OutputIntents").unwrap().as_array().unwrap().clone();
        let profile = intents[0].as_dict().unwrap().get(b"DestOutputProfile").unwrap().as_reference().unwrap();
        let n = doc.get_object(profile).unwrap().as_stream().unwrap().dict.get(b"N").unwrap().as_i64().unwrap();
        assert_eq!(n, components, "{name}");
        let path = write_tmp(dir.path(), &format!("{name}.pdf"), &bytes);
        if let Ok(out) = Command::new("qpdf").arg("--check").arg(&path).output() {
            assert!(out.status.success(), "qpdf --check {name}: {}", String::from_utf8_lossy(&out.stdout));
        }
    }
    let plain = write_pdf(&[synthetic_page(ColorMode::Rgb)], &meta(1), &PdfOptions { languages: vec![], profile: PdfProfile::Plain }).unwrap();
    let doc = lopdf::Document::load_mem(&plain).unwrap();
    assert!(!doc.catalog().unwrap().has(b"OutputIntents"));
    let issues = check_pdfa(&doc);
    assert!(issues.iter().any(|i| i.rule == "pdfa-xmp-identification"), "{issues:?}");
    assert!(issues.iter().any(|i| i.rule == "pdfa-output-intent"), "{issues:?}");
}

/// Issue 25: the check finds each broken rule it claims to check.
#[test]
fn check_pdfa_finds_broken_rules() {
    let bytes = write_pdf(&[synthetic_page(ColorMode::Rgb)], &meta(1), &PdfOptions::default()).unwrap();
    let good = lopdf::Document::load_mem(&bytes).unwrap();
    assert_eq!(check_pdfa(&good), vec![]);
    let rules = |doc: &lopdf::Document| check_pdfa(doc).into_iter().map(|i| i.rule).collect::<Vec<_>>();

    let mut doc = good.clone();
    doc.trailer.remove(b"ID");
    doc.trailer.set("Encrypt", lopdf::dictionary! {});
    assert_eq!(rules(&doc), ["pdfa-no-id", "pdfa-encrypted"]);

    // An unembedded font, an LZW stream, a JavaScript action, an annotation without the
    // Print flag or an appearance.
    let mut doc = good.clone();
    doc.add_object(lopdf::dictionary! { "Type" => "Font", "Subtype" => "TrueType", "BaseFont" => "Arial" });
    doc.add_object(lopdf::Stream::new(lopdf::dictionary! { "Filter" => "LZWDecode" }, vec![0x80]));
    doc.add_object(lopdf::dictionary! { "S" => "JavaScript", "JS" => lopdf::Object::string_literal("app.alert(1)") });
    doc.add_object(lopdf::dictionary! { "Type" => "Annot", "Subtype" => "Widget", "Rect" => vec![0.into(), 0.into(), 10.into(), 10.into()] });
    let found = rules(&doc);
    for rule in ["pdfa-font-not-embedded", "pdfa-lzw", "pdfa-javascript", "pdfa-annotation"] {
        assert!(found.contains(&rule), "{rule} not in {found:?}");
    }
    assert_eq!(found.iter().filter(|r| **r == "pdfa-annotation").count(), 2, "no Print flag, no /AP: {found:?}");

    // An Info title that the XMP does not carry; an undeclared property; a gray intent
    // under a colour page.
    let mut doc = good.clone();
    let info = doc.trailer.get(b"Info").unwrap().as_reference().unwrap();
    doc.get_object_mut(info).unwrap().as_dict_mut().unwrap().set("Title", lopdf::Object::string_literal("Other"));
    let meta_id = doc.catalog().unwrap().get(b"Metadata").unwrap().as_reference().unwrap();
    let stream = doc.get_object_mut(meta_id).unwrap().as_stream_mut().unwrap();
    let xmp = String::from_utf8(stream.content.clone()).unwrap().replace("<sohoa:PageCount>", "<sohoa:Pages>1</sohoa:Pages><sohoa:PageCount>");
    stream.set_content(xmp.into_bytes());
    let gray_profile = doc.add_object(lopdf::Stream::new(lopdf::dictionary! { "N" => 1 }, icc::gray()));
    let intents = vec![lopdf::Object::Dictionary(lopdf::dictionary! { "Type" => "OutputIntent", "S" => "GTS_PDFA1", "DestOutputProfile" => gray_profile })];
    doc.catalog_mut().unwrap().set("OutputIntents", intents);
    let found = rules(&doc);
    for rule in ["pdfa-info-xmp-mismatch", "pdfa-xmp-undeclared", "pdfa-device-colour"] {
        assert!(found.contains(&rule), "{rule} not in {found:?}");
    }
}

/// Issue 25: a mixed-raster page as poppler renders it is the page `mrc::render` shows:
/// the stencil paints the ink where the mask is black, the background shows elsewhere.
#[test]
fn mrc_pages_render_as_encoded() {
    let dir = tempfile::tempdir().unwrap();
    for color in [ColorMode::Gray, ColorMode::Rgb] {
        let g = GrayImage::from_fn(600, 400, |x, y| Luma([if (x / 7) % 3 == 0 && (y / 30) % 2 == 0 { 20 } else { 240 - ((x + y) % 5) as u8 }]));
        let img = match color {
            ColorMode::Rgb => DynamicImage::ImageRgb8(RgbImage::from_fn(600, 400, |x, y| {
                let v = g.get_pixel(x, y)[0];
                if y > 300 && x > 400 { Rgb([200, 40, 40]) } else { Rgb([v, v, v.saturating_sub(10)]) }
            })),
            _ => DynamicImage::ImageLuma8(g.clone()),
        };
        let enc = mrc::encode_archival(&img, color, 200.0);
        assert!(enc.mask.is_some(), "{color:?}");
        let shown = mrc::render(&enc).unwrap().to_rgb8();
        let page = PdfPage { image: enc, dpi: 200.0, ocr: OcrPage::default() };
        let pdf = write_searchable_pdf(&[page], &meta(1)).unwrap();
        let path = write_tmp(dir.path(), "mrc.pdf", &pdf);
        let prefix = dir.path().join(format!("m{color:?}"));
        run("pdftoppm", &["-r", "200", "-singlefile", path.to_str().unwrap(), prefix.to_str().unwrap()]);
        let back = image::open(prefix.with_extension("ppm")).unwrap().to_rgb8();
        assert_eq!(back.dimensions(), shown.dimensions());
        let (mut err, mut ink_wrong) = (0f64, 0usize);
        for (x, y, p) in shown.enumerate_pixels() {
            let q = back.get_pixel(x, y);
            err += p.0.iter().zip(q.0).map(|(a, b)| f64::from(a.abs_diff(b))).sum::<f64>() / 3.0;
            if g.get_pixel(x, y)[0] < 60 && !(y > 300 && x > 400) && q.0.iter().any(|&c| c > 60) {
                ink_wrong += 1;
            }
        }
        let mean = err / f64::from(600 * 400);
        assert!(mean < 4.0, "{color:?}: mean difference {mean}");
        assert_eq!(ink_wrong, 0, "{color:?}: text pixels not painted with the ink");
        let stamp = back.get_pixel(500, 350);
        if color == ColorMode::Rgb {
            assert!(stamp[0] > 150 && stamp[1] < 90, "the stamp stays red: {stamp:?}");
        }
    }
}
