//! Signing cost: PAdES B-B of a stored document (`sign::sign_pdf`: parse, the update with
//! its visible block, SHA-256 of the file, CMS with an ECDSA P-256 key), its verification
//! (`sign::verify_pdf`), and a certified copy (statement page, two signatures).
//!
//! The document is two A4 pages at 200 dpi, JPEG gray, the size of a typical stored
//! document of `sohoa bench`'s batch. `cargo bench --bench sign` gives the figures
//! docs/performance.md's "Signatures" section reports.

use criterion::{Criterion, black_box, criterion_group, criterion_main};
use sohoa::model::{ColorMode, DocumentMeta, OcrPage, PdfPage};
use sohoa::stages::pdf::{encode_page_image, write_searchable_pdf};
use sohoa::stages::render::{self, PageLayout, Style};
use sohoa::stages::sign::{self, SignOptions, Signer, appearance::Statement};

fn document() -> Vec<u8> {
    let mut layout = PageLayout::default();
    for i in 0..40 {
        layout.text_at(
            format!("Dòng {i}: Ủy ban nhân dân tỉnh Bình Định đề nghị cấp bản sao giấy tờ hộ tịch."),
            Style::Regular,
            13.0,
            30.0,
            30.0 + i as f32 * 6.0,
        );
    }
    let img = image::DynamicImage::ImageLuma8(render::render(&layout, 200.0));
    let page = PdfPage { image: encode_page_image(&img, ColorMode::Gray), dpi: 200.0, ocr: OcrPage { text: String::new(), confidence: None, words: vec![] } };
    let meta = DocumentMeta {
        dossier_code: Some("000.00.15.H40-250301-0007".into()),
        document_type: Some("DON".into()),
        page_count: 2,
        source_batch: "bat_bench".into(),
        scan_time: "2026-01-05T10:30:00+07:00".into(),
        title: "Đơn".into(),
        fields: Default::default(),
    };
    write_searchable_pdf(&[page.clone(), page], &meta).expect("a PDF")
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    sign::devca::write_dev_ca(dir.path()).unwrap();
    let clerk = sign::load_key_file(&dir.path().join("clerk.pem"), None).unwrap();
    let agency = sign::load_key_file(&dir.path().join("agency.pem"), None).unwrap();
    let roots = sign::verify::load_roots(&std::fs::read_to_string(dir.path().join("ca.pem")).unwrap()).unwrap();
    let pdf = document();
    eprintln!("Document: {} bytes.", pdf.len());
    let opts = || SignOptions {
        time: chrono::Utc::now().with_timezone(&sign::vietnam()),
        label: "BẢN SỐ HÓA".into(),
        reason: None,
        location: None,
        timestamper: None,
    };
    let signed = sign::sign_pdf(&pdf, &clerk, &opts()).unwrap();
    let mut g = c.benchmark_group("sign");
    g.bench_function("pades_b_b_2_pages_200dpi", |b| b.iter(|| sign::sign_pdf(black_box(&pdf), &clerk, &opts()).unwrap()));
    g.bench_function("verify_2_pages_200dpi", |b| b.iter(|| assert!(sign::verify_pdf(black_box(&signed), &roots, chrono::Utc::now()).valid)));
    g.bench_function("ecdsa_p256_sign_digest", |b| b.iter(|| clerk.sign_digest(black_box(&[7u8; 32])).unwrap()));
    let statement = Statement {
        number: 12,
        book: "01/2026-SCT/BS/ĐT".into(),
        date: chrono::NaiveDate::from_ymd_opt(2026, 12, 4).unwrap(),
        certifier: "Trần Thị Bình".into(),
        agency: "Ủy ban Nhân dân phường Quy Nhơn".into(),
        original_id: "doc_0123456789abcdef0123".into(),
        original_pages: 2,
    };
    g.bench_function("certified_copy_two_signatures", |b| {
        b.iter(|| {
            let (copy, _) = sign::copy::certified_copy(black_box(&signed), &statement).unwrap();
            let once = sign::sign_pdf(&copy, &clerk, &opts()).unwrap();
            sign::sign_pdf(&once, &agency, &opts()).unwrap()
        })
    });
    g.finish();
}

criterion_group! { name = benches; config = Criterion::default().sample_size(20); targets = bench }
criterion_main!(benches);
