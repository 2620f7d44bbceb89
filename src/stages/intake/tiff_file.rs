//! Multi-page TIFF decoding (uncompressed, LZW, Deflate, PackBits, CCITT G3/G4; bilevel,
//! gray and RGB, with or without alpha, CMYK, palette), one page at a time.
//!
//! The tiff crate reads every page, except the most common scanner page: 8-bit gray or
//! RGB in Deflate strips, which [`deflate_strips`] reads itself (libdeflate on each whole
//! strip is about twice as fast as the crate's streaming inflate). Anything that path does
//! not expect, or cannot decode, goes to the tiff crate, which gives the page's error.
//! Palette pages, which the tiff crate refuses, are read from their strips here too
//! ([`palette_strips`]).

use super::{DEFAULT_DPI, PageFailure, limits};
use crate::model::{ColorMode, PageImage};
use image::{DynamicImage, GrayImage, RgbImage};
use std::fs::File;
use std::io::BufReader;
use std::os::unix::fs::FileExt;
use std::path::Path;
use tiff::ColorType;
use tiff::decoder::{Decoder, DecodingResult, Limits};
use tiff::tags::Tag;

/// Largest decoded page, bytes (the page budget, [`limits`]).
const MAX_DECODED_BYTES: usize = limits::MAX_DECODED_BYTES as usize;

fn decoder(path: &Path) -> Result<Decoder<BufReader<File>>, String> {
    let file = File::open(path).map_err(|e| e.to_string())?;
    let mut limits = Limits::default();
    limits.decoding_buffer_size = MAX_DECODED_BYTES;
    Ok(Decoder::new(BufReader::new(file)).map_err(|e| e.to_string())?.with_limits(limits))
}

/// Number of pages (image directories), read without decoding pixels, and where the file
/// breaks if a directory after the first cannot be read: the page of that directory is
/// counted (it comes out as a failure) and nothing after it can be found.
pub fn page_count(path: &Path) -> Result<(usize, Option<String>), String> {
    let mut dec = decoder(path)?;
    let mut n = 1;
    while dec.more_images() {
        n += 1;
        if let Err(e) = dec.next_image() {
            return Ok((n, Some(break_message(n - 1, &e))));
        }
    }
    Ok((n, None))
}

/// Where a file whose directory of page `index` (0-based, in the file) cannot be read
/// breaks. The same text for the page count and for the page's failure.
fn break_message(index: usize, e: &tiff::TiffError) -> String {
    format!(
        "the TIFF breaks at its page {}: that page's directory cannot be read ({e}); the {index} page(s) before it were read, nothing after it can be found",
        index + 1
    )
}

/// Iterator over the pages of one TIFF file.
pub struct TiffPages {
    dec: Option<Decoder<BufReader<File>>>,
    /// A second handle on the file for [`deflate_strips`] (positioned reads, so the
    /// decoder's own position is never disturbed).
    raw: File,
    index: usize,
    /// The batch index of the file's page 0.
    first_index: usize,
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
            dec.next_image().map_err(|e| format!("{}{}", super::DAMAGED_FILE, break_message(n + 1, &e)))?;
        }
        let raw = File::open(path).map_err(|e| e.to_string())?;
        Ok(TiffPages { dec: Some(dec), raw, index: first_index + skip, first_index, first: true })
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
                let message = format!("{}{}", super::DAMAGED_FILE, break_message(self.index - self.first_index, &e));
                return Some(Err(PageFailure { index: self.index, message }));
            }
        }
        self.first = false;
        let index = self.index;
        self.index += 1;
        Some(decode_current(dec, &self.raw, index).map_err(|message| PageFailure { index, message }))
    }
}

fn decode_current(dec: &mut Decoder<BufReader<File>>, raw: &File, index: usize) -> Result<PageImage, String> {
    let (w, h) = dec.dimensions().map_err(|e| e.to_string())?;
    // The tiff crate refuses palette pages (PhotometricInterpretation 3); their strips are
    // read here ([`palette_strips`]) and mapped through the ColorMap by `to_image`.
    let palette_bits = palette_page(dec);
    let color = match palette_bits {
        Some(bits) => ColorType::Palette(bits),
        None => dec.colortype().map_err(|e| e.to_string())?,
    };
    // The page budget, from the directory, before any pixel is decoded.
    let declared = resolution(dec);
    let (w64, h64) = (u64::from(w), u64::from(h));
    limits::check_pixels(w64, h64)?;
    if let Some(dpi) = declared {
        limits::check_dpi(w64, h64, f64::from(dpi), f64::from(dpi))?;
    }
    let bits = u64::from(color.bit_depth()) * u64::from(color.num_samples());
    limits::check_bytes(w64, h64, (w64 * bits).div_ceil(8).saturating_mul(h64))?;
    let mut warnings = Vec::new();
    let dpi = declared.unwrap_or_else(|| {
        warnings.push(format!("no resolution in the file; assumed {DEFAULT_DPI} dpi"));
        DEFAULT_DPI
    });
    let samples = match palette_bits {
        Some(bits) => palette_strips(dec, raw, w, h, bits)?,
        None => match deflate_strips(dec, raw, w, h, color) {
            Some(samples) => samples,
            None => to_u8(dec.read_image().map_err(|e| format!("page data unreadable: {e}"))?)?,
        },
    };
    let layout = layout(dec, color);
    let (image, mode) = to_image(w, h, color, &layout, samples)?;
    // A palette page of two neutral colours is a bilevel scan (kept 1-bit, stored G4).
    let (image, mode) = match (palette_bits, mode) {
        (Some(_), ColorMode::Gray | ColorMode::Rgb) => match super::two_tone::two_tone(&image) {
            Some(bilevel) => (DynamicImage::ImageLuma8(bilevel), ColorMode::Bilevel),
            None => (image, mode),
        },
        _ => (image, mode),
    };
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

/// The page's samples, if it is 8-bit gray or RGB (alpha allowed), BlackIsZero or RGB,
/// in Deflate-compressed chunky strips with no predictor or the horizontal one; `None`
/// for anything else and for any strip that does not decode to exactly its rows.
fn deflate_strips(dec: &mut Decoder<BufReader<File>>, raw: &File, w: u32, h: u32, color: ColorType) -> Option<Vec<u8>> {
    let spp = match color {
        ColorType::Gray(8) => 1,
        ColorType::GrayA(8) => 2,
        ColorType::RGB(8) => 3,
        ColorType::RGBA(8) => 4,
        _ => return None,
    };
    fn tag(dec: &mut Decoder<BufReader<File>>, t: Tag, default: u64) -> Option<u64> {
        dec.find_tag_unsigned::<u64>(t).ok().map(|v| v.unwrap_or(default))
    }
    let compression = tag(dec, Tag::Compression, 1)?;
    let photometric = tag(dec, Tag::PhotometricInterpretation, u64::MAX)?;
    let simple = matches!(compression, 8 | 32946)
        && photometric == if spp <= 2 { 1 } else { 2 }
        && tag(dec, Tag::PlanarConfiguration, 1)? == 1
        // One SampleFormat per sample: all unsigned integers.
        && match dec.find_tag(Tag::SampleFormat).ok()? {
            None => true,
            Some(v) => v.into_u64_vec().ok()?.iter().all(|&f| f == 1),
        }
        && dec.find_tag(Tag::TileOffsets).ok()?.is_none();
    let predictor = tag(dec, Tag::Predictor, 1)?;
    if !simple || !matches!(predictor, 1 | 2) {
        return None;
    }
    let rows_per_strip = (tag(dec, Tag::RowsPerStrip, h as u64)?.min(h as u64) as usize).max(1);
    let offsets = dec.get_tag_u64_vec(Tag::StripOffsets).ok()?;
    let counts = dec.get_tag_u64_vec(Tag::StripByteCounts).ok()?;
    let (w, h) = (w as usize, h as usize);
    if offsets.len() != h.div_ceil(rows_per_strip) || counts.len() != offsets.len() {
        return None;
    }
    let row = w * spp;
    // Over the budget: the tiff crate refuses the page with its limit error.
    limits::check_pixels(w as u64, h as u64).ok()?;
    let size = row.checked_mul(h).filter(|&n| n <= MAX_DECODED_BYTES)?;
    let mut out = vec![0u8; size];
    let mut inflater = libdeflater::Decompressor::new();
    let mut strip = Vec::new();
    for (i, (&offset, &count)) in offsets.iter().zip(&counts).enumerate() {
        if count > MAX_DECODED_BYTES as u64 {
            return None;
        }
        strip.resize(count as usize, 0);
        raw.read_exact_at(&mut strip, offset).ok()?;
        let start = i * rows_per_strip * row;
        let rows = rows_per_strip.min(h - i * rows_per_strip);
        let target = &mut out[start..start + rows * row];
        if inflater.zlib_decompress(&strip, target).ok()? != target.len() {
            return None;
        }
    }
    if predictor == 2 {
        for line in out.chunks_exact_mut(row) {
            match spp {
                1 => undo_horizontal::<1>(line),
                2 => undo_horizontal::<2>(line),
                3 => undo_horizontal::<3>(line),
                _ => undo_horizontal::<4>(line),
            }
        }
    }
    Some(out)
}

/// The bits per index of a palette page (PhotometricInterpretation 3, one sample of 1, 2,
/// 4 or 8 bits), or `None` for any other page.
fn palette_page(dec: &mut Decoder<BufReader<File>>) -> Option<u8> {
    if dec.find_tag_unsigned::<u16>(Tag::PhotometricInterpretation).ok()?? != 3 {
        return None;
    }
    let bits = dec.find_tag_unsigned::<u16>(Tag::BitsPerSample).ok().flatten().unwrap_or(1);
    let spp = dec.find_tag_unsigned::<u16>(Tag::SamplesPerPixel).ok().flatten().unwrap_or(1);
    (spp == 1 && matches!(bits, 1 | 2 | 4 | 8)).then_some(bits as u8)
}

/// The packed index rows (byte-padded, `bits` per pixel) of a palette page, read from its
/// strips: uncompressed, LZW, Deflate or PackBits, no predictor. Every strip is inflated
/// into its own rows of the page buffer, never past them (a hostile strip cannot grow).
fn palette_strips(dec: &mut Decoder<BufReader<File>>, raw: &File, w: u32, h: u32, bits: u8) -> Result<Vec<u8>, String> {
    let tag = |dec: &mut Decoder<BufReader<File>>, t: Tag, default: u64| dec.find_tag_unsigned::<u64>(t).ok().flatten().unwrap_or(default);
    let compression = tag(dec, Tag::Compression, 1);
    if tag(dec, Tag::Predictor, 1) != 1 {
        return Err("palette page with a predictor (not read)".into());
    }
    if dec.find_tag(Tag::TileOffsets).ok().flatten().is_some() {
        return Err("tiled palette page (not read; strips are)".into());
    }
    let (w, h) = (w as usize, h as usize);
    let rows_per_strip = (tag(dec, Tag::RowsPerStrip, h as u64).min(h as u64) as usize).max(1);
    let offsets = dec.get_tag_u64_vec(Tag::StripOffsets).map_err(|e| format!("palette page without strips: {e}"))?;
    let counts = dec.get_tag_u64_vec(Tag::StripByteCounts).map_err(|e| format!("palette page without strip sizes: {e}"))?;
    if offsets.len() < h.div_ceil(rows_per_strip) || counts.len() < offsets.len() {
        return Err(format!("palette page with {} strips for {h} rows of {rows_per_strip}", offsets.len()));
    }
    let stride = (w * bits as usize).div_ceil(8);
    let size = stride.checked_mul(h).filter(|&n| n <= MAX_DECODED_BYTES).ok_or("palette page over the page budget")?;
    let mut out = vec![0u8; size];
    let mut strip = Vec::new();
    for i in 0..h.div_ceil(rows_per_strip) {
        let (offset, count) = (offsets[i], counts[i]);
        if count > MAX_DECODED_BYTES as u64 {
            return Err(format!("palette strip {i} declares {count} bytes, over the page budget"));
        }
        strip.resize(count as usize, 0);
        raw.read_exact_at(&mut strip, offset).map_err(|e| format!("{}palette strip {i} cannot be read: {e}", super::DAMAGED_FILE))?;
        let rows = rows_per_strip.min(h - i * rows_per_strip);
        let target = &mut out[i * rows_per_strip * stride..][..rows * stride];
        let written = match compression {
            1 => {
                let n = strip.len().min(target.len());
                target[..n].copy_from_slice(&strip[..n]);
                n
            }
            5 => {
                let mut lzw = weezl::decode::Decoder::with_tiff_size_switch(weezl::BitOrder::Msb, 8);
                let (mut read, mut written) = (0, 0);
                while written < target.len() {
                    let r = lzw.decode_bytes(&strip[read..], &mut target[written..]);
                    read += r.consumed_in;
                    written += r.consumed_out;
                    match r.status {
                        Ok(weezl::LzwStatus::Ok) => {}
                        Ok(_) => break,
                        Err(e) => return Err(format!("palette strip {i}: LZW data unreadable ({e})")),
                    }
                }
                written
            }
            8 | 32946 => {
                libdeflater::Decompressor::new().zlib_decompress(&strip, target).map_err(|e| format!("palette strip {i}: Deflate data unreadable ({e})"))?
            }
            32773 => unpack_bits(&strip, target),
            other => return Err(format!("palette page with compression {other} (uncompressed, LZW, Deflate and PackBits are read)")),
        };
        if written < target.len() {
            return Err(format!("{}the image is incomplete: palette strip {i} holds {written} of its {} bytes", super::DAMAGED_FILE, target.len()));
        }
    }
    Ok(out)
}

/// PackBits (Apple, TIFF compression 32773) into `out`, never past its end; the bytes
/// written.
fn unpack_bits(src: &[u8], out: &mut [u8]) -> usize {
    let (mut i, mut o) = (0usize, 0usize);
    while i < src.len() && o < out.len() {
        let n = src[i] as i8;
        i += 1;
        if n >= 0 {
            let len = (n as usize + 1).min(src.len() - i).min(out.len() - o);
            out[o..o + len].copy_from_slice(&src[i..i + len]);
            i += n as usize + 1;
            o += len;
        } else if n != -128 {
            let Some(&v) = src.get(i) else { break };
            let len = ((1 - n as isize) as usize).min(out.len() - o);
            out[o..o + len].fill(v);
            i += 1;
            o += len;
        }
    }
    o
}

/// Undoes TIFF's horizontal differencing on one row of `N`-sample pixels. The running
/// sums stay in registers: `line[x] += line[x - N]` would wait on a store per byte.
fn undo_horizontal<const N: usize>(line: &mut [u8]) {
    #[cfg(target_arch = "x86_64")]
    if N == 1 {
        return undo_horizontal_gray_sse2(line);
    }
    let mut prev = [0u8; N];
    for px in line.chunks_exact_mut(N) {
        for c in 0..N {
            prev[c] = prev[c].wrapping_add(px[c]);
            px[c] = prev[c];
        }
    }
}

/// [`undo_horizontal`] for one-sample pixels: a prefix sum 16 bytes at a time (four
/// shifted adds, then the running total of the bytes before, broadcast), the same bytes.
#[cfg(target_arch = "x86_64")]
fn undo_horizontal_gray_sse2(line: &mut [u8]) {
    use std::arch::x86_64::*;
    let mut chunks = line.chunks_exact_mut(16);
    // SAFETY: SSE2 is part of x86_64; loads and stores are unaligned, 16 bytes in bounds.
    let carry = unsafe {
        let mut carry = _mm_setzero_si128();
        for c in chunks.by_ref() {
            let mut x = _mm_loadu_si128(c.as_ptr() as *const __m128i);
            x = _mm_add_epi8(x, _mm_slli_si128(x, 1));
            x = _mm_add_epi8(x, _mm_slli_si128(x, 2));
            x = _mm_add_epi8(x, _mm_slli_si128(x, 4));
            x = _mm_add_epi8(x, _mm_slli_si128(x, 8));
            x = _mm_add_epi8(x, carry);
            _mm_storeu_si128(c.as_mut_ptr() as *mut __m128i, x);
            // Byte 15 into every byte.
            let hi = _mm_unpackhi_epi8(x, x);
            carry = _mm_shuffle_epi32(_mm_shufflehi_epi16(hi, 0xFF), 0xFF);
        }
        _mm_cvtsi128_si32(carry) as u8
    };
    let mut prev = carry;
    for v in chunks.into_remainder() {
        prev = prev.wrapping_add(*v);
        *v = prev;
    }
}

/// What the directory says about the samples beyond what [`ColorType`] carries: whether
/// the first extra sample is alpha, and the palette of a palette page.
struct Layout {
    /// The first extra sample is alpha (ExtraSamples 1 or 2, or absent with one extra).
    extra_alpha: bool,
    /// ColorMap: all reds, then all greens, then all blues (16-bit).
    palette: Vec<u16>,
}

fn layout(dec: &mut Decoder<BufReader<File>>, color: ColorType) -> Layout {
    let extra = dec.find_tag_unsigned_vec::<u16>(Tag::ExtraSamples).ok().flatten();
    let extra_alpha = match extra.as_deref() {
        Some([first, ..]) => matches!(first, 1 | 2),
        // A gray page with one sample more and no ExtraSamples tag: gray plus alpha.
        _ => matches!(color, ColorType::Multiband { num_samples: 2, .. } | ColorType::GrayA(_)),
    };
    let palette =
        if matches!(color, ColorType::Palette(_)) { dec.find_tag_unsigned_vec::<u16>(Tag::ColorMap).ok().flatten().unwrap_or_default() } else { Vec::new() };
    Layout { extra_alpha, palette }
}

/// Samples of `bits` (1, 2 or 4) packed in byte-padded rows of `w * spp` samples, one
/// byte each; `scale` stretches them to 0..=255 (else they stay raw, e.g. palette indexes).
fn unpack(packed: &[u8], w: usize, h: usize, spp: usize, bits: u8, scale: bool) -> Option<Vec<u8>> {
    let per_row = w * spp;
    let stride = (per_row * bits as usize).div_ceil(8);
    if packed.len() < stride.checked_mul(h)? {
        return None;
    }
    let max = (1u16 << bits) - 1;
    let mut out = Vec::with_capacity(per_row * h);
    for row in packed.chunks_exact(stride.max(1)).take(h) {
        for i in 0..per_row {
            let bit = i * bits as usize;
            let v = (row[bit / 8] >> (8 - bits as usize - bit % 8)) as u16 & max;
            out.push(if scale { (v * 255 / max) as u8 } else { v as u8 });
        }
    }
    Some(out)
}

fn to_image(w: u32, h: u32, color: ColorType, layout: &Layout, samples: Vec<u8>) -> Result<(DynamicImage, ColorMode), String> {
    let n = w as usize * h as usize;
    let short = || format!("page data truncated ({w}x{h})");
    let gray_image = |px: Vec<u8>, mode: ColorMode| -> Result<(DynamicImage, ColorMode), String> {
        Ok((DynamicImage::ImageLuma8(GrayImage::from_raw(w, h, px).ok_or_else(short)?), mode))
    };
    let rgb_image = |px: Vec<u8>| -> Result<(DynamicImage, ColorMode), String> {
        Ok((DynamicImage::ImageRgb8(RgbImage::from_raw(w, h, px).ok_or_else(short)?), ColorMode::Rgb))
    };
    // Samples of `spp` per pixel, 8-bit (16-bit already narrowed), at least `n` pixels.
    let whole = |spp: usize| -> Result<&[u8], String> { samples.get(..n * spp).ok_or_else(short) };
    match color {
        ColorType::Gray(1) => {
            // The decoder has already applied WhiteIsZero, so 1 = white here.
            let px = unpack(&samples, w as usize, h as usize, 1, 1, true).ok_or_else(short)?;
            gray_image(px, ColorMode::Bilevel)
        }
        ColorType::Gray(bits @ (2 | 4)) => gray_image(unpack(&samples, w as usize, h as usize, 1, bits, true).ok_or_else(short)?, ColorMode::Gray),
        ColorType::Gray(8 | 16) => {
            whole(1)?;
            let mut px = samples;
            px.truncate(n);
            gray_image(px, ColorMode::Gray)
        }
        // Gray with extra samples (the tiff crate names gray + alpha `Multiband`).
        ColorType::GrayA(8 | 16) | ColorType::Multiband { bit_depth: 8 | 16, .. } => {
            let spp = match color {
                ColorType::Multiband { num_samples, .. } => usize::from(num_samples).max(1),
                _ => 2,
            };
            let data = whole(spp)?;
            let px = if spp >= 2 && layout.extra_alpha {
                data.chunks_exact(spp).map(|c| over_white(c[0], c[1])).collect()
            } else {
                data.chunks_exact(spp).map(|c| c[0]).collect()
            };
            gray_image(px, ColorMode::Gray)
        }
        ColorType::RGB(8 | 16) | ColorType::RGBA(8 | 16) => {
            let spp = if matches!(color, ColorType::RGBA(_)) { 4 } else { 3 };
            let px = if spp == 3 {
                whole(3)?;
                let mut px = samples;
                px.truncate(n * 3);
                px
            } else {
                let mut px = Vec::with_capacity(n * 3);
                for c in whole(4)?.chunks_exact(4) {
                    px.extend([over_white(c[0], c[3]), over_white(c[1], c[3]), over_white(c[2], c[3])]);
                }
                px
            };
            rgb_image(px)
        }
        ColorType::CMYK(8 | 16) | ColorType::CMYKA(8 | 16) => {
            let spp = if matches!(color, ColorType::CMYKA(_)) { 5 } else { 4 };
            let mut px = Vec::with_capacity(n * 3);
            for c in whole(spp)?.chunks_exact(spp) {
                let a = if spp == 5 { c[4] } else { 255 };
                for &ink in &c[..3] {
                    px.push(over_white(((255 - u32::from(ink)) * (255 - u32::from(c[3])) / 255) as u8, a));
                }
            }
            rgb_image(px)
        }
        ColorType::Palette(bits @ (1 | 2 | 4 | 8)) => {
            let entries = 1usize << bits;
            if layout.palette.len() < 3 * entries {
                return Err(format!("palette page without a colour map of {entries} entries"));
            }
            let idx = if bits == 8 { whole(1)?.to_vec() } else { unpack(&samples, w as usize, h as usize, 1, bits, false).ok_or_else(short)? };
            let map = |i: usize, c: usize| (layout.palette[c * entries + i] >> 8) as u8;
            let gray = (0..entries).all(|i| map(i, 0) == map(i, 1) && map(i, 1) == map(i, 2));
            if gray {
                gray_image(idx.iter().map(|&i| map(i as usize, 0)).collect(), ColorMode::Gray)
            } else {
                rgb_image(idx.iter().flat_map(|&i| [map(i as usize, 0), map(i as usize, 1), map(i as usize, 2)]).collect())
            }
        }
        other => {
            Err(format!("unsupported TIFF colour type {other:?} (bilevel, gray, gray + alpha, RGB(A), CMYK(A) and palette pages of 1 to 16 bits are read)"))
        }
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

    /// A palette TIFF written byte by byte (the tiff crate writes none): `bits` per index,
    /// `compression` 1, 5 (LZW), 8 (Deflate) or 32773 (PackBits), strips of `rows` rows.
    fn palette_tiff(path: &Path, (w, h): (u32, u32), bits: u8, compression: u16, rows: u32, idx: &[u8], map: &[u16]) {
        let stride = (w as usize * bits as usize).div_ceil(8);
        let mut packed = vec![0u8; stride * h as usize];
        for y in 0..h as usize {
            for x in 0..w as usize {
                let bit = x * bits as usize;
                packed[y * stride + bit / 8] |= idx[y * w as usize + x] << (8 - bits as usize - bit % 8);
            }
        }
        let strips: Vec<Vec<u8>> = packed
            .chunks(stride * rows as usize)
            .map(|raw| match compression {
                1 => raw.to_vec(),
                5 => weezl::encode::Encoder::with_tiff_size_switch(weezl::BitOrder::Msb, 8).encode(raw).unwrap(),
                8 => {
                    use std::io::Write;
                    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
                    z.write_all(raw).unwrap();
                    z.finish().unwrap()
                }
                _ => raw.chunks(128).flat_map(|c| std::iter::once(c.len() as u8 - 1).chain(c.iter().copied())).collect(),
            })
            .collect();
        // Layout: header, strips, colour map, strip tables, resolution, IFD.
        let mut out = b"II*\0\0\0\0\0".to_vec();
        let mut offsets = Vec::new();
        for st in &strips {
            offsets.push(out.len() as u32);
            out.extend(st);
        }
        let map_at = out.len() as u32;
        map.iter().for_each(|v| out.extend(v.to_le_bytes()));
        let offs_at = out.len() as u32;
        offsets.iter().for_each(|v| out.extend(v.to_le_bytes()));
        let counts_at = out.len() as u32;
        strips.iter().for_each(|st| out.extend((st.len() as u32).to_le_bytes()));
        let res_at = out.len() as u32;
        out.extend(200u32.to_le_bytes());
        out.extend(1u32.to_le_bytes());
        let ifd = out.len() as u32;
        out[4..8].copy_from_slice(&ifd.to_le_bytes());
        let n = strips.len() as u32;
        let (offs, counts) = if n == 1 { (offsets[0], strips[0].len() as u32) } else { (offs_at, counts_at) };
        // (tag, type, count, value): type 3 SHORT, 4 LONG, 5 RATIONAL.
        let entries: [(u16, u16, u32, u32); 13] = [
            (256, 4, 1, w),
            (257, 4, 1, h),
            (258, 3, 1, bits as u32),
            (259, 3, 1, compression as u32),
            (262, 3, 1, 3),
            (273, 4, n, offs),
            (277, 3, 1, 1),
            (278, 4, 1, rows),
            (279, 4, n, counts),
            (282, 5, 1, res_at),
            (283, 5, 1, res_at),
            (296, 3, 1, 2),
            (320, 3, map.len() as u32, map_at),
        ];
        out.extend((entries.len() as u16).to_le_bytes());
        for (tag, ty, count, value) in entries {
            out.extend(tag.to_le_bytes());
            out.extend(ty.to_le_bytes());
            out.extend(count.to_le_bytes());
            out.extend(value.to_le_bytes());
        }
        out.extend(0u32.to_le_bytes());
        std::fs::write(path, out).unwrap();
    }

    /// Issue #19: palette pages (1, 4 and 8 bits; every compression a palette TIFF comes
    /// in) are read through their colour map: colour maps as RGB, gray maps as gray.
    #[test]
    fn palette_pages_are_read_through_their_colour_map() {
        let dir = tempfile::tempdir().unwrap();
        let (w, h) = (37u32, 23u32);
        for bits in [1u8, 4, 8] {
            let entries = 1usize << bits;
            for gray in [false, true] {
                // Red, green, blue entries (or gray levels), 16-bit.
                let map: Vec<u16> = (0..3)
                    .flat_map(|c| (0..entries).map(move |i| if gray { (i * 65535 / (entries - 1)) as u16 } else { (((i * 37 + c * 91) % 256) * 257) as u16 }))
                    .collect();
                let idx: Vec<u8> = (0..w * h).map(|i| ((i * 7 + i / w) % entries as u32) as u8).collect();
                for compression in [1u16, 5, 8, 32773] {
                    let path = dir.path().join(format!("p{bits}-{gray}-{compression}.tif"));
                    palette_tiff(&path, (w, h), bits, compression, 5, &idx, &map);
                    let page = TiffPages::open(&path, 0).unwrap().next().unwrap().unwrap_or_else(|f| panic!("{bits} bits, {compression}: {}", f.message));
                    assert_eq!(page.dpi, 200.0);
                    let want = |i: usize, c: usize| (map[c * entries + idx[i] as usize] >> 8) as u8;
                    if gray {
                        // Issue 25: a 1-bit gray map (black and white) is a bilevel page.
                        let want_mode = if bits == 1 { ColorMode::Bilevel } else { ColorMode::Gray };
                        assert_eq!(page.color, want_mode, "{bits} bits gray map");
                        let got = page.image.to_luma8();
                        assert!(got.as_raw().iter().enumerate().all(|(i, &v)| v == want(i, 0)), "{bits} bits, compression {compression}");
                    } else {
                        assert_eq!(page.color, ColorMode::Rgb, "{bits} bits colour map");
                        let got = page.image.to_rgb8();
                        assert!(got.pixels().enumerate().all(|(i, p)| p.0 == [want(i, 0), want(i, 1), want(i, 2)]), "{bits} bits, compression {compression}");
                    }
                }
            }
        }
        // A strip cut short: the page fails alone, saying the image is incomplete.
        let path = dir.path().join("cut.tif");
        let map: Vec<u16> = (0..3 * 256).map(|i| (i % 256 * 257) as u16).collect();
        palette_tiff(&path, (w, h), 8, 1, h, &vec![9; (w * h) as usize], &map);
        let mut bytes = std::fs::read(&path).unwrap();
        // The strip's byte count (in the IFD) claims more than the file's strip holds.
        let full = w * h;
        let pos = bytes.windows(8).position(|x| x == [23, 1, 4, 0, 1, 0, 0, 0]).unwrap() + 8;
        assert_eq!(u32::from_le_bytes(bytes[pos..pos + 4].try_into().unwrap()), full);
        bytes[pos..pos + 4].copy_from_slice(&(full / 2).to_le_bytes());
        std::fs::write(&path, bytes).unwrap();
        let failure = TiffPages::open(&path, 0).unwrap().next().unwrap().unwrap_err();
        assert!(failure.message.contains("the image is incomplete"), "{}", failure.message);
    }

    #[test]
    fn decodes_every_page_with_its_resolution() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.tif");
        write_pages(&path, &[(40, 30, 10), (50, 20, 200), (10, 10, 128), (12, 7, 3)]);
        assert_eq!(page_count(&path).unwrap(), (4, None));
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
        let input = crate::stages::intake::Input::open(&path).unwrap();
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
        let input = crate::stages::intake::Input::open(&folder).unwrap();
        let got: Vec<_> = input.pages_range(1..3).map(|p| p.unwrap()).map(|p| (p.index, p.image.width())).collect();
        assert_eq!(got, vec![(1, 6), (2, 7)]);
    }

    /// Writes Deflate pages (gray, then RGB) with the given predictor and strip height.
    fn write_deflate(path: &Path, w: u32, h: u32, predictor: tiff::tags::Predictor, rows: u32) -> (Vec<u8>, Vec<u8>) {
        let gray: Vec<u8> = (0..w * h).map(|i| ((i * 37 + i / w * 11) % 251) as u8).collect();
        let rgb: Vec<u8> = (0..w * h * 3).map(|i| ((i * 13 + i / (3 * w) * 7) % 241) as u8).collect();
        let mut enc = TiffEncoder::new(std::fs::File::create(path).unwrap())
            .unwrap()
            .with_compression(Compression::Deflate(DeflateLevel::default()))
            .with_predictor(predictor);
        let mut img = enc.new_image::<colortype::Gray8>(w, h).unwrap();
        img.rows_per_strip(rows).unwrap();
        img.write_data(&gray).unwrap();
        let mut img = enc.new_image::<colortype::RGB8>(w, h).unwrap();
        img.rows_per_strip(rows).unwrap();
        img.write_data(&rgb).unwrap();
        (gray, rgb)
    }

    #[test]
    fn the_gray_predictor_undo_is_a_running_sum() {
        for len in [0usize, 1, 15, 16, 17, 31, 32, 33, 100, 1654] {
            let diffs: Vec<u8> = (0..len).map(|i| (i.wrapping_mul(2_654_435_761) >> 7) as u8).collect();
            let mut got = diffs.clone();
            undo_horizontal::<1>(&mut got);
            let mut acc = 0u8;
            let want: Vec<u8> = diffs
                .iter()
                .map(|&d| {
                    acc = acc.wrapping_add(d);
                    acc
                })
                .collect();
            assert_eq!(got, want, "len {len}");
        }
    }

    #[test]
    fn deflate_strips_are_read_by_libdeflate_exactly_as_written() {
        let dir = tempfile::tempdir().unwrap();
        for (predictor, rows) in [(tiff::tags::Predictor::Horizontal, 7), (tiff::tags::Predictor::None, 40), (tiff::tags::Predictor::Horizontal, 1000)] {
            let path = dir.path().join("d.tif");
            let (w, h) = (53, 40);
            let (gray, rgb) = write_deflate(&path, w, h, predictor, rows);
            // The fast path itself takes these pages (not the tiff crate behind it).
            let mut dec = decoder(&path).unwrap();
            let raw = File::open(&path).unwrap();
            assert!(deflate_strips(&mut dec, &raw, w, h, ColorType::Gray(8)).as_deref() == Some(&gray[..]), "{predictor:?} {rows}");
            dec.next_image().unwrap();
            assert!(deflate_strips(&mut dec, &raw, w, h, ColorType::RGB(8)).as_deref() == Some(&rgb[..]), "{predictor:?} {rows}");
            // And the pages come out with those samples.
            let pages: Vec<_> = TiffPages::open(&path, 0).unwrap().map(|p| p.unwrap()).collect();
            assert!(pages[0].image.to_luma8().into_raw() == gray);
            assert_eq!(pages[1].color, ColorMode::Rgb);
            assert!(pages[1].image.to_rgb8().into_raw() == rgb);
        }
    }

    #[test]
    fn other_compressions_are_left_to_the_tiff_crate() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.tif");
        write_pages(&path, &[(40, 30, 10)]); // LZW
        let mut dec = decoder(&path).unwrap();
        let raw = File::open(&path).unwrap();
        assert!(deflate_strips(&mut dec, &raw, 40, 30, ColorType::Gray(8)).is_none());
    }

    #[test]
    fn a_corrupt_deflate_strip_fails_that_page_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.tif");
        let (w, h) = (64, 64);
        let (_, rgb) = write_deflate(&path, w, h, tiff::tags::Predictor::Horizontal, 16);
        // Scribble over the middle of the first page's second strip.
        let offsets = decoder(&path).unwrap().get_tag_u64_vec(Tag::StripOffsets).unwrap();
        let mut bytes = std::fs::read(&path).unwrap();
        for b in &mut bytes[offsets[1] as usize + 4..offsets[1] as usize + 40] {
            *b ^= 0x5a;
        }
        std::fs::write(&path, &bytes).unwrap();
        let pages: Vec<_> = TiffPages::open(&path, 0).unwrap().collect();
        assert_eq!(pages.len(), 2);
        let err = pages[0].as_ref().expect_err("the scribbled page fails");
        assert_eq!(err.index, 0);
        assert!(err.message.contains("page data unreadable"), "{}", err.message);
        assert!(pages[1].as_ref().unwrap().image.to_rgb8().into_raw() == rgb);
    }

    #[test]
    fn a_page_claiming_huge_dimensions_fails_with_a_clear_error() {
        // One 23200 x 23200 gray Deflate page: 538 Mpx, over the page budget, in one
        // strip that really holds that many (zero) samples, so only the budget stops it.
        const SIDE: u32 = 23_200;
        let strip = {
            use std::io::Write;
            let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
            let zeros = vec![0u8; SIDE as usize * 100];
            for _ in 0..SIDE / 100 {
                z.write_all(&zeros).unwrap();
            }
            z.finish().unwrap()
        };
        let entries: [(u16, u16, u32); 9] = [
            (256, 4, SIDE),               // ImageWidth
            (257, 4, SIDE),               // ImageLength
            (258, 3, 8),                  // BitsPerSample
            (259, 3, 8),                  // Compression: Deflate
            (262, 3, 1),                  // BlackIsZero
            (273, 4, 8 + 2 + 9 * 12 + 4), // StripOffsets: right after the IFD
            (277, 3, 1),                  // SamplesPerPixel
            (278, 4, SIDE),               // RowsPerStrip
            (279, 4, strip.len() as u32), // StripByteCounts
        ];
        let mut tif = b"II*\0".to_vec();
        tif.extend(8u32.to_le_bytes());
        tif.extend((entries.len() as u16).to_le_bytes());
        for (tag, kind, value) in entries {
            tif.extend(tag.to_le_bytes());
            tif.extend(kind.to_le_bytes());
            tif.extend(1u32.to_le_bytes());
            if kind == 3 {
                tif.extend((value as u16).to_le_bytes());
                tif.extend([0, 0]);
            } else {
                tif.extend(value.to_le_bytes());
            }
        }
        tif.extend(0u32.to_le_bytes());
        tif.extend(&strip);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("huge.tif");
        std::fs::write(&path, &tif).unwrap();
        let mut dec = decoder(&path).unwrap();
        assert_eq!(dec.dimensions().unwrap(), (SIDE, SIDE));
        let raw = File::open(&path).unwrap();
        assert!(deflate_strips(&mut dec, &raw, SIDE, SIDE, ColorType::Gray(8)).is_none());
        let pages: Vec<_> = TiffPages::open(&path, 0).unwrap().collect();
        assert_eq!(pages.len(), 1);
        let err = pages[0].as_ref().expect_err("the page is refused");
        assert!(err.message.contains("23200×23200 pixels (538 Mpx), over the limit of 260 Mpx"), "{}", err.message);
    }

    fn decode_one(bytes: &[u8]) -> Result<PageImage, PageFailure> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.tif");
        std::fs::write(&path, bytes).unwrap();
        TiffPages::open(&path, 0).unwrap().next().unwrap()
    }

    #[test]
    fn gray_with_alpha_is_composited_on_white() {
        use sohoa_testkit::hostile::tiff_raw;
        // (gray, alpha): opaque black, transparent black, half-covered black, opaque 100.
        let data = [0, 255, 0, 0, 0, 128, 100, 255];
        for extra in [&[2u16][..], &[1], &[]] {
            let page = decode_one(&tiff_raw(4, 1, 8, 2, 1, extra, &[], &data)).unwrap_or_else(|e| panic!("{extra:?}: {}", e.message));
            assert_eq!(page.color, ColorMode::Gray);
            assert_eq!(page.image.to_luma8().into_raw(), vec![0, 255, 127, 100], "{extra:?}");
        }
        // An extra sample that is not alpha is left out.
        let page = decode_one(&tiff_raw(4, 1, 8, 2, 1, &[0], &[], &data)).unwrap();
        assert_eq!(page.image.to_luma8().into_raw(), vec![0, 0, 0, 100]);
        // 16-bit gray + alpha.
        let data16: Vec<u8> = [0u16, 65535, 40000, 0].iter().flat_map(|v| v.to_le_bytes()).collect();
        let page = decode_one(&tiff_raw(2, 1, 16, 2, 1, &[2], &[], &data16)).unwrap();
        assert_eq!(page.image.to_luma8().into_raw(), vec![0, 255]);
    }

    #[test]
    fn cmyk_rgba_and_16_bit_pages_are_read() {
        use sohoa_testkit::hostile::tiff_raw;
        // A palette page (which the tiff crate refuses) is read through its colour map
        // (`palette_pages_are_read_through_their_colour_map` covers the rest): entry 255
        // white, entry 0 black, every entry gray: the page holds two neutral colours, so it
        // is bilevel (issue 25).
        let mut map = vec![0u16; 768];
        for c in 0..3 {
            map[c * 256 + 255] = 65535;
        }
        let page = decode_one(&tiff_raw(2, 1, 8, 1, 3, &[], &map, &[255, 0])).unwrap_or_else(|e| panic!("{}", e.message));
        assert_eq!(page.color, ColorMode::Bilevel);
        assert_eq!(page.image.to_luma8().into_raw(), vec![255, 0]);
        // CMYK: pure cyan, pure black.
        let page = decode_one(&tiff_raw(2, 1, 8, 4, 5, &[], &[], &[255, 0, 0, 0, 0, 0, 0, 255])).unwrap();
        assert_eq!(page.image.to_rgb8().into_raw(), vec![0, 255, 255, 0, 0, 0]);
        // RGBA (associated alpha), half transparent red on white.
        let page = decode_one(&tiff_raw(1, 1, 8, 4, 2, &[1], &[], &[255, 0, 0, 128])).unwrap();
        assert_eq!(page.image.to_rgb8().into_raw(), vec![255, 127, 127]);
        // 16-bit RGB.
        let rgb16: Vec<u8> = [65535u16, 32768, 0].iter().flat_map(|v| v.to_le_bytes()).collect();
        let page = decode_one(&tiff_raw(1, 1, 16, 3, 2, &[], &[], &rgb16)).unwrap();
        assert_eq!(page.image.to_rgb8().into_raw(), vec![255, 128, 0]);
        // 4-bit gray.
        let page = decode_one(&tiff_raw(2, 1, 4, 1, 1, &[], &[], &[0x0F])).unwrap();
        assert_eq!(page.image.to_luma8().into_raw(), vec![0, 255]);
    }

    #[test]
    fn a_tiff_cut_short_keeps_its_first_pages_and_says_where_it_breaks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.tif");
        write_pages(&path, &[(60, 40, 10), (60, 40, 20), (60, 40, 30), (60, 40, 40), (60, 40, 50)]);
        // Cut inside page 4's data: its directory (written after the data) is gone.
        let mut dec = decoder(&path).unwrap();
        for _ in 0..3 {
            dec.next_image().unwrap();
        }
        let cut = dec.get_tag_u64_vec(Tag::StripOffsets).unwrap()[0] as usize + 1;
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..cut]).unwrap();
        let (n, damage) = page_count(&path).unwrap();
        assert_eq!(n, 4, "three pages read and the page where it breaks");
        let damage = damage.expect("the break is reported");
        assert!(damage.contains("breaks at its page 4") && damage.contains("the 3 page(s) before it were read"), "{damage}");
        let input = crate::stages::intake::Input::open(&path).unwrap();
        assert_eq!(input.page_count(), 4);
        assert_eq!(input.warnings(), vec![format!("{}: {}{damage}", path.display(), super::super::DAMAGED_FILE)]);
        let pages: Vec<_> = input.pages().collect();
        for (i, p) in pages[..3].iter().enumerate() {
            assert_eq!(p.as_ref().unwrap().image.to_luma8().get_pixel(0, 0)[0], 10 * (i as u8 + 1));
        }
        let lost = pages[3].as_ref().unwrap_err();
        assert_eq!((lost.index, lost.message.clone()), (3, format!("{}{damage}", super::super::DAMAGED_FILE)));
        // A range starting after the break still gives its pages' failures.
        assert!(input.pages_range(3..4).all(|p| p.is_err()));
    }
}
