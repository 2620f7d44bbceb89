//! Two-tone pages: an image that holds only two neutral colours (a 2-colour palette PNG or
//! TIFF, a gray page of two levels, an RGB page of black and white) is a bilevel scan and
//! is kept 1-bit from here on (stored CCITT G4, never as 8-bit JPEG).
//!
//! Pure; called by the decoders ([`super::image_file`], [`super::tiff_file`]). Two
//! colours that are not both neutral (blue ink on white) stay colour: Decree 30/2020
//! App. I asks for colour to be kept where the scan is in colour.

use image::{DynamicImage, GrayImage};

/// The page as 0/255 samples (the darker colour black) if it holds at most two distinct
/// colours and each is neutral (R = G = B); `None` otherwise. Stops at the third colour
/// seen, so a photo is rejected after a few pixels.
pub fn two_tone(img: &DynamicImage) -> Option<GrayImage> {
    let (w, h) = (img.width(), img.height());
    if w == 0 || h == 0 {
        return None;
    }
    let levels = match img {
        DynamicImage::ImageLuma8(g) => two_levels(g.as_raw().iter().copied())?,
        DynamicImage::ImageRgb8(c) => {
            let neutral = c.as_raw().chunks_exact(3).map(|p| (p[0] == p[1] && p[1] == p[2]).then_some(p[0]));
            let mut seen: [Option<u8>; 2] = [None, None];
            for v in neutral {
                let v = v?;
                if !note(&mut seen, v) {
                    return None;
                }
            }
            seen
        }
        _ => return None,
    };
    let dark = match levels {
        [Some(a), Some(b)] => a.min(b),
        // One colour only: a blank black or white page; any other level stays as it is.
        [Some(0), None] => 0,
        [Some(255), None] => 0,
        _ => return None,
    };
    let out: Vec<u8> = match img {
        DynamicImage::ImageLuma8(g) => g.as_raw().iter().map(|&v| if v == dark { 0 } else { 255 }).collect(),
        DynamicImage::ImageRgb8(c) => c.as_raw().chunks_exact(3).map(|p| if p[0] == dark { 0 } else { 255 }).collect(),
        _ => return None,
    };
    GrayImage::from_raw(w, h, out)
}

fn two_levels(values: impl Iterator<Item = u8>) -> Option<[Option<u8>; 2]> {
    let mut seen = [None, None];
    for v in values {
        if !note(&mut seen, v) {
            return None;
        }
    }
    Some(seen)
}

/// Records `v` among at most two levels; false when it would be a third.
fn note(seen: &mut [Option<u8>; 2], v: u8) -> bool {
    match *seen {
        [Some(a), _] if a == v => true,
        [_, Some(b)] if b == v => true,
        [None, _] => {
            seen[0] = Some(v);
            true
        }
        [_, None] => {
            seen[1] = Some(v);
            true
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_neutral_colours_become_black_and_white() {
        let mut c = image::RgbImage::from_pixel(4, 2, image::Rgb([240, 240, 240]));
        c.put_pixel(1, 1, image::Rgb([20, 20, 20]));
        let g = two_tone(&DynamicImage::ImageRgb8(c)).unwrap();
        assert_eq!(g.get_pixel(1, 1)[0], 0);
        assert_eq!(g.get_pixel(0, 0)[0], 255);
        assert_eq!(g.as_raw().iter().filter(|&&v| v == 0).count(), 1);
    }

    #[test]
    fn gray_of_two_levels_is_two_tone() {
        let mut g = GrayImage::from_pixel(3, 3, image::Luma([200]));
        g.put_pixel(2, 2, image::Luma([90]));
        let out = two_tone(&DynamicImage::ImageLuma8(g)).unwrap();
        assert_eq!(out.get_pixel(2, 2)[0], 0);
        assert_eq!(out.get_pixel(0, 2)[0], 255);
    }

    #[test]
    fn three_levels_or_coloured_ink_are_not() {
        let mut g = GrayImage::from_pixel(3, 3, image::Luma([200]));
        g.put_pixel(2, 2, image::Luma([90]));
        g.put_pixel(1, 2, image::Luma([91]));
        assert!(two_tone(&DynamicImage::ImageLuma8(g)).is_none());
        let mut c = image::RgbImage::from_pixel(4, 2, image::Rgb([255, 255, 255]));
        c.put_pixel(1, 1, image::Rgb([20, 20, 200]));
        assert!(two_tone(&DynamicImage::ImageRgb8(c)).is_none());
    }

    #[test]
    fn one_colour_pages_keep_their_tone() {
        let white = two_tone(&DynamicImage::ImageLuma8(GrayImage::from_pixel(2, 2, image::Luma([255])))).unwrap();
        assert!(white.as_raw().iter().all(|&v| v == 255));
        let black = two_tone(&DynamicImage::ImageLuma8(GrayImage::from_pixel(2, 2, image::Luma([0])))).unwrap();
        assert!(black.as_raw().iter().all(|&v| v == 0));
    }
}
