//! The one defect model of the sample generator: what a scanner does to a clean page.
//! Skew ([`rotate_gray`], through the project's own resampler
//! `stages::imaging::transform`), quarter turns, gaussian-like noise, dust specks, dark
//! borders, blur, bleed-through, edge shadows, paper tint and a warm RGB copy.
//!
//! Conventions: images are `GrayImage` with paper = 255 and ink = dark; angles are degrees
//! and positive means counter-clockwise on screen (the convention of
//! [`crate::model::CleanPage::skew_deg`]). Every random choice comes from
//! `StdRng::seed_from_u64(seed)`; work split over rayon threads derives its own seed per
//! fixed-size chunk, so a given seed gives the same image whatever the thread count.

use image::GrayImage;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;

use crate::stages::imaging::transform;

/// Rotates the content by `deg` degrees counter-clockwise (on screen) about the centre,
/// keeping the size; uncovered corners get `fill`. Bilinear.
pub fn rotate_gray(img: &GrayImage, deg: f32, fill: u8) -> GrayImage {
    // The transform turns content at `skew_deg` upright, i.e. clockwise by it.
    let (out, w, h) = transform::rotate::<1>(img.as_raw(), img.width(), img.height(), 0, -deg, [fill]);
    GrayImage::from_raw(w, h, out).unwrap_or_else(|| img.clone())
}

/// As [`rotate_gray`], into a canvas large enough to hold all of the page (a scanner bed
/// larger than the sheet).
pub fn rotate_gray_expand(img: &GrayImage, deg: f32, fill: u8) -> GrayImage {
    let (out, w, h) = transform::rotate_expand::<1>(img.as_raw(), img.width(), img.height(), -deg, [fill]);
    GrayImage::from_raw(w, h, out).unwrap_or_else(|| img.clone())
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
    use image::Luma;

    #[test]
    fn rotate_gray_turns_counter_clockwise() {
        // A horizontal bar right of centre must end up above centre after +90.
        let mut img = GrayImage::from_pixel(101, 101, Luma([255]));
        for x in 70..90 {
            img.put_pixel(x, 50, Luma([0]));
        }
        let r = rotate_gray(&img, 90.0, 255);
        assert!(r.get_pixel(50, 20).0[0] < 60, "bar not above centre");
        assert!(r.get_pixel(80, 50).0[0] > 200);
        // And by a small angle: the right end of a long bar goes up by the tangent.
        let mut img = GrayImage::from_pixel(400, 200, Luma([255]));
        for y in 99..102 {
            for x in 50..350 {
                img.put_pixel(x, y, Luma([0]));
            }
        }
        let r = rotate_gray(&img, 5.0, 255);
        let dark_y = |x: u32| {
            let ys: Vec<u32> = (0..200).filter(|&y| r.get_pixel(x, y).0[0] < 128).collect();
            ys.iter().sum::<u32>() as f32 / ys.len().max(1) as f32
        };
        let expected = (320.0 - 80.0) * 5f32.to_radians().tan();
        assert!(((dark_y(80) - dark_y(320)) - expected).abs() < 2.0);
        assert_eq!(r.get_pixel(0, 0).0[0], 255, "corners filled");
    }

    #[test]
    fn rotate_gray_expand_keeps_everything() {
        let mut img = GrayImage::from_pixel(300, 80, Luma([255]));
        for y in 10..70 {
            for x in (10..290).step_by(6) {
                img.put_pixel(x, y, Luma([0]));
                img.put_pixel(x + 1, y, Luma([0]));
            }
        }
        let ink = |i: &GrayImage| i.pixels().filter(|p| p.0[0] < 128).count() as f64;
        for deg in [15.0, 90.0, -37.0] {
            let r = rotate_gray_expand(&img, deg, 255);
            let ratio = ink(&r) / ink(&img);
            assert!((0.95..1.05).contains(&ratio), "{deg}: {ratio}");
        }
    }

    #[test]
    fn noise_is_zero_mean_with_the_requested_sigma_and_seeded() {
        let mut img = GrayImage::from_pixel(200, 200, Luma([128]));
        add_noise(&mut img, 1, 5.0);
        let n = img.len() as f64;
        let mean = img.iter().map(|&v| v as f64).sum::<f64>() / n;
        let var = img.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n;
        assert!((mean - 128.0).abs() < 0.2, "{mean}");
        assert!((var.sqrt() - 5.0).abs() < 0.3, "{}", var.sqrt());
        let mut again = GrayImage::from_pixel(200, 200, Luma([128]));
        add_noise(&mut again, 1, 5.0);
        assert_eq!(img, again);
    }
}
