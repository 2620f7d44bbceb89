//! Synthetic scanned pages: rendered Vietnamese administrative text plus the defects a
//! scanner adds (skew, noise, specks, blur, dark borders, edge shadows, bleed-through).
//!
//! Owns: the deterministic page generator used by unit tests, benchmarks and the sample
//! generator. Every random choice comes from `StdRng::seed_from_u64(seed)`, and work split
//! over rayon threads derives its own seed per fixed-size chunk, so a given seed gives the
//! same image whatever the thread count.
//!
//! Conventions: images are `GrayImage` with paper = 255 and ink = dark; angles are degrees
//! and positive means counter-clockwise on screen (the convention of
//! [`crate::model::CleanPage::skew_deg`]). This module deliberately does not share code
//! with `crate::stages::imaging`, so tests of one cannot hide a bug in the other.

use ab_glyph::{Font, FontRef, PxScale, ScaleFont, point};
use image::GrayImage;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;

/// Liberation Serif (metric-compatible with Times New Roman), regular, bold and italic.
pub const FONT_REGULAR: &[u8] = include_bytes!("../../samples/fonts/LiberationSerif-Regular.ttf");
pub const FONT_BOLD: &[u8] = include_bytes!("../../samples/fonts/LiberationSerif-Bold.ttf");
pub const FONT_ITALIC: &[u8] = include_bytes!("../../samples/fonts/LiberationSerif-Italic.ttf");

/// A4 portrait in inches.
pub const A4_WIDTH_IN: f32 = 8.27;
pub const A4_HEIGHT_IN: f32 = 11.69;

/// National motto and a typical công văn header (Decree 30/2020, Appendix I).
pub const MOTTO: &str = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM";
pub const MOTTO_SUB: &str = "Độc lập - Tự do - Hạnh phúc";

/// Body paragraphs of plausible administrative prose (written for these tests).
pub const BODY_PARAGRAPHS: &[&str] = &[
    "Thực hiện Quyết định số 45/2016/QĐ-TTg ngày 19 tháng 10 năm 2016 của Thủ tướng Chính phủ \
     về việc tiếp nhận hồ sơ, trả kết quả giải quyết thủ tục hành chính qua dịch vụ bưu chính \
     công ích, Ủy ban nhân dân thành phố đề nghị các sở, ban, ngành và Ủy ban nhân dân các \
     quận, huyện triển khai một số nội dung sau đây.",
    "Rà soát, công bố danh mục thủ tục hành chính được tiếp nhận hồ sơ và trả kết quả qua dịch \
     vụ bưu chính công ích; phối hợp chặt chẽ với Bưu điện thành phố trong việc số hóa hồ sơ, \
     kết quả giải quyết thủ tục hành chính theo đúng quy định tại Thông tư số 01/2023/TT-VPCP \
     của Văn phòng Chính phủ.",
    "Các cơ quan, đơn vị có trách nhiệm bố trí cán bộ, công chức tiếp nhận hồ sơ điện tử, \
     kiểm tra tính đầy đủ, hợp lệ của thành phần hồ sơ, ký số vào bản sao điện tử và lưu trữ \
     theo thời hạn bảo quản. Trường hợp hồ sơ chưa đầy đủ, phải hướng dẫn tổ chức, cá nhân \
     bổ sung một lần bằng văn bản, nêu rõ lý do và thời hạn bổ sung.",
    "Giao Văn phòng Ủy ban nhân dân thành phố theo dõi, đôn đốc, tổng hợp kết quả thực hiện, \
     báo cáo Chủ tịch Ủy ban nhân dân thành phố trước ngày 15 hằng tháng. Trong quá trình thực \
     hiện, nếu có khó khăn, vướng mắc, các đơn vị kịp thời phản ánh về Văn phòng để được \
     hướng dẫn giải quyết theo thẩm quyền.",
    "Người dân, doanh nghiệp có thể nộp hồ sơ tại bất kỳ bưu cục nào trên địa bàn; nhân viên \
     bưu chính kiểm tra giấy tờ tùy thân, thu phí, lệ phí theo quy định, lập phiếu tiếp nhận \
     có mã hồ sơ và chuyển hồ sơ đến cơ quan có thẩm quyền trong ngày làm việc.",
    "Kinh phí thực hiện được bố trí trong dự toán chi thường xuyên năm 2026 của các cơ quan, \
     đơn vị theo phân cấp ngân sách hiện hành. Đề nghị Thủ trưởng các cơ quan, đơn vị quan tâm, \
     chỉ đạo thực hiện nghiêm túc nội dung Công văn này./.",
];

/// Which Liberation Serif face to draw with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FontStyle {
    Regular,
    Bold,
    Italic,
}

impl FontStyle {
    fn font(self) -> FontRef<'static> {
        let bytes = match self {
            FontStyle::Regular => FONT_REGULAR,
            FontStyle::Bold => FONT_BOLD,
            FontStyle::Italic => FONT_ITALIC,
        };
        // The fonts are compiled in and known to parse; a failure is a build defect.
        FontRef::try_from_slice(bytes).expect("bundled Liberation font parses")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Center,
    Right,
}

/// One logical line; long lines are word-wrapped inside the text block.
#[derive(Debug, Clone, Copy)]
pub struct Line<'a> {
    pub text: &'a str,
    pub align: Align,
    pub style: FontStyle,
}

impl<'a> Line<'a> {
    pub fn left(text: &'a str) -> Self {
        Line { text, align: Align::Left, style: FontStyle::Regular }
    }
    pub fn center(text: &'a str, style: FontStyle) -> Self {
        Line { text, align: Align::Center, style }
    }
    pub fn right(text: &'a str, style: FontStyle) -> Self {
        Line { text, align: Align::Right, style }
    }
}

/// Page geometry for [`render_page`].
#[derive(Debug, Clone, Copy)]
pub struct PageSpec {
    pub width_in: f32,
    pub height_in: f32,
    pub dpi: f32,
    /// Em size in pixels (12 pt at 300 dpi = 50 px; see [`pt_to_px`]).
    pub font_px: f32,
    /// Margins in millimetres: left, top, right (Decree 30/2020: 30-35, 20-25, 15-20).
    pub margins_mm: [f32; 3],
    /// Baseline-to-baseline distance in ems.
    pub line_spacing: f32,
    /// Gray level of the ink (0 = black).
    pub ink: u8,
}

impl PageSpec {
    /// A4 portrait with administrative-document margins.
    pub fn a4(dpi: f32, font_px: f32) -> Self {
        PageSpec { width_in: A4_WIDTH_IN, height_in: A4_HEIGHT_IN, dpi, font_px, margins_mm: [30.0, 20.0, 15.0], line_spacing: 1.3, ink: 15 }
    }
    /// A4 landscape (text stays horizontal).
    pub fn a4_landscape(dpi: f32, font_px: f32) -> Self {
        PageSpec { width_in: A4_HEIGHT_IN, height_in: A4_WIDTH_IN, ..Self::a4(dpi, font_px) }
    }
}

/// Em size in pixels of a `pt` point font at `dpi`.
pub fn pt_to_px(pt: f32, dpi: f32) -> f32 {
    pt * dpi / 72.0
}

/// Renders left-aligned, word-wrapped regular lines on a white A4 page.
pub fn render_text_page(lines: &[&str], dpi: f32, font_px: f32) -> GrayImage {
    let lines: Vec<Line> = lines.iter().map(|t| Line::left(t)).collect();
    render_page(&PageSpec::a4(dpi, font_px), &lines)
}

/// The lines of a plausible công văn; `variant` changes paragraph order and count.
pub fn admin_document_lines(variant: u64) -> Vec<Line<'static>> {
    let mut lines = vec![
        Line::center(MOTTO, FontStyle::Bold),
        Line::center(MOTTO_SUB, FontStyle::Bold),
        Line::left("ỦY BAN NHÂN DÂN THÀNH PHỐ HÀ NỘI"),
        Line::left("Số: 12/UBND-VP"),
        Line::right("Hà Nội, ngày 05 tháng 01 năm 2026", FontStyle::Italic),
        Line::center("V/v triển khai tiếp nhận hồ sơ qua dịch vụ bưu chính công ích", FontStyle::Regular),
        Line::center("Kính gửi: Các sở, ban, ngành thuộc thành phố", FontStyle::Regular),
    ];
    let n = BODY_PARAGRAPHS.len();
    let count = 4 + (variant as usize % 3);
    for i in 0..count {
        lines.push(Line::left(BODY_PARAGRAPHS[(variant as usize + i) % n]));
    }
    lines.push(Line::right("TM. ỦY BAN NHÂN DÂN", FontStyle::Bold));
    lines.push(Line::right("CHỦ TỊCH", FontStyle::Bold));
    lines.push(Line::right("Nguyễn Văn An", FontStyle::Bold));
    lines
}

/// A full công văn page on A4 (`variant` as in [`admin_document_lines`]).
pub fn render_admin_page(dpi: f32, font_px: f32, variant: u64) -> GrayImage {
    render_page(&PageSpec::a4(dpi, font_px), &admin_document_lines(variant))
}

/// Renders `lines` top to bottom; lines that run past the page bottom are dropped.
pub fn render_page(spec: &PageSpec, lines: &[Line]) -> GrayImage {
    let w = (spec.width_in * spec.dpi).round().max(1.0) as u32;
    let h = (spec.height_in * spec.dpi).round().max(1.0) as u32;
    let mut img = GrayImage::from_pixel(w, h, image::Luma([255]));
    let mm = spec.dpi / 25.4;
    let left = spec.margins_mm[0] * mm;
    let top = spec.margins_mm[1] * mm;
    let right = w as f32 - spec.margins_mm[2] * mm;
    let block = (right - left).max(1.0);
    let mut baseline = top + spec.font_px;
    let step = spec.font_px * spec.line_spacing;
    for line in lines {
        let font = line.style.font();
        let scale = em_to_scale(&font, spec.font_px);
        let sf = font.as_scaled(scale);
        for row in wrap(&sf, line.text, block) {
            if baseline > h as f32 {
                return img;
            }
            let width = text_width(&sf, &row);
            let x = match line.align {
                Align::Left => left,
                Align::Center => left + (block - width) / 2.0,
                Align::Right => right - width,
            };
            draw_text(&mut img, &sf, &row, x, baseline, spec.ink);
            baseline += step;
        }
    }
    img
}

fn em_to_scale(font: &FontRef<'_>, em_px: f32) -> PxScale {
    let upem = font.units_per_em().unwrap_or(2048.0);
    PxScale::from(em_px * font.height_unscaled() / upem)
}

fn text_width<F: Font, S: ScaleFont<F>>(sf: &S, text: &str) -> f32 {
    let mut w = 0.0;
    let mut prev = None;
    for c in text.chars() {
        let (id, _, _) = resolve(sf, c);
        if let Some(p) = prev {
            w += sf.kern(p, id);
        }
        w += sf.h_advance(id);
        prev = Some(id);
    }
    w
}

/// Vietnamese tone marks, in the order of the rows of [`VI_LETTERS`] after the base.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tone {
    Grave,
    Hook,
    Tilde,
    Acute,
    Dot,
}

/// Each row: a base vowel followed by it with grave, hook above, tilde, acute, dot below.
const VI_LETTERS: [&str; 12] = ["aàảãáạ", "ăằẳẵắặ", "âầẩẫấậ", "eèẻẽéẹ", "êềểễếệ", "iìỉĩíị", "oòỏõóọ", "ôồổỗốộ", "ơờởỡớợ", "uùủũúụ", "ưừửữứự", "yỳỷỹýỵ"];

/// Splits a Vietnamese letter into base letter, tone mark and horn (ơ, ư).
fn decompose(c: char) -> Option<(char, Option<Tone>, bool)> {
    const TONES: [Option<Tone>; 6] = [None, Some(Tone::Grave), Some(Tone::Hook), Some(Tone::Tilde), Some(Tone::Acute), Some(Tone::Dot)];
    for row in VI_LETTERS {
        for (k, v) in row.chars().enumerate() {
            let upper = v.to_uppercase().next().unwrap_or(v);
            if v != c && upper != c {
                continue;
            }
            let first = row.chars().next().unwrap_or(v);
            let (base, horn) = match first {
                'ơ' => ('o', true),
                'ư' => ('u', true),
                b => (b, false),
            };
            let base = if upper == c && v != c { base.to_uppercase().next().unwrap_or(base) } else { base };
            return Some((base, TONES[k], horn));
        }
    }
    None
}

/// The glyph to lay out for `c`, plus the marks to draw on it when the font has no
/// precomposed glyph (Liberation Serif 1.07 lacks most Vietnamese letters).
fn resolve<F: Font, S: ScaleFont<F>>(sf: &S, c: char) -> (ab_glyph::GlyphId, Option<Tone>, bool) {
    let id = sf.glyph_id(c);
    if id.0 != 0 {
        return (id, None, false);
    }
    match decompose(c) {
        Some((base, tone, horn)) => (sf.glyph_id(base), tone, horn),
        None => (id, None, false),
    }
}

fn wrap<F: Font, S: ScaleFont<F>>(sf: &S, text: &str, width: f32) -> Vec<String> {
    let mut rows = Vec::new();
    let mut cur = String::new();
    for word in text.split_whitespace() {
        let candidate = if cur.is_empty() { word.to_string() } else { format!("{cur} {word}") };
        if !cur.is_empty() && text_width(sf, &candidate) > width {
            rows.push(std::mem::take(&mut cur));
            cur = word.to_string();
        } else {
            cur = candidate;
        }
    }
    if !cur.is_empty() {
        rows.push(cur);
    }
    rows
}

fn draw_text<F: Font, S: ScaleFont<F>>(img: &mut GrayImage, sf: &S, text: &str, x0: f32, baseline: f32, ink: u8) {
    let mut x = x0;
    let mut prev = None;
    let em = sf.scale().y * sf.font().units_per_em().unwrap_or(2048.0) / sf.font().height_unscaled();
    for c in text.chars() {
        let (id, tone, horn) = resolve(sf, c);
        if let Some(p) = prev {
            x += sf.kern(p, id);
        }
        let glyph = id.with_scale_and_position(sf.scale(), point(x, baseline));
        x += sf.h_advance(id);
        prev = Some(id);
        let Some(outlined) = sf.font().outline_glyph(glyph) else {
            continue;
        };
        let b = outlined.px_bounds();
        draw_outline(img, &outlined, ink, 1.0);
        let cx = (b.min.x + b.max.x) / 2.0;
        let gap = 0.05 * em;
        if horn {
            place_mark(img, sf, '\u{2019}', 0.75, ink, 1.0, |mb| (b.max.x - 0.12 * em - mb.min.x, b.min.y - 0.06 * em - mb.min.y));
        }
        let above = |m: char, s: f32, clip: f32, img: &mut GrayImage| {
            place_mark(img, sf, m, s, ink, clip, |mb| (cx - (mb.min.x + mb.max.x) / 2.0, b.min.y - gap - mb.max.y));
        };
        match tone {
            Some(Tone::Grave) => above('`', 0.9, 1.0, img),
            Some(Tone::Acute) => above('\u{B4}', 0.9, 1.0, img),
            Some(Tone::Tilde) => above('\u{2DC}', 0.9, 1.0, img),
            Some(Tone::Hook) => above('?', 0.5, 0.68, img),
            Some(Tone::Dot) => {
                place_mark(img, sf, '.', 1.0, ink, 1.0, |mb| (cx - (mb.min.x + mb.max.x) / 2.0, baseline + 0.08 * em - mb.min.y));
            }
            None => {}
        }
    }
}

/// Draws glyph `m` at `scale` times the font size where `at(bounds at origin)` says
/// (returned as the translation), keeping only the top `clip` fraction of its rows.
fn place_mark<F: Font, S: ScaleFont<F>>(
    img: &mut GrayImage,
    sf: &S,
    m: char,
    scale: f32,
    ink: u8,
    clip: f32,
    at: impl Fn(ab_glyph::Rect) -> (f32, f32),
) -> ab_glyph::Rect {
    let s = PxScale { x: sf.scale().x * scale, y: sf.scale().y * scale };
    let id = sf.font().glyph_id(m);
    let Some(probe) = sf.font().outline_glyph(id.with_scale_and_position(s, point(0.0, 0.0))) else {
        return ab_glyph::Rect::default();
    };
    let (dx, dy) = at(probe.px_bounds());
    let Some(o) = sf.font().outline_glyph(id.with_scale_and_position(s, point(dx.round(), dy.round()))) else {
        return ab_glyph::Rect::default();
    };
    draw_outline(img, &o, ink, clip);
    o.px_bounds()
}

fn draw_outline(img: &mut GrayImage, o: &ab_glyph::OutlinedGlyph, ink: u8, clip: f32) {
    let (w, h) = img.dimensions();
    let b = o.px_bounds();
    let max_row = ((b.max.y - b.min.y) * clip).ceil() as u32;
    o.draw(|gx, gy, cov| {
        if gy >= max_row {
            return;
        }
        let px = b.min.x as i64 + gx as i64;
        let py = b.min.y as i64 + gy as i64;
        if px < 0 || py < 0 || px >= w as i64 || py >= h as i64 {
            return;
        }
        let p = img.get_pixel_mut(px as u32, py as u32);
        let cov = cov.clamp(0.0, 1.0);
        let v = p.0[0] as f32 * (1.0 - cov) + ink as f32 * cov;
        p.0[0] = p.0[0].min(v.round() as u8);
    });
}

/// Rotates the content by `deg` degrees counter-clockwise (on screen) about the centre,
/// keeping the size; uncovered corners get `fill`. Bilinear interpolation.
pub fn rotate_gray(img: &GrayImage, deg: f32, fill: u8) -> GrayImage {
    let (w, h) = img.dimensions();
    let mut out = GrayImage::new(w, h);
    if w == 0 || h == 0 {
        return out;
    }
    let (s, c) = (deg as f64).to_radians().sin_cos();
    let (cx, cy) = (w as f64 / 2.0, h as f64 / 2.0);
    let src = img.as_raw();
    let get = |x: i64, y: i64| -> f64 {
        if x < 0 || y < 0 || x >= w as i64 || y >= h as i64 { fill as f64 } else { src[y as usize * w as usize + x as usize] as f64 }
    };
    out.par_chunks_mut(w as usize).enumerate().for_each(|(oy, row)| {
        let ry = oy as f64 + 0.5 - cy;
        for (ox, p) in row.iter_mut().enumerate() {
            let rx = ox as f64 + 0.5 - cx;
            // Output shows the source turned CCW by deg: sample the source turned back (CW).
            let sx = rx * c - ry * s + cx - 0.5;
            let sy = rx * s + ry * c + cy - 0.5;
            let (fx, fy) = (sx.floor(), sy.floor());
            let (ax, ay) = (sx - fx, sy - fy);
            let (ix, iy) = (fx as i64, fy as i64);
            let v = if ix >= 0 && iy >= 0 && ix + 1 < w as i64 && iy + 1 < h as i64 {
                let i = iy as usize * w as usize + ix as usize;
                let (p00, p01) = (src[i] as f64, src[i + 1] as f64);
                let (p10, p11) = (src[i + w as usize] as f64, src[i + w as usize + 1] as f64);
                (p00 * (1.0 - ax) + p01 * ax) * (1.0 - ay) + (p10 * (1.0 - ax) + p11 * ax) * ay
            } else {
                (get(ix, iy) * (1.0 - ax) + get(ix + 1, iy) * ax) * (1.0 - ay) + (get(ix, iy + 1) * (1.0 - ax) + get(ix + 1, iy + 1) * ax) * ay
            };
            *p = (v + 0.5) as u8;
        }
    });
    out
}

/// Turns the image counter-clockwise by a multiple of 90 degrees (exact).
pub fn rotate_quarter(img: &GrayImage, quarter_turns_ccw: u32) -> GrayImage {
    match quarter_turns_ccw % 4 {
        0 => img.clone(),
        1 => image::imageops::rotate270(img),
        2 => image::imageops::rotate180(img),
        _ => image::imageops::rotate90(img),
    }
}

const CHUNK_ROWS: usize = 64;

/// Adds zero-mean Gaussian-like noise of standard deviation `amount` gray levels.
pub fn add_noise(img: &mut GrayImage, seed: u64, amount: f32) {
    let w = img.width() as usize;
    if w == 0 {
        return;
    }
    let mut seeder = StdRng::seed_from_u64(seed);
    let chunks = img.len().div_ceil(w * CHUNK_ROWS);
    let seeds: Vec<u64> = (0..chunks).map(|_| seeder.random()).collect();
    img.par_chunks_mut(w * CHUNK_ROWS).zip(seeds).for_each(|(chunk, s)| {
        let mut state = s;
        for p in chunk.iter_mut() {
            // SplitMix64 step, then a sum of four 16-bit uniforms (Irwin-Hall, variance
            // 4/12 of the unit range, hence the sqrt(3) scale).
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            let sum = (z & 0xFFFF) + ((z >> 16) & 0xFFFF) + ((z >> 32) & 0xFFFF) + (z >> 48);
            let n = (sum as f32 / 65535.0 - 2.0) * 1.732_050_8 * amount;
            *p = (*p as f32 + n).round().clamp(0.0, 255.0) as u8;
        }
    });
}

/// Sprinkles `count` dark specks (discs of radius 0.5..=max_radius px, gray 0..80).
pub fn add_specks(img: &mut GrayImage, seed: u64, count: usize, max_radius: f32) {
    let (w, h) = img.dimensions();
    if w == 0 || h == 0 {
        return;
    }
    let mut rng = StdRng::seed_from_u64(seed);
    for _ in 0..count {
        let cx = rng.random_range(0.0..w as f32);
        let cy = rng.random_range(0.0..h as f32);
        let r = rng.random_range(0.5..=max_radius.max(0.5));
        let level = rng.random_range(0..80u8);
        fill_disc(img, cx, cy, r, level);
    }
}

fn fill_disc(img: &mut GrayImage, cx: f32, cy: f32, r: f32, level: u8) {
    let (w, h) = img.dimensions();
    let x0 = (cx - r).floor().max(0.0) as u32;
    let y0 = (cy - r).floor().max(0.0) as u32;
    let x1 = ((cx + r).ceil() as u32).min(w.saturating_sub(1));
    let y1 = ((cy + r).ceil() as u32).min(h.saturating_sub(1));
    for y in y0..=y1 {
        for x in x0..=x1 {
            let (dx, dy) = (x as f32 + 0.5 - cx, y as f32 + 0.5 - cy);
            if dx * dx + dy * dy <= r * r {
                let p = img.get_pixel_mut(x, y);
                p.0[0] = p.0[0].min(level);
            }
        }
    }
}

/// Dark scanner borders: bands of the given widths (px) along each edge, gray `level`
/// with a little texture.
pub fn add_border(img: &mut GrayImage, left: u32, top: u32, right: u32, bottom: u32, level: u8) {
    let (w, h) = img.dimensions();
    for y in 0..h {
        for x in 0..w {
            if x < left || y < top || x + right >= w || y + bottom >= h {
                let t = ((x * 7 + y * 13) % 17) as u8;
                img.put_pixel(x, y, image::Luma([level.saturating_add(t)]));
            }
        }
    }
}

/// Separable box blur of the given radius (radius 0 returns a copy); edges are
/// averaged over the pixels that exist.
pub fn box_blur(img: &GrayImage, radius: u32) -> GrayImage {
    let (w, h) = (img.width() as usize, img.height() as usize);
    if radius == 0 || w == 0 || h == 0 {
        return img.clone();
    }
    let r = radius as usize;
    let src = img.as_raw();
    // Horizontal pass into u16 sums, with the counts divided out later.
    let mut horiz = vec![0u16; w * h];
    horiz.par_chunks_mut(w).zip(src.par_chunks(w)).for_each(|(o, line)| {
        let mut pre = vec![0u32; w + 1];
        for x in 0..w {
            pre[x + 1] = pre[x] + line[x] as u32;
        }
        for (x, v) in o.iter_mut().enumerate() {
            let a = x.saturating_sub(r);
            let b = (x + r + 1).min(w);
            *v = ((pre[b] - pre[a]) / (b - a) as u32) as u16;
        }
    });
    let mut out = vec![0u8; w * h];
    out.par_chunks_mut(w).enumerate().for_each(|(y, o)| {
        let a = y.saturating_sub(r);
        let b = (y + r + 1).min(h);
        let mut acc = vec![0u32; w];
        for yy in a..b {
            for (s, &v) in acc.iter_mut().zip(&horiz[yy * w..(yy + 1) * w]) {
                *s += v as u32;
            }
        }
        let n = (b - a) as u32;
        for (p, s) in o.iter_mut().zip(acc) {
            *p = (s / n) as u8;
        }
    });
    GrayImage::from_raw(w as u32, h as u32, out).unwrap_or_else(|| img.clone())
}

/// Faint show-through of `back` (the other side, mirrored left-right, blurred): paper
/// darkens by at most `strength` (0..1) of the back side's ink darkness.
pub fn add_bleed_through(img: &mut GrayImage, back: &GrayImage, strength: f32) {
    let mirrored = image::imageops::flip_horizontal(back);
    let blurred = box_blur(&mirrored, (img.width() / 800).max(1));
    let (w, h) = img.dimensions();
    for y in 0..h.min(blurred.height()) {
        for x in 0..w.min(blurred.width()) {
            let dark = 1.0 - blurred.get_pixel(x, y).0[0] as f32 / 255.0;
            let p = img.get_pixel_mut(x, y);
            p.0[0] = (p.0[0] as f32 * (1.0 - strength * dark)).round() as u8;
        }
    }
}

/// Which page edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edge {
    Left,
    Top,
    Right,
    Bottom,
}

/// A scanner edge shadow: darkening that fades linearly from `darkest` at the edge to
/// nothing at `width` px inward.
pub fn add_edge_shadow(img: &mut GrayImage, edge: Edge, width: u32, darkest: u8) {
    let (w, h) = img.dimensions();
    let width = width.max(1);
    for y in 0..h {
        for x in 0..w {
            let d = match edge {
                Edge::Left => x,
                Edge::Top => y,
                Edge::Right => w - 1 - x,
                Edge::Bottom => h - 1 - y,
            };
            if d < width {
                let t = d as f32 / width as f32;
                let target = darkest as f32 + (255.0 - darkest as f32) * t;
                let p = img.get_pixel_mut(x, y);
                p.0[0] = (p.0[0] as f32 * target / 255.0).round() as u8;
            }
        }
    }
}

/// Multiplies every pixel by `factor` (paper tint: 0.94 turns 255 into 240).
pub fn tint(img: &mut GrayImage, factor: f32) {
    let lut: Vec<u8> = (0..256).map(|v| (v as f32 * factor).round().clamp(0.0, 255.0) as u8).collect();
    img.par_iter_mut().for_each(|p| *p = lut[*p as usize]);
}

/// Converts a gray page to RGB with a slightly warm paper tone (for colour-mode tests).
pub fn to_warm_rgb(img: &GrayImage) -> image::RgbImage {
    image::RgbImage::from_fn(img.width(), img.height(), |x, y| {
        let v = img.get_pixel(x, y).0[0] as f32;
        image::Rgb([v as u8, (v * 0.97) as u8, (v * 0.90) as u8])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fonts_cover_vietnamese_text() {
        let font = FontStyle::Regular.font();
        let all: String = BODY_PARAGRAPHS.concat() + MOTTO + MOTTO_SUB + "Số: 12/UBND-VP";
        let sf = font.as_scaled(PxScale::from(50.0));
        for c in all.chars().filter(|c| !c.is_whitespace()) {
            assert_ne!(resolve(&sf, c).0.0, 0, "no glyph for {c:?}");
        }
        assert_eq!(decompose('ự'), Some(('u', Some(Tone::Dot), true)));
        assert_eq!(decompose('Ộ'), Some(('Ô', Some(Tone::Dot), false)));
        assert_eq!(decompose('ẩ'), Some(('â', Some(Tone::Hook), false)));
    }

    #[test]
    fn rotate_gray_turns_counter_clockwise() {
        // A horizontal bar right of centre must end up above centre after +90.
        let mut img = GrayImage::from_pixel(101, 101, image::Luma([255]));
        for x in 70..90 {
            img.put_pixel(x, 50, image::Luma([0]));
        }
        let r = rotate_gray(&img, 90.0, 255);
        assert!(r.get_pixel(50, 20).0[0] < 60, "bar not above centre");
        assert!(r.get_pixel(80, 50).0[0] > 200);
    }

    #[test]
    fn rendering_is_deterministic_and_inked() {
        let a = render_admin_page(100.0, pt_to_px(13.0, 100.0), 1);
        let b = render_admin_page(100.0, pt_to_px(13.0, 100.0), 1);
        assert_eq!(a.as_raw(), b.as_raw());
        let ink = a.pixels().filter(|p| p.0[0] < 128).count() as f32 / a.len() as f32;
        assert!(ink > 0.02 && ink < 0.2, "ink fraction {ink}");
        let mut n1 = a.clone();
        let mut n2 = a.clone();
        add_noise(&mut n1, 7, 10.0);
        add_noise(&mut n2, 7, 10.0);
        assert_eq!(n1.as_raw(), n2.as_raw());
    }
}
