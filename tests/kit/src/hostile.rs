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

