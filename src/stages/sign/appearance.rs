//! What a signature shows: the visible block at the top right of page 1 (Decree 30/2020,
//! App. I: kind of copy, organisation, signing time in ISO 8601 with +07:00, Times New
//! Roman 10 pt) and the certification statement page (Decree 45/2020, Art. 10; Circular
//! 01/2020/TT-BTP). Both are drawn with the embedded Liberation Serif (metric-compatible
//! with Times New Roman, every Vietnamese letter) into 1-bit images, so the PDF needs no
//! embedded font; the block is a stencil mask, transparent around its letters, so it never
//! hides the scan under it. Pure functions, no I/O.

use crate::stages::render::{self, PageLayout, Style};

/// Resolution the stamps are drawn at.
pub const STAMP_DPI: f32 = 300.0;
/// Width of the visible block, mm.
pub const BLOCK_W_MM: f32 = 78.0;
/// Size of the block's text (Decree 30/2020, App. I).
pub const BLOCK_PT: f32 = 10.0;
const PAD_MM: f32 = 2.0;

/// A 1-bit image: rows packed MSB first, each row padded to a byte; bit 1 = ink.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bitmap {
    pub width: u32,
    pub height: u32,
    pub ink: Vec<u8>,
}

impl Bitmap {
    /// The rows with bit 1 = no ink (a stencil mask's or a DeviceGray image's white).
    pub fn inverted(&self) -> Vec<u8> {
        self.ink.iter().map(|b| !b).collect()
    }

    fn from_gray(img: &image::GrayImage) -> Bitmap {
        let (w, h) = img.dimensions();
        let stride = w.div_ceil(8) as usize;
        let mut ink = vec![0u8; stride * h as usize];
        for (x, y, p) in img.enumerate_pixels() {
            if p.0[0] < 128 {
                ink[y as usize * stride + (x / 8) as usize] |= 0x80 >> (x % 8);
            }
        }
        Bitmap { width: w, height: h, ink }
    }
}

/// The lines of the visible block.
pub fn block_lines(label: &str, signer: &str, organisation: &str, time: &chrono::DateTime<chrono::FixedOffset>) -> Vec<(String, Style)> {
    let mut lines = vec![(label.to_string(), Style::Bold), (format!("Ký bởi: {signer}"), Style::Regular)];
    if organisation != signer {
        lines.push((format!("Cơ quan, tổ chức: {organisation}"), Style::Regular));
    }
    lines.push((format!("Thời gian ký: {}", iso_time(time)), Style::Regular));
    lines
}

/// ISO 8601 with the offset, to the second: `2026-12-04T22:30:05+07:00`.
pub fn iso_time(time: &chrono::DateTime<chrono::FixedOffset>) -> String {
    time.format("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

/// The visible block: `lines` wrapped to [`BLOCK_W_MM`], 10 pt; returns the bitmap and
/// its size in mm.
pub fn block_bitmap(lines: &[(String, Style)]) -> (Bitmap, f32, f32) {
    let mut layout = PageLayout::default();
    let line_h = render::line_h(BLOCK_PT);
    let mut y = PAD_MM + BLOCK_PT * render::MM_PER_PT;
    for (text, style) in lines {
        for line in render::wrap(text, *style, BLOCK_PT, BLOCK_W_MM - 2.0 * PAD_MM, 0.0) {
            layout.text_at(line, *style, BLOCK_PT, PAD_MM, y);
            y += line_h;
        }
    }
    let h_mm = y - line_h + PAD_MM + 1.5;
    let (w, h) = (render::mm_to_px(BLOCK_W_MM, STAMP_DPI).round() as u32, render::mm_to_px(h_mm, STAMP_DPI).round() as u32);
    let mut img = image::GrayImage::from_pixel(w, h, image::Luma([255]));
    render::draw(&mut img, &layout, STAMP_DPI, 0);
    (Bitmap::from_gray(&img), BLOCK_W_MM, h_mm)
}

/// What the certification statement says (Circular 01/2020/TT-BTP, the electronic book).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub number: u32,
    pub book: String,
    pub date: chrono::NaiveDate,
    pub certifier: String,
    pub agency: String,
    pub original_id: String,
    pub original_pages: usize,
}

/// The book of electronic copy certifications of `year`: `01/2026-SCT/BS/ĐT` (book 01,
/// SCT/BS: certification of copies from originals, ĐT: the electronic book).
pub fn book_label(year: i32) -> String {
    format!("01/{year}-SCT/BS/ĐT")
}

/// The statement's lines, in order.
pub fn statement_lines(s: &Statement) -> Vec<(String, Style)> {
    use chrono::Datelike;
    vec![
        ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM".into(), Style::Bold),
        ("Độc lập - Tự do - Hạnh phúc".into(), Style::Bold),
        (String::new(), Style::Regular),
        ("LỜI CHỨNG CHỨNG THỰC BẢN SAO TỪ BẢN CHÍNH".into(), Style::Bold),
        (String::new(), Style::Regular),
        ("Chứng thực bản sao đúng với bản chính.".into(), Style::Regular),
        (format!("Số chứng thực: {}, quyển số {}", s.number, s.book), Style::Regular),
        (format!("Ngày {:02} tháng {:02} năm {}", s.date.day(), s.date.month(), s.date.year()), Style::Italic),
        (format!("Bản sao điện tử của tài liệu {} ({} trang).", s.original_id, s.original_pages), Style::Regular),
        (String::new(), Style::Regular),
        ("NGƯỜI THỰC HIỆN CHỨNG THỰC".into(), Style::Bold),
        ("(Ký số)".into(), Style::Italic),
        (s.certifier.clone(), Style::Regular),
        (s.agency.clone(), Style::Regular),
    ]
}

/// The statement as an A4 page drawn at `dpi`, and its words (the page's text layer).
pub fn statement_page(s: &Statement, dpi: f32) -> (Bitmap, Vec<crate::model::OcrWord>) {
    let layout = statement_layout(s);
    (Bitmap::from_gray(&render::render(&layout, dpi)), layout.words(dpi))
}

fn statement_layout(s: &Statement) -> PageLayout {
    let mut layout = PageLayout::default();
    let mut y = render::MARGIN_T_MM + 10.0;
    for (text, style) in statement_lines(s) {
        y = layout.centered_wrapped(&text, style, render::BODY_PT, render::TEXT_CX_MM, render::TEXT_W_MM, y);
        if text.is_empty() {
            y += render::line_h(render::BODY_PT);
        }
    }
    layout
}
