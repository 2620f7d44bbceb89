//! Dark scanner borders: the black (or dark gray) bands and wedges a scanner leaves where
//! the page did not cover the glass or the lid.
//!
//! Detection runs on the reduced image: for every row (left and right edges) and every
//! column (top and bottom edges) it measures the run of dark pixels that starts at the
//! edge. An edge has a border when enough of its lines start dark; the runs are then
//! painted with the paper level, on the reduced image and (scaled up, with a safety margin)
//! on the full image. Page size never changes, so coordinates stay comparable between
//! the input and the cleaned page.
//!
//! Invariant: a run is never longer than a quarter of the page dimension across it, so a
//! dark photo or a black page is never wiped out.

use image::GrayImage;

/// Per-line dark run lengths (small-image pixels) for each edge; empty when the edge has
/// no border. `left`/`right` are indexed by row, `top`/`bottom` by column.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Borders {
    pub left: Vec<u32>,
    pub right: Vec<u32>,
    pub top: Vec<u32>,
    pub bottom: Vec<u32>,
}

impl Borders {
    pub(crate) fn any(&self) -> bool {
        !(self.left.is_empty() && self.right.is_empty() && self.top.is_empty() && self.bottom.is_empty())
    }
}

/// Fraction of an edge's lines that must start dark for the edge to have a border.
const MIN_COVERAGE: f32 = 0.08;
/// Longest run painted, as a fraction of the dimension across it.
const MAX_DEPTH: f32 = 0.25;

/// Finds dark bands along the four edges of `small` (paper level `bg`).
pub(crate) fn detect(small: &GrayImage, bg: u8) -> Borders {
    let (w, h) = small.dimensions();
    if w < 8 || h < 8 {
        return Borders::default();
    }
    let dark = (bg as f32 * 0.55) as u8;
    let raw = small.as_raw();
    let px = |x: u32, y: u32| raw[(y * w + x) as usize];
    let run = |len: u32, at: &dyn Fn(u32) -> u8| -> u32 {
        let mut n = 0;
        while n < len && at(n) < dark {
            n += 1;
        }
        n
    };
    let left: Vec<u32> = (0..h).map(|y| run(w, &|i| px(i, y))).collect();
    let right: Vec<u32> = (0..h).map(|y| run(w, &|i| px(w - 1 - i, y))).collect();
    let top: Vec<u32> = (0..w).map(|x| run(h, &|i| px(x, i))).collect();
    let bottom: Vec<u32> = (0..w).map(|x| run(h, &|i| px(x, h - 1 - i))).collect();
    Borders { left: qualify(left, w), right: qualify(right, w), top: qualify(top, h), bottom: qualify(bottom, h) }
}

/// Keeps an edge's runs if it is a border: enough lines start dark and the typical run is
/// shallow (a deep one is content, not a border). Runs are widened by one line on each side
/// (wedges step between lines) and capped at [`MAX_DEPTH`].
fn qualify(runs: Vec<u32>, across: u32) -> Vec<u32> {
    let n = runs.len();
    let mut dark: Vec<u32> = runs.iter().copied().filter(|&r| r > 0).collect();
    if n == 0 || (dark.len() as f32) < MIN_COVERAGE * n as f32 {
        return Vec::new();
    }
    let cap = (across as f32 * MAX_DEPTH) as u32;
    dark.sort_unstable();
    if dark[dark.len() / 2] > cap {
        return Vec::new();
    }
    (0..n)
        .map(|i| {
            let a = runs[i.saturating_sub(1)];
            let b = runs[(i + 1).min(n - 1)];
            runs[i].max(a).max(b).min(cap)
        })
        .collect()
}

/// Paints the border runs (plus one pixel) with `fill` on the reduced image.
pub(crate) fn paint_small(small: &mut GrayImage, b: &Borders, fill: u8) {
    let (w, h) = small.dimensions();
    let buf: &mut [u8] = small;
    paint::<1>(buf, w, h, b, 1, [fill]);
}

/// Paints the border runs on a full-size buffer with `N` channels, reduced by `factor`
/// relative to the image the borders were found on. Each run is grown by one and a half
/// reduced pixels so the blurred rim of the band goes too.
pub(crate) fn paint<const N: usize>(buf: &mut [u8], w: u32, h: u32, b: &Borders, factor: u32, fill: [u8; N]) {
    if buf.len() < (w as usize) * (h as usize) * N {
        return;
    }
    let f = factor.max(1);
    let depth = |r: u32| if r == 0 { 0 } else { r * f + f + f / 2 };
    let (wu, hu) = (w as usize, h as usize);
    let mut set = |x: usize, y: usize| {
        let i = (y * wu + x) * N;
        buf[i..i + N].copy_from_slice(&fill);
    };
    for y in 0..hu {
        let line = y / f as usize;
        if let Some(&r) = b.left.get(line) {
            for x in 0..(depth(r) as usize).min(wu) {
                set(x, y);
            }
        }
        if let Some(&r) = b.right.get(line) {
            for x in wu.saturating_sub(depth(r) as usize)..wu {
                set(x, y);
            }
        }
    }
    for x in 0..wu {
        let line = x / f as usize;
        if let Some(&r) = b.top.get(line) {
            for y in 0..(depth(r) as usize).min(hu) {
                set(x, y);
            }
        }
        if let Some(&r) = b.bottom.get(line) {
            for y in hu.saturating_sub(depth(r) as usize)..hu {
                set(x, y);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page_with_bands() -> GrayImage {
        let mut img = GrayImage::from_pixel(200, 300, image::Luma([240]));
        for y in 0..300 {
            for x in 0..200 {
                // 10 px band on the left, a wedge along the top, a speck of text inside.
                if x < 10 || y < (x / 20) {
                    img.put_pixel(x, y, image::Luma([20]));
                }
            }
        }
        for x in 80..90 {
            img.put_pixel(x, 150, image::Luma([0]));
        }
        img
    }

    #[test]
    fn finds_bands_and_wedges_but_not_text() {
        let img = page_with_bands();
        let b = detect(&img, 240);
        assert_eq!(b.left.len(), 300);
        assert!(b.left[150] >= 10);
        assert!(!b.top.is_empty());
        assert!(b.right.is_empty() && b.bottom.is_empty());
        let mut painted = img.clone();
        paint_small(&mut painted, &b, 240);
        assert!(painted.pixels().filter(|p| p.0[0] < 100).count() == 10, "only the text stays");
    }

    #[test]
    fn black_page_is_not_a_border() {
        let img = GrayImage::from_pixel(100, 100, image::Luma([10]));
        assert!(!detect(&img, 10).any());
        let img = GrayImage::from_pixel(100, 100, image::Luma([10]));
        assert!(!detect(&img, 240).any());
    }

    #[test]
    fn paints_full_size_with_margin() {
        let b = Borders { left: vec![2; 10], ..Default::default() };
        let mut full = vec![0u8; 30 * 30 * 3];
        paint::<3>(&mut full, 30, 30, &b, 3, [1, 2, 3]);
        // depth = 2*3 + 3 + 1 = 10 pixels on every row
        assert_eq!(&full[0..3], &[1, 2, 3]);
        assert_eq!(&full[9 * 3..9 * 3 + 3], &[1, 2, 3]);
        assert_eq!(&full[10 * 3..10 * 3 + 3], &[0, 0, 0]);
    }
}
