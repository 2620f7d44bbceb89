//! Raw PDF image samples to 8-bit images, and the placement of a page-filling image.
//! Pure functions, no PDF parsing.

use image::{DynamicImage, GrayImage, RgbImage};

/// The colour spaces the fast path understands (others are rasterized by hayro).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Space {
    Gray,
    Rgb,
    Cmyk,
    /// Separation or DeviceN: each sample is the amount of one ink (0 = none, max = full),
    /// so 0 is white paper, not black. Process inks go to their CMYK channel, spot inks
    /// (and `All`) are drawn as black ink; `None` colorants draw nothing.
    Inks(Vec<Ink>),
    /// Palette image: `lookup` holds `(hival + 1) * base.components()` bytes.
    Indexed {
        base: Box<Space>,
        hival: u8,
        lookup: Vec<u8>,
    },
}

/// One colorant of a Separation or DeviceN colour space.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ink {
    Cyan,
    Magenta,
    Yellow,
    /// Black, `All` and every spot colour.
    Black,
    /// The `None` colorant: never marks the page.
    Nothing,
}

impl Ink {
    pub(crate) fn from_name(name: &[u8]) -> Ink {
        match name {
            b"Cyan" => Ink::Cyan,
            b"Magenta" => Ink::Magenta,
            b"Yellow" => Ink::Yellow,
            b"None" => Ink::Nothing,
            _ => Ink::Black,
        }
    }
}

impl Space {
    /// Components per sample as stored in the image data.
    pub(crate) fn components(&self) -> usize {
        match self {
            Space::Gray | Space::Indexed { .. } => 1,
            Space::Rgb => 3,
            Space::Cmyk => 4,
            Space::Inks(inks) => inks.len(),
        }
    }

    /// The image in this space is gray (no colour ink, or a gray palette).
    fn gray_out(&self) -> bool {
        match self {
            Space::Gray => true,
            Space::Inks(inks) => inks.iter().all(|i| matches!(i, Ink::Black | Ink::Nothing)),
            Space::Indexed { base, .. } => base.gray_out(),
            _ => false,
        }
    }
}

/// Ink amounts (0..=255 each, one per colorant of `inks`) to gray (`dst` of 1) or RGB
/// (`dst` of 3): the CMYK channels of the inks, each at most full.
fn inks_to_pixel(inks: &[Ink], amounts: impl Iterator<Item = u8>, dst: &mut [u8]) {
    let mut cmyk = [0u8; 4];
    for (ink, a) in inks.iter().zip(amounts) {
        let slot = match ink {
            Ink::Cyan => 0,
            Ink::Magenta => 1,
            Ink::Yellow => 2,
            Ink::Black => 3,
            Ink::Nothing => continue,
        };
        cmyk[slot] = cmyk[slot].saturating_add(a);
    }
    if dst.len() == 1 {
        dst[0] = 255 - cmyk[3];
    } else {
        for (d, &c) in dst.iter_mut().zip(&cmyk[..3]) {
            *d = cmyk_channel(c, cmyk[3]);
        }
    }
}

/// Converts decoded (unfiltered) image samples to an 8-bit Luma or RGB image.
///
/// `data` holds rows of `width * components * bpc` bits, each row padded to a whole byte.
/// `decode` is the image's /Decode array (ignored for indexed images). Gray and
/// gray-palette images give Luma8, the others Rgb8 (CMYK converted naively, no ICC).
/// Short data is padded with zero bytes if at least half of it is present (a warning is
/// returned); otherwise it is an error.
pub(crate) fn samples_to_image(
    data: &[u8],
    width: u32,
    height: u32,
    bpc: u8,
    space: &Space,
    decode: Option<&[f32]>,
) -> Result<(DynamicImage, Vec<String>), String> {
    if !matches!(bpc, 1 | 2 | 4 | 8 | 16) {
        return Err(format!("{bpc} bits per component is not valid"));
    }
    let (w, h) = (width as usize, height as usize);
    let n = space.components();
    let stride = (w * n * bpc as usize).div_ceil(8);
    let need = stride.checked_mul(h).ok_or("image size overflows")?;
    let mut warnings = Vec::new();
    let padded;
    let data = if data.len() >= need {
        &data[..need]
    } else if data.len() * 2 >= need {
        warnings.push(crate::model::page_error(format_args!(
            "the image is incomplete: its data is short ({} of {need} bytes, the stream was cut short); the rest is filled",
            data.len()
        )));
        let mut v = data.to_vec();
        v.resize(need, 0);
        padded = v;
        &padded[..]
    } else {
        return Err(format!("image data is short ({} of {need} bytes)", data.len()));
    };

    // One lookup table per component from the raw sample value (8-bit after taking the
    // high byte of 16-bit samples) to 0..=255, applying /Decode.
    let levels: usize = if bpc == 16 { 256 } else { 1 << bpc };
    let maxval = (levels - 1) as f32;
    let luts: Vec<Vec<u8>> = match space {
        Space::Indexed { .. } => Vec::new(),
        _ => (0..n)
            .map(|c| {
                let (dmin, dmax) = match decode {
                    Some(d) if d.len() >= 2 * n => (d[2 * c], d[2 * c + 1]),
                    _ => (0.0, 1.0),
                };
                (0..levels)
                    .map(|v| {
                        let x = dmin + (v as f32 / maxval) * (dmax - dmin);
                        (x.clamp(0.0, 1.0) * 255.0).round() as u8
                    })
                    .collect()
            })
            .collect(),
    };

    let sample = |row: &[u8], i: usize| -> usize {
        match bpc {
            8 => row[i] as usize,
            16 => row[2 * i] as usize,
            _ => {
                let bit = i * bpc as usize;
                let byte = row[bit / 8];
                let shift = 8 - bpc as usize - (bit % 8);
                ((byte >> shift) as usize) & (levels - 1)
            }
        }
    };

    let out_gray = space.gray_out();
    let out_channels = if out_gray { 1 } else { 3 };
    let mut out = vec![0u8; w * h * out_channels];

    for (y, row) in data.chunks_exact(stride.max(1)).take(h).enumerate() {
        let dst = &mut out[y * w * out_channels..(y + 1) * w * out_channels];
        match space {
            Space::Gray => {
                for (x, d) in dst.iter_mut().enumerate() {
                    *d = luts[0][sample(row, x)];
                }
            }
            Space::Rgb => {
                for x in 0..w {
                    for c in 0..3 {
                        dst[3 * x + c] = luts[c][sample(row, 3 * x + c)];
                    }
                }
            }
            Space::Cmyk => {
                for x in 0..w {
                    let k = luts[3][sample(row, 4 * x + 3)];
                    for c in 0..3 {
                        dst[3 * x + c] = cmyk_channel(luts[c][sample(row, 4 * x + c)], k);
                    }
                }
            }
            Space::Inks(inks) => {
                for x in 0..w {
                    let amounts = (0..n).map(|c| luts[c][sample(row, n * x + c)]);
                    inks_to_pixel(inks, amounts, &mut dst[out_channels * x..out_channels * (x + 1)]);
                }
            }
            Space::Indexed { base, hival, lookup } => {
                let nb = base.components();
                let none = vec![0u8; nb];
                for x in 0..w {
                    let idx = sample(row, x).min(*hival as usize);
                    let entry = lookup.get(idx * nb..idx * nb + nb).unwrap_or(&none[..]);
                    match &**base {
                        Space::Gray => dst[x] = entry[0],
                        Space::Inks(inks) => inks_to_pixel(inks, entry.iter().copied(), &mut dst[out_channels * x..out_channels * (x + 1)]),
                        Space::Cmyk => {
                            for c in 0..3 {
                                dst[3 * x + c] = cmyk_channel(entry[c], entry[3]);
                            }
                        }
                        _ => dst[3 * x..3 * x + 3].copy_from_slice(&entry[..3]),
                    }
                }
            }
        }
    }

    let img = if out_gray {
        DynamicImage::ImageLuma8(GrayImage::from_raw(width, height, out).ok_or("bad image size")?)
    } else {
        DynamicImage::ImageRgb8(RgbImage::from_raw(width, height, out).ok_or("bad image size")?)
    };
    Ok((img, warnings))
}

/// Naive CMYK to RGB for one channel (no ICC profile).
fn cmyk_channel(c: u8, k: u8) -> u8 {
    ((255 - c as u32) * (255 - k as u32) / 255) as u8
}

/// How the image must be turned to appear as on the page (the image crate's operations,
/// applied in this order: rotation clockwise, then horizontal flip).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Orient {
    /// 0, 90, 180 or 270 degrees clockwise.
    pub rotate_cw: u16,
    pub flip_h: bool,
}

/// Where a page-filling image lands.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Placement {
    pub orient: Orient,
    /// Resolution along the page's x and y axes (after `orient`).
    pub dpi_x: f64,
    pub dpi_y: f64,
}

/// Decides whether an image covers the page and how it is oriented.
///
/// `m` maps the image's unit square to page space in points with y pointing down (the
/// page's rendering transform times the CTM at `Do`); the page is `page_w` x `page_h`
/// points. Returns `None` if the image is not axis-aligned or does not cover the page
/// within 1% (at least 1 pt) on each edge.
pub(crate) fn placement(m: [f64; 6], img_w: u32, img_h: u32, page_w: f64, page_h: f64) -> Option<Placement> {
    let [a, b, c, d, e, f] = m;
    let scale = a.abs().max(b.abs()).max(c.abs()).max(d.abs());
    if !(scale.is_finite() && scale > 0.0 && img_w > 0 && img_h > 0) {
        return None;
    }
    let eps = scale * 1e-3;
    let xs = [e, e + a, e + c, e + a + c];
    let ys = [f, f + b, f + d, f + b + d];
    let (x0, x1) = (xs.iter().cloned().fold(f64::MAX, f64::min), xs.iter().cloned().fold(f64::MIN, f64::max));
    let (y0, y1) = (ys.iter().cloned().fold(f64::MAX, f64::min), ys.iter().cloned().fold(f64::MIN, f64::max));
    let tol_x = (page_w * 0.01).max(1.0);
    let tol_y = (page_h * 0.01).max(1.0);
    if x0.abs() > tol_x || (x1 - page_w).abs() > tol_x || y0.abs() > tol_y || (y1 - page_h).abs() > tol_y {
        return None;
    }
    let (w, h) = (f64::from(img_w), f64::from(img_h));
    if b.abs() <= eps && c.abs() <= eps {
        // Image columns run along x, rows along y.
        let orient = match (a > 0.0, d < 0.0) {
            (true, true) => Orient { rotate_cw: 0, flip_h: false },
            (false, true) => Orient { rotate_cw: 0, flip_h: true },
            (false, false) => Orient { rotate_cw: 180, flip_h: false },
            (true, false) => Orient { rotate_cw: 180, flip_h: true },
        };
        Some(Placement { orient, dpi_x: w * 72.0 / a.abs(), dpi_y: h * 72.0 / d.abs() })
    } else if a.abs() <= eps && d.abs() <= eps {
        // Image columns run along y, rows along x.
        let orient = match (b > 0.0, c > 0.0) {
            (true, true) => Orient { rotate_cw: 90, flip_h: false },
            (false, false) => Orient { rotate_cw: 270, flip_h: false },
            (true, false) => Orient { rotate_cw: 90, flip_h: true },
            (false, true) => Orient { rotate_cw: 270, flip_h: true },
        };
        Some(Placement { orient, dpi_x: h * 72.0 / c.abs(), dpi_y: w * 72.0 / b.abs() })
    } else {
        None
    }
}

/// Applies an orientation to an image.
pub(crate) fn apply_orient(img: DynamicImage, o: Orient) -> DynamicImage {
    let img = match o.rotate_cw {
        90 => img.rotate90(),
        180 => img.rotate180(),
        270 => img.rotate270(),
        _ => img,
    };
    if o.flip_h { img.fliph() } else { img }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_bit_gray_with_and_without_inverting_decode() {
        // 10 px wide, 2 rows: row stride 2 bytes.
        let data = [0b1010_0000, 0b0100_0000, 0xFF, 0xC0];
        let (img, w) = samples_to_image(&data, 10, 2, 1, &Space::Gray, None).unwrap();
        assert!(w.is_empty());
        let g = img.to_luma8();
        assert_eq!(g.get_pixel(0, 0)[0], 255);
        assert_eq!(g.get_pixel(1, 0)[0], 0);
        assert_eq!(g.get_pixel(9, 0)[0], 255);
        assert_eq!(g.get_pixel(9, 1)[0], 255);
        let (inv, _) = samples_to_image(&data, 10, 2, 1, &Space::Gray, Some(&[1.0, 0.0])).unwrap();
        assert_eq!(inv.to_luma8().get_pixel(0, 0)[0], 0);
    }

    #[test]
    fn rgb_cmyk_indexed_and_16_bit() {
        let (img, _) = samples_to_image(&[10, 20, 30], 1, 1, 8, &Space::Rgb, None).unwrap();
        assert_eq!(img.to_rgb8().get_pixel(0, 0).0, [10, 20, 30]);
        let (img, _) = samples_to_image(&[255, 0, 0, 0], 1, 1, 8, &Space::Cmyk, None).unwrap();
        assert_eq!(img.to_rgb8().get_pixel(0, 0).0, [0, 255, 255]);
        let pal = Space::Indexed { base: Box::new(Space::Rgb), hival: 1, lookup: vec![0, 0, 0, 200, 100, 50] };
        let (img, _) = samples_to_image(&[0b0001_0000], 2, 1, 2, &pal, None).unwrap();
        assert_eq!(img.to_rgb8().get_pixel(1, 0).0, [200, 100, 50]);
        let (img, _) = samples_to_image(&[0x80, 0xFF], 1, 1, 16, &Space::Gray, None).unwrap();
        assert_eq!(img.to_luma8().get_pixel(0, 0)[0], 128);
    }

    #[test]
    fn short_data_is_padded_or_refused() {
        let (_, w) = samples_to_image(&[1, 2, 3], 2, 2, 8, &Space::Gray, None).unwrap();
        assert_eq!(w.len(), 1);
        assert!(samples_to_image(&[1], 2, 2, 8, &Space::Gray, None).is_err());
        assert!(samples_to_image(&[1], 1, 1, 3, &Space::Gray, None).is_err());
    }

    const UPRIGHT: Orient = Orient { rotate_cw: 0, flip_h: false };

    #[test]
    fn placement_of_a_plain_scan() {
        // PDF "cm" 595 0 0 842 0 0, page 595x842 flipped to y-down: [595 0 0 -842 0 842].
        let p = placement([595.0, 0.0, 0.0, -842.0, 0.0, 842.0], 2480, 3508, 595.0, 842.0).unwrap();
        assert_eq!(p.orient, UPRIGHT);
        assert!((p.dpi_x - 300.1).abs() < 0.1 && (p.dpi_y - 299.97).abs() < 0.1, "{p:?}");
    }

    #[test]
    fn placement_refuses_partial_or_skewed_images() {
        assert!(placement([300.0, 0.0, 0.0, -842.0, 0.0, 842.0], 100, 100, 595.0, 842.0).is_none());
        assert!(placement([595.0, 10.0, 10.0, -842.0, 0.0, 842.0], 100, 100, 595.0, 842.0).is_none());
        assert!(placement([0.0; 6], 100, 100, 595.0, 842.0).is_none());
    }

    #[test]
    fn placement_orientations_match_image_ops() {
        // A 3x2 image with a marked top-left pixel, placed in each of the 8 ways; the
        // marked pixel must land where the transform puts image (u=0, v=0), whose unit
        // square coordinates are (0, 1).
        let mut src = GrayImage::new(3, 2);
        src.put_pixel(0, 0, image::Luma([255]));
        let src = DynamicImage::ImageLuma8(src);
        for (m, pw, ph) in [
            ([3.0, 0.0, 0.0, -2.0, 0.0, 2.0], 3.0, 2.0),
            ([-3.0, 0.0, 0.0, -2.0, 3.0, 2.0], 3.0, 2.0),
            ([3.0, 0.0, 0.0, 2.0, 0.0, 0.0], 3.0, 2.0),
            ([-3.0, 0.0, 0.0, 2.0, 3.0, 0.0], 3.0, 2.0),
            ([0.0, 3.0, 2.0, 0.0, 0.0, 0.0], 2.0, 3.0),
            ([0.0, -3.0, -2.0, 0.0, 2.0, 3.0], 2.0, 3.0),
            ([0.0, 3.0, -2.0, 0.0, 2.0, 0.0], 2.0, 3.0),
            ([0.0, -3.0, 2.0, 0.0, 0.0, 3.0], 2.0, 3.0),
        ] {
            let p = placement(m, 3, 2, pw, ph).unwrap_or_else(|| panic!("{m:?}"));
            let out = apply_orient(src.clone(), p.orient).to_luma8();
            assert_eq!((out.width() as f64, out.height() as f64), (pw, ph), "{m:?}");
            let [a, b, c, d, e, f] = m;
            // Centre of pixel (0,0): unit (0.5/3, 1 - 0.5/2).
            let (s, t) = (0.5 / 3.0, 0.75);
            let (x, y) = (a * s + c * t + e, b * s + d * t + f);
            assert_eq!(out.get_pixel(x as u32, y as u32)[0], 255, "{m:?} -> {:?}", p.orient);
            assert!((p.dpi_x - 72.0).abs() < 1e-9 && (p.dpi_y - 72.0).abs() < 1e-9);
        }
    }
}
