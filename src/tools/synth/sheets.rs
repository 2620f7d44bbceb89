//! The generated separator set: separator and cover sheets printed every way other capture
//! software prints them, scanned every way a counter scans them, and content pages of
//! ordinary documents that must not become separators. Used by the barcode stage's recall
//! test (`stages::barcode::tests::generated_separator_set_*`), `sohoa bench`-free criterion
//! bench `benches/barcode.rs`, and `sohoa separator-set` (pages + truth for
//! `scripts/compare_barcodes.py`, which runs zxing-cpp on the same pages).
//!
//! [`plan_set`] decides every page sequentially from one seed (cheap, no pixels);
//! [`render_set_page`] draws one planned page from its own seed, so pages can be drawn in
//! parallel and in any order with identical pixels.
//!
//! What varies, sheets:
//! - symbology: QR, Code 128, Code 39 (payload `PATCHT` only: Code 39 has no `:`), Data
//!   Matrix, Kodak patch codes (upright or leading edge left: a patch read from the other
//!   edge is another patch by design, so the other two turns are not generated for them);
//! - payload: `HS:<dossier code>`, `TP:<type>`, `PATCHT`;
//! - module 0.25-1.5 mm (never under 2 px at the page's dpi; 150, 200 or 300 dpi, or a fax
//!   page of 200 x 100 dpi stretched back to 200 dpi), symbol anywhere (corners, middle,
//!   near an edge), alone or with a title above and the payload printed under it, sometimes
//!   a second copy of the code or an unrelated code on the same page;
//! - any quarter turn plus up to ±15° skew, blur up to σ = 2 px, JPEG quality 30-90, ink
//!   at 60% gray, error-diffusion dithering, speckle, a fold line or punch holes through
//!   the quiet zone, a mild perspective/shear distortion, sensor noise.
//!
//! Content pages: the generator's administrative documents (`document`) with tables,
//! a round stamp, a signature scrawl, a logo, and sometimes small codes that are not
//! separators (a footer QR with a URL, a Code 128 tracking number, a Data Matrix), under
//! the same scanner defects.

use image::{GrayImage, Luma, imageops};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rxing::BarcodeFormat;

use super::defects::{add_noise, add_specks, rotate_gray_expand, rotate_quarter};
use super::{document, text};
use crate::model::DOC_KINDS;
use crate::stages::barcode::patch::{PatchKind, render_patch};
use crate::stages::barcode::render_barcode;
use crate::stages::render::{self, PAGE_W_MM, PageLayout, Style};

/// What a planned page carries.
#[derive(Debug, Clone, PartialEq)]
pub enum Symbol {
    /// An rxing-encodable symbol (`QR_CODE`, `CODE_128`, `CODE_39`, `DATA_MATRIX`).
    Code {
        format: String,
        text: String,
        module_mm: f32,
    },
    Patch(PatchKind),
}

/// One page of the set, planned.
#[derive(Debug, Clone, PartialEq)]
pub struct SetPage {
    pub index: usize,
    /// The separator payload the page must yield (`None`: a content page).
    pub payload: Option<String>,
    /// Symbols drawn: position on the A4 page (x, y of the top left, mm) and the symbol.
    pub symbols: Vec<(f32, f32, Symbol)>,
    pub dpi: f32,
    pub fax: bool,
    pub quarter_turns: u32,
    pub skew_deg: f32,
    pub blur_sigma: f32,
    pub jpeg_quality: Option<u8>,
    pub low_contrast: bool,
    pub dither: bool,
    pub specks: bool,
    pub fold: bool,
    pub punch_holes: bool,
    pub distort: bool,
    /// Title over the symbol and the payload printed under it (sheets).
    pub captioned: bool,
    seed: u64,
}

impl SetPage {
    pub fn is_sheet(&self) -> bool {
        self.payload.is_some()
    }

    /// A short description of the page's variations (for failure messages and the script).
    pub fn describe(&self) -> String {
        let syms: Vec<String> = self
            .symbols
            .iter()
            .map(|(x, y, s)| match s {
                Symbol::Code { format, module_mm, .. } => format!("{format} {module_mm:.2}mm at ({x:.0},{y:.0})"),
                Symbol::Patch(k) => format!("{} at ({x:.0},{y:.0})", k.label()),
            })
            .collect();
        let mut d = format!("{} dpi, turn {}x90, skew {:.1}, {}", self.dpi, self.quarter_turns, self.skew_deg, syms.join(" + "));
        for (on, name) in [
            (self.fax, "fax"),
            (self.low_contrast, "gray ink"),
            (self.dither, "dithered"),
            (self.specks, "specks"),
            (self.fold, "fold"),
            (self.punch_holes, "holes"),
            (self.distort, "distorted"),
            (self.captioned, "captioned"),
        ] {
            if on {
                d.push_str(", ");
                d.push_str(name);
            }
        }
        if self.blur_sigma > 0.0 {
            d.push_str(&format!(", blur {:.1}", self.blur_sigma));
        }
        if let Some(q) = self.jpeg_quality {
            d.push_str(&format!(", jpeg {q}"));
        }
        d
    }
}

const TYPES: [&str; 6] = ["CCCD", "GKS", "DON", "TK", "QD", "GXN"];

/// Plans `sheets` separator sheets then `content` content pages, from `seed`.
pub fn plan_set(seed: u64, sheets: usize, content: usize) -> Vec<SetPage> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut out = Vec::with_capacity(sheets + content);
    for i in 0..sheets + content {
        let sheet = i < sheets;
        let mut p = SetPage {
            index: i,
            payload: None,
            symbols: Vec::new(),
            dpi: [150.0, 200.0, 200.0, 300.0][rng.random_range(0..4)],
            fax: false,
            quarter_turns: rng.random_range(0..4),
            skew_deg: (rng.random_range(-15.0f32..=15.0) * 10.0).round() / 10.0,
            blur_sigma: if rng.random_bool(0.35) { (rng.random_range(0.3f32..=2.0) * 10.0).round() / 10.0 } else { 0.0 },
            jpeg_quality: rng.random_bool(0.35).then(|| rng.random_range(30..=90)),
            low_contrast: rng.random_bool(0.15),
            dither: rng.random_bool(0.08),
            specks: rng.random_bool(0.3),
            fold: rng.random_bool(0.12),
            punch_holes: rng.random_bool(0.12),
            distort: rng.random_bool(0.12),
            captioned: rng.random_bool(0.6),
            seed: rng.random(),
        };
        if rng.random_bool(0.08) {
            p.fax = true;
            p.dpi = 200.0;
        }
        if sheet {
            plan_sheet(&mut rng, &mut p);
        } else {
            plan_content(&mut rng, &mut p);
        }
        out.push(p);
    }
    out
}

fn dossier_payload(rng: &mut StdRng) -> String {
    let d = text::Date::random(rng);
    format!("HS:{}", text::dossier_code(rng, d))
}

fn plan_sheet(rng: &mut StdRng, p: &mut SetPage) {
    let kind = rng.random_range(0..10);
    let (format, payload) = match kind {
        0..=2 => (
            "QR_CODE",
            if rng.random_bool(0.6) {
                dossier_payload(rng)
            } else if rng.random_bool(0.5) {
                "PATCHT".into()
            } else {
                format!("TP:{}", TYPES[rng.random_range(0..TYPES.len())])
            },
        ),
        3..=4 => (
            "CODE_128",
            if rng.random_bool(0.3) {
                dossier_payload(rng)
            } else if rng.random_bool(0.3) {
                "PATCHT".into()
            } else {
                format!("TP:{}", TYPES[rng.random_range(0..TYPES.len())])
            },
        ),
        5..=6 => ("CODE_39", "PATCHT".to_string()),
        7..=8 => ("DATA_MATRIX", if rng.random_bool(0.5) { dossier_payload(rng) } else { format!("TP:{}", TYPES[rng.random_range(0..TYPES.len())]) }),
        _ => ("PATCH", String::new()),
    };
    if format == "PATCH" {
        let kind = if rng.random_bool(0.7) { PatchKind::T } else { PatchKind::ALL[rng.random_range(0..PatchKind::ALL.len())] };
        p.payload = Some(kind.text().to_string());
        // Upright or leading edge on the left (see the module doc).
        p.quarter_turns = if rng.random_bool(0.8) { 0 } else { 1 };
        p.distort = false;
        let x = rng.random_range(15.0f32..40.0);
        let y = rng.random_range(8.0f32..60.0);
        p.symbols.push((x, y, Symbol::Patch(kind)));
        return;
    }
    let two_d = matches!(format, "QR_CODE" | "DATA_MATRIX");
    // Module size: 0.25-1.5 mm for 2D symbols, 0.25-0.6 mm narrow bars for linear ones
    // (wider bars would not fit the page with a long payload); at least 2 px.
    let mut module_mm: f32 = if two_d { rng.random_range(0.25f32..=1.5) } else { rng.random_range(0.25f32..=0.6) };
    module_mm = (module_mm * 100.0).round() / 100.0;
    let min_dpi = 2.0 * 25.4 / module_mm;
    if p.dpi < min_dpi {
        p.dpi = if min_dpi <= 200.0 { 200.0 } else { 300.0 };
        p.fax &= p.dpi == 200.0 && module_mm >= 0.5;
    }
    let (w_mm, h_mm) = symbol_size_mm(format, &payload, module_mm);
    let (x, y) = place(rng, w_mm, h_mm);
    p.symbols.push((x, y, Symbol::Code { format: format.to_string(), text: payload.clone(), module_mm }));
    // A second symbol: the same payload in another place, or an unrelated code.
    if rng.random_bool(0.15) {
        let (w2, h2) = symbol_size_mm("QR_CODE", "https://dichvucong.gov.vn/p/home", 0.4);
        let (x2, y2) = place(rng, w2, h2);
        if !overlaps((x, y, w_mm, h_mm), (x2, y2, w2, h2)) {
            p.symbols.push((x2, y2, Symbol::Code { format: "QR_CODE".into(), text: "https://dichvucong.gov.vn/p/home".into(), module_mm: 0.4 }));
        }
    }
    p.payload = Some(payload);
}

fn overlaps(a: (f32, f32, f32, f32), b: (f32, f32, f32, f32)) -> bool {
    let m = 12.0;
    a.0 < b.0 + b.2 + m && b.0 < a.0 + a.2 + m && a.1 < b.1 + b.3 + m && b.1 < a.1 + a.3 + m
}

/// A spot for a `w` x `h` mm symbol: a corner, the middle, or anywhere, with at least 6 mm
/// to the page edge (a quiet zone; scanners crop the rest).
fn place(rng: &mut StdRng, w: f32, h: f32) -> (f32, f32) {
    let (pw, ph) = (PAGE_W_MM, render::PAGE_H_MM);
    let (xmax, ymax) = ((pw - w - 6.0).max(6.0), (ph - h - 6.0).max(6.0));
    match rng.random_range(0..4) {
        0 => ([6.0, xmax][rng.random_range(0..2)], [6.0, ymax][rng.random_range(0..2)]),
        1 => ((pw - w) / 2.0, (ph - h) / 2.0 + rng.random_range(-40.0..40.0)),
        _ => (rng.random_range(6.0..=xmax), rng.random_range(6.0..=ymax)),
    }
}

/// Size of a symbol without quiet zone, mm.
fn symbol_size_mm(format: &str, text: &str, module_mm: f32) -> (f32, f32) {
    match encode(format, text, 1) {
        Some(img) => {
            let (w, h) = (img.width() as f32, img.height() as f32);
            if format == "CODE_128" || format == "CODE_39" { (w * module_mm, linear_height_mm(module_mm)) } else { (w * module_mm, h * module_mm) }
        }
        None => (40.0, 40.0),
    }
}

fn linear_height_mm(module_mm: f32) -> f32 {
    (module_mm * 40.0).clamp(10.0, 20.0)
}

fn format_of(name: &str) -> BarcodeFormat {
    match name {
        "QR_CODE" => BarcodeFormat::QR_CODE,
        "CODE_128" => BarcodeFormat::CODE_128,
        "CODE_39" => BarcodeFormat::CODE_39,
        _ => BarcodeFormat::DATA_MATRIX,
    }
}

/// The symbol with `module_px` pixels a module, cropped to the symbol (no quiet zone);
/// linear symbols one pixel high.
fn encode(format: &str, text: &str, module_px: u32) -> Option<GrayImage> {
    let img = render_barcode(text, format_of(format), module_px, 1).ok()?;
    let one_d = format == "CODE_128" || format == "CODE_39";
    let quiet = if one_d { 10 } else { 4 } * module_px;
    let (w, h) = (img.width() - 2 * quiet, img.height() - 2 * quiet);
    Some(imageops::crop_imm(&img, quiet, quiet, w, h).to_image())
}

fn plan_content(rng: &mut StdRng, p: &mut SetPage) {
    p.captioned = false;
    // Small codes printed on forms: none of them a separator payload.
    let r: f32 = rng.random();
    let (format, text, module_mm) = if r < 0.15 {
        ("QR_CODE", format!("https://dichvucong.gov.vn/p/home/dvc-tra-cuu-ho-so.html?ma={}", rng.random_range(10000..99999)), rng.random_range(0.3f32..=0.5))
    } else if r < 0.22 {
        ("CODE_128", format!("EB{}VN", rng.random_range(100_000_000u32..999_999_999)), 0.3)
    } else if r < 0.27 {
        ("DATA_MATRIX", format!("SO:{}/QD-UBND", rng.random_range(10..999)), 0.4)
    } else {
        ("", String::new(), 0.0)
    };
    if !format.is_empty() {
        if p.dpi < 2.0 * 25.4 / module_mm {
            p.dpi = 300.0;
            p.fax = false;
        }
        let (w, h) = symbol_size_mm(format, &text, module_mm);
        // In the footer, left or right.
        let x = if rng.random_bool(0.5) { 20.0 } else { PAGE_W_MM - 20.0 - w };
        p.symbols.push((x, render::PAGE_H_MM - 12.0 - h, Symbol::Code { format: format.into(), text, module_mm }));
    }
}

/// Draws the planned page: its gray image and its dpi.
pub fn render_set_page(p: &SetPage) -> (GrayImage, f32) {
    let mut rng = StdRng::seed_from_u64(p.seed);
    let dpi = p.dpi;
    let mut layout = PageLayout::default();
    if p.is_sheet() {
        sheet_text(&mut rng, p, &mut layout);
    } else {
        content_text(&mut rng, &mut layout);
    }
    let mut img = render::render(&layout, dpi);
    if !p.is_sheet() {
        decorate_content(&mut rng, &mut img, dpi);
    }
    let px = |mm: f32| (mm * dpi / 25.4).round() as i64;
    for (x, y, sym) in &p.symbols {
        let s = match sym {
            Symbol::Patch(kind) => render_patch(*kind, dpi, rng.random_range(60.0..150.0), 0),
            Symbol::Code { format, text, module_mm } => symbol_image(format, text, *module_mm, dpi),
        };
        darken_over(&mut img, &s, px(*x), px(*y));
        if p.fold {
            // A crease through the symbol's quiet zone, across the page.
            let yy = (px(*y) - px(1.5)).max(0) as u32;
            fold_line(&mut img, yy, rng.random_range(140..200), (dpi / 100.0).ceil() as u32);
        }
        if p.punch_holes {
            // Two holes just left of the symbol, in its quiet zone (or at the page edge).
            let cx = (px(*x) - px(4.0)).max(px(5.0)) as f32;
            let r = 3.0 * dpi / 25.4;
            for cy in [px(*y) as f32 + r, px(*y) as f32 + 3.5 * r] {
                disc(&mut img, cx, cy, r, 70);
            }
        }
    }
    if p.low_contrast {
        // Ink at 60% gray: black prints as 153.
        for v in img.iter_mut() {
            *v = 255 - ((255 - *v as u32) * 102 / 255) as u8;
        }
    }
    if p.distort {
        img = shear_perspective(&img, rng.random_range(-0.04f32..0.04), rng.random_range(-0.06f32..0.06));
    }
    img = rotate_quarter(&img, p.quarter_turns);
    if p.skew_deg != 0.0 {
        img = rotate_gray_expand(&img, p.skew_deg, 255);
    }
    if p.blur_sigma > 0.0 {
        img = imageops::blur(&img, p.blur_sigma);
    }
    if p.specks {
        let n = rng.random_range(50..400);
        add_specks(&mut img, rng.random(), n, (dpi / 100.0).max(1.0));
    }
    add_noise(&mut img, rng.random(), rng.random_range(2.0..8.0));
    if p.fax {
        img = fax(&img);
    } else if p.dither {
        dither(&mut img);
    }
    if let Some(q) = p.jpeg_quality {
        img = jpeg_round_trip(&img, q);
    }
    (img, dpi)
}

/// The symbol at `module_mm` a module at `dpi`: drawn with 8 px modules, then resized with
/// an area filter (fractional modules, soft edges, as a printer and scanner give).
fn symbol_image(format: &str, text: &str, module_mm: f32, dpi: f32) -> GrayImage {
    let big = encode(format, text, 8).expect("planned symbols encode");
    let k = module_mm * dpi / 25.4 / 8.0;
    let w = ((big.width() as f32) * k).round().max(1.0) as u32;
    let one_d = format == "CODE_128" || format == "CODE_39";
    let h = if one_d { (linear_height_mm(module_mm) * dpi / 25.4).round() as u32 } else { ((big.height() as f32) * k).round().max(1.0) as u32 };
    let src = if one_d { imageops::resize(&big, big.width(), 8, imageops::FilterType::Nearest) } else { big };
    imageops::resize(&src, w, h, imageops::FilterType::Triangle)
}

fn darken_over(img: &mut GrayImage, s: &GrayImage, x: i64, y: i64) {
    for (sx, sy, v) in s.enumerate_pixels() {
        let (tx, ty) = (x + sx as i64, y + sy as i64);
        if tx >= 0 && ty >= 0 && (tx as u32) < img.width() && (ty as u32) < img.height() {
            let p = img.get_pixel_mut(tx as u32, ty as u32);
            p.0[0] = p.0[0].min(v.0[0]);
        }
    }
}

fn fold_line(img: &mut GrayImage, y: u32, level: u8, thickness: u32) {
    let (w, h) = img.dimensions();
    for yy in y..(y + thickness).min(h) {
        for x in 0..w {
            let p = img.get_pixel_mut(x, yy);
            p.0[0] = p.0[0].min(level);
        }
    }
}

fn disc(img: &mut GrayImage, cx: f32, cy: f32, r: f32, level: u8) {
    let (w, h) = img.dimensions();
    let (x0, y0) = ((cx - r).max(0.0) as u32, (cy - r).max(0.0) as u32);
    let (x1, y1) = (((cx + r) as u32 + 1).min(w), ((cy + r) as u32 + 1).min(h));
    for y in y0..y1 {
        for x in x0..x1 {
            let (dx, dy) = (x as f32 - cx, y as f32 - cy);
            if dx * dx + dy * dy <= r * r {
                img.put_pixel(x, y, Luma([level]));
            }
        }
    }
}

/// A mild geometric distortion: horizontal shear plus a perspective squeeze of the bottom.
fn shear_perspective(img: &GrayImage, shear: f32, squeeze: f32) -> GrayImage {
    let (w, h) = img.dimensions();
    let (wf, hf) = (w as f32, h as f32);
    GrayImage::from_fn(w, h, |x, y| {
        let t = y as f32 / hf;
        let scale = 1.0 + squeeze * t;
        let sx = (x as f32 - wf / 2.0) * scale + wf / 2.0 + shear * (y as f32 - hf / 2.0);
        if sx < 0.0 || sx >= wf - 1.0 {
            return Luma([255]);
        }
        let x0 = sx.floor() as u32;
        let f = sx - x0 as f32;
        let a = img.get_pixel(x0, y).0[0] as f32;
        let b = img.get_pixel(x0 + 1, y).0[0] as f32;
        Luma([(a + (b - a) * f).round() as u8])
    })
}

/// A 200 x 100 dpi fax page as intake gives it: every other row sampled, thresholded to
/// black and white, rows doubled back to the page's height.
fn fax(img: &GrayImage) -> GrayImage {
    GrayImage::from_fn(img.width(), img.height(), |x, y| Luma([if img.get_pixel(x, y & !1).0[0] < 160 { 0 } else { 255 }]))
}

/// Floyd-Steinberg error diffusion to black and white.
fn dither(img: &mut GrayImage) {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let mut err = vec![0f32; (w + 2) * 2];
    for y in 0..h {
        let (cur, next) = if y % 2 == 0 { (0, w + 2) } else { (w + 2, 0) };
        for v in &mut err[next..next + w + 2] {
            *v = 0.0;
        }
        for x in 0..w {
            let i = y * w + x;
            let old = img.as_raw()[i] as f32 + err[cur + x + 1];
            let new = if old < 128.0 { 0.0 } else { 255.0 };
            img.as_mut()[i] = new as u8;
            let e = old - new;
            err[cur + x + 2] += e * 7.0 / 16.0;
            err[next + x] += e * 3.0 / 16.0;
            err[next + x + 1] += e * 5.0 / 16.0;
            err[next + x + 2] += e / 16.0;
        }
    }
}

fn jpeg_round_trip(img: &GrayImage, quality: u8) -> GrayImage {
    let mut buf = Vec::new();
    let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut buf, quality);
    if img.write_with_encoder(enc).is_err() {
        return img.clone();
    }
    image::load_from_memory(&buf).map(|d| d.to_luma8()).unwrap_or_else(|_| img.clone())
}

/// Sheet text: a title line and the payload under the symbol (captioned), else just a
/// short label low on the page.
fn sheet_text(rng: &mut StdRng, p: &SetPage, l: &mut PageLayout) {
    let Some((x, y, sym)) = p.symbols.first() else { return };
    let payload = p.payload.as_deref().unwrap_or("");
    let (w, h) = match sym {
        Symbol::Code { format, text, module_mm } => symbol_size_mm(format, text, *module_mm),
        Symbol::Patch(_) => (100.0, 20.3),
    };
    let cx = (x + w / 2.0).clamp(40.0, PAGE_W_MM - 40.0);
    if p.captioned {
        let title = ["PHIẾU BÌA HỒ SƠ", "TỜ PHÂN CÁCH TÀI LIỆU", "SEPARATOR SHEET", "DOCUMENT COVER SHEET"][rng.random_range(0..4)];
        if *y > 25.0 {
            l.centered(title, Style::Bold, rng.random_range(14.0..24.0), cx, y - 6.0);
        }
        if y + h + 14.0 < render::PAGE_H_MM {
            l.centered(payload, Style::Regular, rng.random_range(10.0..16.0), cx, y + h + 9.0);
        }
    }
    if rng.random_bool(0.5) {
        let by = if *y > render::PAGE_H_MM / 2.0 { 40.0 } else { render::PAGE_H_MM - 50.0 };
        l.centered("Không tách rời tờ này khỏi hồ sơ", Style::Italic, 12.0, PAGE_W_MM / 2.0, by);
    }
}

fn content_text(rng: &mut StdRng, l: &mut PageLayout) {
    let kind = &DOC_KINDS[rng.random_range(0..DOC_KINDS.len())];
    let (content, mut body) = text::compose(rng, kind);
    let pages = document::layout_document(&content, &mut body, rng, 2);
    let pick = rng.random_range(0..pages.len());
    *l = pages.into_iter().nth(pick).unwrap_or_default();
}

/// A table grid, a round stamp, a signature scrawl and a logo on a content page.
fn decorate_content(rng: &mut StdRng, img: &mut GrayImage, dpi: f32) {
    let px = |mm: f32| mm * dpi / 25.4;
    let t = px(0.3).max(1.0) as u32;
    if rng.random_bool(0.4) {
        // Table: 4-6 columns, 5-10 rows, in the lower half.
        let (x0, y0) = (px(25.0), px(rng.random_range(150.0..200.0)));
        let (cols, rows) = (rng.random_range(4..=6), rng.random_range(5..=10));
        let (cw, rh) = (px(160.0) / cols as f32, px(7.0));
        for r in 0..=rows {
            fill(img, x0, y0 + r as f32 * rh, px(160.0), t as f32, 20);
        }
        for c in 0..=cols {
            fill(img, x0 + c as f32 * cw, y0, t as f32, rows as f32 * rh, 20);
        }
    }
    if rng.random_bool(0.5) {
        // Round stamp: two rings and a star, over the signature.
        let (cx, cy, r) = (px(rng.random_range(110.0..160.0)), px(rng.random_range(220.0..260.0)), px(18.0));
        ring(img, cx, cy, r, px(0.8), 90);
        ring(img, cx, cy, r * 0.72, px(0.5), 90);
        disc(img, cx, cy, px(3.0), 90);
    }
    if rng.random_bool(0.6) {
        // Signature: a looping stroke.
        let (x0, y0) = (px(rng.random_range(110.0..150.0)), px(rng.random_range(230.0..265.0)));
        let a = rng.random_range(3.0f32..6.0);
        for i in 0..400 {
            let s = i as f32 / 400.0;
            let x = x0 + px(40.0) * s;
            let y = y0 + px(a) * (s * 25.0).sin() + px(2.0) * (s * 7.0).cos();
            disc(img, x, y, px(0.35).max(1.0), 30);
        }
    }
    if rng.random_bool(0.3) {
        // Logo: a solid disc with a white square, top left.
        let (cx, cy) = (px(30.0), px(25.0));
        disc(img, cx, cy, px(9.0), 40);
        fill(img, cx - px(3.0), cy - px(3.0), px(6.0), px(6.0), 255);
    }
}

fn fill(img: &mut GrayImage, x: f32, y: f32, w: f32, h: f32, level: u8) {
    let (iw, ih) = img.dimensions();
    for yy in (y.max(0.0) as u32)..((y + h) as u32).min(ih) {
        for xx in (x.max(0.0) as u32)..((x + w) as u32).min(iw) {
            img.put_pixel(xx, yy, Luma([level]));
        }
    }
}

fn ring(img: &mut GrayImage, cx: f32, cy: f32, r: f32, t: f32, level: u8) {
    let (w, h) = img.dimensions();
    for y in ((cy - r - t).max(0.0) as u32)..((cy + r + t) as u32).min(h) {
        for x in ((cx - r - t).max(0.0) as u32)..((cx + r + t) as u32).min(w) {
            let d = ((x as f32 - cx).powi(2) + (y as f32 - cy).powi(2)).sqrt();
            if (d - r).abs() <= t / 2.0 {
                let p = img.get_pixel_mut(x, y);
                p.0[0] = p.0[0].min(level);
            }
        }
    }
}

/// One page of the set as read by [`crate::stages::barcode::scan_page`].
#[derive(Debug, Clone)]
pub struct SetOutcome {
    pub page: SetPage,
    /// Every text read.
    pub texts: Vec<String>,
    /// The texts that the default separator rules take as separators.
    pub separators: Vec<String>,
    /// The scan flagged a sheet-like page it could not read.
    pub unread_sheet: bool,
    pub seconds: f64,
}

impl SetOutcome {
    /// A sheet whose payload was read, or a content page with no separator.
    pub fn correct(&self) -> bool {
        match &self.page.payload {
            Some(p) => self.texts.iter().any(|t| t == p) && self.separators.iter().all(|s| s == p),
            None => self.separators.is_empty(),
        }
    }
}

/// Draws and reads every page of the set (pages in parallel); outcomes in page order.
pub fn read_set(pages: &[SetPage]) -> Vec<SetOutcome> {
    use rayon::prelude::*;
    let rules = crate::stages::split::rules::SeparatorRules::default();
    pages
        .par_iter()
        .map(|p| {
            let (img, dpi) = render_set_page(p);
            let t = std::time::Instant::now();
            let scan = crate::stages::barcode::scan_page(&img, dpi);
            let seconds = t.elapsed().as_secs_f64();
            let texts: Vec<String> = scan.barcodes.iter().map(|b| b.text.clone()).collect();
            let separators = texts.iter().filter(|t| rules.classify(t).is_some()).cloned().collect();
            SetOutcome { page: p.clone(), texts, separators, unread_sheet: scan.unread_sheet, seconds }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_set_is_deterministic_and_has_what_it_promises() {
        let a = plan_set(7, 40, 20);
        assert_eq!(a, plan_set(7, 40, 20));
        assert_eq!(a.iter().filter(|p| p.is_sheet()).count(), 40);
        for p in &a {
            if let Some(Symbol::Code { format, module_mm, .. }) = p.symbols.first().map(|s| &s.2) {
                assert!(module_mm * p.dpi / 25.4 >= 1.99, "{format} {}", p.describe());
            }
        }
        let (x, _) = render_set_page(&a[3]);
        let (y, _) = render_set_page(&a[3]);
        assert_eq!(x, y);
    }
}
