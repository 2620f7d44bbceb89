//! Drawing pages: the A4 page geometry (Decree 30/2020 margins), a page as a list of
//! drawing items ([`PageLayout`]: text lines, rules, barcodes) and its rasterisation to a
//! gray image ([`render`], [`draw`]). Submodules: `fonts` (the one embedded font set,
//! measurement, wrapping) and `barcode` (symbol encoding).
//!
//! Used by the separator sheets (`stages::barcode::sheets`) and the sample generator
//! (`tools::synth`). Nothing here does I/O.
//!
//! Invariants:
//! - A layout is a list of drawing items in reading order; [`PageLayout::text`] is the
//!   text items joined by '\n'.
//! - Positions are in millimetres and sizes in points, so a layout does not depend on the
//!   rendering dpi.
//! - Barcodes are drawn with whole-pixel modules (`module_px`), in black.

mod barcode;
mod fonts;

use ab_glyph::{Font, GlyphId, PxScale, ScaleFont, point};
use image::{GrayImage, Luma};

pub use barcode::{Symbology, barcode};
pub use fonts::{LEADING, MM_PER_PT, Style, has_glyphs, line_h, text_width_mm, wrap};

use fonts::font;

/// A4 in millimetres.
pub const PAGE_W_MM: f32 = 210.0;
pub const PAGE_H_MM: f32 = 297.0;
/// Text area (Decree 30/2020, App. I: left 30-35 mm, right 15-20 mm, top/bottom 20-25 mm).
pub const MARGIN_L_MM: f32 = 30.0;
pub const MARGIN_R_MM: f32 = 15.0;
pub const MARGIN_T_MM: f32 = 20.0;
pub const MARGIN_B_MM: f32 = 20.0;
/// Right edge, width and centre of the text area, and the lowest baseline.
pub const TEXT_R_MM: f32 = PAGE_W_MM - MARGIN_R_MM;
pub const TEXT_W_MM: f32 = TEXT_R_MM - MARGIN_L_MM;
pub const TEXT_CX_MM: f32 = MARGIN_L_MM + TEXT_W_MM / 2.0;
pub const BOTTOM_MM: f32 = PAGE_H_MM - MARGIN_B_MM;

/// Body text size (Decree 30/2020: 13-14 pt).
pub const BODY_PT: f32 = 13.0;
/// Gray level of text and rules drawn by [`render`].
pub const INK: u8 = 20;
const BARCODE_INK: u8 = 0;

/// Page size in pixels at `dpi`.
pub fn page_size_px(dpi: f32) -> (u32, u32) {
    (mm_to_px(PAGE_W_MM, dpi).round() as u32, mm_to_px(PAGE_H_MM, dpi).round() as u32)
}

/// Millimetres to pixels at `dpi`.
pub fn mm_to_px(mm: f32, dpi: f32) -> f32 {
    mm * dpi / 25.4
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
    /// The text layer of the layout as drawn at `dpi`: each text item one line, one word per
    /// space-separated token, boxes from the font's metrics (justified lines' stretched
    /// spaces are not followed). For pages sohoa draws itself (receipts, certification
    /// statements), whose text is known and need not be read back.
    pub fn words(&self, dpi: f32) -> Vec<crate::model::OcrWord> {
        let px = |mm: f32| mm_to_px(mm, dpi).max(0.0).round() as u32;
        let mut out = Vec::new();
        let mut line = 0u32;
        for item in &self.items {
            let Item::Text(TextItem { text, style, size_pt, x_mm, baseline_mm, .. }) = item else { continue };
            line += 1;
            let height_mm = size_pt * MM_PER_PT;
            let top_mm = baseline_mm - height_mm * 0.8;
            let mut offset = 0usize;
            for token in text.split(' ') {
                if !token.is_empty() {
                    let left_mm = x_mm + text_width_mm(&text[..offset], *style, *size_pt);
                    let width_mm = text_width_mm(token, *style, *size_pt);
                    out.push(crate::model::OcrWord {
                        text: token.to_string(),
                        left: px(left_mm),
                        top: px(top_mm),
                        width: px(width_mm).max(1),
                        height: px(height_mm).max(1),
                        confidence: 100.0,
                        line: (0, 0, line),
                    });
                }
                offset += token.len() + 1;
            }
        }
        out
    }

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

    pub fn text_at(&mut self, text: impl Into<String>, style: Style, size_pt: f32, x_mm: f32, baseline_mm: f32) {
        self.items.push(Item::Text(TextItem { text: text.into(), style, size_pt, x_mm, baseline_mm, justify_mm: None }));
    }

    pub fn centered(&mut self, text: impl Into<String>, style: Style, size_pt: f32, cx_mm: f32, baseline_mm: f32) {
        let text = text.into();
        let w = text_width_mm(&text, style, size_pt);
        self.text_at(text, style, size_pt, cx_mm - w / 2.0, baseline_mm);
    }

    /// Wraps `text` to `width_mm`, centres each line on `cx_mm`; returns the next baseline.
    pub fn centered_wrapped(&mut self, text: &str, style: Style, size_pt: f32, cx_mm: f32, width_mm: f32, mut y: f32) -> f32 {
        for line in wrap(text, style, size_pt, width_mm, 0.0) {
            self.centered(line, style, size_pt, cx_mm, y);
            y += line_h(size_pt);
        }
        y
    }

    pub fn rule(&mut self, cx_mm: f32, width_mm: f32, y_mm: f32) {
        self.items.push(Item::Rule { x0_mm: cx_mm - width_mm / 2.0, x1_mm: cx_mm + width_mm / 2.0, y_mm, thickness_mm: 0.3 });
    }
}
/// Draws `layout` on a white A4 page at `dpi`, text and rules in [`INK`].
pub fn render(layout: &PageLayout, dpi: f32) -> GrayImage {
    let (w, h) = page_size_px(dpi);
    let mut img = GrayImage::from_pixel(w, h, Luma([255]));
    draw(&mut img, layout, dpi, INK);
    img
}

/// Draws `layout` over `img` (any size; positions from its top-left corner) at `dpi`:
/// text and rules in gray `ink`, barcodes black. Ink only darkens.
pub fn draw(img: &mut GrayImage, layout: &PageLayout, dpi: f32, ink: u8) {
    let w = img.width();
    for item in &layout.items {
        match item {
            Item::Text(t) => draw_text(img, t, dpi, ink),
            Item::Rule { x0_mm, x1_mm, y_mm, thickness_mm } => {
                let x0 = mm_to_px(*x0_mm, dpi).round().max(0.0) as u32;
                let x1 = (mm_to_px(*x1_mm, dpi).round() as u32).min(w);
                let t = mm_to_px(*thickness_mm, dpi).round().max(1.0) as u32;
                let y0 = mm_to_px(*y_mm, dpi).round().max(0.0) as u32;
                fill_rect(img, x0, y0, x1.saturating_sub(x0), t, ink);
            }
            Item::Barcode(b) => draw_barcode(img, b, dpi),
        }
    }
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

fn draw_text(img: &mut GrayImage, t: &TextItem, dpi: f32, ink: u8) {
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
                let v = (255.0 - cov.min(1.0) * (255.0 - ink as f32)).round() as u8;
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
