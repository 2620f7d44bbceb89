//! Decoding the pages of an input PDF into [`PageImage`]s, one page at a time.
//!
//! Owns: opening a PDF ([`PdfSource`], parsed lazily by `hayro-syntax`, so a 1000-page
//! file is never decoded whole), and turning one page into pixels:
//! - a page that is exactly one scanned image covering the page (plus at most an
//!   invisible text layer, as scanners' own OCR writes) gives the embedded image as it
//!   is: JPEG decoded with the image crate, Flate/LZW samples (1-16 bpc, Gray, RGB, CMYK,
//!   Indexed, Separation and DeviceN read as ink amounts (0 = paper), predictors), CCITT G3/G4 and JBIG2 (decoded by hayro-syntax) as bilevel;
//!   dpi = image pixels / (page width in points / 72); rotation and mirroring by the page
//!   or the CTM are applied so the image reads as the page does;
//! - any other page (born digital, vector, mixed, masked images, exotic colour spaces)
//!   is rasterized by `hayro` at [`RASTER_DPI`] (less for huge pages), Gray if it
//!   renders without colour, else Rgb.
//!
//! Errors: an encrypted file that needs a password is [`PdfIntakeError::Encrypted`]
//! (`pdf-encrypted`); an unreadable file is `pdf-corrupt`; a bad page is an error for
//! that page only (`pdf-page-undecodable`), the other pages still decode. PDFs encrypted
//! with an empty user password (permissions only) open normally. Decoder panics are
//! caught and reported as a page error.
//!
//! Called by intake for PDF inputs; `PdfSource` is `Send + Sync`, pages may be decoded
//! from several threads.

mod samples;
#[cfg(test)]
mod tests;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex};

use hayro::hayro_interpret::util::TransformExt;
use hayro::hayro_interpret::{InterpreterSettings, InterpreterWarning};
use hayro::hayro_syntax::object::{Array, Name, Object, Stream};
use hayro::hayro_syntax::page::{Page, Resources};
use hayro::hayro_syntax::{DecryptionError, Filter, LoadPdfError, Pdf};
use hayro::kurbo::Affine;
use hayro::vello_cpu::color::palette::css::WHITE;
use hayro::vello_cpu::{Pixmap, RasterizerSettings, RenderContext, TargetInit};
use hayro::{RenderCache, RenderSettings};
use image::{DynamicImage, GrayImage, RgbImage};

use self::samples::{Ink, Placement, Space, apply_orient, placement, samples_to_image};
use super::limits;
use crate::model::{ColorMode, PageImage};

/// Resolution at which pages without a usable scanned image are rasterized.
pub const RASTER_DPI: f32 = 300.0;
/// Longest side of a rasterized page, pixels; larger pages are rasterized below
/// [`RASTER_DPI`] (with a page warning).
pub const MAX_RASTER_SIDE: u32 = 14_000;

/// Why a PDF or one of its pages could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum PdfIntakeError {
    #[error("the PDF is password-protected ({detail}); remove the password and submit it again")]
    Encrypted { detail: &'static str },
    #[error("the PDF is damaged or not a PDF: {0}")]
    Corrupt(String),
    #[error("page {index} does not exist (the PDF has {count} pages)")]
    PageOutOfRange { index: usize, count: usize },
    #[error("page {index} could not be decoded: {reason}")]
    Page { index: usize, reason: String },
}

impl PdfIntakeError {
    /// What went wrong, without the page number for a page's error (the page's report
    /// already says which page it is).
    pub fn page_reason(&self) -> String {
        match self {
            PdfIntakeError::Page { reason, .. } => reason.clone(),
            other => other.to_string(),
        }
    }

    /// Stable machine-readable code (kebab-case).
    pub fn code(&self) -> &'static str {
        match self {
            PdfIntakeError::Encrypted { .. } => "pdf-encrypted",
            PdfIntakeError::Corrupt(_) => "pdf-corrupt",
            PdfIntakeError::PageOutOfRange { .. } => "pdf-page-out-of-range",
            PdfIntakeError::Page { .. } => "pdf-page-undecodable",
        }
    }
}

/// An opened PDF, ready to decode pages one at a time. Holds the file's bytes (shared,
/// not copied) and the parsed cross-reference table; objects are parsed on demand.
pub struct PdfSource {
    pdf: Pdf,
}

impl std::fmt::Debug for PdfSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PdfSource").field("pages", &self.page_count()).finish()
    }
}

impl PdfSource {
    /// Opens a PDF held in memory (a `Vec<u8>`, `bytes::Bytes`, a memory map...).
    pub fn open<T: AsRef<[u8]> + Send + Sync + 'static>(bytes: T) -> Result<Self, PdfIntakeError> {
        let head = &bytes.as_ref()[..bytes.as_ref().len().min(1024)];
        if !head.windows(5).any(|w| w == b"%PDF-") {
            return Err(PdfIntakeError::Corrupt("no %PDF- header".into()));
        }
        let pdf = Pdf::new(Arc::new(bytes)).map_err(|e| match e {
            LoadPdfError::Decryption(d) => PdfIntakeError::Encrypted {
                detail: match d {
                    DecryptionError::PasswordProtected => "a password is needed to open it",
                    DecryptionError::UnsupportedAlgorithm => "unsupported encryption",
                    DecryptionError::MissingIDEntry | DecryptionError::InvalidEncryption => "invalid encryption dictionary",
                },
            },
            LoadPdfError::Invalid => PdfIntakeError::Corrupt("the file structure cannot be read".into()),
        })?;
        if pdf.pages().is_empty() {
            return Err(PdfIntakeError::Corrupt("the PDF has no pages".into()));
        }
        Ok(Self { pdf })
    }

    /// Number of pages.
    pub fn page_count(&self) -> usize {
        self.pdf.pages().len()
    }

    /// The page count the page tree's root declares (/Count), if it can be read. More than
    /// [`PdfSource::page_count`] when the page tree or the cross-reference table is damaged
    /// (a file cut short loses the pages whose objects were at its end).
    pub fn declared_pages(&self) -> Option<usize> {
        use hayro::hayro_syntax::object::Dict;
        let xref = self.pdf.xref();
        let catalog = xref.get::<Dict<'_>>(xref.root_id())?;
        let pages = catalog.get::<Dict<'_>>(b"Pages")?;
        pages.get::<i64>(b"Count").and_then(|n| usize::try_from(n).ok())
    }

    /// Decodes page `index` (0-based). Errors concern this page only.
    pub fn decode_page(&self, index: usize) -> Result<PageImage, PdfIntakeError> {
        let count = self.page_count();
        let page = self.pdf.pages().get(index).ok_or(PdfIntakeError::PageOutOfRange { index, count })?;
        match catch_unwind(AssertUnwindSafe(|| decode(page, index))) {
            Ok(result) => result.map_err(|reason| PdfIntakeError::Page { index, reason }),
            Err(_) => Err(PdfIntakeError::Page { index, reason: "the PDF decoder crashed on this page".into() }),
        }
    }

    /// Decodes the pages in order, lazily: each item is decoded when asked for.
    pub fn pages(&self) -> impl Iterator<Item = Result<PageImage, PdfIntakeError>> + '_ {
        (0..self.page_count()).map(|i| self.decode_page(i))
    }
}

/// How many pages a PDF holds, and how many its page tree says it has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PdfPageCount {
    /// Pages that can be read (what [`PdfSource::page_count`] gives).
    pub read: usize,
    /// The page tree root's /Count, if it can be read.
    pub declared: Option<usize>,
}

/// Number of pages of a PDF, read and declared (copies the bytes; prefer
/// [`PdfSource::open`] when the pages will be decoded too).
pub fn pdf_page_count(bytes: &[u8]) -> Result<PdfPageCount, PdfIntakeError> {
    let source = PdfSource::open(bytes.to_vec())?;
    Ok(PdfPageCount { read: source.page_count(), declared: source.declared_pages() })
}

/// Decodes page `index` of an opened PDF; same as [`PdfSource::decode_page`].
pub fn decode_pdf_page(source: &PdfSource, index: usize) -> Result<PageImage, PdfIntakeError> {
    source.decode_page(index)
}

/// Why the fast path did not take the embedded image.
enum Skip {
    /// Not something the fast path handles: rasterize instead.
    Unsupported(String),
    /// The image data is broken: the page fails.
    Broken(String),
}

fn decode(page: &Page<'_>, index: usize) -> Result<PageImage, String> {
    let mut warnings = Vec::new();
    if let Some((stream, m)) = single_image(page) {
        let (pw, ph) = page.render_dimensions();
        let w = stream.dict().get::<u32>(b"Width").unwrap_or(0);
        let h = stream.dict().get::<u32>(b"Height").unwrap_or(0);
        if let Some(place) = placement(m, w, h, f64::from(pw), f64::from(ph)) {
            // The page budget, from the dictionary's size, before any pixel is decoded.
            budget(w, h, place)?;
            match take_image(&stream, page.resources()) {
                Ok((img, color, mut warn)) => {
                    tracing::debug!(page = index, ?color, "Took the embedded page image");
                    warnings.append(&mut warn);
                    // The codec's size wins over the dictionary's if they disagree.
                    let place = if (img.width(), img.height()) != (w, h) {
                        warnings.push(format!("image is {}x{} px, its dictionary says {w}x{h}", img.width(), img.height()));
                        let place = placement(m, img.width(), img.height(), f64::from(pw), f64::from(ph)).unwrap_or(place);
                        budget(img.width(), img.height(), place)?;
                        place
                    } else {
                        place
                    };
                    let (image, dpi) = orient_and_square(img, color, place, &mut warnings)?;
                    return Ok(PageImage { index, image, color, dpi, warnings });
                }
                Err(Skip::Broken(reason)) => return Err(reason),
                Err(Skip::Unsupported(why)) => {
                    tracing::debug!(page = index, why, "Embedded image not taken as is; rasterizing");
                    warnings.push(format!("page image not taken as is ({why}); page rasterized"));
                }
            }
        }
    }
    let (image, color, dpi) = rasterize(page, &mut warnings)?;
    Ok(PageImage { index, image, color, dpi, warnings })
}

type Coeffs = [f64; 6];

/// `p ∘ q`: apply `q`, then `p`.
fn mul(p: Coeffs, q: Coeffs) -> Coeffs {
    [
        p[0] * q[0] + p[2] * q[1],
        p[1] * q[0] + p[3] * q[1],
        p[0] * q[2] + p[2] * q[3],
        p[1] * q[2] + p[3] * q[3],
        p[0] * q[4] + p[2] * q[5] + p[4],
        p[1] * q[4] + p[3] * q[5] + p[5],
    ]
}

/// If the page paints exactly one image XObject and nothing else visible, returns it and
/// the transform from the image's unit square to page space (points, y down).
fn single_image<'a>(page: &'a Page<'a>) -> Option<(Stream<'a>, Coeffs)> {
    let mut ctm: Coeffs = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0];
    let mut stack: Vec<Coeffs> = Vec::new();
    let mut render_mode = 0i64;
    let mut found: Option<(Stream<'a>, Coeffs)> = None;
    let mut ops = page.operations();
    while let Some(op) = ops.next() {
        let name: &[u8] = op.operator;
        match name {
            b"q" => stack.push(ctm),
            b"Q" => ctm = stack.pop().unwrap_or(ctm),
            b"cm" => {
                let v: Vec<f64> = op.operands().filter_map(number).collect();
                let m: Coeffs = v.try_into().ok()?;
                ctm = mul(ctm, m);
            }
            b"Do" => {
                let Some(Object::Name(n)) = op.operands().next() else {
                    return None;
                };
                let xobj = page.resources().get_x_object(n)?;
                if xobj.dict().get::<Name<'_>>(b"Subtype").as_deref() != Some(b"Image".as_slice()) || found.is_some() {
                    return None;
                }
                found = Some((xobj, ctm));
            }
            b"Tr" => render_mode = op.operands().next().and_then(number).map(|v| v as i64).unwrap_or(0),
            b"Tj" | b"TJ" | b"'" | b"\"" if render_mode != 3 => return None,
            // Painting operators other than "end path without painting", shadings and
            // inline images make the page more than a scan.
            b"S" | b"s" | b"f" | b"F" | b"f*" | b"B" | b"B*" | b"b" | b"b*" | b"sh" | b"BI" | b"ID" | b"EI" => {
                return None;
            }
            _ => {}
        }
    }
    let (stream, ctm) = found?;
    let page_m = page.initial_transform(true).as_coeffs();
    Some((stream, mul(page_m, ctm)))
}

fn number(o: &Object<'_>) -> Option<f64> {
    match o {
        Object::Number(n) => Some(n.as_f64()),
        _ => None,
    }
}

/// Decodes an image XObject into an 8-bit image and its colour mode.
fn take_image(stream: &Stream<'_>, resources: &Resources<'_>) -> Result<(DynamicImage, ColorMode, Vec<String>), Skip> {
    let dict = stream.dict();
    if dict.get::<bool>(b"ImageMask").unwrap_or(false) {
        return Err(Skip::Unsupported("stencil mask".into()));
    }
    if dict.contains_key(b"SMask") || dict.contains_key(b"Mask") {
        return Err(Skip::Unsupported("image with transparency".into()));
    }
    let width = dict.get::<u32>(b"Width").unwrap_or(0);
    let height = dict.get::<u32>(b"Height").unwrap_or(0);
    if width == 0 || height == 0 {
        return Err(Skip::Broken("image has no size".into()));
    }
    limits::check_pixels(u64::from(width), u64::from(height)).map_err(Skip::Broken)?;
    let filters = stream.filters();
    let fax_like = filters.iter().any(|f| matches!(f, Filter::CcittFaxDecode | Filter::Jbig2Decode));
    let jpx = filters.contains(&Filter::JpxDecode);
    let space = match dict.get::<Object<'_>>(b"ColorSpace") {
        Some(o) => Some(parse_space(&o, resources).map_err(Skip::Unsupported)?),
        None if fax_like => Some(Space::Gray),
        None if jpx => None, // from the codestream
        None => return Err(Skip::Unsupported("image without colour space".into())),
    };
    let bpc = dict.get::<u8>(b"BitsPerComponent").unwrap_or(if fax_like { 1 } else { 8 });
    let decode: Option<Vec<f32>> = dict.get::<Array<'_>>(b"Decode").map(|a| a.iter::<f32>().collect());
    let default_decode = decode.as_deref().is_none_or(|d| d.chunks(2).all(|p| p == [0.0, 1.0]));

    // JPEG as it is, decoded by the image crate.
    if filters.as_slice() == [Filter::DctDecode] && matches!(space, Some(Space::Gray | Space::Rgb)) && default_decode {
        let raw = stream.raw_data();
        let mut reader = image::ImageReader::with_format(std::io::Cursor::new(&raw[..]), image::ImageFormat::Jpeg);
        reader.limits(limits::image_limits());
        let img = reader.decode().map_err(|e| Skip::Broken(format!("JPEG data unreadable: {e}")))?;
        let mut warnings = Vec::new();
        if !super::image_file::jpeg_complete(&raw) {
            warnings.push(crate::model::page_error(super::image_file::INCOMPLETE_JPEG));
        }
        let (img, color) = match img {
            DynamicImage::ImageLuma8(_) => (img, ColorMode::Gray),
            DynamicImage::ImageRgb8(_) => (img, ColorMode::Rgb),
            other => (DynamicImage::ImageRgb8(other.to_rgb8()), ColorMode::Rgb),
        };
        return Ok((img, color, warnings));
    }

    let params = hayro::hayro_syntax::object::stream::ImageDecodeParams {
        is_indexed: matches!(space, Some(Space::Indexed { .. })),
        bpc: Some(bpc),
        num_components: space.as_ref().map(|s| s.components() as u8),
        target_dimension: None,
        width,
        height,
    };
    if filters.as_slice() == [Filter::FlateDecode] {
        // The decoder inflates the whole stream whatever the dictionary says: count first.
        let comps = space.as_ref().map_or(4, |s| s.components() as u64);
        let row = (u64::from(width) * comps * u64::from(bpc)).div_ceil(8) + 1; // + a PNG predictor byte
        let max = (row * u64::from(height)).saturating_mul(2).saturating_add(1 << 20).min(limits::MAX_DECODED_BYTES);
        limits::check_inflated(&stream.raw_data(), max).map_err(Skip::Broken)?;
    }
    let decoded = stream.decoded_image(&params).map_err(|e| Skip::Broken(format!("image data cannot be decoded ({e:?})")))?;
    let (mut w, mut h, mut bits, mut space) = (width, height, bpc, space);
    if let Some(info) = &decoded.image_data {
        (w, h, bits) = (info.width, info.height, info.bits_per_component);
        use hayro::hayro_syntax::object::stream::ImageColorSpace as Ics;
        let from_codec = match info.color_space {
            Some(Ics::Gray) => Some(Space::Gray),
            Some(Ics::Rgb) => Some(Space::Rgb),
            Some(Ics::Cmyk) => Some(Space::Cmyk),
            _ => None,
        };
        // Codecs that convert (JPEG, JPX) report what they produced; keep a palette and
        // ink amounts (a codec calls one ink channel gray).
        if !matches!(space, Some(Space::Indexed { .. } | Space::Inks(_))) && from_codec.is_some() {
            space = from_codec;
        }
    }
    let space = space.ok_or_else(|| Skip::Unsupported("unknown colour space".into()))?;
    // Fax codecs give 8-bit 0/255 samples for 1-bit values; /Decode then applies as 8-bit.
    let (img, warnings) = samples_to_image(&decoded.data, w, h, bits, &space, decode.as_deref()).map_err(Skip::Broken)?;
    let one_bit = bpc == 1 || fax_like;
    let color = match &img {
        DynamicImage::ImageLuma8(g) if one_bit && g.as_raw().iter().all(|&v| v == 0 || v == 255) => ColorMode::Bilevel,
        DynamicImage::ImageLuma8(_) => ColorMode::Gray,
        _ => ColorMode::Rgb,
    };
    Ok((img, color, warnings))
}

/// Parses an image colour space the fast path understands.
fn parse_space(o: &Object<'_>, resources: &Resources<'_>) -> Result<Space, String> {
    match o {
        Object::Name(n) => match n.as_ref() {
            b"DeviceGray" | b"CalGray" | b"G" => Ok(Space::Gray),
            b"DeviceRGB" | b"CalRGB" | b"RGB" => Ok(Space::Rgb),
            b"DeviceCMYK" | b"CMYK" => Ok(Space::Cmyk),
            _ => match resources.get_color_space(n) {
                Some(named) if !matches!(named, Object::Name(_)) => parse_space(&named, resources),
                _ => Err(format!("colour space {}", n.as_str())),
            },
        },
        Object::Array(a) => {
            let mut items = a.iter::<Object<'_>>();
            let Some(Object::Name(kind)) = items.next() else {
                return Err("malformed colour space".into());
            };
            match kind.as_ref() {
                b"CalGray" => Ok(Space::Gray),
                b"CalRGB" => Ok(Space::Rgb),
                b"ICCBased" => {
                    let n = items.next().and_then(|s| s.into_stream()).and_then(|s| s.dict().get::<u8>(b"N"));
                    match n {
                        Some(1) => Ok(Space::Gray),
                        Some(3) => Ok(Space::Rgb),
                        Some(4) => Ok(Space::Cmyk),
                        _ => Err("ICC colour space without a usable /N".into()),
                    }
                }
                b"Indexed" | b"I" => {
                    let base = items.next().ok_or("indexed colour space without base")?;
                    let base = parse_space(&base, resources)?;
                    if matches!(base, Space::Indexed { .. }) {
                        return Err("nested indexed colour space".into());
                    }
                    let hival = items.next().as_ref().and_then(number).unwrap_or(-1.0);
                    if !(0.0..=255.0).contains(&hival) {
                        return Err("indexed colour space with a bad hival".into());
                    }
                    let lookup = match items.next() {
                        Some(Object::String(s)) => s.as_bytes().to_vec(),
                        Some(Object::Stream(s)) => s.decoded().map_err(|_| "unreadable palette")?.into_owned(),
                        _ => return Err("indexed colour space without palette".into()),
                    };
                    Ok(Space::Indexed { base: Box::new(base), hival: hival as u8, lookup })
                }
                // Ink amounts, read as inks (not through the tint transform to the
                // alternate space, which the rasterizer would need to get right).
                b"Separation" => match items.next() {
                    Some(Object::Name(n)) => Ok(Space::Inks(vec![Ink::from_name(n.as_ref())])),
                    _ => Err("separation colour space without a colorant".into()),
                },
                b"DeviceN" => match items.next() {
                    Some(Object::Array(names)) => {
                        let inks: Vec<Ink> = names.iter::<Name<'_>>().map(|n| Ink::from_name(n.as_ref())).collect();
                        if inks.is_empty() || inks.len() > 32 {
                            return Err("DeviceN colour space without usable colorants".into());
                        }
                        Ok(Space::Inks(inks))
                    }
                    _ => Err("DeviceN colour space without colorants".into()),
                },
                other => Err(format!("colour space {}", String::from_utf8_lossy(other))),
            }
        }
        _ => Err("malformed colour space".into()),
    }
}

fn square(place: Placement) -> bool {
    ((place.dpi_x - place.dpi_y) / place.dpi_x).abs() <= 0.02
}

/// The page budget ([`limits`]) for a `w` x `h` image (as stored) placed by `place`: its
/// pixels, its resolution, and the size [`orient_and_square`] would resample it to.
fn budget(w: u32, h: u32, place: Placement) -> Result<(), String> {
    let (w, h) = if matches!(place.orient.rotate_cw, 90 | 270) { (h, w) } else { (w, h) };
    limits::check_pixels(u64::from(w), u64::from(h))?;
    limits::check_dpi(u64::from(w), u64::from(h), place.dpi_x, place.dpi_y)?;
    if !square(place) {
        limits::check_square_resample(w, h, place.dpi_x, place.dpi_y)?;
    }
    Ok(())
}

/// Applies the page orientation and, if pixels are not square, resamples rows so the
/// vertical resolution matches the horizontal one (refused, before allocating, if the
/// result would be over the page budget). Returns the image and its dpi.
fn orient_and_square(img: DynamicImage, color: ColorMode, place: Placement, warnings: &mut Vec<String>) -> Result<(DynamicImage, f32), String> {
    let (dx, dy) = (place.dpi_x, place.dpi_y);
    if square(place) {
        return Ok((apply_orient(img, place.orient), dx as f32));
    }
    let (w, h) = if matches!(place.orient.rotate_cw, 90 | 270) { (img.height(), img.width()) } else { (img.width(), img.height()) };
    let (_, new_h) = limits::check_square_resample(w, h, dx, dy)?;
    let img = apply_orient(img, place.orient);
    warnings.push(format!("non-square pixels ({dx:.0}x{dy:.0} dpi) resampled to {dx:.0} dpi"));
    let filter = if color == ColorMode::Bilevel { image::imageops::FilterType::Nearest } else { image::imageops::FilterType::Triangle };
    Ok((img.resize_exact(img.width(), new_h, filter), dx as f32))
}

/// The page budget for the images the page's resources name (the rasterizer decodes each
/// whole, whatever the size it is drawn at): [`limits::check_image_on_page`]. Images of
/// form XObjects and inline images are not looked at.
fn check_images(page: &Page<'_>, page_w_in: f64, page_h_in: f64) -> Result<(), String> {
    let resources = page.resources();
    for name in resources.x_objects.keys() {
        let Some(stream) = resources.get_x_object(&name) else { continue };
        let dict = stream.dict();
        if dict.get::<Name<'_>>(b"Subtype").as_deref() != Some(b"Image".as_slice()) {
            continue;
        }
        let (w, h) = (dict.get::<u32>(b"Width").unwrap_or(0), dict.get::<u32>(b"Height").unwrap_or(0));
        limits::check_image_on_page(u64::from(w), u64::from(h), page_w_in, page_h_in)?;
    }
    Ok(())
}

/// Renders the page with hayro at [`RASTER_DPI`] (or less if the page is huge).
fn rasterize(page: &Page<'_>, warnings: &mut Vec<String>) -> Result<(DynamicImage, ColorMode, f32), String> {
    let (pw, ph) = page.render_dimensions();
    let longest = pw.max(ph);
    if !(longest.is_finite() && longest > 0.0) {
        return Err("page has no size".into());
    }
    let mut dpi = RASTER_DPI;
    if longest * dpi / 72.0 > MAX_RASTER_SIDE as f32 {
        dpi = (MAX_RASTER_SIDE as f32 * 72.0 / longest).floor().max(1.0);
        warnings.push(format!("page of {pw:.0}x{ph:.0} pt is rasterized at {dpi} dpi"));
    }
    let scale = dpi / 72.0;
    check_images(page, f64::from(pw) / 72.0, f64::from(ph) / 72.0)?;

    let hayro_warnings: Arc<Mutex<Vec<InterpreterWarning>>> = Arc::default();
    let sink = hayro_warnings.clone();
    let settings = InterpreterSettings {
        warning_sink: Arc::new(move |w| {
            if let Ok(mut v) = sink.lock() {
                v.push(w);
            }
        }),
        ..Default::default()
    };
    // As `hayro::render`, but with the pixel size rounded rather than truncated
    // (792 pt * 300/72 in f32 would give 3299 rows).
    let (w_px, h_px) = ((pw * scale).round().max(1.0) as u16, (ph * scale).round().max(1.0) as u16);
    // Within the budget by MAX_RASTER_SIDE; checked all the same, as every decoder is.
    limits::check_pixels(u64::from(w_px), u64::from(h_px))?;
    let transform = Affine::scale(f64::from(scale)) * page.initial_transform(true).to_kurbo();
    let cache = RenderCache::new();
    let mut ctx = RenderContext::new(w_px, h_px);
    hayro::render_into(page, &cache, &settings, &RenderSettings::default(), &mut ctx, transform);
    ctx.flush();
    let mut pixmap = Pixmap::new(w_px, h_px);
    ctx.render_with(
        &mut pixmap,
        &mut hayro::vello_cpu::Resources::default(),
        RasterizerSettings { target_init: TargetInit::Clear(WHITE), ..Default::default() },
    );
    if let Ok(v) = hayro_warnings.lock() {
        let mut kinds: Vec<String> = v.iter().map(|w| format!("{w:?}")).collect();
        kinds.sort();
        kinds.dedup();
        for k in kinds {
            warnings.push(format!("rasterizer warning: {k}"));
        }
    }

    let (w, h) = (u32::from(pixmap.width()), u32::from(pixmap.height()));
    if w == 0 || h == 0 {
        return Err("page rendered to an empty image".into());
    }
    // Premultiplied RGBA over an opaque white background: composite what is left.
    let rgba = pixmap.data_as_u8_slice();
    let mut rgb = Vec::with_capacity((w * h * 3) as usize);
    let mut gray = true;
    for px in rgba.chunks_exact(4) {
        let inv = 255 - px[3];
        let (r, g, b) = (px[0].saturating_add(inv), px[1].saturating_add(inv), px[2].saturating_add(inv));
        gray &= r == g && g == b;
        rgb.extend([r, g, b]);
    }
    if gray {
        let luma: Vec<u8> = rgb.iter().step_by(3).copied().collect();
        let img = GrayImage::from_raw(w, h, luma).ok_or("bad raster size")?;
        Ok((DynamicImage::ImageLuma8(img), ColorMode::Gray, dpi))
    } else {
        let img = RgbImage::from_raw(w, h, rgb).ok_or("bad raster size")?;
        Ok((DynamicImage::ImageRgb8(img), ColorMode::Rgb, dpi))
    }
}
