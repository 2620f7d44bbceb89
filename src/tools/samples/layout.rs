//! Page layout and rendering for generated sample pages.
//!
//! Owns the A4 page geometry, the embedded Liberation Serif fonts, text measurement and
//! wrapping, the Decree 30/2020 arrangement of a document's content on pages
//! ([`layout_document`]), the cover and separator sheets ([`layout_cover`],
//! [`layout_separator`]) and rasterisation of a [`PageLayout`] to a gray image
//! ([`render`]), plus the scanner degradations (skew, noise).
//!
//! Invariants:
//! - A layout is a list of drawing items in reading order; [`PageLayout::text`] is the
//!   text items joined by '\n', which is the ground truth of a content page. Two-column
//!   bands (the header; recipients beside the signature) list their left column first,
//!   then their right column.
//! - Text placement and line breaking are measured in font units and millimetres, so a
//!   content page's text and line breaks do not depend on the rendering dpi.
//! - Barcodes are drawn with whole-pixel modules (`module_px`) and a quiet zone of 4
//!   modules (QR) or 10 modules (Code 128) kept free of other ink.
//!
//! Called by `samples` (the batch generator); nothing here does I/O.

use std::collections::VecDeque;
use std::sync::OnceLock;

use ab_glyph::{Font, FontRef, GlyphId, PxScale, ScaleFont, point};
use image::{GrayImage, Luma};
use rand::Rng;
use rayon::prelude::*;
use rxing::{BarcodeFormat, EncodeHints, MultiFormatWriter, Writer};

use super::text::{BodySource, DocContent, Para, ParaStyle};

/// A4 in millimetres.
pub const PAGE_W_MM: f32 = 210.0;
pub const PAGE_H_MM: f32 = 297.0;
/// Text area (Decree 30/2020, App. I: left 30-35 mm, right 15-20 mm, top/bottom 20-25 mm).
pub const MARGIN_L_MM: f32 = 30.0;
pub const MARGIN_R_MM: f32 = 15.0;
pub const MARGIN_T_MM: f32 = 20.0;
pub const MARGIN_B_MM: f32 = 20.0;
const TEXT_R_MM: f32 = PAGE_W_MM - MARGIN_R_MM;
const TEXT_W_MM: f32 = TEXT_R_MM - MARGIN_L_MM;
const TEXT_CX_MM: f32 = MARGIN_L_MM + TEXT_W_MM / 2.0;
const BOTTOM_MM: f32 = PAGE_H_MM - MARGIN_B_MM;

const MM_PER_PT: f32 = 25.4 / 72.0;
/// Body text size (Decree 30/2020: 13-14 pt).
pub const BODY_PT: f32 = 13.0;
const HEADER_PT: f32 = 12.5;
/// Baseline-to-baseline distance as a multiple of the font size.
const LEADING: f32 = 1.3;
const PARA_GAP_MM: f32 = 1.8;
const INDENT_MM: f32 = 10.0;
const INK: u8 = 20;
const BARCODE_INK: u8 = 0;

/// Page size in pixels at `dpi`.
pub fn page_size_px(dpi: f32) -> (u32, u32) {
    (mm_to_px(PAGE_W_MM, dpi).round() as u32, mm_to_px(PAGE_H_MM, dpi).round() as u32)
}

fn mm_to_px(mm: f32, dpi: f32) -> f32 {
    mm * dpi / 25.4
}

/// Font face.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Regular,
    Bold,
    Italic,
}

struct Fonts {
    regular: FontRef<'static>,
    bold: FontRef<'static>,
    italic: FontRef<'static>,
}

static REGULAR_TTF: &[u8] = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/samples/fonts/LiberationSerif-Regular.ttf"));
static BOLD_TTF: &[u8] = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/samples/fonts/LiberationSerif-Bold.ttf"));
static ITALIC_TTF: &[u8] = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/samples/fonts/LiberationSerif-Italic.ttf"));

fn font(style: Style) -> &'static FontRef<'static> {
    static FONTS: OnceLock<Fonts> = OnceLock::new();
    let fonts = FONTS.get_or_init(|| {
        // The fonts are compiled in and checked by the tests; failing here is a build defect.
        let load = |b: &'static [u8]| FontRef::try_from_slice(b).expect("embedded font parses");
        Fonts { regular: load(REGULAR_TTF), bold: load(BOLD_TTF), italic: load(ITALIC_TTF) }
    });
    match style {
        Style::Regular => &fonts.regular,
        Style::Bold => &fonts.bold,
        Style::Italic => &fonts.italic,
    }
}

/// True if every character of `text` has a glyph in the face.
pub fn has_glyphs(text: &str, style: Style) -> bool {
    let f = font(style);
    text.chars().all(|c| c == ' ' || f.glyph_id(c) != GlyphId(0))
}

/// Advance width of `text` in millimetres (with kerning).
pub fn text_width_mm(text: &str, style: Style, size_pt: f32) -> f32 {
    let f = font(style);
    let upem = f.units_per_em().unwrap_or(2048.0);
    let mut w = 0.0;
    let mut prev: Option<GlyphId> = None;
    for c in text.chars() {
        let id = f.glyph_id(c);
        if let Some(p) = prev {
            w += f.kern_unscaled(p, id);
        }
        w += f.h_advance_unscaled(id);
        prev = Some(id);
    }
    w / upem * size_pt * MM_PER_PT
}

/// Greedy word wrap to `width_mm`; the first line is `first_indent_mm` narrower. A word
/// longer than the width gets a line of its own.
pub fn wrap(text: &str, style: Style, size_pt: f32, width_mm: f32, first_indent_mm: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    for word in text.split_whitespace() {
        let avail = if lines.is_empty() { width_mm - first_indent_mm } else { width_mm };
        if cur.is_empty() {
            cur.push_str(word);
            continue;
        }
        let candidate = format!("{cur} {word}");
        if text_width_mm(&candidate, style, size_pt) <= avail {
            cur = candidate;
        } else {
            lines.push(std::mem::take(&mut cur));
            cur.push_str(word);
        }
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}

/// One line of text.
#[derive(Debug, Clone, PartialEq)]
pub struct TextItem {
    pub text: String,
    pub style: Style,
    pub size_pt: f32,
    pub x_mm: f32,
    pub baseline_mm: f32,
    /// Stretch the spaces so the line is this wide (justified text).
    pub justify_mm: Option<f32>,
}

/// A barcode symbol with whole-pixel modules. `bits` is row-major, `cols * rows` long,
/// without quiet zone.
#[derive(Debug, Clone, PartialEq)]
pub struct BarcodeItem {
    pub x_mm: f32,
    pub y_mm: f32,
    pub module_px: u32,
    pub cols: u32,
    pub rows: u32,
    pub bits: Vec<bool>,
    /// For linear symbols (`rows == 1`): bar height in pixels.
    pub bar_height_px: Option<u32>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Text(TextItem),
    /// A horizontal rule.
    Rule {
        x0_mm: f32,
        x1_mm: f32,
        y_mm: f32,
        thickness_mm: f32,
    },
    Barcode(BarcodeItem),
}

/// What is drawn on one page, in reading order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PageLayout {
    pub items: Vec<Item>,
}

impl PageLayout {
    /// The text items joined by '\n': the page's ground-truth text.
    pub fn text(&self) -> String {
        let lines: Vec<&str> = self
            .items
            .iter()
            .filter_map(|i| match i {
                Item::Text(t) => Some(t.text.as_str()),
                _ => None,
            })
            .collect();
        lines.join("\n")
    }

    fn text_at(&mut self, text: impl Into<String>, style: Style, size_pt: f32, x_mm: f32, baseline_mm: f32) {
        self.items.push(Item::Text(TextItem { text: text.into(), style, size_pt, x_mm, baseline_mm, justify_mm: None }));
    }

    fn centered(&mut self, text: impl Into<String>, style: Style, size_pt: f32, cx_mm: f32, baseline_mm: f32) {
        let text = text.into();
        let w = text_width_mm(&text, style, size_pt);
        self.text_at(text, style, size_pt, cx_mm - w / 2.0, baseline_mm);
    }

    /// Wraps `text` to `width_mm`, centres each line on `cx_mm`; returns the next baseline.
    fn centered_wrapped(&mut self, text: &str, style: Style, size_pt: f32, cx_mm: f32, width_mm: f32, mut y: f32) -> f32 {
        for line in wrap(text, style, size_pt, width_mm, 0.0) {
            self.centered(line, style, size_pt, cx_mm, y);
            y += line_h(size_pt);
        }
        y
    }

    fn rule(&mut self, cx_mm: f32, width_mm: f32, y_mm: f32) {
        self.items.push(Item::Rule { x0_mm: cx_mm - width_mm / 2.0, x1_mm: cx_mm + width_mm / 2.0, y_mm, thickness_mm: 0.3 });
    }
}

fn line_h(size_pt: f32) -> f32 {
    size_pt * LEADING * MM_PER_PT
}

const MOTTO_1: &str = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM";
const MOTTO_2: &str = "Độc lập - Tự do - Hạnh phúc";

/// Header column centres and widths: the motto is set flush with the right margin; the
/// left column takes what is left.
fn header_columns() -> ((f32, f32), (f32, f32)) {
    let motto_w = text_width_mm(MOTTO_1, Style::Bold, HEADER_PT);
    let right_w = motto_w + 4.0;
    let right_cx = TEXT_R_MM + 2.0 - right_w / 2.0;
    let left_x0 = MARGIN_L_MM - 12.0;
    let left_x1 = TEXT_R_MM + 2.0 - right_w - 3.0;
    (((left_x0 + left_x1) / 2.0, left_x1 - left_x0), (right_cx, right_w))
}

/// A line of a paragraph ready to place.
struct Line {
    text: String,
    style: Style,
    x_mm: f32,
    justify_mm: Option<f32>,
    centered: bool,
}

fn para_lines(p: &Para) -> Vec<Line> {
    let (style, indent, justify, centered) = match p.style {
        ParaStyle::Body => (Style::Regular, INDENT_MM, true, false),
        ParaStyle::Recital => (Style::Italic, INDENT_MM, true, false),
        ParaStyle::Field => (Style::Regular, INDENT_MM, false, false),
        ParaStyle::CenteredBold => (Style::Bold, 0.0, false, true),
    };
    let wrapped = wrap(&p.text, style, BODY_PT, TEXT_W_MM, indent);
    let n = wrapped.len();
    wrapped
        .into_iter()
        .enumerate()
        .map(|(i, text)| {
            let (x, w) = if i == 0 { (MARGIN_L_MM + indent, TEXT_W_MM - indent) } else { (MARGIN_L_MM, TEXT_W_MM) };
            Line { text, style, x_mm: x, justify_mm: (justify && i + 1 < n).then_some(w), centered }
        })
        .collect()
}

fn place_line(page: &mut PageLayout, line: Line, y: f32) {
    if line.centered {
        page.centered(line.text, line.style, BODY_PT, TEXT_CX_MM, y);
    } else {
        page.items.push(Item::Text(TextItem {
            text: line.text,
            style: line.style,
            size_pt: BODY_PT,
            x_mm: line.x_mm,
            baseline_mm: y,
            justify_mm: line.justify_mm,
        }));
    }
}

/// Header band of a first page; returns the baseline below it.
fn layout_header(page: &mut PageLayout, c: &DocContent) -> f32 {
    let ((lcx, lw), (rcx, _)) = header_columns();
    let top = MARGIN_T_MM + 4.0;
    let hl = line_h(HEADER_PT);
    // Left column.
    let mut left = PageLayout::default();
    let mut yl = top;
    if let Some(parent) = &c.parent_body {
        yl = left.centered_wrapped(parent, Style::Regular, HEADER_PT, lcx, lw, yl);
    }
    if let Some(body) = &c.issuing_body {
        let lines = wrap(body, Style::Bold, HEADER_PT, lw, 0.0);
        for line in lines {
            left.centered(line, Style::Bold, HEADER_PT, lcx, yl);
            yl += hl;
        }
        left.rule(lcx, lw * 0.35, yl - hl + 1.6);
        yl += 1.0;
    }
    // Right column.
    let mut right = PageLayout::default();
    let mut yr = top;
    right.centered(MOTTO_1, Style::Bold, HEADER_PT, rcx, yr);
    yr += hl;
    right.centered(MOTTO_2, Style::Bold, BODY_PT, rcx, yr);
    right.rule(rcx, text_width_mm(MOTTO_2, Style::Bold, BODY_PT), yr + 1.6);
    yr += hl + 1.0;
    // Number (left) and place-date (right) share a baseline.
    let row = yl.max(yr) + 3.0;
    let mut yl = row;
    if let Some(number) = &c.number {
        left.centered(number.clone(), Style::Regular, BODY_PT, lcx, row);
        yl += line_h(BODY_PT);
    }
    if let Some(vv) = &c.letter_summary {
        yl = left.centered_wrapped(vv, Style::Regular, HEADER_PT, lcx, lw, yl + 1.0);
    }
    // A long place name may not fit centred under the motto: keep it inside the margin.
    let date_w = text_width_mm(&c.place_date, Style::Italic, BODY_PT);
    let date_x = (rcx - date_w / 2.0).min(TEXT_R_MM - date_w);
    right.text_at(c.place_date.clone(), Style::Italic, BODY_PT, date_x, row);
    let yr = row + line_h(BODY_PT);
    page.items.extend(left.items);
    page.items.extend(right.items);
    yl.max(yr)
}

/// Title, summary and addressee; returns the next baseline.
fn layout_title(page: &mut PageLayout, c: &DocContent, mut y: f32) -> f32 {
    const TITLE_PT: f32 = 14.0;
    y += 6.0;
    if let Some(title) = c.title.as_deref().filter(|t| !t.is_empty()) {
        page.centered(title, Style::Bold, TITLE_PT, TEXT_CX_MM, y);
        y += line_h(TITLE_PT);
        if let Some(summary) = &c.summary {
            y = page.centered_wrapped(summary, Style::Bold, TITLE_PT, TEXT_CX_MM, TEXT_W_MM - 20.0, y);
        }
        page.rule(TEXT_CX_MM, 40.0, y - line_h(TITLE_PT) + 3.0);
        y += 2.0;
        y += 5.0;
    }
    if let Some(to) = &c.addressee {
        y = page.centered_wrapped(to, Style::Regular, 14.0, TEXT_CX_MM, TEXT_W_MM - 20.0, y);
        y += 3.0;
    }
    y
}

/// Recipients (left) and signature (right); returns the band's height from its first
/// baseline to below its last line.
fn layout_signature(page: &mut PageLayout, c: &DocContent, y0: f32) -> f32 {
    let mut left = PageLayout::default();
    let mut yl = y0;
    if !c.recipients.is_empty() {
        left.text_at("Nơi nhận:", Style::Bold, 12.0, MARGIN_L_MM, yl);
        yl += line_h(12.0);
        for r in &c.recipients {
            left.text_at(r.clone(), Style::Regular, 11.0, MARGIN_L_MM, yl);
            yl += line_h(11.0);
        }
    }
    let mut right = PageLayout::default();
    let s = &c.signature;
    let widest = [s.authority.as_deref(), Some(s.position.as_str()), Some(s.name.as_str())]
        .into_iter()
        .flatten()
        .map(|t| text_width_mm(t, Style::Bold, BODY_PT))
        .fold(0.0f32, f32::max);
    let cx = (TEXT_R_MM - 35.0).min(TEXT_R_MM - widest / 2.0);
    let mut yr = y0;
    if let Some(a) = &s.authority {
        right.centered(a.clone(), Style::Bold, BODY_PT, cx, yr);
        yr += line_h(BODY_PT);
    }
    right.centered(s.position.clone(), Style::Bold, BODY_PT, cx, yr);
    yr += line_h(BODY_PT);
    if let Some(n) = &s.note {
        right.centered(n.clone(), Style::Italic, BODY_PT, cx, yr);
        yr += line_h(BODY_PT);
    }
    yr += 20.0;
    right.centered(s.name.clone(), Style::Bold, BODY_PT, cx, yr);
    yr += line_h(BODY_PT);
    page.items.extend(left.items);
    page.items.extend(right.items);
    yl.max(yr) - y0
}

fn signature_height(c: &DocContent) -> f32 {
    let mut scratch = PageLayout::default();
    layout_signature(&mut scratch, c, 0.0) + 4.0
}

/// Lays a document out on exactly `pages` pages (at least 1): Decree 30/2020 header,
/// title and opening on the first page, body paragraphs from `body` flowing over the
/// pages (continuation pages carry the page number at the top), the signature band on the
/// last page. Paragraphs may break across pages; on the last page only paragraphs that
/// fit above the signature are set.
pub fn layout_document(c: &DocContent, body: &mut BodySource, rng: &mut impl Rng, pages: usize) -> Vec<PageLayout> {
    let pages = pages.max(1);
    let lh = line_h(BODY_PT);
    let sig_h = signature_height(c);
    let mut opening: VecDeque<&Para> = c.opening.iter().collect();
    let mut pending: VecDeque<Line> = VecDeque::new();
    let mut out = Vec::with_capacity(pages);
    for p in 0..pages {
        let last = p + 1 == pages;
        let mut page = PageLayout::default();
        let mut y = if p == 0 {
            let y = layout_header(&mut page, c);
            layout_title(&mut page, c, y)
        } else {
            page.centered((p + 1).to_string(), Style::Regular, BODY_PT, TEXT_CX_MM, MARGIN_T_MM - 5.0);
            MARGIN_T_MM + 8.0
        };
        loop {
            if pending.is_empty() {
                let para = match opening.pop_front() {
                    Some(para) => para.clone(),
                    None => body.next_para(rng),
                };
                let lines = para_lines(&para);
                let need = lines.len() as f32 * lh + PARA_GAP_MM;
                if last && y + need + sig_h > BOTTOM_MM {
                    break;
                }
                pending.extend(lines);
            }
            while y <= BOTTOM_MM {
                let Some(line) = pending.pop_front() else {
                    break;
                };
                place_line(&mut page, line, y);
                y += lh;
            }
            if !pending.is_empty() {
                break; // page full, the paragraph goes on overleaf
            }
            y += PARA_GAP_MM;
        }
        if last {
            layout_signature(&mut page, c, y + 4.0);
        }
        out.push(page);
    }
    out
}

/// Symbology of a separator barcode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Symbology {
    Qr,
    Code128,
}

/// Module size: `mm` at `dpi`, rounded to whole pixels, at least 3 px.
fn module_px(mm: f32, dpi: f32) -> u32 {
    (mm_to_px(mm, dpi).round() as u32).max(3)
}

/// Encodes `payload` with rxing's writer; returns (cols, rows, bits) cropped to the
/// symbol (no quiet zone).
fn encode(payload: &str, sym: Symbology) -> Option<(u32, u32, Vec<bool>)> {
    let (format, hints) = match sym {
        Symbology::Qr => (BarcodeFormat::QR_CODE, EncodeHints { ErrorCorrection: Some("M".to_string()), ..Default::default() }),
        Symbology::Code128 => (BarcodeFormat::CODE_128, EncodeHints::default()),
    };
    let m = MultiFormatWriter.encode_with_hints(payload, &format, 0, 0, &hints).ok()?;
    let [left, top, width, height] = m.getEnclosingRectangle()?;
    let mut bits = Vec::with_capacity((width * height) as usize);
    for y in top..top + height {
        for x in left..left + width {
            bits.push(m.get(x, y));
        }
    }
    Some((width, height, bits))
}

/// A barcode item with its top-left corner at (x_mm, y_mm), plus its size in mm.
fn barcode(payload: &str, sym: Symbology, dpi: f32, x_mm: f32, y_mm: f32) -> Option<(BarcodeItem, f32, f32)> {
    let (cols, rows, bits) = encode(payload, sym)?;
    let (module_px, bar_height_px) = match sym {
        Symbology::Qr => (module_px(0.8, dpi), None),
        Symbology::Code128 => (module_px(0.4, dpi), Some(mm_to_px(16.0, dpi).round() as u32)),
    };
    let w_mm = (cols * module_px) as f32 * 25.4 / dpi;
    let h_mm = bar_height_px.unwrap_or(rows * module_px) as f32 * 25.4 / dpi;
    Some((BarcodeItem { x_mm, y_mm, module_px, cols, rows, bits, bar_height_px }, w_mm, h_mm))
}

/// Dossier cover sheet: QR code with `payload` at the top left (after its quiet zone),
/// then the dossier code in large text. Returns None if the payload cannot be encoded.
pub fn layout_cover(payload: &str, code: &str, dpi: f32) -> Option<PageLayout> {
    let mut page = PageLayout::default();
    let (item, _w, h) = barcode(payload, Symbology::Qr, dpi, 22.0, 20.0)?;
    page.items.push(Item::Barcode(item));
    let mut y = 20.0 + h + 30.0;
    page.centered("PHIẾU BÌA HỒ SƠ", Style::Bold, 22.0, PAGE_W_MM / 2.0, y);
    y += 16.0;
    page.centered(code, Style::Bold, 26.0, PAGE_W_MM / 2.0, y);
    Some(page)
}

/// Document separator sheet: the barcode centred near the top, its payload in small text
/// below it, then `label` (the type's name) in large text.
pub fn layout_separator(payload: &str, sym: Symbology, label: &str, dpi: f32) -> Option<PageLayout> {
    let mut page = PageLayout::default();
    let (mut item, w, h) = barcode(payload, sym, dpi, 0.0, 30.0)?;
    item.x_mm = (PAGE_W_MM - w) / 2.0;
    page.items.push(Item::Barcode(item));
    let mut y = 30.0 + h + 12.0;
    page.centered(payload, Style::Regular, 12.0, PAGE_W_MM / 2.0, y);
    y += 40.0;
    page.centered_wrapped(label, Style::Bold, 30.0, PAGE_W_MM / 2.0, TEXT_W_MM, y);
    Some(page)
}

/// Draws `layout` on a white A4 page at `dpi`.
pub fn render(layout: &PageLayout, dpi: f32) -> GrayImage {
    let (w, h) = page_size_px(dpi);
    let mut img = GrayImage::from_pixel(w, h, Luma([255]));
    for item in &layout.items {
        match item {
            Item::Text(t) => draw_text(&mut img, t, dpi),
            Item::Rule { x0_mm, x1_mm, y_mm, thickness_mm } => {
                let x0 = mm_to_px(*x0_mm, dpi).round().max(0.0) as u32;
                let x1 = (mm_to_px(*x1_mm, dpi).round() as u32).min(w);
                let t = mm_to_px(*thickness_mm, dpi).round().max(1.0) as u32;
                let y0 = mm_to_px(*y_mm, dpi).round().max(0.0) as u32;
                fill_rect(&mut img, x0, y0, x1.saturating_sub(x0), t, INK);
            }
            Item::Barcode(b) => draw_barcode(&mut img, b, dpi),
        }
    }
    img
}

fn fill_rect(img: &mut GrayImage, x0: u32, y0: u32, w: u32, h: u32, v: u8) {
    let (iw, ih) = img.dimensions();
    for y in y0..(y0 + h).min(ih) {
        for x in x0..(x0 + w).min(iw) {
            img.put_pixel(x, y, Luma([v]));
        }
    }
}

fn draw_barcode(img: &mut GrayImage, b: &BarcodeItem, dpi: f32) {
    let x0 = mm_to_px(b.x_mm, dpi).round() as u32;
    let y0 = mm_to_px(b.y_mm, dpi).round() as u32;
    let m = b.module_px;
    let cell_h = b.bar_height_px.unwrap_or(m);
    for r in 0..b.rows {
        for c in 0..b.cols {
            if b.bits[(r * b.cols + c) as usize] {
                fill_rect(img, x0 + c * m, y0 + r * cell_h, m, cell_h, BARCODE_INK);
            }
        }
    }
}

fn draw_text(img: &mut GrayImage, t: &TextItem, dpi: f32) {
    let f = font(t.style);
    let upem = f.units_per_em().unwrap_or(2048.0);
    let px_per_em = t.size_pt * dpi / 72.0;
    let scaled = f.as_scaled(PxScale::from(px_per_em * f.height_unscaled() / upem));
    let extra_per_space = match t.justify_mm {
        Some(target) => {
            let spaces = t.text.chars().filter(|&c| c == ' ').count();
            let natural = text_width_mm(&t.text, t.style, t.size_pt);
            if spaces > 0 && target > natural { mm_to_px((target - natural) / spaces as f32, dpi) } else { 0.0 }
        }
        None => 0.0,
    };
    let baseline = mm_to_px(t.baseline_mm, dpi);
    let mut x = mm_to_px(t.x_mm, dpi);
    let (w, h) = img.dimensions();
    let mut prev: Option<GlyphId> = None;
    for c in t.text.chars() {
        let id = scaled.glyph_id(c);
        if let Some(p) = prev {
            x += scaled.kern(p, id);
        }
        let glyph = id.with_scale_and_position(scaled.scale(), point(x, baseline));
        if let Some(outline) = scaled.outline_glyph(glyph) {
            let bounds = outline.px_bounds();
            let (bx, by) = (bounds.min.x as i64, bounds.min.y as i64);
            outline.draw(|gx, gy, cov| {
                let px = bx + gx as i64;
                let py = by + gy as i64;
                if px < 0 || py < 0 || px >= w as i64 || py >= h as i64 {
                    return;
                }
                let v = (255.0 - cov.min(1.0) * (255.0 - INK as f32)).round() as u8;
                let p = img.get_pixel_mut(px as u32, py as u32);
                p.0[0] = p.0[0].min(v);
            });
        }
        x += scaled.h_advance(id);
        if c == ' ' {
            x += extra_per_space;
        }
        prev = Some(id);
    }
}

/// Rotates `img` about its centre by `deg` degrees, positive = counter-clockwise on
/// screen, with bilinear interpolation; uncovered corners are white. Same size out.
/// Rows are computed in parallel (the result does not depend on the scheduling).
pub fn rotate(img: &GrayImage, deg: f32) -> GrayImage {
    if deg == 0.0 || img.width() == 0 || img.height() == 0 {
        return img.clone();
    }
    let (w, h) = img.dimensions();
    let (s, c) = (deg as f64).to_radians().sin_cos();
    let (cx, cy) = ((w as f64 - 1.0) / 2.0, (h as f64 - 1.0) / 2.0);
    let src = img.as_raw();
    let stride = w as usize;
    let (wi, hi) = (w as i64, h as i64);
    let sample = |x: i64, y: i64| -> f32 { if x < 0 || y < 0 || x >= wi || y >= hi { 255.0 } else { src[y as usize * stride + x as usize] as f32 } };
    let mut out = vec![255u8; src.len()];
    out.par_chunks_mut(stride).enumerate().for_each(|(oy, row)| {
        let dy = oy as f64 - cy;
        // Inverse of the on-screen CCW rotation (y down): source = R(-deg) * destination,
        // stepped along the row.
        let mut sx = -cx * c - dy * s + cx;
        let mut sy = -cx * s + dy * c + cy;
        for px in row.iter_mut() {
            let (x0f, y0f) = (sx.floor(), sy.floor());
            let (x0, y0) = (x0f as i64, y0f as i64);
            let (fx, fy) = ((sx - x0f) as f32, (sy - y0f) as f32);
            sx += c;
            sy += s;
            if x0 < -1 || y0 < -1 || x0 >= wi || y0 >= hi {
                continue;
            }
            let (a, b, cc, d) = if x0 >= 0 && y0 >= 0 && x0 + 1 < wi && y0 + 1 < hi {
                let i = y0 as usize * stride + x0 as usize;
                let (a, b, cc, d) = (src[i], src[i + 1], src[i + stride], src[i + stride + 1]);
                if a == b && a == cc && a == d {
                    *px = a; // flat area (most of a page): no interpolation needed
                    continue;
                }
                (a as f32, b as f32, cc as f32, d as f32)
            } else {
                (sample(x0, y0), sample(x0 + 1, y0), sample(x0, y0 + 1), sample(x0 + 1, y0 + 1))
            };
            let top = a + (b - a) * fx;
            let bottom = cc + (d - cc) * fx;
            *px = (top + (bottom - top) * fy).round().clamp(0.0, 255.0) as u8;
        }
    });
    GrayImage::from_raw(w, h, out).unwrap_or_else(|| img.clone())
}

/// Adds zero-mean, approximately gaussian noise of standard deviation `sigma` (gray
/// levels), clamped to 0..=255. Each sample is the sum of four uniform bytes (Irwin-Hall,
/// tails cut at about 3.5 sigma); the bytes come from a SplitMix64 stream seeded from
/// `rng`, which is cheap enough for 300 dpi pages.
pub fn add_noise(img: &mut GrayImage, sigma: f32, rng: &mut impl Rng) {
    if sigma <= 0.0 {
        return;
    }
    let mut state = rng.next_u64();
    let mut next_u64 = move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    // Sum of 4 uniform bytes: mean 4 * 127.5, variance 4 * (256^2 - 1) / 12.
    const MEAN: f32 = 510.0;
    let scale = sigma / (4.0 * (65536.0f32 - 1.0) / 12.0).sqrt();
    let mut pixels = img.chunks_exact_mut(2);
    for pair in &mut pixels {
        let r = next_u64().to_le_bytes();
        let n0 = (r[0] as u32 + r[1] as u32 + r[2] as u32 + r[3] as u32) as f32 - MEAN;
        let n1 = (r[4] as u32 + r[5] as u32 + r[6] as u32 + r[7] as u32) as f32 - MEAN;
        pair[0] = (pair[0] as f32 + n0 * scale).round().clamp(0.0, 255.0) as u8;
        pair[1] = (pair[1] as f32 + n1 * scale).round().clamp(0.0, 255.0) as u8;
    }
    for p in pixels.into_remainder() {
        let r = (next_u64() as u32).to_le_bytes();
        let n = r.iter().map(|&b| b as u32).sum::<u32>() as f32 - MEAN;
        *p = (*p as f32 + n * scale).round().clamp(0.0, 255.0) as u8;
    }
}

/// A few small gray specks (dust) at random places.
pub fn add_specks(img: &mut GrayImage, count: usize, dpi: f32, rng: &mut impl Rng) {
    let (w, h) = img.dimensions();
    let r_max = mm_to_px(0.25, dpi).max(1.0);
    for _ in 0..count {
        let cx = rng.random_range(0.0..w as f32);
        let cy = rng.random_range(0.0..h as f32);
        let r = rng.random_range(0.5..=r_max);
        let v: u8 = rng.random_range(120..200);
        let (x0, x1) = ((cx - r).floor().max(0.0) as u32, ((cx + r).ceil() as u32).min(w));
        let (y0, y1) = ((cy - r).floor().max(0.0) as u32, ((cy + r).ceil() as u32).min(h));
        for y in y0..y1 {
            for x in x0..x1 {
                let (dx, dy) = (x as f32 + 0.5 - cx, y as f32 + 0.5 - cy);
                if dx * dx + dy * dy <= r * r {
                    let p = img.get_pixel_mut(x, y);
                    p.0[0] = p.0[0].min(v);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::samples::text::{DOC_KINDS, compose};
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    fn texts(p: &PageLayout) -> Vec<&TextItem> {
        p.items.iter().filter_map(|i| if let Item::Text(t) = i { Some(t) } else { None }).collect()
    }

    #[test]
    fn fonts_cover_vietnamese() {
        let s = "ĂÂĐÊÔƠƯăâđêôơư ÀẢÃÁẠ ẰẲẴẮẶ ẦẨẪẤẬ ÈẺẼÉẸ ỀỂỄẾỆ ÌỈĨÍỊ ÒỎÕÓỌ ỒỔỖỐỘ ỜỞỠỚỢ ÙỦŨÚỤ ỪỬỮỨỰ ỲỶỸÝỴ \
                 àảãáạ ằẳẵắặ ầẩẫấậ èẻẽéẹ ềểễếệ ìỉĩíị òỏõóọ ồổỗốộ ờởỡớợ ùủũúụ ừửữứự ỳỷỹýỵ";
        for style in [Style::Regular, Style::Bold, Style::Italic] {
            let missing: String = s.chars().filter(|&c| !has_glyphs(&c.to_string(), style)).collect();
            assert!(missing.is_empty(), "{style:?} lacks {missing:?}");
        }
    }

    #[test]
    fn wrap_respects_width_and_keeps_words() {
        let text = "Hồ sơ gồm nhiều thành phần đã được kiểm tra đầy đủ hợp lệ theo quy định và được số hóa ngay khi tiếp nhận tại bưu điện";
        let lines = wrap(text, Style::Regular, 13.0, 60.0, 10.0);
        assert!(lines.len() > 2);
        assert_eq!(lines.join(" "), text);
        assert!(text_width_mm(&lines[0], Style::Regular, 13.0) <= 50.0);
        for l in &lines[1..] {
            assert!(text_width_mm(l, Style::Regular, 13.0) <= 60.0, "{l}");
        }
    }

    #[test]
    fn documents_fill_the_requested_pages_within_margins() {
        let mut rng = StdRng::seed_from_u64(21);
        for kind in DOC_KINDS {
            for pages in 1..=3 {
                let (c, mut src) = compose(&mut rng, kind);
                let laid = layout_document(&c, &mut src, &mut rng, pages);
                assert_eq!(laid.len(), pages);
                for (i, p) in laid.iter().enumerate() {
                    let ts = texts(p);
                    assert!(ts.len() >= 3, "{} page {i} has {} lines", kind.code, ts.len());
                    for t in ts {
                        let w = t.justify_mm.unwrap_or_else(|| text_width_mm(&t.text, t.style, t.size_pt));
                        assert!(t.x_mm >= MARGIN_L_MM - 12.5, "{}: {:?} starts at {}", kind.code, t.text, t.x_mm);
                        assert!(t.x_mm + w <= TEXT_R_MM + 2.5, "{}: {:?} ends at {}", kind.code, t.text, t.x_mm + w);
                        assert!(t.baseline_mm <= BOTTOM_MM + 0.01 && t.baseline_mm >= 10.0, "{:?} at {}", t.text, t.baseline_mm);
                        assert!(!t.text.is_empty() && t.text.trim() == t.text);
                    }
                }
                // First page reads header left column, then the motto.
                let first = laid[0].text();
                assert!(first.contains(MOTTO_1));
                if let Some(body) = &c.issuing_body {
                    let first_line = body.split_whitespace().next().unwrap_or_default();
                    assert!(first.find(first_line) < first.find(MOTTO_1), "{first}");
                }
                // The signature name is on the last page only.
                assert!(laid[pages - 1].text().contains(&c.signature.name));
            }
        }
    }

    #[test]
    fn rotation_is_counter_clockwise_for_positive_angles() {
        let mut img = GrayImage::from_pixel(400, 200, Luma([255]));
        fill_rect(&mut img, 50, 99, 300, 3, 0);
        let r = rotate(&img, 5.0);
        let dark_y = |x: u32| {
            (0..200).filter(|&y| r.get_pixel(x, y).0[0] < 128).sum::<u32>() as f32 / (0..200).filter(|&y| r.get_pixel(x, y).0[0] < 128).count().max(1) as f32
        };
        let (yl, yr) = (dark_y(80), dark_y(320));
        // CCW on screen: the right end goes up (smaller y).
        let expected = (320.0 - 80.0) * 5f32.to_radians().tan();
        assert!(((yl - yr) - expected).abs() < 2.0, "left {yl} right {yr}");
        assert_eq!(r.get_pixel(0, 0).0[0], 255, "corners filled white");
    }

    #[test]
    fn noise_is_zero_mean_with_the_requested_sigma() {
        let mut img = GrayImage::from_pixel(200, 200, Luma([128]));
        add_noise(&mut img, 5.0, &mut StdRng::seed_from_u64(1));
        let n = img.len() as f64;
        let mean = img.iter().map(|&v| v as f64).sum::<f64>() / n;
        let var = img.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n;
        assert!((mean - 128.0).abs() < 0.2, "{mean}");
        assert!((var.sqrt() - 5.0).abs() < 0.3, "{}", var.sqrt());
    }

    #[test]
    fn barcodes_have_whole_pixel_modules_of_at_least_3px() {
        for dpi in [150.0, 200.0, 300.0] {
            let (b, _, _) = barcode("TP:CCCD", Symbology::Code128, dpi, 0.0, 0.0).unwrap();
            assert!(b.module_px >= 3 && b.rows == 1 && b.bar_height_px.is_some());
            let (q, w, h) = barcode("HS:000.00.15.H40-250301-0007", Symbology::Qr, dpi, 0.0, 0.0).unwrap();
            assert!(q.module_px >= 3 && q.rows == q.cols && q.cols >= 21);
            assert!((w - h).abs() < 1e-3);
        }
    }
}
