//! Single pages of Vietnamese administrative text for the image-stage tests, benchmarks
//! and `sohoa eval-imaging`: a [`PageSpec`] (paper size, dpi, font size, margins) and
//! [`Line`]s (aligned, word-wrapped), drawn with `stages::render`'s fonts and rasteriser.
//! A plausible công văn is [`admin_document_lines`]. The scanner defects are in `defects`.

use image::GrayImage;

use super::text::{MOTTO, MOTTO_SUB};
use crate::stages::render::{self, Item, PageLayout, Style, TextItem};

/// A4 portrait in inches.
pub const A4_WIDTH_IN: f32 = 8.27;
pub const A4_HEIGHT_IN: f32 = 11.69;

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
    pub style: Style,
}

impl<'a> Line<'a> {
    pub fn left(text: &'a str) -> Self {
        Line { text, align: Align::Left, style: Style::Regular }
    }
    pub fn center(text: &'a str, style: Style) -> Self {
        Line { text, align: Align::Center, style }
    }
    pub fn right(text: &'a str, style: Style) -> Self {
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
        Line::center(MOTTO, Style::Bold),
        Line::center(MOTTO_SUB, Style::Bold),
        Line::left("ỦY BAN NHÂN DÂN THÀNH PHỐ HÀ NỘI"),
        Line::left("Số: 12/UBND-VP"),
        Line::right("Hà Nội, ngày 05 tháng 01 năm 2026", Style::Italic),
        Line::center("V/v triển khai tiếp nhận hồ sơ qua dịch vụ bưu chính công ích", Style::Regular),
        Line::center("Kính gửi: Các sở, ban, ngành thuộc thành phố", Style::Regular),
    ];
    let n = BODY_PARAGRAPHS.len();
    let count = 4 + (variant as usize % 3);
    for i in 0..count {
        lines.push(Line::left(BODY_PARAGRAPHS[(variant as usize + i) % n]));
    }
    lines.push(Line::right("TM. ỦY BAN NHÂN DÂN", Style::Bold));
    lines.push(Line::right("CHỦ TỊCH", Style::Bold));
    lines.push(Line::right("Nguyễn Văn An", Style::Bold));
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
    // The layout is in millimetres and points; the spec in pixels.
    let mm_per_px = 25.4 / spec.dpi;
    let size_pt = spec.font_px * 72.0 / spec.dpi;
    let left = spec.margins_mm[0];
    let right = w as f32 * mm_per_px - spec.margins_mm[2];
    let block = (right - left).max(mm_per_px);
    let mut baseline = spec.margins_mm[1] + spec.font_px * mm_per_px;
    let step = spec.font_px * spec.line_spacing * mm_per_px;
    let bottom = h as f32 * mm_per_px;
    let mut page = PageLayout::default();
    'lines: for line in lines {
        for row in render::wrap(line.text, line.style, size_pt, block, 0.0) {
            if baseline > bottom {
                break 'lines;
            }
            let width = render::text_width_mm(&row, line.style, size_pt);
            let x_mm = match line.align {
                Align::Left => left,
                Align::Center => left + (block - width) / 2.0,
                Align::Right => right - width,
            };
            page.items.push(Item::Text(TextItem { text: row, style: line.style, size_pt, x_mm, baseline_mm: baseline, justify_mm: None }));
            baseline += step;
        }
    }
    render::draw(&mut img, &page, spec.dpi, spec.ink);
    img
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::synth::defects::add_noise;

    #[test]
    fn page_text_has_glyphs() {
        let all: String = BODY_PARAGRAPHS.concat() + MOTTO + MOTTO_SUB + "Số: 12/UBND-VP";
        for style in [Style::Regular, Style::Bold, Style::Italic] {
            assert!(render::has_glyphs(&all, style), "{style:?}");
        }
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
