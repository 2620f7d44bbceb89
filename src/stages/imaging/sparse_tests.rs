//! Orientation of sparse pages: separator and cover sheets, one-line pages, forms, charts
//! and diagrams at 72-300 dpi in all four turns. Such a page has too little text for a
//! confident orientation, so it must be left as scanned or turned right, never turned
//! wrong.

use super::orientation::{self, OrientationEstimate};
use super::*;
use crate::stages::render::{self, PageLayout, Style, Symbology, TEXT_CX_MM};
use crate::tools::synth;
use image::{GrayImage, Luma};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Cover,
    Separator,
    OneLine,
    Title,
    Form,
    Chart,
    Diagram,
}

const KINDS: [Kind; 7] = [Kind::Cover, Kind::Separator, Kind::OneLine, Kind::Title, Kind::Form, Kind::Chart, Kind::Diagram];

fn rect(img: &mut GrayImage, x0: i64, y0: i64, w: i64, h: i64, v: u8) {
    let (iw, ih) = (img.width() as i64, img.height() as i64);
    for y in y0.max(0)..(y0 + h).min(ih) {
        for x in x0.max(0)..(x0 + w).min(iw) {
            img.put_pixel(x as u32, y as u32, Luma([v]));
        }
    }
}

/// A thick straight segment from (x0, y0) to (x1, y1), pixels.
fn segment(img: &mut GrayImage, (x0, y0): (f32, f32), (x1, y1): (f32, f32), t: f32) {
    let n = ((x1 - x0).abs().max((y1 - y0).abs()) as usize).max(1);
    let r = (t / 2.0).max(0.5);
    for i in 0..=n {
        let f = i as f32 / n as f32;
        let (x, y) = (x0 + (x1 - x0) * f, y0 + (y1 - y0) * f);
        rect(img, (x - r) as i64, (y - r) as i64, (2.0 * r).ceil() as i64, (2.0 * r).ceil() as i64, render::INK);
    }
}

fn outline(img: &mut GrayImage, x: f32, y: f32, w: f32, h: f32, t: f32) {
    segment(img, (x, y), (x + w, y), t);
    segment(img, (x, y + h), (x + w, y + h), t);
    segment(img, (x, y), (x, y + h), t);
    segment(img, (x + w, y), (x + w, y + h), t);
}

/// A drawing step on a rendered page.
type Shape = Box<dyn Fn(&mut GrayImage)>;

/// One upright sparse page of `kind` at `dpi`, varied by `rng`.
fn sparse_page(kind: Kind, dpi: f32, rng: &mut StdRng) -> GrayImage {
    let px = |mm: f32| render::mm_to_px(mm, dpi);
    let mut l = PageLayout::default();
    let cx = TEXT_CX_MM + rng.random_range(-20.0..20.0);
    let top = rng.random_range(20.0..60.0);
    let mut shapes: Vec<Shape> = Vec::new();
    match kind {
        Kind::Cover => {
            let code = format!(
                "000.00.{:02}.H{:02}-2501{:02}-{:04}",
                rng.random_range(1..99),
                rng.random_range(1..63),
                rng.random_range(1..28),
                rng.random_range(1..9999)
            );
            l.centered("PHIẾU BÌA HỒ SƠ", Style::Bold, rng.random_range(16.0..24.0), cx, top);
            if let Some((mut item, w, h)) = render::barcode(&format!("HS:{code}"), Symbology::Qr, dpi, 0.0, 0.0) {
                item.x_mm = (cx - w / 2.0).max(5.0);
                item.y_mm = top + 10.0;
                l.items.push(render::Item::Barcode(item));
                l.centered(code, Style::Regular, rng.random_range(10.0..16.0), cx, top + 18.0 + h);
            }
        }
        Kind::Separator => {
            if let Some((mut item, w, h)) = render::barcode("TP:GKS", Symbology::Code128, dpi, 0.0, 0.0) {
                item.x_mm = (cx - w / 2.0).max(5.0);
                item.y_mm = top;
                l.items.push(render::Item::Barcode(item));
                l.centered("TP:GKS", Style::Regular, 9.0, cx, top + h + 5.0);
                l.centered("GIẤY KHAI SINH", Style::Bold, rng.random_range(18.0..28.0), cx, top + h + 20.0);
            }
        }
        Kind::OneLine => l.centered("Số: 125/QĐ-UBND ngày 12 tháng 3 năm 2025", Style::Regular, 13.0, cx, top + rng.random_range(0.0..150.0)),
        Kind::Title => {
            l.centered("BẢN VẼ MẶT BẰNG", Style::Bold, rng.random_range(16.0..30.0), cx, top);
            l.centered("Tỷ lệ 1:100", Style::Italic, 12.0, cx, top + 12.0);
            let (x, y, w, h) = (px(40.0), px(top + 25.0), px(130.0), px(120.0));
            shapes.push(Box::new(move |img| {
                outline(img, x, y, w, h, 3.0);
                outline(img, x + w * 0.1, y + h * 0.1, w * 0.4, h * 0.5, 2.0);
                segment(img, (x, y + h * 0.7), (x + w, y + h * 0.7), 2.0);
            }));
        }
        Kind::Form => {
            l.centered("TỜ KHAI", Style::Bold, 16.0, cx, top);
            let mut y = top + 15.0;
            for label in ["Họ và tên:", "Ngày sinh:", "Số CCCD:", "Nơi cư trú:"].iter().take(rng.random_range(2..=4)) {
                l.text_at(*label, Style::Regular, 13.0, 30.0, y);
                l.items.push(render::Item::Rule { x0_mm: 60.0, x1_mm: 190.0, y_mm: y + 1.0, thickness_mm: 0.3 });
                y += 12.0;
            }
            let (bx, by, bw, bh) = (px(30.0), px(y + 5.0), px(160.0), px(60.0));
            shapes.push(Box::new(move |img| outline(img, bx, by, bw, bh, 2.0)));
        }
        Kind::Chart => {
            l.centered("Số hồ sơ tiếp nhận theo tháng", Style::Bold, 14.0, cx, top);
            let (x0, y0, w, h) = (px(40.0), px(top + 15.0), px(140.0), px(rng.random_range(70.0..120.0)));
            for k in 0..6 {
                l.text_at(format!("{}", k * 20), Style::Regular, 9.0, 30.0, top + 15.0 + (h - k as f32 * h / 5.0) * 25.4 / dpi + 1.0);
            }
            for k in 1..=12 {
                l.text_at(format!("{k}"), Style::Regular, 9.0, 40.0 + k as f32 * 140.0 / 13.0, top + 21.0 + h * 25.4 / dpi);
            }
            let pts: Vec<(f32, f32)> = (0..12).map(|k| (x0 + (k + 1) as f32 * w / 13.0, y0 + h * rng.random_range(0.1..0.9))).collect();
            shapes.push(Box::new(move |img| {
                segment(img, (x0, y0), (x0, y0 + h), 2.0);
                segment(img, (x0, y0 + h), (x0 + w, y0 + h), 2.0);
                for p in pts.windows(2) {
                    segment(img, p[0], p[1], 2.5);
                }
            }));
        }
        Kind::Diagram => {
            l.centered("Quy trình tiếp nhận", Style::Bold, 14.0, cx, top);
            let words = ["Tiếp nhận", "Số hóa", "Thẩm định", "Trả kết quả"];
            let n = rng.random_range(3..=4);
            let mut boxes = Vec::new();
            for (k, w) in words.iter().take(n).enumerate() {
                let y = top + 15.0 + k as f32 * 40.0;
                l.centered(*w, Style::Regular, 12.0, 105.0, y + 12.0);
                boxes.push((px(70.0), px(y), px(70.0), px(20.0)));
            }
            shapes.push(Box::new(move |img| {
                for (k, &(x, y, w, h)) in boxes.iter().enumerate() {
                    outline(img, x, y, w, h, 2.0);
                    if k + 1 < boxes.len() {
                        segment(img, (x + w / 2.0, y + h), (x + w / 2.0, boxes[k + 1].1), 2.0);
                    }
                }
            }));
        }
    }
    let mut img = render::render(&l, dpi);
    for s in &shapes {
        s(&mut img);
    }
    img
}

/// A sparse page scanned at `dpi`, turned `q` quarter turns and skewed a little.
fn scanned_sparse(kind: Kind, dpi: f32, q: u32, seed: u64) -> GrayImage {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut img = sparse_page(kind, dpi, &mut rng);
    if rng.random_bool(0.3) {
        img = synth::box_blur(&img, 1);
    }
    img = synth::rotate_gray(&img, rng.random_range(-2.0..2.0), 255);
    img = synth::rotate_quarter(&img, q);
    synth::add_noise(&mut img, seed, rng.random_range(3.0..10.0));
    synth::add_specks(&mut img, seed + 1, 60, dpi / 150.0);
    img
}

/// A wrong turn is a confident rotation that is not the truth (0, 90, 180, 270
/// counter-clockwise); leaving a turned sparse page as scanned is allowed.
fn wrong_turn(est: OrientationEstimate, truth: u16) -> bool {
    est.confidence >= orientation::MIN_CONFIDENCE && est.rotation != truth
}

#[test]
fn sparse_pages_are_never_turned_wrong() {
    let cases: Vec<(Kind, u32, u32, u64)> = KINDS
        .iter()
        .flat_map(|&k| [72u32, 96, 150, 200, 300].into_iter().flat_map(move |d| (0..4u32).flat_map(move |q| (0..3u64).map(move |s| (k, d, q, s)))))
        .collect();
    let results: Vec<(Kind, u32, u32, u64, OrientationEstimate)> = cases
        .par_iter()
        .map(|&(k, d, q, s)| {
            let img = scanned_sparse(k, d as f32, q, s * 1000 + d as u64 + q as u64 * 7);
            (k, d, q, s, detect_orientation(&img, d as f32))
        })
        .collect();
    let wrong: Vec<_> = results.iter().filter(|r| wrong_turn(r.4, (r.2 * 90) as u16)).collect();
    let right = results.iter().filter(|r| r.4.confidence >= orientation::MIN_CONFIDENCE && r.4.rotation == (r.2 * 90) as u16).count();
    println!("sparse pages: {} cases, {right} turned right, {} wrong", results.len(), wrong.len());
    for w in &wrong {
        println!("  wrong: {w:?}");
    }
    assert!(wrong.is_empty(), "{} sparse pages turned wrong", wrong.len());
}

/// The generator makes what it says: every kind has some ink and is not blank.
#[test]
fn sparse_pages_are_not_blank() {
    for k in KINDS {
        let img = scanned_sparse(k, 150.0, 0, 3);
        let v = blank_verdict(&img, 150.0);
        assert!(!v.blank, "{k:?}: {v:?}");
    }
}
