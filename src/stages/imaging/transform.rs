//! Full-size geometric correction: one resampling pass that undoes a quarter-turn
//! orientation and a small skew together, for 1-channel and 3-channel 8-bit images.
//!
//! Convention: the content is turned counter-clockwise (on screen) by
//! `quarter + skew_deg` degrees; the output shows it upright. For 90 and 270 the output
//! size is the input size transposed. Pixels that map outside the source take `fill`
//! (the page background). Interpolation is bilinear with 8-bit weights, coordinates are
//! 32.32 fixed point stepped along each output row; rows run in parallel on rayon.
//! A zero skew gives an exact pixel permutation (no resampling blur).

use rayon::prelude::*;

use super::analysis::luma_row;

const ONE: f64 = 4_294_967_296.0; // 2^32

/// Turns `src` (`w` x `h`, `N` channels) so that content rotated counter-clockwise by
/// `quarter` (0/90/180/270) plus `skew_deg` becomes upright. Returns the buffer and size.
pub(crate) fn rotate<const N: usize>(src: &[u8], w: u32, h: u32, quarter: u16, skew_deg: f32, fill: [u8; N]) -> (Vec<u8>, u32, u32) {
    let (out, _, ow, oh) = rotate_impl::<N>(src, w, h, quarter, skew_deg, fill, false, false);
    (out, ow, oh)
}

/// [`rotate`] by `skew_deg` alone into a canvas large enough to hold all of the source
/// (`ceil(w |cos| + h |sin|)` by `ceil(w |sin| + h |cos|)`), centred; the uncovered area
/// takes `fill`. Returns the buffer and size.
pub(crate) fn rotate_expand<const N: usize>(src: &[u8], w: u32, h: u32, skew_deg: f32, fill: [u8; N]) -> (Vec<u8>, u32, u32) {
    let (out, _, ow, oh) = rotate_impl::<N>(src, w, h, 0, skew_deg, fill, false, true);
    (out, ow, oh)
}

/// [`rotate`] for packed RGB that also returns the BT.601 luma of the result (the same
/// bytes as `analysis::luma_row` over the returned RGB), computed row by row while the
/// row is still in cache. Returns RGB, luma, width and height.
pub(crate) fn rotate_rgb_with_luma(src: &[u8], w: u32, h: u32, quarter: u16, skew_deg: f32, fill: [u8; 3]) -> (Vec<u8>, Vec<u8>, u32, u32) {
    rotate_impl::<3>(src, w, h, quarter, skew_deg, fill, true, false)
}

#[allow(clippy::too_many_arguments)]
fn rotate_impl<const N: usize>(
    src: &[u8],
    w: u32,
    h: u32,
    quarter: u16,
    skew_deg: f32,
    fill: [u8; N],
    with_luma: bool,
    expand: bool,
) -> (Vec<u8>, Vec<u8>, u32, u32) {
    let quarter = quarter % 360 / 90 * 90;
    let (ow, oh) = if quarter % 180 == 90 { (h, w) } else { (w, h) };
    let (ow, oh) = if expand && skew_deg.is_finite() && skew_deg != 0.0 {
        let (s, c) = (quarter as f64 + skew_deg as f64).to_radians().sin_cos();
        let (s, c) = (s.abs(), c.abs());
        ((w as f64 * c + h as f64 * s).ceil() as u32, (w as f64 * s + h as f64 * c).ceil() as u32)
    } else {
        (ow, oh)
    };
    let pixels = (ow as usize) * (oh as usize);
    let luma_of = |rgb: &[u8]| {
        let mut gray = zeroed_page_buffer(pixels);
        if with_luma && ow > 0 {
            gray.par_chunks_mut(ow as usize).zip(rgb.par_chunks(ow as usize * N)).for_each(|(g, c)| luma_row(c, g));
        }
        gray
    };
    if w == 0 || h == 0 || src.len() < (w as usize) * (h as usize) * N {
        let out = vec![0; pixels * N];
        let gray = if with_luma { vec![0; pixels] } else { Vec::new() };
        return (out, gray, ow, oh);
    }
    if skew_deg == 0.0 || !skew_deg.is_finite() {
        let out = quarter_turn::<N>(src, w, h, quarter);
        let gray = if with_luma { luma_of(&out) } else { Vec::new() };
        return (out, gray, ow, oh);
    }
    let phi = (quarter as f64 + skew_deg as f64).to_radians();
    let (s, c) = phi.sin_cos();
    let mut out = zeroed_page_buffer(pixels * N);
    let mut gray = if with_luma { zeroed_page_buffer(pixels) } else { Vec::new() };
    let geo = Geometry { src, w: w as i64, h: h as i64, ow, oh, c, s };
    // Bands of output rows; within a band, tiles of columns, so that quarter-turned
    // pages (which walk the source by columns) stay in cache.
    const BAND: usize = 32;
    const TILE: usize = 256;
    let row_len = ow as usize * N;
    let tile = if quarter % 180 == 90 { TILE } else { ow as usize };
    let band = |(band, (chunk, luma)): (usize, (&mut [u8], &mut [u8]))| {
        let rows = chunk.len() / row_len;
        let mut x0 = 0;
        while x0 < ow as usize {
            let x1 = (x0 + tile).min(ow as usize);
            for r in 0..rows {
                let oy = band * BAND + r;
                let line = &mut chunk[r * row_len + x0 * N..r * row_len + x1 * N];
                geo.row::<N>(oy, x0, line, &fill);
                if with_luma {
                    let row = r * ow as usize;
                    luma_row(line, &mut luma[row + x0..row + x1]);
                }
            }
            x0 = x1;
        }
    };
    if with_luma {
        out.par_chunks_mut(row_len * BAND).zip(gray.par_chunks_mut(ow as usize * BAND)).enumerate().for_each(band);
    } else {
        out.par_chunks_mut(row_len * BAND).map(|chunk| (chunk, &mut [][..])).enumerate().for_each(band);
    }
    (out, gray, ow, oh)
}

struct Geometry<'a> {
    src: &'a [u8],
    w: i64,
    h: i64,
    ow: u32,
    oh: u32,
    c: f64,
    s: f64,
}

impl Geometry<'_> {
    /// Fills output pixels `x0..x0 + line.len() / N` of output row `oy`.
    // The channel index also offsets the source reads, so the loops index by it.
    #[allow(clippy::needless_range_loop)]
    fn row<const N: usize>(&self, oy: usize, x0: usize, line: &mut [u8], fill: &[u8; N]) {
        let (c, s) = (self.c, self.s);
        let ry = oy as f64 + 0.5 - self.oh as f64 / 2.0;
        let rx = x0 as f64 + 0.5 - self.ow as f64 / 2.0;
        let sx = rx * c + ry * s + self.w as f64 / 2.0 - 0.5;
        let sy = -rx * s + ry * c + self.h as f64 / 2.0 - 0.5;
        let mut fx = (sx * ONE).round() as i64;
        let mut fy = (sy * ONE).round() as i64;
        let dx = (c * ONE).round() as i64;
        let dy = (-s * ONE).round() as i64;
        let n = line.len() / N;
        // Output pixels whose four source neighbours are all inside: [lo, hi).
        let (lo, hi) = inside_span(fx, dx, self.w - 1, n);
        let (lo2, hi2) = inside_span(fy, dy, self.h - 1, n);
        let (lo, hi) = (lo.max(lo2), hi.min(hi2).max(lo.max(lo2)));
        let stride = self.w as usize * N;
        // Source coordinates are linear in the step, so if the first and last pixel of the
        // span have all four neighbours inside the source, every pixel between does.
        let fits = |k: usize| {
            let (x, y) = (fx + k as i64 * dx, fy + k as i64 * dy);
            let (ix, iy) = (x >> 32, y >> 32);
            ix >= 0 && iy >= 0 && ix + 1 < self.w && iy + 1 < self.h
        };
        let (lo, hi) = if hi > lo && fits(lo) && fits(hi - 1) { (lo, hi) } else { (n, n) };
        let (head, rest) = line.split_at_mut(lo.min(n) * N);
        let (mid, tail) = rest.split_at_mut((hi - lo) * N);
        for px in head.chunks_exact_mut(N) {
            self.edge_pixel::<N>(fx, fy, px, fill);
            fx += dx;
            fy += dy;
        }
        let src = self.src.as_ptr();
        let mut mid = mid;
        #[cfg(target_arch = "x86_64")]
        if (N == 1 || N == 3) && self.src.len() < i32::MAX as usize && use_avx2() {
            // Blocks of 8 pixels whose gathers stay inside the source (on the lower row,
            // 4 bytes from the pixel for 1 channel, 8 bytes for 3). The column and the
            // row are each monotonic along the span, so their largest values over the
            // pixels `0..k` are at one end or the other, and the furthest byte any of
            // those pixels reads is at most the one computed from both maxima.
            let len = self.src.len() as i64;
            let reach = if N == 1 { 3 } else { 7 };
            let last_read = |k: i64| {
                let ix = (fx >> 32).max((fx + k * dx) >> 32);
                let iy = (fy >> 32).max((fy + k * dy) >> 32);
                iy * stride as i64 + ix * N as i64 + stride as i64 + reach
            };
            let mut blocks = mid.len() / (8 * N);
            while blocks > 0 && last_read(blocks as i64 * 8 - 1) >= len {
                blocks -= 1;
            }
            if blocks > 0 {
                let (simd, rest) = mid.split_at_mut(blocks * 8 * N);
                // SAFETY: AVX2 is available (checked); every pixel of `simd` lies in the
                // inside span (`fits` above), its gathers end before `len`, and every
                // byte offset is below `len < i32::MAX`.
                unsafe { if N == 1 { bilinear_avx2(src, stride, fx, fy, dx, dy, simd) } else { bilinear3_avx2(src, stride, fx, fy, dx, dy, simd) } };
                fx += dx * (blocks * 8) as i64;
                fy += dy * (blocks * 8) as i64;
                mid = rest;
            }
        }
        for px in mid.chunks_exact_mut(N) {
            let ix = (fx >> 32) as usize;
            let iy = (fy >> 32) as usize;
            let ax = ((fx >> 24) & 0xFF) as u32;
            let ay = ((fy >> 24) & 0xFF) as u32;
            let i = iy * stride + ix * N;
            for ch in 0..N {
                // SAFETY: `fits` checked the span ends, so `ix + 1 < w` and `iy + 1 < h`
                // for every pixel here, and `src` holds `w * h * N` bytes (checked by
                // `rotate`); the largest index read is `i + stride + N + ch < w * h * N`.
                let (p00, p01, p10, p11) =
                    unsafe { (*src.add(i + ch) as u32, *src.add(i + N + ch) as u32, *src.add(i + stride + ch) as u32, *src.add(i + stride + N + ch) as u32) };
                // Both rows interpolated in one multiply: top in the low 16 bits.
                let tb = (p00 | p10 << 16) * (256 - ax) + (p01 | p11 << 16) * ax;
                let (t, b) = (tb & 0xFFFF, tb >> 16);
                px[ch] = ((t * (256 - ay) + b * ay + 32768) >> 16) as u8;
            }
            fx += dx;
            fy += dy;
        }
        for px in tail.chunks_exact_mut(N) {
            self.edge_pixel::<N>(fx, fy, px, fill);
            fx += dx;
            fy += dy;
        }
    }

    /// A pixel near or outside the source edge: missing neighbours take `fill`.
    #[allow(clippy::needless_range_loop)]
    fn edge_pixel<const N: usize>(&self, fx: i64, fy: i64, px: &mut [u8], fill: &[u8; N]) {
        let ix = fx >> 32;
        let iy = fy >> 32;
        if ix < -1 || iy < -1 || ix >= self.w || iy >= self.h {
            px.copy_from_slice(fill);
            return;
        }
        let ax = ((fx >> 24) & 0xFF) as u32;
        let ay = ((fy >> 24) & 0xFF) as u32;
        let get = |x: i64, y: i64, ch: usize| -> u32 {
            if x < 0 || y < 0 || x >= self.w || y >= self.h { fill[ch] as u32 } else { self.src[(y * self.w + x) as usize * N + ch] as u32 }
        };
        for ch in 0..N {
            let t = get(ix, iy, ch) * (256 - ax) + get(ix + 1, iy, ch) * ax;
            let b = get(ix, iy + 1, ch) * (256 - ax) + get(ix + 1, iy + 1, ch) * ax;
            px[ch] = ((t * (256 - ay) + b * ay + 32768) >> 16) as u8;
        }
    }
}

/// Set by tests to compare the scalar path with the AVX2 one (they are bit-identical, so
/// flipping it never changes any other test's result).
#[cfg(test)]
pub(crate) static SCALAR_ONLY: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether the AVX2 bilinear kernel may run (CPU support is detected once).
#[cfg(target_arch = "x86_64")]
fn use_avx2() -> bool {
    use std::sync::OnceLock;
    static ON: OnceLock<bool> = OnceLock::new();
    #[cfg(test)]
    if SCALAR_ONLY.load(std::sync::atomic::Ordering::Relaxed) {
        return false;
    }
    *ON.get_or_init(|| std::is_x86_feature_detected!("avx2"))
}

/// Eight consecutive source positions of an output row in 32.32 fixed point (four 64-bit
/// lanes per register and axis), as both AVX2 bilinear kernels walk them.
#[cfg(target_arch = "x86_64")]
struct Positions8 {
    x: [std::arch::x86_64::__m256i; 2],
    y: [std::arch::x86_64::__m256i; 2],
    step_x: std::arch::x86_64::__m256i,
    step_y: std::arch::x86_64::__m256i,
}

#[cfg(target_arch = "x86_64")]
impl Positions8 {
    /// Pixels `k = 0..8` at `(fx + k·dx, fy + k·dy)`.
    #[target_feature(enable = "avx2")]
    #[inline]
    fn new(fx: i64, fy: i64, dx: i64, dy: i64) -> Positions8 {
        use std::arch::x86_64::*;
        let lanes = |f: i64, d: i64| [_mm256_setr_epi64x(f, f + d, f + 2 * d, f + 3 * d), _mm256_setr_epi64x(f + 4 * d, f + 5 * d, f + 6 * d, f + 7 * d)];
        Positions8 { x: lanes(fx, dx), y: lanes(fy, dy), step_x: _mm256_set1_epi64x(8 * dx), step_y: _mm256_set1_epi64x(8 * dy) }
    }

    /// Integer parts and 8-bit fractions `(ix, iy, ax, ay)`, one 32-bit lane per pixel,
    /// pixels in order.
    #[target_feature(enable = "avx2")]
    #[inline]
    fn split(&self) -> (std::arch::x86_64::__m256i, std::arch::x86_64::__m256i, std::arch::x86_64::__m256i, std::arch::x86_64::__m256i) {
        use std::arch::x86_64::*;
        // Low 32 bits of each 64-bit lane, lanes 0..3 of `lo` then of `hi`.
        let pick = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
        let pack = |[lo, hi]: [__m256i; 2]| {
            let a = _mm256_permutevar8x32_epi32(lo, pick);
            let b = _mm256_permutevar8x32_epi32(hi, pick);
            _mm256_permute2x128_si256(a, b, 0x20)
        };
        let ff = _mm256_set1_epi32(0xFF);
        let int = |v: [__m256i; 2]| pack([_mm256_srli_epi64(v[0], 32), _mm256_srli_epi64(v[1], 32)]);
        let frac = |v: [__m256i; 2]| _mm256_and_si256(pack([_mm256_srli_epi64(v[0], 24), _mm256_srli_epi64(v[1], 24)]), ff);
        (int(self.x), int(self.y), frac(self.x), frac(self.y))
    }

    /// On to the next eight pixels.
    #[target_feature(enable = "avx2")]
    #[inline]
    fn advance(&mut self) {
        use std::arch::x86_64::*;
        for v in &mut self.x {
            *v = _mm256_add_epi64(*v, self.step_x);
        }
        for v in &mut self.y {
            *v = _mm256_add_epi64(*v, self.step_y);
        }
    }
}

/// The 1-channel bilinear inner loop, 8 output pixels per step, bit-identical to the
/// scalar loop in [`Geometry::row`]: source positions in 32.32 fixed point (four 64-bit
/// lanes per register), each pixel's top pair and bottom pair fetched with one 32-bit
/// gather each, weights and rounding as in the scalar code.
///
/// # Safety
/// AVX2 must be available; `out.len()` is a multiple of 8; for every pixel `k` the
/// position `(fx + k·dx, fy + k·dy)` is non-negative and the 4 bytes read at row
/// `iy` and `iy + 1` from column `ix` lie inside the source buffer at `src`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn bilinear_avx2(src: *const u8, stride: usize, fx: i64, fy: i64, dx: i64, dy: i64, out: &mut [u8]) {
    use std::arch::x86_64::*;
    let mut pos = Positions8::new(fx, fy, dx, dy);
    let stride_v = _mm256_set1_epi32(stride as i32);
    let ff = _mm256_set1_epi32(0xFF);
    let full = _mm256_set1_epi32(256);
    let half = _mm256_set1_epi32(32768);
    let base = src as *const i32;
    let mut res = [0i32; 8];
    // Eight bytes from `p`, one 32-bit lane each.
    let load8 = |p: *const u8| {
        // SAFETY: callers pass pointers with 8 readable bytes.
        _mm256_cvtepu8_epi32(unsafe { _mm_loadl_epi64(p as *const __m128i) })
    };
    for chunk in out.chunks_exact_mut(8) {
        let (ix, iy, ax, ay) = pos.split();
        let (ix0, ix7) = (_mm256_extract_epi32::<0>(ix), _mm256_extract_epi32::<7>(ix));
        let (iy0, iy7) = (_mm256_extract_epi32::<0>(iy), _mm256_extract_epi32::<7>(iy));
        let (p00, p01, p10, p11) = if ix7 - ix0 == 7 && (iy7 - iy0).abs() <= 1 {
            // A skewed upright page: the eight pixels read consecutive source columns
            // from at most two pairs of rows (`r`, `r + 1`, and `r + 2` for the lanes a
            // row further down), so plain loads replace the gathers, which are slower.
            // SAFETY: every lane reads columns `ix0 + k` and `ix0 + k + 1 < w` of rows
            // `iy_k` and `iy_k + 1` (the caller's guarantee), so rows `r`..`r + 1` (and
            // `r + 2` when some lane has `iy = r + 1`) exist and columns `ix0..=ix0 + 8`
            // are inside each of them.
            unsafe {
                let r = iy0.min(iy7);
                let row = src.add(r as usize * stride + ix0 as usize);
                let (a0, a1) = (load8(row), load8(row.add(1)));
                let (b0, b1) = (load8(row.add(stride)), load8(row.add(stride + 1)));
                if iy0 == iy7 {
                    (a0, a1, b0, b1)
                } else {
                    let (c0, c1) = (load8(row.add(2 * stride)), load8(row.add(2 * stride + 1)));
                    let lower = _mm256_cmpgt_epi32(iy, _mm256_set1_epi32(r));
                    let pick = |up: __m256i, down: __m256i| _mm256_blendv_epi8(up, down, lower);
                    (pick(a0, b0), pick(a1, b1), pick(b0, c0), pick(b1, c1))
                }
            }
        } else {
            let idx = _mm256_add_epi32(_mm256_mullo_epi32(iy, stride_v), ix);
            // SAFETY: the caller guarantees every 4-byte read at `idx` and `idx + stride`
            // is inside the source.
            let (top, bot) = unsafe { (_mm256_i32gather_epi32::<1>(base, idx), _mm256_i32gather_epi32::<1>(base, _mm256_add_epi32(idx, stride_v))) };
            (
                _mm256_and_si256(top, ff),
                _mm256_and_si256(_mm256_srli_epi32(top, 8), ff),
                _mm256_and_si256(bot, ff),
                _mm256_and_si256(_mm256_srli_epi32(bot, 8), ff),
            )
        };
        let nax = _mm256_sub_epi32(full, ax);
        let t = _mm256_add_epi32(_mm256_mullo_epi32(p00, nax), _mm256_mullo_epi32(p01, ax));
        let b = _mm256_add_epi32(_mm256_mullo_epi32(p10, nax), _mm256_mullo_epi32(p11, ax));
        let v = _mm256_add_epi32(_mm256_add_epi32(_mm256_mullo_epi32(t, _mm256_sub_epi32(full, ay)), _mm256_mullo_epi32(b, ay)), half);
        // SAFETY: `res` holds exactly 8 i32 (32 bytes); unaligned store allowed.
        unsafe { _mm256_storeu_si256(res.as_mut_ptr() as *mut __m256i, _mm256_srli_epi32(v, 16)) };
        for (o, r) in chunk.iter_mut().zip(res) {
            *o = r as u8;
        }
        pos.advance();
    }
}

/// The 3-channel bilinear inner loop, 8 output pixels (24 bytes) per step, bit-identical
/// to the scalar loop in [`Geometry::row`]. Per row of neighbours, one 64-bit gather per
/// pixel fetches the left and right neighbours' three bytes together (4 lanes per gather,
/// so 16 loads per 8 pixels: gathers cost per element, and 32-bit ones would need twice
/// as many); byte shuffles lay each channel's (left, right) pair out as 16-bit lanes,
/// and one `madd` against the weights (256 − ax, ax) gives the scalar code's horizontal
/// sum exactly; the vertical step, rounding and shift are the scalar code's in 32-bit
/// lanes.
///
/// # Safety
/// AVX2 must be available; `out.len()` is a multiple of 24; for every pixel `k` the
/// position `(fx + k·dx, fy + k·dy)` is non-negative, the 8 bytes read at byte offset
/// `iy·stride + 3·ix` on row `iy` and on row `iy + 1` lie inside the source buffer at
/// `src`, and every such offset is below `i32::MAX`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn bilinear3_avx2(src: *const u8, stride: usize, fx: i64, fy: i64, dx: i64, dy: i64, out: &mut [u8]) {
    use std::arch::x86_64::*;
    let mut pos = Positions8::new(fx, fy, dx, dy);
    let stride_v = _mm256_set1_epi32(stride as i32);
    let full = _mm256_set1_epi32(256);
    let half = _mm256_set1_epi32(32768);
    // Pixel k's three bytes (in the low 24 bits of lane k) to 12 contiguous bytes per
    // 128-bit half, then both halves' 12 bytes together at the start.
    let compact = _mm256_setr_epi8(
        0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, -1, -1, -1, -1, //
        0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, -1, -1, -1, -1,
    );
    let join = _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 3, 7);
    let order = _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7);
    let stride_128 = _mm_set1_epi32(stride as i32);
    // Per 128-bit half (two pixels, 8 bytes each): dwords 0, 1 = the (left, right) red
    // pair of each pixel as 16-bit lanes, dwords 2, 3 = the green pairs; `b_mask` puts
    // the blue pairs in dwords 0, 1.
    let rg_mask = _mm256_setr_epi8(
        0, -1, 3, -1, 8, -1, 11, -1, 1, -1, 4, -1, 9, -1, 12, -1, //
        0, -1, 3, -1, 8, -1, 11, -1, 1, -1, 4, -1, 9, -1, 12, -1,
    );
    let b_mask = _mm256_setr_epi8(
        2, -1, 5, -1, 10, -1, 13, -1, -1, -1, -1, -1, -1, -1, -1, -1, //
        2, -1, 5, -1, 10, -1, 13, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    );
    let base = src as *const i64;
    let mut res = [0u8; 32];
    for chunk in out.chunks_exact_mut(24) {
        let (ix, iy, ax, ay) = pos.split();
        // (256 - ax) in the low 16 bits, ax in the high 16 bits.
        let wx = _mm256_or_si256(_mm256_sub_epi32(full, ax), _mm256_slli_epi32(ax, 16));
        let idx = _mm256_add_epi32(_mm256_mullo_epi32(iy, stride_v), _mm256_add_epi32(ix, _mm256_add_epi32(ix, ix)));
        // Pixels 0, 1, 4, 5 in the low half, 2, 3, 6, 7 in the high half: after the
        // 128-bit-lane shuffles and 64-bit unpacks below they come out in order 0..7.
        let idx = _mm256_permutevar8x32_epi32(idx, order);
        let (ia, ib) = (_mm256_castsi256_si128(idx), _mm256_extracti128_si256::<1>(idx));
        let (ia_b, ib_b) = (_mm_add_epi32(ia, stride_128), _mm_add_epi32(ib, stride_128));
        // SAFETY: the caller guarantees every 8-byte read at these offsets is inside the
        // source.
        let (ta, tb, ba, bb) = unsafe {
            (
                _mm256_i32gather_epi64::<1>(base, ia),
                _mm256_i32gather_epi64::<1>(base, ib),
                _mm256_i32gather_epi64::<1>(base, ia_b),
                _mm256_i32gather_epi64::<1>(base, ib_b),
            )
        };
        // One neighbour row (8 bytes per pixel: left RGB at bytes 0-2, right RGB at 3-5):
        // per channel, left·(256 − ax) + right·ax in 32-bit lanes.
        let across = |a: __m256i, b: __m256i| {
            let (rg_a, rg_b) = (_mm256_shuffle_epi8(a, rg_mask), _mm256_shuffle_epi8(b, rg_mask));
            let (b_a, b_b) = (_mm256_shuffle_epi8(a, b_mask), _mm256_shuffle_epi8(b, b_mask));
            (
                _mm256_madd_epi16(_mm256_unpacklo_epi64(rg_a, rg_b), wx),
                _mm256_madd_epi16(_mm256_unpackhi_epi64(rg_a, rg_b), wx),
                _mm256_madd_epi16(_mm256_unpacklo_epi64(b_a, b_b), wx),
            )
        };
        let (t0, t1, t2) = across(ta, tb);
        let (b0, b1, b2) = across(ba, bb);
        let nay = _mm256_sub_epi32(full, ay);
        let down =
            |t: __m256i, b: __m256i| _mm256_srli_epi32(_mm256_add_epi32(_mm256_add_epi32(_mm256_mullo_epi32(t, nay), _mm256_mullo_epi32(b, ay)), half), 16);
        let rgb = _mm256_or_si256(down(t0, b0), _mm256_or_si256(_mm256_slli_epi32(down(t1, b1), 8), _mm256_slli_epi32(down(t2, b2), 16)));
        let packed = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(rgb, compact), join);
        // SAFETY: `res` holds exactly 32 bytes; unaligned store allowed.
        unsafe { _mm256_storeu_si256(res.as_mut_ptr() as *mut __m256i, packed) };
        chunk.copy_from_slice(&res[..24]);
        pos.advance();
    }
}

/// A zeroed buffer of `n` bytes for a full-size page. Large buffers are fresh memory
/// from the kernel, faulted in page by page as they are first written; asking for
/// transparent huge pages on them (where the kernel offers them on request) turns
/// thousands of 4 KiB faults per page image into a few 2 MiB ones. The advice changes no
/// content and is ignored where unsupported.
pub(crate) fn zeroed_page_buffer(n: usize) -> Vec<u8> {
    let v = vec![0u8; n];
    #[cfg(target_os = "linux")]
    {
        const HUGE: usize = 2 << 20;
        let start = (v.as_ptr() as usize).next_multiple_of(HUGE);
        let end = (v.as_ptr() as usize + n) / HUGE * HUGE;
        if end > start {
            // SAFETY: the range lies inside `v`'s allocation, which we own; MADV_HUGEPAGE
            // only changes how the kernel backs it, never its contents.
            unsafe {
                libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
            }
        }
    }
    v
}

/// Range of steps `k` in `0..n` for which `(f + k·d) >> 32` lies in `[0, max)`, shrunk by
/// one step at each end so rounding can never put a pixel outside it.
fn inside_span(f: i64, d: i64, max: i64, n: usize) -> (usize, usize) {
    let lim = max << 32;
    let (f, d) = (f as f64, d as f64);
    let (a, b) = if d == 0.0 {
        if f >= 0.0 && f < lim as f64 { (0.0, n as f64) } else { (0.0, 0.0) }
    } else {
        let k0 = (0.0 - f) / d;
        let k1 = (lim as f64 - f) / d;
        (k0.min(k1), k0.max(k1))
    };
    let lo = (a.ceil() + 1.0).clamp(0.0, n as f64) as usize;
    let hi = (b.floor() - 1.0).clamp(0.0, n as f64) as usize;
    if hi > lo { (lo, hi) } else { (0, 0) }
}

/// Exact quarter turn (clockwise by `quarter`, undoing a counter-clockwise turn).
fn quarter_turn<const N: usize>(src: &[u8], w: u32, h: u32, quarter: u16) -> Vec<u8> {
    if quarter == 0 {
        return src[..(w as usize) * (h as usize) * N].to_vec();
    }
    let (w, h) = (w as usize, h as usize);
    let (ow, _oh) = if quarter == 180 { (w, h) } else { (h, w) };
    let mut out = zeroed_page_buffer(w * h * N);
    // Bands of 64 output rows, tiles of 64 columns: both walks stay within a few pages.
    const B: usize = 64;
    out.par_chunks_mut(ow * N * B).enumerate().for_each(|(band, chunk)| {
        let rows = chunk.len() / (ow * N);
        for x0 in (0..ow).step_by(B) {
            let x1 = (x0 + B).min(ow);
            for r in 0..rows {
                let oy = band * B + r;
                let line = &mut chunk[(r * ow + x0) * N..(r * ow + x1) * N];
                for (k, px) in line.chunks_exact_mut(N).enumerate() {
                    let ox = x0 + k;
                    // Source pixel shown at (ox, oy) after turning clockwise by `quarter`.
                    let (sx, sy) = match quarter {
                        90 => (oy, h - 1 - ox),
                        180 => (w - 1 - ox, h - 1 - oy),
                        _ => (w - 1 - oy, ox),
                    };
                    let i = (sy * w + sx) * N;
                    px.copy_from_slice(&src[i..i + N]);
                }
            }
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 3x2 image: row 0 = 1 2 3, row 1 = 4 5 6.
    const SRC: [u8; 6] = [1, 2, 3, 4, 5, 6];

    #[test]
    fn quarter_turns_are_exact() {
        // Content turned CCW by 90: its top is on the left. Undoing it turns clockwise.
        let (o, w, h) = rotate::<1>(&SRC, 3, 2, 90, 0.0, [0]);
        assert_eq!((w, h), (2, 3));
        assert_eq!(o, vec![4, 1, 5, 2, 6, 3]);
        let (o, _, _) = rotate::<1>(&SRC, 3, 2, 180, 0.0, [0]);
        assert_eq!(o, vec![6, 5, 4, 3, 2, 1]);
        let (o, w, h) = rotate::<1>(&SRC, 3, 2, 270, 0.0, [0]);
        assert_eq!((w, h), (2, 3));
        assert_eq!(o, vec![3, 6, 2, 5, 1, 4]);
    }

    #[test]
    fn resampled_quarter_turn_matches_exact_one() {
        let src: Vec<u8> = (0..40 * 30).map(|i| ((i * 37) % 251) as u8).collect();
        for q in [90u16, 180, 270] {
            let (exact, _, _) = rotate::<1>(&src, 40, 30, q, 0.0, [0]);
            let (near, _, _) = rotate::<1>(&src, 40, 30, q, 1e-7, [0]);
            // Interior pixels agree within rounding.
            let diff = exact.iter().zip(&near).filter(|(a, b)| a.abs_diff(**b) > 1).count();
            assert!(diff < 80, "quarter {q}: {diff} pixels differ");
        }
    }

    #[test]
    fn undoes_a_counter_clockwise_skew() {
        // A bar going up to the right at +10 degrees becomes horizontal.
        let (w, h) = (201u32, 201u32);
        let mut src = vec![255u8; (w * h) as usize];
        let t = 10f64.to_radians().tan();
        for x in 20..180 {
            let y = (100.0 - (x as f64 - 100.0) * t).round() as u32;
            src[(y * w + x) as usize] = 0;
        }
        let (o, _, _) = rotate::<1>(&src, w, h, 0, 10.0, [255]);
        let dark_rows: Vec<u32> = (0..h).filter(|&y| (0..w).filter(|&x| o[(y * w + x) as usize] < 160).count() > 20).collect();
        assert!(!dark_rows.is_empty() && dark_rows.len() <= 3, "rows {dark_rows:?}");
        assert!(dark_rows.iter().all(|&y| (98..=102).contains(&y)));
        // Corners come from outside the source: filled.
        assert_eq!(o[0], 255);
    }

    #[test]
    fn simd_and_scalar_paths_agree_exactly() {
        use std::sync::atomic::Ordering;
        let (w, h) = (333u32, 251u32);
        let src: Vec<u8> = (0..w * h).map(|i| ((i * 7919) % 253) as u8).collect();
        // Small skews (the gather-free path, the row changing within eight pixels either
        // way), large ones, quarter turns.
        let cases = [(0u16, 0.37f32), (0, 3.3), (0, -4.2), (0, 7.1), (0, -14.9), (90, 3.3), (180, -0.8), (270, 15.0)];
        let run = || -> Vec<Vec<u8>> { cases.iter().map(|&(q, d)| rotate::<1>(&src, w, h, q, d, [240]).0).collect() };
        let rgb: Vec<u8> = (0..w * h * 3).map(|i| ((i * 7919) % 251) as u8).collect();
        let run3 = || -> Vec<Vec<u8>> { cases.iter().map(|&(q, d)| rotate::<3>(&rgb, w, h, q, d, [240, 230, 200]).0).collect() };
        SCALAR_ONLY.store(true, Ordering::Relaxed);
        let (scalar, scalar3) = (run(), run3());
        SCALAR_ONLY.store(false, Ordering::Relaxed);
        let (fast, fast3) = (run(), run3());
        assert_eq!(scalar, fast);
        assert_eq!(scalar3, fast3);
    }

    #[test]
    fn luma_during_rotation_is_the_luma_of_the_result() {
        let (w, h) = (257u32, 190u32);
        let rgb: Vec<u8> = (0..w * h * 3).map(|i| ((i * 7_727) % 256) as u8).collect();
        for (q, d) in [(0u16, 4.2f32), (90, 0.0), (180, -9.5), (0, 0.0)] {
            let (o, gray, ow, oh) = rotate_rgb_with_luma(&rgb, w, h, q, d, [250, 240, 200]);
            assert_eq!(gray.len(), (ow * oh) as usize);
            let expect: Vec<u8> = o.chunks_exact(3).map(|p| ((77 * p[0] as u32 + 150 * p[1] as u32 + 29 * p[2] as u32) >> 8) as u8).collect();
            assert_eq!(gray, expect, "quarter {q}, skew {d}");
        }
    }

    #[test]
    fn rgb_rotation_is_each_channel_rotated_alone() {
        // The 3-channel path (AVX2 or scalar) gives, channel by channel, what the
        // 1-channel path gives on that channel alone.
        let (w, h) = (301u32, 207u32);
        let rgb: Vec<u8> = (0..w * h * 3).map(|i| ((i * 104_729) % 256) as u8).collect();
        for (q, d) in [(0u16, 2.7f32), (90, -11.0), (270, 0.6)] {
            let (o, ow, oh) = rotate::<3>(&rgb, w, h, q, d, [10, 20, 30]);
            for ch in 0..3 {
                let plane: Vec<u8> = rgb.iter().skip(ch).step_by(3).copied().collect();
                let (p, pw, ph) = rotate::<1>(&plane, w, h, q, d, [[10, 20, 30][ch]]);
                assert_eq!((pw, ph), (ow, oh));
                let got: Vec<u8> = o.iter().skip(ch).step_by(3).copied().collect();
                assert_eq!(got, p, "channel {ch}, quarter {q}, skew {d}");
            }
        }
    }

    #[test]
    fn rgb_channels_stay_separate() {
        let src: Vec<u8> = (0..10 * 10).flat_map(|_| [200u8, 100, 50]).collect();
        let (o, _, _) = rotate::<3>(&src, 10, 10, 0, 3.0, [1, 2, 3]);
        assert_eq!(&o[(5 * 10 + 5) * 3..(5 * 10 + 5) * 3 + 3], &[200, 100, 50]);
    }
}
