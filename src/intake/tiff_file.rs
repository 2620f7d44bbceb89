//! Multi-page TIFF decoding (uncompressed, LZW, Deflate, PackBits, CCITT G3/G4; bilevel,
//! gray and RGB, with or without alpha), one page at a time.

use super::{DEFAULT_DPI, PageFailure};
use crate::model::{ColorMode, PageImage};
use image::{DynamicImage, GrayImage, RgbImage};
use std::fs::File;
use std::io::BufReader;
use std::path::Path;
use tiff::ColorType;
use tiff::decoder::{Decoder, DecodingResult, Limits};
use tiff::tags::Tag;

fn decoder(path: &Path) -> Result<Decoder<BufReader<File>>, String> {
    let file = File::open(path).map_err(|e| e.to_string())?;
    let mut limits = Limits::default();
    // A 600 dpi A3 colour page is ~210 MB decoded; allow that, not more.
    limits.decoding_buffer_size = 512 << 20;
    Ok(Decoder::new(BufReader::new(file)).map_err(|e| e.to_string())?.with_limits(limits))
}

/// Number of pages (image directories), read without decoding pixels.
pub fn page_count(path: &Path) -> Result<usize, String> {
    let mut dec = decoder(path)?;
    let mut n = 1;
    while dec.more_images() {
        dec.next_image().map_err(|e| format!("page {} directory: {e}", n))?;
        n += 1;
    }
    Ok(n)
}

/// Iterator over the pages of one TIFF file.
pub struct TiffPages {
    dec: Option<Decoder<BufReader<File>>>,
    index: usize,
    first: bool,
}

impl TiffPages {
    pub fn open(path: &Path, first_index: usize) -> Result<TiffPages, String> {
        Self::open_at(path, first_index, 0)
    }

    /// Starts at the file's page `skip` (directories before it are read, pixels are not);
    /// `first_index` is the batch index of the file's first page.
    pub fn open_at(path: &Path, first_index: usize, skip: usize) -> Result<TiffPages, String> {
        let mut dec = decoder(path)?;
        for n in 0..skip {
            dec.next_image().map_err(|e| format!("page {} directory: {e}", n + 1))?;
        }
        Ok(TiffPages { dec: Some(dec), index: first_index + skip, first: true })
    }
}

impl Iterator for TiffPages {
    type Item = Result<PageImage, PageFailure>;

    fn next(&mut self) -> Option<Self::Item> {
        let dec = self.dec.as_mut()?;
        if !self.first {
            if !dec.more_images() {
                self.dec = None;
                return None;
            }
            if let Err(e) = dec.next_image() {
                // The directory chain is broken: nothing after this can be found.
                self.dec = None;
                return Some(Err(PageFailure { index: self.index, message: format!("TIFF directory unreadable: {e}") }));
            }
        }
        self.first = false;
        let index = self.index;
        self.index += 1;
        Some(decode_current(dec, index).map_err(|message| PageFailure { index, message }))
    }
}

fn decode_current(dec: &mut Decoder<BufReader<File>>, index: usize) -> Result<PageImage, String> {
    let (w, h) = dec.dimensions().map_err(|e| e.to_string())?;
    let color = dec.colortype().map_err(|e| e.to_string())?;
    let mut warnings = Vec::new();
    let dpi = resolution(dec).unwrap_or_else(|| {
        warnings.push(format!("no resolution in the file; assumed {DEFAULT_DPI} dpi"));
        DEFAULT_DPI
    });
    let data = dec.read_image().map_err(|e| format!("page data unreadable: {e}"))?;
    let (image, mode) = to_image(w, h, color, data)?;
    Ok(PageImage { index, image, color: mode, dpi, warnings })
}

fn resolution(dec: &mut Decoder<BufReader<File>>) -> Option<f32> {
    // Resolutions are RATIONALs, which `Value::into_f32` does not convert.
    let x = match dec.find_tag(Tag::XResolution).ok()?? {
        tiff::decoder::ifd::Value::Rational(n, d) if d != 0 => n as f32 / d as f32,
        v => v.into_f32().ok()?,
    };
    let unit = dec.find_tag_unsigned::<u16>(Tag::ResolutionUnit).ok().flatten().unwrap_or(2);
    let dpi = match unit {
        3 => x * 2.54,
        2 => x,
        _ => return None, // no absolute unit
    };
    (dpi.is_finite() && (50.0..=4800.0).contains(&dpi)).then_some(dpi)
}

fn to_u8(data: DecodingResult) -> Result<Vec<u8>, String> {
    Ok(match data {
        DecodingResult::U8(v) => v,
        DecodingResult::U16(v) => v.into_iter().map(|s| (s >> 8) as u8).collect(),
        _ => return Err("unsupported sample format (only 1, 8 and 16-bit integer samples)".into()),
    })
}

fn to_image(w: u32, h: u32, color: ColorType, data: DecodingResult) -> Result<(DynamicImage, ColorMode), String> {
    let n = w as usize * h as usize;
    let short = || format!("page data truncated ({w}x{h})");
    match color {
        ColorType::Gray(1) => {
            let packed = to_u8(data)?;
            let stride = (w as usize).div_ceil(8);
            if packed.len() < stride * h as usize {
                return Err(short());
            }
            // The decoder has already applied WhiteIsZero, so 1 = white here.
            let img = GrayImage::from_fn(w, h, |x, y| {
                let byte = packed[y as usize * stride + x as usize / 8];
                image::Luma([if byte & (0x80 >> (x % 8)) != 0 { 255 } else { 0 }])
            });
            Ok((DynamicImage::ImageLuma8(img), ColorMode::Bilevel))
        }
        ColorType::Gray(8 | 16) | ColorType::GrayA(8 | 16) => {
            let samples = to_u8(data)?;
            let spp = if matches!(color, ColorType::GrayA(_)) { 2 } else { 1 };
            if samples.len() < n * spp {
                return Err(short());
            }
            let px: Vec<u8> = samples.chunks_exact(spp).take(n).map(|c| if spp == 2 { over_white(c[0], c[1]) } else { c[0] }).collect();
            Ok((DynamicImage::ImageLuma8(GrayImage::from_raw(w, h, px).ok_or_else(short)?), ColorMode::Gray))
        }
        ColorType::RGB(8 | 16) | ColorType::RGBA(8 | 16) => {
            let samples = to_u8(data)?;
            let spp = if matches!(color, ColorType::RGBA(_)) { 4 } else { 3 };
            if samples.len() < n * spp {
                return Err(short());
            }
            let mut px = Vec::with_capacity(n * 3);
            for c in samples.chunks_exact(spp).take(n) {
                let a = if spp == 4 { c[3] } else { 255 };
                px.extend([over_white(c[0], a), over_white(c[1], a), over_white(c[2], a)]);
            }
            Ok((DynamicImage::ImageRgb8(RgbImage::from_raw(w, h, px).ok_or_else(short)?), ColorMode::Rgb))
        }
        ColorType::Palette(8) => Err("palette TIFF pages are not supported; rescan as gray or colour".into()),
        other => Err(format!("unsupported TIFF colour type {other:?}")),
    }
}

/// Composites a sample with alpha onto white paper.
fn over_white(v: u8, a: u8) -> u8 {
    ((v as u32 * a as u32 + 255 * (255 - a as u32) + 127) / 255) as u8
}

#[cfg(test)]
mod tests {
    use super::*;
    use tiff::encoder::{Compression, DeflateLevel, Rational, TiffEncoder, colortype};

    fn write_pages(path: &Path, pages: &[(u32, u32, u8)]) {
        let mut enc = TiffEncoder::new(std::fs::File::create(path).unwrap()).unwrap();
        for (i, &(w, h, v)) in pages.iter().enumerate() {
            let data = vec![v; (w * h) as usize];
            enc = enc.with_compression(match i % 4 {
                0 => Compression::Lzw,
                1 => Compression::Deflate(DeflateLevel::default()),
                2 => Compression::Packbits,
                _ => Compression::Uncompressed,
            });
            let mut img = enc.new_image::<colortype::Gray8>(w, h).unwrap();
            img.resolution(tiff::tags::ResolutionUnit::Inch, Rational { n: 200, d: 1 });
            img.write_data(&data).unwrap();
        }
    }

    #[test]
    fn decodes_every_page_with_its_resolution() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.tif");
        write_pages(&path, &[(40, 30, 10), (50, 20, 200), (10, 10, 128), (12, 7, 3)]);
        assert_eq!(page_count(&path).unwrap(), 4);
        let pages: Vec<_> = TiffPages::open(&path, 5).unwrap().map(|p| p.unwrap()).collect();
        assert_eq!(pages.len(), 4);
        assert_eq!(pages.iter().map(|p| p.index).collect::<Vec<_>>(), vec![5, 6, 7, 8]);
        assert_eq!((pages[1].image.width(), pages[1].image.height()), (50, 20));
        assert_eq!(pages[1].image.to_luma8().get_pixel(3, 3)[0], 200);
        assert!(pages.iter().all(|p| p.dpi == 200.0 && p.color == ColorMode::Gray && p.warnings.is_empty()));
    }

    #[test]
    fn a_truncated_file_fails_pages_not_the_stream() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.tif");
        write_pages(&path, &[(300, 300, 90), (300, 300, 91)]);
        let bytes = std::fs::read(&path).unwrap();
        // Cut into the pixel data of the first page: its strips are incomplete.
        std::fs::write(&path, &bytes[..bytes.len() - 150]).unwrap();
        let results: Vec<_> = TiffPages::open(&path, 0).map(|it| it.collect::<Vec<_>>()).unwrap_or_default();
        assert!(results.iter().any(|r| r.is_err()), "truncation must be reported");
    }

    #[test]
    fn a_page_range_decodes_just_those_pages() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.tif");
        write_pages(&path, &[(40, 30, 10), (50, 20, 200), (10, 10, 128), (12, 7, 3), (9, 9, 77)]);
        let input = crate::intake::Input::open(&path).unwrap();
        let pages: Vec<_> = input.pages_range(1..4).map(|p| p.unwrap()).collect();
        assert_eq!(pages.iter().map(|p| p.index).collect::<Vec<_>>(), vec![1, 2, 3]);
        assert_eq!(pages[0].image.width(), 50);
        assert_eq!(pages[2].image.to_luma8().get_pixel(1, 1)[0], 3);
        assert_eq!(input.pages_range(4..5).map(|p| p.unwrap().index).collect::<Vec<_>>(), vec![4]);
        assert_eq!(input.pages_range(5..5).count(), 0);
        // A folder of two files: ranges cross the file boundary.
        let folder = dir.path().join("f");
        std::fs::create_dir(&folder).unwrap();
        write_pages(&folder.join("a.tif"), &[(5, 5, 1), (6, 6, 2)]);
        write_pages(&folder.join("b.tif"), &[(7, 7, 3), (8, 8, 4)]);
        let input = crate::intake::Input::open(&folder).unwrap();
        let got: Vec<_> = input.pages_range(1..3).map(|p| p.unwrap()).map(|p| (p.index, p.image.width())).collect();
        assert_eq!(got, vec![(1, 6), (2, 7)]);
    }
}
