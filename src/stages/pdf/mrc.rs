//! Archival page encoding: mixed raster content (MRC) for text pages, the page JPEG for
//! photos, CCITT G4 for bilevel pages. Pure, no I/O; called by the pipeline once per
//! stored page through [`encode_archival`].
//!
//! An MRC page is two images drawn one over the other:
//! - the **text mask**, at the scan's full resolution, 1-bit, CCITT G4: every pixel darker
//!   than the page's ink/paper threshold (Otsu) that is not coloured (a red stamp or a blue
//!   signature is not text ink) or is dark in every channel (text seen through a stamp),
//!   [`is_ink`]; isolated single pixels (noise) removed; the PDF paints it as an
//!   `/ImageMask` stencil filled with the page's ink colour;
//! - the **background**, at about [`BG_DPI`] on a gray page (1/2 of a 200 dpi scan, 1/3 of
//!   a 300 dpi one) and [`BG_DPI_COLOUR`] on a colour page (1/2 of a 200 or 300 dpi scan),
//!   [`bg_factor`], JPEG [`BG_QUALITY`] ([`BG_QUALITY_COLOUR`] in colour, chroma at full
//!   resolution): each pixel the mean of the block's pixels away from the
//!   text (the mask grown by one pixel, so no dark halo of anti-aliased edges), paper
//!   within [`PAPER_SNAP`] levels of the paper colour set to the paper colour (the scanner
//!   noise goes, flat paper costs almost nothing). Stamps, signatures and shading stay
//!   here, in colour;
//! - **photos** on a text page (an ID card's portrait, a picture in a form): regions whose
//!   blocks are mostly mid-tones, [`photo_regions`], are cut out of the mask and stored
//!   as JPEGs at the scan's resolution ([`PHOTO_QUALITY`]) drawn over the background, so a
//!   face is not posterised into ink and a 100 dpi blur.
//!
//! What stays as it was: a page whose mid-tones (neither paper nor ink) cover more than
//! [`PHOTO_FRACTION`] of it (a photo, an ID card) or whose ink and paper are less than
//! [`MIN_CONTRAST`] levels apart is stored as the page JPEG ([`super::encode_page_image`]);
//! a bilevel page as CCITT G4. [`choose`] makes that decision from the page's figures.

use image::DynamicImage;

use super::encode::{encode_page_image, g4, jpeg};
use crate::model::{ColorMode, EncodedImage, ImageFilter, PhotoPatch, TextMask};

/// Resolution of the MRC background of a gray page, dots per inch (approximately: an
/// integer fraction of the scan's).
pub const BG_DPI: f32 = 100.0;
/// Resolution of the MRC background of a colour page: stamps and signatures, and the
/// edges of text seen through them, keep their shape (at most half the scan's resolution).
pub const BG_DPI_COLOUR: f32 = 150.0;
/// JPEG quality of the MRC background of a gray page (smooth paper, shading).
pub const BG_QUALITY: u8 = 50;
/// JPEG quality of the MRC background of a colour page: seals and signatures keep clean
/// edges and colour, which OCR's colour dropout needs (`sohoa eval-size`: at 200 dpi the
/// stored page's CER cost was +0.25 points at quality 50, +0.19 to +0.21 at 70 and +0.12 to
/// +0.15 at 85, for 2-10 KB more per page).
pub const BG_QUALITY_COLOUR: u8 = 85;
/// Background pixels within this many levels of the paper colour become paper.
pub const PAPER_SNAP: u8 = 12;
/// Above this share of mid-tone pixels a page is a photo: stored as the page JPEG.
pub const PHOTO_FRACTION: f64 = 0.15;
/// Below this ink/paper contrast (gray levels) there is no text layer to separate.
pub const MIN_CONTRAST: u8 = 60;
/// A pixel whose channels spread more than this is coloured: not text ink.
pub const CHROMA: u8 = 64;
/// Side of the blocks photos are found in, inches (about 2 mm).
pub const PHOTO_BLOCK_IN: f32 = 1.0 / 12.0;
/// A block belongs to a photo when at least this share of its pixels are mid-tones. Text
/// blocks have 2-15% (anti-aliased edges); a stamp's or signature's saturated ink is not
/// counted.
pub const PHOTO_BLOCK_MID: f64 = 0.3;
/// A photo region is kept at full resolution when it is at least this big each way,
/// inches, and its blocks fill at least [`PHOTO_FILL`] of its bounding box.
pub const PHOTO_MIN_IN: f32 = 0.4;
/// See [`PHOTO_MIN_IN`].
pub const PHOTO_FILL: f64 = 0.35;
/// A photo's box grows over a row or column of blocks along its edge when at least this
/// share of the strip's pixels are darker than paper (a dark edge of the photo, not text).
pub const PHOTO_EDGE_DARK: f64 = 0.6;
/// Channel spread above which a mid-tone pixel is seal or signature ink, not a photo's.
pub const PHOTO_MAX_CHROMA: u8 = 120;
/// JPEG quality of photo regions.
pub const PHOTO_QUALITY: u8 = 75;

/// A rectangle of page pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    pub x: usize,
    pub y: usize,
    pub width: usize,
    pub height: usize,
}

/// How a page is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PageEncoding {
    /// Text mask (G4) over a low-resolution JPEG background.
    Mrc,
    /// The whole page as one JPEG at full resolution.
    Jpeg,
    /// 1-bit CCITT G4.
    Bilevel,
}

/// What the encoder measured on a page, to choose its encoding.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PageFigures {
    /// Otsu threshold of the luma.
    pub threshold: u8,
    /// Median luma of the pixels above / at or below the threshold.
    pub paper: u8,
    pub ink: u8,
    /// Share of pixels well between ink and paper (a quarter of the range away from both).
    pub mid_fraction: f64,
}

/// The encoding for a page of mode `color` with these figures (pure).
pub fn choose(color: ColorMode, f: &PageFigures) -> PageEncoding {
    if color == ColorMode::Bilevel {
        PageEncoding::Bilevel
    } else if f.paper.saturating_sub(f.ink) < MIN_CONTRAST || f.mid_fraction > PHOTO_FRACTION {
        PageEncoding::Jpeg
    } else {
        PageEncoding::Mrc
    }
}

/// Encodes a cleaned page for storage: MRC for text pages, the page JPEG for photos and
/// low-contrast pages, CCITT G4 for bilevel pages (see the module doc).
pub fn encode_archival(img: &DynamicImage, color: ColorMode, dpi: f32) -> EncodedImage {
    encode_as(img, color, dpi, None)
}

/// [`encode_archival`] with the encoding forced (`None`: chosen by [`choose`]); a page MRC
/// cannot encode (empty, or wider than G4 allows) falls back to the page JPEG.
pub fn encode_as(img: &DynamicImage, color: ColorMode, dpi: f32, force: Option<PageEncoding>) -> EncodedImage {
    if color == ColorMode::Bilevel || force == Some(PageEncoding::Bilevel) {
        return encode_page_image(img, ColorMode::Bilevel);
    }
    if force == Some(PageEncoding::Jpeg) || img.width() == 0 || img.height() == 0 {
        return encode_page_image(img, color);
    }
    let (luma, rgb) = planes(img, color);
    let figures = figures(&luma);
    let encoding = force.unwrap_or_else(|| choose(color, &figures));
    if encoding == PageEncoding::Mrc
        && let Some(enc) = mrc(&luma, rgb, img.width(), img.height(), color, dpi, &figures, true)
    {
        return enc;
    }
    encode_page_image(img, color)
}

/// The page's luma and, for a colour page, its RGB samples.
fn planes(img: &DynamicImage, color: ColorMode) -> (std::borrow::Cow<'_, [u8]>, Option<std::borrow::Cow<'_, [u8]>>) {
    match (color, img) {
        (ColorMode::Rgb, DynamicImage::ImageRgb8(c)) => (luma_of(c.as_raw()).into(), Some(c.as_raw().as_slice().into())),
        (ColorMode::Rgb, _) => {
            let c = img.to_rgb8().into_raw();
            (luma_of(&c).into(), Some(c.into()))
        }
        (_, DynamicImage::ImageLuma8(g)) => (g.as_raw().as_slice().into(), None),
        _ => (img.to_luma8().into_raw().into(), None),
    }
}

/// BT.601 luma of RGB samples.
fn luma_of(rgb: &[u8]) -> Vec<u8> {
    rgb.chunks_exact(3).map(|p| ((77 * u32::from(p[0]) + 150 * u32::from(p[1]) + 29 * u32::from(p[2]) + 128) >> 8) as u8).collect()
}

/// Otsu threshold, paper and ink medians and the mid-tone share of a luma plane.
pub fn figures(luma: &[u8]) -> PageFigures {
    let mut hist = [0u64; 256];
    for &v in luma {
        hist[v as usize] += 1;
    }
    let total: u64 = hist.iter().sum();
    let threshold = otsu(&hist, total);
    let median = |range: std::ops::RangeInclusive<usize>| -> u8 {
        let n: u64 = hist[range.clone()].iter().sum();
        let mut seen = 0;
        for i in range.clone() {
            seen += hist[i];
            if seen * 2 >= n && n > 0 {
                return i as u8;
            }
        }
        *range.start() as u8
    };
    let ink = median(0..=threshold as usize);
    let paper = median(threshold as usize + 1..=255);
    let quarter = (paper.saturating_sub(ink) / 4) as usize;
    let (lo, hi) = (ink as usize + quarter, (paper as usize).saturating_sub(quarter));
    let mid: u64 = if lo < hi { hist[lo + 1..hi].iter().sum() } else { 0 };
    PageFigures { threshold, paper, ink, mid_fraction: if total > 0 { mid as f64 / total as f64 } else { 0.0 } }
}

/// The threshold maximising the between-class variance (pixels `<= t` are one class).
fn otsu(hist: &[u64; 256], total: u64) -> u8 {
    if total == 0 {
        return 127;
    }
    let sum_all: f64 = hist.iter().enumerate().map(|(i, &n)| i as f64 * n as f64).sum();
    let (mut w0, mut sum0) = (0f64, 0f64);
    let mut between = [f64::MIN; 255];
    for (t, &n) in hist.iter().enumerate().take(255) {
        w0 += n as f64;
        sum0 += t as f64 * n as f64;
        let w1 = total as f64 - w0;
        if w0 == 0.0 || w1 == 0.0 {
            continue;
        }
        let (m0, m1) = (sum0 / w0, (sum_all - sum0) / w1);
        between[t] = w0 * w1 * (m0 - m1) * (m0 - m1);
    }
    let best = between.iter().copied().fold(f64::MIN, f64::max);
    if best == f64::MIN {
        return 127;
    }
    // An empty gap between ink and paper gives a plateau of equal splits: take its
    // middle, not its first level (which would cut the ink's anti-aliased edges off).
    let near = |v: f64| v >= best - best.abs() * 1e-12;
    let first = between.iter().position(|&v| near(v)).unwrap_or(127);
    let last = first + between[first..].iter().take_while(|&&v| near(v)).count() - 1;
    ((first + last) / 2) as u8
}

/// How many scan pixels (each way) make one background pixel (pure): about [`BG_DPI`] for
/// a gray page, about [`BG_DPI_COLOUR`] and at least 2 for a colour one.
pub fn bg_factor(dpi: f32, colour: bool) -> usize {
    if colour { (dpi / BG_DPI_COLOUR).round().max(2.0) as usize } else { (dpi / BG_DPI).round().max(1.0) as usize }
}

/// The MRC encoding, `None` when G4 or JPEG cannot take the page; with `find_photos`,
/// photos are kept at full resolution ([`photo_regions`]).
#[allow(clippy::too_many_arguments)]
fn mrc(
    luma: &[u8],
    rgb: Option<std::borrow::Cow<'_, [u8]>>,
    width: u32,
    height: u32,
    color: ColorMode,
    dpi: f32,
    f: &PageFigures,
    find_photos: bool,
) -> Option<EncodedImage> {
    let (w, h) = (width as usize, height as usize);
    let mut ink_mask = text_mask(luma, rgb.as_deref(), w, h, f.threshold);
    let photos = if find_photos { photo_regions(luma, rgb.as_deref(), w, h, f, dpi) } else { Vec::new() };
    for r in &photos {
        for row in ink_mask[r.y * w..(r.y + r.height) * w].chunks_exact_mut(w) {
            row[r.x..r.x + r.width].fill(false);
        }
    }
    despeckle(&mut ink_mask, w, h);
    let samples: Vec<u8> = ink_mask.iter().map(|&m| if m { 0 } else { 255 }).collect();
    let mask_data = g4(&samples, width, height)?;
    drop(samples);

    let channels = if rgb.is_some() { 3 } else { 1 };
    let factor = bg_factor(dpi, channels == 3);
    let src: &[u8] = rgb.as_deref().unwrap_or(luma);
    let ink = ink_colour(src, luma, &ink_mask, channels);
    let mut grown = grow(&ink_mask, w, h);
    let mut patches = Vec::with_capacity(photos.len());
    for r in &photos {
        let mut crop = Vec::with_capacity(r.width * r.height * channels);
        for y in r.y..r.y + r.height {
            crop.extend_from_slice(&src[(y * w + r.x) * channels..(y * w + r.x + r.width) * channels]);
            // The background under a photo is never shown: paper there costs nothing.
            grown[y * w + r.x..y * w + r.x + r.width].fill(true);
        }
        let data = jpeg(&crop, r.width, r.height, channels == 1, PHOTO_QUALITY, false).ok()?;
        patches.push(PhotoPatch { x: r.x as u32, y: r.y as u32, width: r.width as u32, height: r.height as u32, data });
    }
    let paper = paper_colour(src, luma, &grown, channels, f);
    let (bw, bh, mut bg) = background(src, &grown, w, h, channels, factor, paper);
    snap_to_paper(&mut bg, channels, paper);
    // Chroma at the background's own resolution: at 4:2:0 a seal's ring or a signature's
    // stroke (a few background pixels wide) lost most of its colour, and with it the colour
    // that OCR's dropout (`stages::imaging::drop_colour_ink`) tells ink from seal by.
    let quality = if channels == 3 { BG_QUALITY_COLOUR } else { BG_QUALITY };
    let data = jpeg(&bg, bw, bh, channels == 1, quality, true).ok()?;
    let ink = if channels == 3 { ink } else { [ink[0]; 3] };
    Some(EncodedImage {
        width,
        height,
        color,
        filter: ImageFilter::Dct,
        data,
        mask: Some(TextMask { bg_width: bw as u32, bg_height: bh as u32, ink, data: mask_data, photos: patches }),
    })
}

/// The photos of a text page (pure): the page is cut in blocks of [`PHOTO_BLOCK_IN`];
/// a block is part of a photo when [`PHOTO_BLOCK_MID`] of its pixels are mid-tones (a
/// quarter of the ink-paper range away from both, as in [`figures`]) that are not
/// strongly coloured ([`PHOTO_MAX_CHROMA`]: seal and signature ink are not photos). Such
/// blocks with at most one block between them form a region; a region at least
/// [`PHOTO_MIN_IN`] each way whose blocks fill [`PHOTO_FILL`] of its bounding box is a
/// photo; its box grows over rows and columns of blocks along it that are mostly darker
/// than paper ([`PHOTO_EDGE_DARK`]: a dark edge of the photo is ink, not mid-tones), and is
/// returned grown by half a block (clipped to the page), in page pixels. Regions are disjoint; text lines, stamps, signatures and light shading give
/// none (a block of mid-gray shading as tall as the minimum is taken as a photo: kept at
/// full resolution, its text legible, at some bytes' cost).
pub fn photo_regions(luma: &[u8], rgb: Option<&[u8]>, w: usize, h: usize, f: &PageFigures, dpi: f32) -> Vec<Rect> {
    let b = ((dpi * PHOTO_BLOCK_IN).round() as usize).max(4);
    let (gw, gh) = (w.div_ceil(b), h.div_ceil(b));
    if w == 0 || h == 0 || luma.len() < w * h || rgb.is_some_and(|c| c.len() < 3 * w * h) {
        return Vec::new();
    }
    let quarter = f.paper.saturating_sub(f.ink) / 4;
    let (lo, hi) = (f.ink.saturating_add(quarter), f.paper.saturating_sub(quarter));
    if lo >= hi {
        return Vec::new();
    }
    let mut mids = vec![0u32; gw * gh];
    // Pixels darker than paper (ink or mid-tone), to carry a photo's box over its dark edges.
    let mut marked = vec![0u32; gw * gh];
    let plain = |p: &[u8]| p[0].max(p[1]).max(p[2]) - p[0].min(p[1]).min(p[2]) <= PHOTO_MAX_CHROMA;
    for y in 0..h {
        let row = &luma[y * w..(y + 1) * w];
        let cells = &mut mids[(y / b) * gw..(y / b + 1) * gw];
        let dark = &mut marked[(y / b) * gw..(y / b + 1) * gw];
        for (bx, ((cell, d), chunk)) in cells.iter_mut().zip(dark.iter_mut()).zip(row.chunks(b)).enumerate() {
            *d += chunk.iter().map(|&l| u32::from(l < hi)).sum::<u32>();
            *cell += match rgb {
                // Counted branch-free; the colour test only on the (few) mid-tone pixels.
                None => chunk.iter().map(|&l| u32::from(l > lo && l < hi)).sum::<u32>(),
                Some(c) => {
                    let at = (y * w + bx * b) * 3;
                    chunk.iter().enumerate().filter(|&(i, &l)| l > lo && l < hi && plain(&c[at + 3 * i..at + 3 * i + 3])).count() as u32
                }
            };
        }
    }
    // Pixels in block (bx, by): blocks at the right and bottom edges may be cut short.
    let block_area = |bx: usize, by: usize| b.min(w - bx * b) * b.min(h - by * b);
    let busy: Vec<bool> = (0..gw * gh)
        .map(|i| {
            let area = block_area(i % gw, i / gw) as f64;
            // A sliver of a block at the right or bottom edge is not judged on its own.
            area * 2.0 >= (b * b) as f64 && f64::from(mids[i]) >= PHOTO_BLOCK_MID * area
        })
        .collect();
    // Regions: busy blocks joined when within one block (8-neighbours of the grown set).
    let mut label = vec![usize::MAX; gw * gh];
    let mut out = Vec::new();
    let min_blocks = ((PHOTO_MIN_IN / PHOTO_BLOCK_IN).round() as usize).max(1);
    for start in 0..gw * gh {
        if !busy[start] || label[start] != usize::MAX {
            continue;
        }
        let id = start;
        let (mut x0, mut y0, mut x1, mut y1, mut n) = (gw, gh, 0, 0, 0usize);
        let mut stack = vec![start];
        label[start] = id;
        while let Some(i) = stack.pop() {
            let (bx, by) = (i % gw, i / gw);
            (x0, y0, x1, y1, n) = (x0.min(bx), y0.min(by), x1.max(bx), y1.max(by), n + 1);
            for ny in by.saturating_sub(2)..(by + 3).min(gh) {
                for nx in bx.saturating_sub(2)..(bx + 3).min(gw) {
                    let j = ny * gw + nx;
                    if busy[j] && label[j] == usize::MAX {
                        label[j] = id;
                        stack.push(j);
                    }
                }
            }
        }
        let (bw, bh) = (x1 + 1 - x0, y1 + 1 - y0);
        if bw < min_blocks || bh < min_blocks || (n as f64) < PHOTO_FILL * (bw * bh) as f64 {
            continue;
        }
        // A photo's dark edge (hair, a dark coat) is ink, not mid-tone: the box grows over
        // any row or column of blocks along it that is mostly darker than paper.
        let strip = |xs: std::ops::RangeInclusive<usize>, ys: std::ops::RangeInclusive<usize>| {
            let (mut m, mut a) = (0u64, 0u64);
            for by in ys {
                for bx in xs.clone() {
                    m += u64::from(marked[by * gw + bx]);
                    a += block_area(bx, by) as u64;
                }
            }
            a > 0 && m as f64 >= PHOTO_EDGE_DARK * a as f64
        };
        let (mut x0, mut y0, mut x1, mut y1) = (x0, y0, x1, y1);
        loop {
            let grown = (x0, y0, x1, y1);
            if y0 > 0 && strip(x0..=x1, y0 - 1..=y0 - 1) {
                y0 -= 1;
            }
            if y1 + 1 < gh && strip(x0..=x1, y1 + 1..=y1 + 1) {
                y1 += 1;
            }
            if x0 > 0 && strip(x0 - 1..=x0 - 1, y0..=y1) {
                x0 -= 1;
            }
            if x1 + 1 < gw && strip(x1 + 1..=x1 + 1, y0..=y1) {
                x1 += 1;
            }
            if grown == (x0, y0, x1, y1) {
                break;
            }
        }
        let half = b / 2;
        let (px0, py0) = ((x0 * b).saturating_sub(half), (y0 * b).saturating_sub(half));
        let (px1, py1) = (((x1 + 1) * b + half).min(w), ((y1 + 1) * b + half).min(h));
        out.push(Rect { x: px0, y: py0, width: px1 - px0, height: py1 - py0 });
    }
    // Grown boxes of nearby regions can overlap: merge until disjoint.
    let mut merged = true;
    while merged {
        merged = false;
        'outer: for i in 0..out.len() {
            for j in i + 1..out.len() {
                let (a, c) = (out[i], out[j]);
                if a.x < c.x + c.width && c.x < a.x + a.width && a.y < c.y + c.height && c.y < a.y + a.height {
                    let (x, y) = (a.x.min(c.x), a.y.min(c.y));
                    let (x1, y1) = ((a.x + a.width).max(c.x + c.width), (a.y + a.height).max(c.y + c.height));
                    out[i] = Rect { x, y, width: x1 - x, height: y1 - y };
                    out.remove(j);
                    merged = true;
                    break 'outer;
                }
            }
        }
    }
    out
}

/// Whether a pixel is text ink (pure). A gray pixel (`rgb` `None`): its luma at or below
/// `threshold`. A colour pixel: a near-neutral one (channels within [`CHROMA`]) at or below
/// the threshold, or one dark in every channel (its brightest channel at or below the
/// threshold). A stamp or a signature is bright in its own hue's channel, so it is not ink;
/// dark text under a translucent stamp only loses light in every channel, so its strokes
/// and their anti-aliased edges (a strongly coloured mix of ink and stamp) stay ink.
pub fn is_ink(luma: u8, rgb: Option<[u8; 3]>, threshold: u8) -> bool {
    match rgb {
        None => luma <= threshold,
        Some(p) => {
            let (hi, lo) = (p[0].max(p[1]).max(p[2]), p[0].min(p[1]).min(p[2]));
            hi <= threshold || (luma <= threshold && hi - lo <= CHROMA)
        }
    }
}

/// Ink pixels ([`is_ink`]).
fn text_mask(luma: &[u8], rgb: Option<&[u8]>, w: usize, h: usize, threshold: u8) -> Vec<bool> {
    let n = w * h;
    match rgb {
        Some(rgb) => luma[..n].iter().zip(rgb.chunks_exact(3)).map(|(&l, p)| is_ink(l, Some([p[0], p[1], p[2]]), threshold)).collect(),
        None => luma[..n].iter().map(|&l| is_ink(l, None, threshold)).collect(),
    }
}

/// Clears mask pixels none of whose 8 neighbours is set (scanner noise, not text).
fn despeckle(mask: &mut [bool], w: usize, h: usize) {
    let snapshot = mask.to_vec();
    for y in 0..h {
        for x in 0..w {
            if !snapshot[y * w + x] {
                continue;
            }
            let mut alone = true;
            'n: for dy in -1i64..=1 {
                for dx in -1i64..=1 {
                    let (nx, ny) = (x as i64 + dx, y as i64 + dy);
                    if (dx, dy) != (0, 0) && nx >= 0 && ny >= 0 && (nx as usize) < w && (ny as usize) < h && snapshot[ny as usize * w + nx as usize] {
                        alone = false;
                        break 'n;
                    }
                }
            }
            if alone {
                mask[y * w + x] = false;
            }
        }
    }
}

/// The mask grown by one pixel (3x3), separably.
fn grow(mask: &[bool], w: usize, h: usize) -> Vec<bool> {
    let mut rows = vec![false; mask.len()];
    for y in 0..h {
        let r = &mask[y * w..(y + 1) * w];
        let o = &mut rows[y * w..(y + 1) * w];
        for x in 0..w {
            o[x] = r[x] || (x > 0 && r[x - 1]) || (x + 1 < w && r[x + 1]);
        }
    }
    let mut out = vec![false; mask.len()];
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            out[i] = rows[i] || (y > 0 && rows[i - w]) || (y + 1 < h && rows[i + w]);
        }
    }
    out
}

/// Mean colour of the darker half of the ink pixels (the stroke cores, not their
/// anti-aliased edges); black when there is no ink.
fn ink_colour(src: &[u8], luma: &[u8], mask: &[bool], channels: usize) -> [u8; 3] {
    let mut hist = [0u64; 256];
    for (&l, _) in luma.iter().zip(mask).filter(|(_, m)| **m) {
        hist[l as usize] += 1;
    }
    let n: u64 = hist.iter().sum();
    if n == 0 {
        return [0; 3];
    }
    let mut seen = 0;
    let mut median = 0u8;
    for (i, &c) in hist.iter().enumerate() {
        seen += c;
        if seen * 2 >= n {
            median = i as u8;
            break;
        }
    }
    let mut sum = [0u64; 3];
    let mut count = 0u64;
    for (i, (&l, &m)) in luma.iter().zip(mask).enumerate() {
        if m && l <= median {
            for c in 0..channels {
                sum[c] += u64::from(src[i * channels + c]);
            }
            count += 1;
        }
    }
    let mean = sum.map(|s| s.checked_div(count).unwrap_or(0) as u8);
    if channels == 1 { [mean[0]; 3] } else { mean }
}

/// Mean colour of the paper: pixels away from the text within [`PAPER_SNAP`] of the
/// paper median, sampled every 7th pixel.
fn paper_colour(src: &[u8], luma: &[u8], grown: &[bool], channels: usize, f: &PageFigures) -> [u8; 3] {
    let mut sum = [0u64; 3];
    let mut n = 0u64;
    for i in (0..luma.len()).step_by(7) {
        if !grown[i] && luma[i].abs_diff(f.paper) <= PAPER_SNAP {
            for c in 0..channels {
                sum[c] += u64::from(src[i * channels + c]);
            }
            n += 1;
        }
    }
    let mean = sum.map(|s| s.checked_div(n).map_or(f.paper, |v| v as u8));
    if channels == 1 { [mean[0]; 3] } else { mean }
}

/// The background at 1/`factor`: per block, the mean of its pixels outside `grown`; a
/// block that is all text gets the paper colour.
fn background(src: &[u8], grown: &[bool], w: usize, h: usize, channels: usize, factor: usize, paper: [u8; 3]) -> (usize, usize, Vec<u8>) {
    let (bw, bh) = (w.div_ceil(factor), h.div_ceil(factor));
    let mut sums = vec![0u32; bw * channels];
    let mut counts = vec![0u32; bw];
    let mut out = Vec::with_capacity(bw * bh * channels);
    for by in 0..bh {
        sums.iter_mut().for_each(|s| *s = 0);
        counts.iter_mut().for_each(|c| *c = 0);
        for y in by * factor..((by + 1) * factor).min(h) {
            let row = y * w;
            for x in 0..w {
                if grown[row + x] {
                    continue;
                }
                let b = x / factor;
                counts[b] += 1;
                let p = (row + x) * channels;
                for c in 0..channels {
                    sums[b * channels + c] += u32::from(src[p + c]);
                }
            }
        }
        for b in 0..bw {
            for c in 0..channels {
                out.push(sums[b * channels + c].checked_div(counts[b]).map_or(paper[c], |v| v as u8));
            }
        }
    }
    (bw, bh, out)
}

/// Background pixels within [`PAPER_SNAP`] of the paper colour (every channel) become
/// the paper colour.
fn snap_to_paper(bg: &mut [u8], channels: usize, paper: [u8; 3]) {
    for p in bg.chunks_exact_mut(channels) {
        if p.iter().zip(paper).all(|(&v, q)| v.abs_diff(q) <= PAPER_SNAP) {
            p.copy_from_slice(&paper[..channels]);
        }
    }
}

/// The page as the PDF shows it: the background stretched (nearest pixel), the photos
/// over it and the ink painted where the mask is set; the decoded page image for the other encodings.
/// `None` when the data does not decode. Used by tests and `eval-size` to read the stored
/// page back.
pub fn render(enc: &EncodedImage) -> Option<DynamicImage> {
    let (w, h) = (enc.width, enc.height);
    match (&enc.mask, enc.filter) {
        (Some(mask), ImageFilter::Dct) => {
            let bg = image::load_from_memory_with_format(&enc.data, image::ImageFormat::Jpeg).ok()?;
            if (bg.width(), bg.height()) != (mask.bg_width, mask.bg_height) {
                return None;
            }
            let bits = super::encode::decode_g4(&mask.data, w, h)?;
            let fx = |x: u32| ((u64::from(x) * u64::from(mask.bg_width)) / u64::from(w)) as u32;
            let fy = |y: u32| ((u64::from(y) * u64::from(mask.bg_height)) / u64::from(h)) as u32;
            let mut page = match enc.color {
                ColorMode::Rgb => {
                    let bg = bg.to_rgb8();
                    DynamicImage::ImageRgb8(image::RgbImage::from_fn(w, h, |x, y| *bg.get_pixel(fx(x), fy(y))))
                }
                _ => {
                    let bg = bg.to_luma8();
                    DynamicImage::ImageLuma8(image::GrayImage::from_fn(w, h, |x, y| *bg.get_pixel(fx(x), fy(y))))
                }
            };
            for p in &mask.photos {
                let img = image::load_from_memory_with_format(&p.data, image::ImageFormat::Jpeg).ok()?;
                if (img.width(), img.height()) != (p.width, p.height) || p.x.saturating_add(p.width) > w || p.y.saturating_add(p.height) > h {
                    return None;
                }
                match &mut page {
                    DynamicImage::ImageRgb8(c) => image::imageops::replace(c, &img.to_rgb8(), i64::from(p.x), i64::from(p.y)),
                    DynamicImage::ImageLuma8(g) => image::imageops::replace(g, &img.to_luma8(), i64::from(p.x), i64::from(p.y)),
                    _ => return None,
                }
            }
            match &mut page {
                DynamicImage::ImageRgb8(c) => {
                    for (x, y, px) in c.enumerate_pixels_mut() {
                        if bits[(y * w + x) as usize] == 0 {
                            *px = image::Rgb(mask.ink);
                        }
                    }
                }
                DynamicImage::ImageLuma8(g) => {
                    for (x, y, px) in g.enumerate_pixels_mut() {
                        if bits[(y * w + x) as usize] == 0 {
                            *px = image::Luma([mask.ink[0]]);
                        }
                    }
                }
                _ => return None,
            }
            Some(page)
        }
        (None, ImageFilter::Dct) => image::load_from_memory_with_format(&enc.data, image::ImageFormat::Jpeg).ok(),
        (None, ImageFilter::Ccitt) => {
            let bits = super::encode::decode_g4(&enc.data, w, h)?;
            image::GrayImage::from_raw(w, h, bits).map(DynamicImage::ImageLuma8)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{GrayImage, Luma, Rgb, RgbImage};

    /// A 300 dpi strip of "text": dark bars on paper with noise, and a mid-gray patch.
    fn text_strip(noise: bool) -> GrayImage {
        let mut g = GrayImage::from_fn(600, 300, |x, y| {
            let bar = (x / 6) % 3 == 0 && (y / 40) % 2 == 0 && y % 40 > 8;
            let n = if noise { ((x * 7919 + y * 104_729) % 17) as i32 - 8 } else { 0 };
            Luma([((if bar { 25 } else { 235 }) + n).clamp(0, 255) as u8])
        });
        for y in 250..290 {
            for x in 500..560 {
                g.put_pixel(x, y, Luma([150]));
            }
        }
        g
    }

    /// A 300 dpi page, 3 x 3.3 inches: rows of "text" (bars with gaps) and, when `photo`,
    /// a photo of 1.2 x 1.3 inches (smooth tones, texture, and a dark band across its whole
    /// top edge, as hair) at [`PHOTO_AT`].
    fn page_with_photo(photo: bool) -> GrayImage {
        GrayImage::from_fn(900, 990, |x, y| {
            let (px, py) = (x as i32 - PHOTO_AT.x as i32, y as i32 - PHOTO_AT.y as i32);
            if photo && (0..PHOTO_AT.width as i32).contains(&px) && (0..PHOTO_AT.height as i32).contains(&py) {
                let (fx, fy) = (px as f32, py as f32);
                // Dark hair across the whole top (ink-dark, no mid-tones), then tones.
                let v = if py < 60 || (py < 120 && (px - 180).abs() < 120) { 30.0 } else { 125.0 + 70.0 * (fx / 23.0).sin() * (fy / 31.0).cos() };
                let grain = ((x * 131 + y * 71) % 23) as f32 - 11.0;
                return Luma([(v + grain).clamp(0.0, 255.0) as u8]);
            }
            let bar = (x / 7) % 4 != 0 && (y / 45) % 2 == 0 && y % 45 > 12 && (x / 60) % 5 != 4;
            Luma([if bar { 25 } else { 235 }])
        })
    }
    const PHOTO_AT: Rect = Rect { x: 300, y: 450, width: 360, height: 390 };

    fn psnr(a: &[u8], b: &[u8]) -> f64 {
        let mse = a.iter().zip(b).map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2)).sum::<f64>() / a.len() as f64;
        10.0 * (255.0f64 * 255.0 / mse.max(1e-9)).log10()
    }

    fn crop(g: &GrayImage, r: Rect) -> Vec<u8> {
        image::imageops::crop_imm(g, r.x as u32, r.y as u32, r.width as u32, r.height as u32).to_image().into_raw()
    }

    #[test]
    fn photos_are_found_and_text_stamps_and_shading_are_not() {
        let page = page_with_photo(true);
        let f = figures(page.as_raw());
        let found = photo_regions(page.as_raw(), None, 900, 990, &f, 300.0);
        assert_eq!(found.len(), 1, "{found:?}");
        let (r, p) = (found[0], PHOTO_AT);
        assert!(r.x <= p.x && r.y <= p.y && r.x + r.width >= p.x + p.width && r.y + r.height >= p.y + p.height, "{r:?} covers {p:?}");
        assert!(p.x - r.x <= 40 && p.y - r.y <= 40 && r.x + r.width - p.x - p.width <= 40 && r.y + r.height - p.y - p.height <= 40, "{r:?} tight on {p:?}");
        // Text alone, noisy text with a small gray patch: nothing.
        let text = page_with_photo(false);
        assert_eq!(photo_regions(text.as_raw(), None, 900, 990, &figures(text.as_raw()), 300.0), vec![]);
        let strip = text_strip(true);
        assert_eq!(photo_regions(strip.as_raw(), None, 600, 300, &figures(strip.as_raw()), 300.0), vec![]);
        // A red seal ring and a blue signature over the text: nothing.
        let rgb = RgbImage::from_fn(900, 990, |x, y| {
            let v = text.get_pixel(x, y).0[0];
            let (dx, dy) = (x as f32 - 450.0, y as f32 - 500.0);
            let d = (dx * dx + dy * dy).sqrt();
            if (d - 195.0).abs() < 9.0 || (d - 165.0).abs() < 5.0 {
                Rgb([(f32::from(v) * 0.86) as u8, (f32::from(v) * 0.22) as u8, (f32::from(v) * 0.2) as u8])
            } else if (y as f32 - 300.0 - 40.0 * (x as f32 / 40.0).sin()).abs() < 4.0 {
                Rgb([40, 60, 170])
            } else {
                Rgb([v, v, v])
            }
        });
        let l = luma_of(rgb.as_raw());
        assert_eq!(photo_regions(&l, Some(rgb.as_raw()), 900, 990, &figures(&l), 300.0), vec![]);
        // Empty and degenerate input.
        assert_eq!(photo_regions(&[], None, 0, 0, &f, 300.0), vec![]);
    }

    #[test]
    fn photos_keep_their_tones_and_text_stays_in_the_mask() {
        let page = page_with_photo(true);
        let enc = encode_archival(&DynamicImage::ImageLuma8(page.clone()), ColorMode::Gray, 300.0);
        let mask = enc.mask.as_ref().expect("a text page with a photo is MRC");
        assert_eq!(mask.photos.len(), 1);
        let shown = render(&enc).unwrap().to_luma8();
        let quality = psnr(&crop(&page, PHOTO_AT), &crop(&shown, PHOTO_AT));
        assert!(quality >= 30.0, "photo PSNR {quality:.1} dB");
        // Text outside the photo is drawn by the mask, in the ink colour.
        let text = Rect { x: 0, y: 0, width: 900, height: 400 };
        assert!(psnr(&crop(&page, text), &crop(&shown, text)) >= 30.0);
        // Without photo regions, the photo's darker half goes into the mask as solid ink
        // and the rest into the 100 dpi background.
        let f = figures(page.as_raw());
        let flat = mrc(page.as_raw(), None, 900, 990, ColorMode::Gray, 300.0, &f, false).unwrap();
        let before = psnr(&crop(&page, PHOTO_AT), &crop(&render(&flat).unwrap().to_luma8(), PHOTO_AT));
        eprintln!("photo PSNR: {before:.1} dB as mask and background, {quality:.1} dB as a photo region");
        assert!(before < quality - 5.0, "without the photo region {before:.1} dB, with {quality:.1} dB");
        // The PDF holds the photo as its own image and stays PDF/A-2b.
        let pdf_page = crate::model::PdfPage { image: enc, dpi: 300.0, ocr: Default::default() };
        let meta = crate::model::DocumentMeta { page_count: 1, ..Default::default() };
        let opts = super::super::PdfOptions { languages: vec![], profile: super::super::PdfProfile::Pdfa2b };
        let bytes = super::super::write_pdf(&[pdf_page], &meta, &opts).unwrap();
        let doc = lopdf::Document::load_mem(&bytes).unwrap();
        assert_eq!(super::super::check_pdfa(&doc), vec![]);
        let page_id = doc.get_pages()[&1];
        let res = doc.get_dictionary(page_id).unwrap().get(b"Resources").unwrap().as_dict().unwrap();
        assert!(res.get(b"XObject").unwrap().as_dict().unwrap().has(b"Ph0"));
    }

    #[test]
    fn otsu_splits_ink_and_paper() {
        let f = figures(text_strip(true).as_raw());
        assert!((60..200).contains(&f.threshold), "{f:?}");
        assert!(f.ink < 40 && f.paper > 220, "{f:?}");
        assert!(f.mid_fraction < 0.05, "{f:?}");
        assert_eq!(choose(ColorMode::Gray, &f), PageEncoding::Mrc);
    }

    #[test]
    fn photos_and_flat_pages_keep_the_jpeg() {
        // A gradient is all mid-tones: a photo.
        let photo = GrayImage::from_fn(256, 100, |x, _| Luma([x as u8]));
        assert_eq!(choose(ColorMode::Gray, &figures(photo.as_raw())), PageEncoding::Jpeg);
        // Faint pencil on paper: no contrast to separate.
        let faint = GrayImage::from_fn(100, 100, |x, _| Luma([if x % 10 == 0 { 200 } else { 230 }]));
        assert_eq!(choose(ColorMode::Gray, &figures(faint.as_raw())), PageEncoding::Jpeg);
        assert_eq!(choose(ColorMode::Bilevel, &figures(faint.as_raw())), PageEncoding::Bilevel);
    }

    #[test]
    fn mrc_keeps_text_exact_and_paper_flat() {
        let g = text_strip(true);
        let enc = encode_archival(&DynamicImage::ImageLuma8(g.clone()), ColorMode::Gray, 300.0);
        let mask = enc.mask.as_ref().expect("a text page is MRC");
        assert_eq!((mask.bg_width, mask.bg_height), (200, 100), "1/3 at 300 dpi");
        assert!(mask.ink[0] < 40, "{:?}", mask.ink);
        let back = render(&enc).unwrap().to_luma8();
        assert_eq!(back.dimensions(), g.dimensions());
        // Every bar pixel is ink, every paper pixel paper-coloured (within JPEG error).
        for (x, y, p) in g.enumerate_pixels() {
            let v = back.get_pixel(x, y)[0];
            if p[0] < 60 {
                assert_eq!(v, mask.ink[0], "ink at {x},{y}");
            } else if p[0] > 200 && !((470..590).contains(&x) && y >= 220) {
                assert!(v > 215, "paper at {x},{y}: {v}");
            }
        }
        // The mid-gray patch is kept in the background.
        assert!(back.get_pixel(530, 270)[0].abs_diff(150) < 12, "{}", back.get_pixel(530, 270)[0]);
        // Much smaller than the page JPEG.
        let jpeg = encode_page_image(&DynamicImage::ImageLuma8(g), ColorMode::Gray);
        assert!(enc.data.len() + mask.data.len() < jpeg.data.len() / 3, "{} + {} vs {}", enc.data.len(), mask.data.len(), jpeg.data.len());
    }

    #[test]
    fn coloured_ink_stays_in_the_colour_background() {
        let mut c = RgbImage::from_fn(300, 300, |x, y| if (x / 5) % 3 == 0 && y < 150 { Rgb([20, 20, 24]) } else { Rgb([248, 244, 230]) });
        // A red stamp (dark in luma, but coloured).
        for y in 200..260 {
            for x in 100..200 {
                c.put_pixel(x, y, Rgb([200, 30, 40]));
            }
        }
        let enc = encode_archival(&DynamicImage::ImageRgb8(c), ColorMode::Rgb, 200.0);
        let mask = enc.mask.as_ref().expect("MRC");
        assert_eq!((mask.bg_width, mask.bg_height), (150, 150), "1/2 at 200 dpi");
        let back = render(&enc).unwrap().to_rgb8();
        let stamp = back.get_pixel(150, 230);
        assert!(stamp[0] > 160 && stamp[1] < 80, "stamp kept red: {stamp:?}");
        let text = back.get_pixel(0, 10);
        assert_eq!(*text, Rgb(mask.ink));
        assert!(mask.ink.iter().all(|&v| v < 40), "{:?}", mask.ink);
    }

    #[test]
    fn ink_under_a_stamp_is_text_and_the_stamp_is_not() {
        let t = 130;
        let luma = |p: [u8; 3]| luma_of(&p)[0];
        let ink = |p: [u8; 3]| is_ink(luma(p), Some(p), t);
        // Blue-black text ink, and a gray pixel on a gray page.
        assert!(ink([22, 26, 58]));
        assert!(is_ink(40, None, t) && !is_ink(200, None, t));
        // Cream paper; a red stamp on paper (dark in luma, bright in red); a blue signature.
        assert!(!ink([250, 245, 228]));
        assert!(!ink([215, 54, 46]));
        assert!(!ink([40, 60, 170]));
        // Text ink seen through the stamp (each channel multiplied by the stamp's), and its
        // anti-aliased edge half ink, half paper: strongly coloured, but dark everywhere.
        let through = |p: [u8; 3]| [(f32::from(p[0]) * 0.86) as u8, (f32::from(p[1]) * 0.22) as u8, (f32::from(p[2]) * 0.2) as u8];
        assert!(ink(through([22, 26, 58])));
        assert!(ink(through([136, 135, 143])));
        // The same edge off the stamp is lighter than the threshold: not ink either way.
        assert!(!ink([150, 149, 155]));
    }

    #[test]
    fn colour_pages_keep_a_finer_background() {
        assert_eq!(bg_factor(300.0, false), 3);
        assert_eq!(bg_factor(200.0, false), 2);
        assert_eq!(bg_factor(300.0, true), 2);
        assert_eq!(bg_factor(200.0, true), 2);
        assert_eq!(bg_factor(600.0, true), 4);
    }

    #[test]
    fn text_through_a_stamp_stays_in_the_mask() {
        // Text bars with an anti-aliased edge (a column half ink, half paper) on cream paper;
        // a translucent red stamp over the middle of them.
        let bar = |x: u32, y: u32| match ((x % 15), y < 200) {
            (0..5, true) => Rgb([22, 26, 58]),
            (5, true) => Rgb([136, 135, 143]),
            _ => Rgb([250, 245, 228]),
        };
        let mut c = RgbImage::from_fn(300, 300, bar);
        for y in 100..230 {
            for x in 100..180 {
                let p = c.get_pixel(x, y).0;
                c.put_pixel(x, y, Rgb([(f32::from(p[0]) * 0.86) as u8, (f32::from(p[1]) * 0.22) as u8, (f32::from(p[2]) * 0.2) as u8]));
            }
        }
        let enc = encode_archival(&DynamicImage::ImageRgb8(c.clone()), ColorMode::Rgb, 300.0);
        let mask = enc.mask.as_ref().expect("MRC");
        assert_eq!((mask.bg_width, mask.bg_height), (150, 150), "1/2 at 300 dpi in colour");
        let back = render(&enc).unwrap().to_rgb8();
        for y in (110..190).step_by(7) {
            for x in 100..180 {
                if x % 15 <= 5 {
                    assert_eq!(*back.get_pixel(x, y), Rgb(mask.ink), "text and its edge under the stamp at {x},{y}");
                }
            }
        }
        // The stamp on paper stays red.
        let stamp = back.get_pixel(140, 215);
        assert!(stamp[0] > 160 && stamp[1] < 90, "stamp kept red: {stamp:?}");
    }

    #[test]
    fn lone_pixels_are_not_text() {
        let mut m = vec![false; 25];
        m[12] = true; // alone in the middle
        m[0] = true;
        m[1] = true; // a pair
        despeckle(&mut m, 5, 5);
        assert!(!m[12] && m[0] && m[1]);
    }

    #[test]
    fn forced_encodings() {
        let g = DynamicImage::ImageLuma8(text_strip(false));
        assert!(encode_as(&g, ColorMode::Gray, 300.0, Some(PageEncoding::Jpeg)).mask.is_none());
        let b = encode_as(&g, ColorMode::Gray, 300.0, Some(PageEncoding::Bilevel));
        assert_eq!((b.filter, b.color), (ImageFilter::Ccitt, ColorMode::Bilevel));
        let empty = DynamicImage::ImageLuma8(GrayImage::new(0, 0));
        assert!(encode_archival(&empty, ColorMode::Gray, 300.0).mask.is_none());
    }
}
