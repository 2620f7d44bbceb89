//! The evaluation set: generated content pages with scanner defects, blank sheets of the
//! hard kinds, one-line pages, each with its truth (skew, quarter turn, blankness, text).

use super::*;

/// How hard the scanner defects of the content pages are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Defects {
    /// Deliberately degraded (the default, for the geometry scores): box blur on 40% of
    /// pages (radius 2 at 300 dpi), tint 0.88-1.0, noise σ 4-14, 300 specks, JPEG quality
    /// 50-90 on half of them, dark bands on 30%, black rotation wedges on 30%.
    #[default]
    Heavy,
    /// What an office scanner gives at 200-300 dpi: slight blur (box radius 1) on 30% of
    /// pages, paper tint 0.92-1.0, noise σ 3-6, 100 small dust specks, JPEG quality 75-90
    /// on half of them, dark scanner bands on 20%, black rotation wedges on 30%; skew and
    /// quarter turns as in the heavy set.
    Realistic,
}

impl std::str::FromStr for Defects {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "heavy" => Ok(Defects::Heavy),
            "realistic" => Ok(Defects::Realistic),
            _ => Err(format!("unknown defects {s:?}: use heavy or realistic")),
        }
    }
}

/// What a page of the set is.
#[derive(Debug, Clone, PartialEq)]
pub enum Truth {
    /// A text page skewed by `skew_deg` then turned counter-clockwise by `rotation`.
    Content { skew_deg: f32, rotation: u16, text: String },
    /// A blank sheet (the name says which kind of hard case).
    Blank,
    /// One short line of text on an otherwise empty sheet: not blank.
    OneLine,
}

/// One page of the evaluation set.
#[derive(Debug, Clone)]
pub struct EvalPage {
    pub name: String,
    pub image: GrayImage,
    pub dpi: f32,
    pub truth: Truth,
    /// For content pages: the same page, straight and upright, with the same defects.
    pub straight: Option<GrayImage>,
}

impl EvalPage {
    /// The page as intake hands it to the pipeline: gray, numbered `index`, at its dpi.
    pub fn page_image(&self, index: usize) -> PageImage {
        PageImage { index, image: DynamicImage::ImageLuma8(self.image.clone()), color: ColorMode::Gray, dpi: self.dpi, warnings: Vec::new() }
    }

    /// The page as the OCR stage reads it: cleaned, then its OCR copy.
    pub fn ocr_copy(&self) -> GrayImage {
        prepare_for_ocr(&clean_page(self.page_image(0)).gray)
    }
}

/// Builds the evaluation set with the heavy defects (see the module doc).
/// `with_straight` also renders the straight twin of every content page (needed for the
/// OCR comparison only).
pub fn build_set(pages: usize, seed: u64, with_straight: bool) -> Vec<EvalPage> {
    build_set_with(pages, seed, Defects::Heavy, with_straight)
}

/// [`build_set`] with the given content-page defects.
pub fn build_set_with(pages: usize, seed: u64, defects: Defects, with_straight: bool) -> Vec<EvalPage> {
    let mut out = Vec::new();
    let per_dpi = [(200.0f32, pages.div_ceil(2)), (300.0, pages / 2)];
    let mut rng = StdRng::seed_from_u64(seed);
    let mut k = 0usize;
    for (j, &(dpi, n)) in per_dpi.iter().enumerate() {
        if n == 0 {
            continue;
        }
        let texts = content_pages(seed.wrapping_add(j as u64 * 7919), dpi, n);
        for (clean, text) in texts {
            let deg: f32 = match k {
                0 => 14.9,
                1 => -14.9,
                _ => (rng.random_range(-15.0f32..=15.0) * 100.0).round() / 100.0,
            };
            let quarter: u32 = rng.random_range(0..4);
            let defect_seed: u64 = rng.random();
            let image = degrade(&clean, dpi, deg, quarter, defect_seed, defects);
            let straight = with_straight.then(|| degrade(&clean, dpi, 0.0, 0, defect_seed, defects));
            out.push(EvalPage {
                name: format!("content-{k:03}-{}dpi", dpi as u32),
                image,
                dpi,
                truth: Truth::Content { skew_deg: deg, rotation: (quarter * 90) as u16, text },
                straight,
            });
            k += 1;
        }
    }
    let blanks = (pages / 3).max(5);
    for b in 0..blanks {
        let dpi = if b % 2 == 0 { 300 } else { 200 };
        let kind = ["noise", "bleed", "shadow", "border", "dust"][b % 5];
        let image = blank_page(kind, dpi, rng.random(), (b / 5) as u64);
        out.push(EvalPage { name: format!("blank-{b:03}-{kind}-{dpi}dpi"), image, dpi: dpi as f32, truth: Truth::Blank, straight: None });
    }
    const LINES: &[&str] = &["Trang này để trống", "Số: 12/UBND-VP", "Ghi chú: đã kiểm tra", "Hết./."];
    for i in 0..(pages / 6).max(2) {
        let dpi = if i % 2 == 0 { 200.0 } else { 300.0 };
        let spec = PageSpec::a4(dpi, synth::pt_to_px(13.0, dpi));
        let text = LINES[i % LINES.len()];
        let mut img = synth::render_page(&spec, &[Line::left(text)]);
        let s: u64 = rng.random();
        img = synth::rotate_gray(&img, rng.random_range(-5.0..5.0), 255);
        synth::tint(&mut img, 0.95);
        synth::add_noise(&mut img, s, 10.0);
        synth::add_specks(&mut img, s + 1, 400, dpi / 100.0);
        out.push(EvalPage { name: format!("oneline-{i:03}-{}dpi", dpi as u32), image: img, dpi, truth: Truth::OneLine, straight: None });
    }
    out
}

/// `n` clean, upright content pages at `dpi` with their exact text.
fn content_pages(seed: u64, dpi: f32, n: usize) -> Vec<(GrayImage, String)> {
    let mut got = Vec::new();
    let mut s = seed;
    while got.len() < n {
        let opts =
            GenOptions { seed: s, dpi, dossiers: n.div_ceil(4).clamp(1, 8), max_skew_deg: 0.0, noise_sigma: 0.0, blank_backs: false, ..Default::default() };
        let batch = synth::generate_batch(&opts);
        for (p, t) in batch.pages.into_iter().zip(batch.truth.pages) {
            if got.len() < n && t.kind == "content" {
                got.push((p.image, t.text.unwrap_or_default()));
            }
        }
        s = s.wrapping_add(1);
    }
    got
}

/// Skews (corners filled with white paper or a black scanner lid), then adds the defects
/// drawn from `seed`, then turns the page counter-clockwise by `quarter` quarter turns.
/// The draws depend on `seed` only, so a page and its straight twin get the same defects.
pub(crate) fn degrade(clean: &GrayImage, dpi: f32, deg: f32, quarter: u32, seed: u64, defects: Defects) -> GrayImage {
    let heavy = defects == Defects::Heavy;
    let mut rng = StdRng::seed_from_u64(seed);
    let mut img = clean.clone();
    if heavy {
        if rng.random_bool(0.4) {
            img = synth::box_blur(&img, if dpi >= 300.0 { 2 } else { 1 });
        }
    } else if rng.random_bool(0.3) {
        img = synth::box_blur(&img, 1);
    }
    let wedge = rng.random_bool(0.3);
    if deg != 0.0 {
        img = synth::rotate_gray(&img, deg, if wedge { 25 } else { 255 });
    }
    let paper = if heavy { 0.88 } else { 0.92 };
    synth::tint(&mut img, rng.random_range(paper..1.0));
    if rng.random_bool(if heavy { 0.3 } else { 0.2 }) {
        let d = (dpi / 5.0) as u32;
        synth::add_border(&mut img, d, 0, 0, d / 2, 20);
    }
    let (noise, specks, speck_radius) = if heavy { (4.0..14.0, 300, dpi / 100.0) } else { (3.0..6.0, 100, dpi / 200.0) };
    synth::add_noise(&mut img, seed, rng.random_range(noise));
    synth::add_specks(&mut img, seed ^ 1, specks, speck_radius);
    let (jpeg_p, quality) = if heavy { (0.5, 50..=90) } else { (0.5, 75..=90) };
    if rng.random_bool(jpeg_p) {
        img = jpeg_round_trip(&img, rng.random_range(quality));
    }
    synth::rotate_quarter(&img, quarter)
}

/// Encodes as JPEG at `quality` and decodes again (block and ringing artefacts).
pub fn jpeg_round_trip(img: &GrayImage, quality: u8) -> GrayImage {
    let mut buf = Vec::new();
    let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut buf, quality);
    if img.write_with_encoder(enc).is_err() {
        return img.clone();
    }
    image::load_from_memory_with_format(&buf, ImageFormat::Jpeg).map(|d| d.into_luma8()).unwrap_or_else(|_| img.clone())
}

/// A4 blank sheet of the given hard-case `kind`.
fn blank_page(kind: &str, dpi: u32, seed: u64, variant: u64) -> GrayImage {
    let d = dpi as f32;
    let w = (synth::A4_WIDTH_IN * d) as u32;
    let h = (synth::A4_HEIGHT_IN * d) as u32;
    let mut img = GrayImage::from_pixel(w, h, image::Luma([243]));
    synth::add_noise(&mut img, seed, 10.0);
    synth::add_specks(&mut img, seed + 1, 400, d / 100.0);
    match kind {
        "bleed" => {
            // Show-through of a printed back, mirrored as it would be, up to 30 %.
            let back = synth::render_admin_page(d, synth::pt_to_px(13.0, d), variant);
            let back = image::imageops::flip_horizontal(&back);
            synth::add_bleed_through(&mut img, &back, 0.3);
        }
        "shadow" => {
            synth::add_edge_shadow(&mut img, Edge::Left, (0.5 * d) as u32, 90);
            synth::add_edge_shadow(&mut img, Edge::Bottom, (0.3 * d) as u32, 120);
        }
        "border" => {
            img = synth::rotate_gray(&img, 2.0, 20);
            synth::add_border(&mut img, dpi / 6, dpi / 10, 0, 0, 15);
        }
        "dust" => synth::add_specks(&mut img, seed + 2, 40, d / 30.0),
        _ => {}
    }
    img
}
