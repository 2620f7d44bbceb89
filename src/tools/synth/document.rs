//! The Decree 30/2020 arrangement of a generated document's content on A4 pages
//! ([`layout_document`]): header band (issuing body, motto, number, place and date),
//! title, body paragraphs flowing over the pages, recipients beside the signature.
//!
//! Two-column bands (the header; recipients beside the signature) list their left column
//! first, then their right column, so [`PageLayout::text`] reads in that order. Line
//! breaks are measured in millimetres, so a page's text does not depend on the dpi.

use std::collections::VecDeque;

use rand::Rng;

use super::text::{BodySource, DocContent, MOTTO, MOTTO_SUB, Para, ParaStyle};
use crate::stages::render::{
    BODY_PT, BOTTOM_MM, Item, MARGIN_L_MM, MARGIN_T_MM, PageLayout, Style, TEXT_CX_MM, TEXT_R_MM, TEXT_W_MM, TextItem, line_h, text_width_mm, wrap,
};

const HEADER_PT: f32 = 12.5;
const PARA_GAP_MM: f32 = 1.8;
const INDENT_MM: f32 = 10.0;

/// Header column centres and widths: the motto is set flush with the right margin; the
/// left column takes what is left.
fn header_columns() -> ((f32, f32), (f32, f32)) {
    let motto_w = text_width_mm(MOTTO, Style::Bold, HEADER_PT);
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
    right.centered(MOTTO, Style::Bold, HEADER_PT, rcx, yr);
    yr += hl;
    right.centered(MOTTO_SUB, Style::Bold, BODY_PT, rcx, yr);
    right.rule(rcx, text_width_mm(MOTTO_SUB, Style::Bold, BODY_PT), yr + 1.6);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::DOC_KINDS;
    use crate::tools::synth::text::compose;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    fn texts(p: &PageLayout) -> Vec<&TextItem> {
        p.items.iter().filter_map(|i| if let Item::Text(t) = i { Some(t) } else { None }).collect()
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
                assert!(first.contains(MOTTO));
                if let Some(body) = &c.issuing_body {
                    let first_line = body.split_whitespace().next().unwrap_or_default();
                    assert!(first.find(first_line) < first.find(MOTTO), "{first}");
                }
                // The signature name is on the last page only.
                assert!(laid[pages - 1].text().contains(&c.signature.name));
            }
        }
    }
}
