//! Hostile inputs for the intake's budgets, written without holding their pixels: PDFs of
//! one huge image, PNGs of huge declared size, zlib streams of many zeros.

use std::io::Write;

/// `len` zero bytes, zlib-compressed without holding them all.
pub fn zlib_zeros(len: u64) -> Vec<u8> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    let chunk = vec![0u8; 1 << 20];
    let mut left = len;
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        z.write_all(&chunk[..n]).unwrap();
        left -= n as u64;
    }
    z.finish().unwrap()
}

/// A one-page PDF: a `w` x `h` 8-bit image (gray or RGB, black, Flate) exactly
/// covering a `page_w` x `page_h` pt page.
pub fn pdf_with_image(w: u32, h: u32, rgb: bool, page_w: f32, page_h: f32) -> Vec<u8> {
    pdf_with_image_and(w, h, rgb, page_w, page_h, "")
}

/// [`pdf_with_image`], with more `content` drawn after the image.
pub fn pdf_with_image_and(w: u32, h: u32, rgb: bool, page_w: f32, page_h: f32, more: &str) -> Vec<u8> {
    use lopdf::{Document, Object, Stream, dictionary};
    let comps = if rgb { 3 } else { 1 };
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let image = Stream::new(
        dictionary! {
            "Type" => "XObject", "Subtype" => "Image", "Width" => w as i64, "Height" => h as i64,
            "ColorSpace" => if rgb { "DeviceRGB" } else { "DeviceGray" }, "BitsPerComponent" => 8,
            "Filter" => "FlateDecode",
        },
        zlib_zeros(u64::from(w) * u64::from(h) * comps),
    )
    .with_compression(false);
    let image_id = doc.add_object(image);
    let content = format!("q {page_w} 0 0 {page_h} 0 0 cm /Im0 Do Q {more}");
    let content_id = doc.add_object(Stream::new(lopdf::Dictionary::new(), content.into_bytes()));
    let page = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id,
        "MediaBox" => vec![0.into(), 0.into(), Object::Real(page_w), Object::Real(page_h)],
        "Resources" => dictionary! { "XObject" => dictionary! { "Im0" => image_id } },
        "Contents" => content_id,
    });
    doc.objects.insert(pages_id, Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1 }));
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

/// A `w` x `h` 8-bit gray PNG, all black, written without holding its pixels.
pub fn png_of_size(w: u32, h: u32) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend((data.len() as u32).to_be_bytes());
        out.extend(kind);
        out.extend(data);
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(data);
        out.extend(crc.sum().to_be_bytes());
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend(w.to_be_bytes());
    ihdr.extend(h.to_be_bytes());
    ihdr.extend([8, 0, 0, 0, 0]); // 8-bit gray, deflate, no filter method, no interlace
    chunk(&mut out, b"IHDR", &ihdr);
    // Each row is a filter byte (0) and `w` zero samples: all zeros.
    chunk(&mut out, b"IDAT", &zlib_zeros((u64::from(w) + 1) * u64::from(h)));
    chunk(&mut out, b"IEND", &[]);
    out
}

/// One page of an uncompressed little-endian TIFF, written field by field so that any
/// layout can be made (gray + alpha, palette, CMYK, extra samples...): `w` x `h` pixels of
/// `spp` samples of `bits` each, PhotometricInterpretation `photometric`, ExtraSamples
/// `extra` (none if empty), ColorMap `colormap` (none if empty), 300 dpi; `data` is the
/// strip (rows padded to whole bytes).
#[allow(clippy::too_many_arguments)]
pub fn tiff_raw(w: u32, h: u32, bits: u16, spp: u16, photometric: u16, extra: &[u16], colormap: &[u16], data: &[u8]) -> Vec<u8> {
    // (tag, type, count, inline value or the bytes stored after the directory)
    enum V {
        Short(u16),
        Long(u32),
        Shorts(Vec<u16>),
        Rational(u32, u32),
    }
    let mut entries: Vec<(u16, V)> = vec![
        (256, V::Long(w)),
        (257, V::Long(h)),
        (258, if spp == 1 { V::Short(bits) } else { V::Shorts(vec![bits; spp as usize]) }),
        (259, V::Short(1)),
        (262, V::Short(photometric)),
        (273, V::Long(0)), // StripOffsets: patched below
        (277, V::Short(spp)),
        (278, V::Long(h)),
        (279, V::Long(data.len() as u32)),
        (282, V::Rational(300, 1)),
        (283, V::Rational(300, 1)),
        (296, V::Short(2)),
    ];
    if !colormap.is_empty() {
        entries.push((320, V::Shorts(colormap.to_vec())));
    }
    if !extra.is_empty() {
        entries.push((338, if extra.len() == 1 { V::Short(extra[0]) } else { V::Shorts(extra.to_vec()) }));
    }
    entries.sort_by_key(|e| e.0);
    let ifd_len = 2 + 12 * entries.len() + 4;
    let mut tail = Vec::new(); // out-of-line values, after the directory
    let tail_start = 8 + ifd_len;
    let data_start = {
        let mut n = 0;
        for (_, v) in &entries {
            n += match v {
                V::Shorts(s) if s.len() > 2 => 2 * s.len(),
                V::Rational(..) => 8,
                _ => 0,
            };
        }
        tail_start + n
    };
    let mut out = b"II*\0".to_vec();
    out.extend(8u32.to_le_bytes());
    out.extend((entries.len() as u16).to_le_bytes());
    for (tag, v) in &entries {
        out.extend(tag.to_le_bytes());
        match v {
            V::Short(s) => {
                out.extend(3u16.to_le_bytes());
                out.extend(1u32.to_le_bytes());
                out.extend(s.to_le_bytes());
                out.extend([0, 0]);
            }
            V::Long(l) => {
                out.extend(4u16.to_le_bytes());
                out.extend(1u32.to_le_bytes());
                out.extend((if *tag == 273 { data_start as u32 } else { *l }).to_le_bytes());
            }
            V::Shorts(s) => {
                out.extend(3u16.to_le_bytes());
                out.extend((s.len() as u32).to_le_bytes());
                if s.len() <= 2 {
                    let mut inline = [0u8; 4];
                    for (i, v) in s.iter().enumerate() {
                        inline[2 * i..2 * i + 2].copy_from_slice(&v.to_le_bytes());
                    }
                    out.extend(inline);
                } else {
                    out.extend(((tail_start + tail.len()) as u32).to_le_bytes());
                    for v in s {
                        tail.extend(v.to_le_bytes());
                    }
                }
            }
            V::Rational(n, d) => {
                out.extend(5u16.to_le_bytes());
                out.extend(1u32.to_le_bytes());
                out.extend(((tail_start + tail.len()) as u32).to_le_bytes());
                tail.extend(n.to_le_bytes());
                tail.extend(d.to_le_bytes());
            }
        }
    }
    out.extend(0u32.to_le_bytes());
    out.extend(tail);
    assert_eq!(out.len(), data_start);
    out.extend(data);
    out
}

/// A deterministic pseudo-random source (SplitMix64): the same seed, the same sequence.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

/// The ways [`mutate`] corrupts a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutation {
    /// 1 to 8 random bits flipped.
    BitFlips,
    /// Cut short at a random length.
    Truncate,
    /// The head of the file followed by the tail of another file of the same format.
    Splice,
    /// A size field (or any 2 or 4 bytes, or a number in a PDF) set to a huge value.
    HugeSize,
    /// A run of bytes overwritten with 0x00 or 0xFF.
    Overwrite,
}

pub const MUTATIONS: [Mutation; 5] = [Mutation::BitFlips, Mutation::Truncate, Mutation::Splice, Mutation::HugeSize, Mutation::Overwrite];

/// `file` corrupted by `how` (deterministic in `rng`); `other` is the donor of a splice.
pub fn mutate(file: &[u8], other: &[u8], how: Mutation, rng: &mut Rng) -> Vec<u8> {
    let mut out = file.to_vec();
    if out.is_empty() {
        return out;
    }
    match how {
        Mutation::BitFlips => {
            for _ in 0..1 + rng.below(8) {
                let i = rng.below(out.len());
                out[i] ^= 1 << rng.below(8);
            }
        }
        Mutation::Truncate => out.truncate(1 + rng.below(out.len())),
        Mutation::Splice => {
            let cut = rng.below(out.len());
            let from = rng.below(other.len().max(1));
            out.truncate(cut);
            out.extend_from_slice(other.get(from..).unwrap_or(&[]));
        }
        Mutation::HugeSize => {
            const HUGE: [u32; 6] = [0xFFFF_FFFF, 0x7FFF_FFFF, 0x0001_0000, 0x0000_FFFF, 0x00FF_FFFF, 0x8000_0000];
            let v = HUGE[rng.below(HUGE.len())];
            // In a PDF: a number after a key that sizes something.
            let keys: [&[u8]; 7] = [b"/Width ", b"/Height ", b"/Length ", b"/Count ", b"/BitsPerComponent ", b"/Columns ", b"/N "];
            let hits: Vec<usize> =
                keys.iter().flat_map(|k| out.windows(k.len()).enumerate().filter(|(_, w)| w == k).map(|(i, _)| i + k.len()).collect::<Vec<_>>()).collect();
            if out.starts_with(b"%PDF") && !hits.is_empty() {
                let at = hits[rng.below(hits.len())];
                let end = at + out[at..].iter().take_while(|b| b.is_ascii_digit()).count();
                out.splice(at..end, v.to_string().into_bytes());
            } else if out.starts_with(b"\x89PNG") && out.len() >= 33 && rng.below(2) == 0 {
                // IHDR width or height, with the chunk's CRC made right again.
                let at = 16 + 4 * rng.below(2);
                out[at..at + 4].copy_from_slice(&v.to_be_bytes());
                let mut crc = flate2::Crc::new();
                crc.update(&out[12..29]);
                out[29..33].copy_from_slice(&crc.sum().to_be_bytes());
            } else if let (true, Some(sof)) = (rng.below(2) == 0, out.windows(2).position(|w| w[0] == 0xFF && matches!(w[1], 0xC0 | 0xC1 | 0xC2))) {
                // A JPEG frame's height or width (16 bits).
                let at = sof + 5 + 2 * rng.below(2);
                if at + 2 <= out.len() {
                    out[at..at + 2].copy_from_slice(&(v as u16 | 0x8000).to_be_bytes());
                }
            } else {
                let i = rng.below(out.len());
                let bytes = if rng.below(2) == 0 { v.to_be_bytes() } else { v.to_le_bytes() };
                let n = if rng.below(2) == 0 { 2 } else { 4 };
                for (k, b) in bytes[4 - n..].iter().enumerate() {
                    if let Some(o) = out.get_mut(i + k) {
                        *o = *b;
                    }
                }
            }
        }
        Mutation::Overwrite => {
            let i = rng.below(out.len());
            let n = 1 + rng.below(64);
            let v = if rng.below(2) == 0 { 0 } else { 0xFF };
            let end = (i + n).min(out.len());
            out[i..end].fill(v);
        }
    }
    out
}

/// How [`pdf_of_scans`] stores its pages' samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanSpace {
    /// DeviceGray: the gray levels as they are.
    Gray,
    /// Separation (a spot ink, with a tint transform to gray): ink amounts, 255 - gray.
    Separation,
    /// DeviceN [Black None]: ink amounts, and a second colorant that never marks.
    DeviceN,
}

/// A PDF of gray scans, one page-filling Flate image per page at `dpi`: `pages` are
/// (width, height, 8-bit gray samples). The catalog and the page tree come first in the
/// file and each page's objects (image, content, page) follow in page order, so a file cut
/// short keeps its page tree and loses its last pages.
pub fn pdf_of_scans(pages: &[(u32, u32, Vec<u8>)], dpi: f32, space: ScanSpace) -> Vec<u8> {
    use lopdf::{Dictionary, Document, Object, Stream, dictionary};
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    let tint = || -> Object {
        dictionary! { "FunctionType" => 2, "Domain" => vec![0.into(), 1.into()], "C0" => vec![1.into()], "C1" => vec![0.into()], "N" => 1 }.into()
    };
    let mut kids = Vec::new();
    for (w, h, gray) in pages {
        let (colour_space, samples): (Object, Vec<u8>) = match space {
            ScanSpace::Gray => ("DeviceGray".into(), gray.clone()),
            ScanSpace::Separation => {
                (Object::Array(vec!["Separation".into(), "PANTONE Black C".into(), "DeviceGray".into(), tint()]), gray.iter().map(|v| 255 - v).collect())
            }
            ScanSpace::DeviceN => (
                Object::Array(vec!["DeviceN".into(), Object::Array(vec!["Black".into(), "None".into()]), "DeviceGray".into(), tint()]),
                gray.iter().flat_map(|v| [255 - v, 255]).collect(),
            ),
        };
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        z.write_all(&samples).unwrap();
        let image = Stream::new(
            dictionary! {
                "Type" => "XObject", "Subtype" => "Image", "Width" => *w as i64, "Height" => *h as i64,
                "ColorSpace" => colour_space, "BitsPerComponent" => 8, "Filter" => "FlateDecode",
            },
            z.finish().unwrap(),
        )
        .with_compression(false);
        let image = doc.add_object(image);
        let (pw, ph) = (*w as f32 * 72.0 / dpi, *h as f32 * 72.0 / dpi);
        let content = doc.add_object(Stream::new(Dictionary::new(), format!("q {pw} 0 0 {ph} 0 0 cm /Im0 Do Q").into_bytes()));
        kids.push(Object::Reference(doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages_id, "MediaBox" => vec![0.into(), 0.into(), Object::Real(pw), Object::Real(ph)],
            "Resources" => dictionary! { "XObject" => dictionary! { "Im0" => image } }, "Contents" => content,
        })));
    }
    let count = kids.len() as i64;
    doc.objects.insert(pages_id, Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => count }));
    doc.trailer.set("Root", catalog);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

/// Where the objects of the last page of a [`pdf_of_scans`] file of `pages` pages begin
/// (cut there, the file loses that page and keeps the others).
pub fn last_scan_offset(pdf: &[u8], pages: usize) -> usize {
    // Objects: 1 page tree, 2 catalog, then image, content and page for each page.
    let head = format!("{} 0 obj", 3 + 3 * (pages - 1));
    pdf.windows(head.len()).position(|w| w == head.as_bytes()).expect("the last page's image object")
}
