//! Thin horizontal rules (the lines under Decree-30 header titles, underlines, form
//! lines) removed from the copy of a cleaned page that goes to OCR, where Tesseract reads
//! them as extra characters or merges them with the line above. The stored image keeps
//! them.
//!
//! A rule is a run of dark pixels along a row at least [`MIN_RULE_IN`] inches long whose
//! every column is dark over no more than [`MAX_THICKNESS_MM`] vertically; the columns of
//! the run where ink is thicker (a glyph crossing or touching the rule) are kept, so text
//! is never erased. Rows are searched in parallel; painting is sequential (runs are rare).

use image::GrayImage;
use rayon::prelude::*;

use super::analysis::{Levels, sane_dpi};

/// Shortest rule removed, inches (Decree-30 title rules are 1/3 of the title or more).
pub const MIN_RULE_IN: f32 = 0.3;
/// Thickest rule removed, millimetres (after deskew blur).
pub const MAX_THICKNESS_MM: f32 = 0.7;

/// Returns `gray` with thin horizontal rules painted with the paper level (see module doc).
pub fn remove_rules(gray: &GrayImage, dpi: f32) -> GrayImage {
    let mut out = gray.clone();
    let (w, h) = (gray.width() as usize, gray.height() as usize);
    if w == 0 || h == 0 {
        return out;
    }
    let dpi = sane_dpi(dpi);
    let levels = Levels::estimate(gray);
    let thr = levels.mid;
    let min_len = (MIN_RULE_IN * dpi).round().max(8.0) as usize;
    let max_t = (MAX_THICKNESS_MM / 25.4 * dpi).round().max(1.0) as usize;
    let raw = gray.as_raw();
    let runs: Vec<(usize, usize, usize)> = raw
        .par_chunks(w)
        .enumerate()
        .flat_map_iter(|(y, row)| {
            let mut found = Vec::new();
            let mut x = 0;
            while x < w {
                if row[x] < thr {
                    let s = x;
                    while x < w && row[x] < thr {
                        x += 1;
                    }
                    if x - s >= min_len {
                        found.push((y, s, x));
                    }
                } else {
                    x += 1;
                }
            }
            found.into_iter()
        })
        .collect();
    let buf: &mut [u8] = &mut out;
    for (y, x0, x1) in runs {
        for x in x0..x1 {
            if buf[y * w + x] >= thr {
                continue; // painted with an earlier row of the same rule
            }
            let mut top = y;
            while top > 0 && y - top <= max_t && buf[(top - 1) * w + x] < thr {
                top -= 1;
            }
            let mut bot = y;
            while bot + 1 < h && bot - top <= max_t && buf[(bot + 1) * w + x] < thr {
                bot += 1;
            }
            if bot - top < max_t {
                // One more pixel each side takes the grey rim of a resampled rule too.
                for yy in top.saturating_sub(1)..=(bot + 1).min(h - 1) {
                    buf[yy * w + x] = buf[yy * w + x].max(levels.bg);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_a_thin_rule_but_keeps_crossing_strokes_and_short_dashes() {
        let dpi = 300.0;
        let mut img = GrayImage::from_pixel(600, 200, image::Luma([240]));
        for x in 100..500 {
            for y in 100..104 {
                img.put_pixel(x, y, image::Luma([10]));
            }
        }
        // A vertical stroke crossing the rule, and a short dash elsewhere.
        for y in 70..130 {
            for x in 300..305 {
                img.put_pixel(x, y, image::Luma([10]));
            }
        }
        for x in 100..130 {
            img.put_pixel(x, 50, image::Luma([10]));
        }
        let out = remove_rules(&img, dpi);
        assert_eq!(out.get_pixel(200, 101).0[0], 240, "rule removed");
        assert_eq!(out.get_pixel(302, 101).0[0], 10, "stroke kept");
        assert_eq!(out.get_pixel(302, 80).0[0], 10);
        assert_eq!(out.get_pixel(110, 50).0[0], 10, "short dash kept");
    }
}
