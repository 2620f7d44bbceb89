//! OCR of a page in horizontal bands: cheaper than the whole page, and shareable between
//! engines at the end of a batch.
//!
//! Tesseract spends less CPU on a page read as bands than on the page in one piece, but
//! `sohoa eval-ocr` measured bands costing words at 200 dpi and the column order of
//! two-column pages (docs/performance.md, "OCR fidelity"), so the pipeline reads content
//! pages whole (`page::ReadOptions::default()`); bands remain for callers that ask. And a
//! batch's last pages are where a pool of engines idles: with whole pages as the unit, one
//! engine reads the last page alone while the others wait (a content page is 1-2 s of
//! Tesseract). This module owns both:
//!
//! - [`band_cuts`] (pure): rows at which to cut a page into bands of about equal ink,
//!   each cut in the middle of a run of blank rows, so no text line is ever cut;
//! - [`merge_bands`] (pure): the bands' words back into one page, shifted to page
//!   coordinates and put in reading order over the whole page, as if read in one piece;
//! - [`recognize_in_bands`]: a page's bands read one after the other on one engine;
//! - [`BandPool`]: the page threads of `pipeline::run_pages` put the bands of a late page
//!   in the pool, read one themselves and take whatever band is waiting, so every engine
//!   works until the last band is read.
//!
//! Which pages are late is the page source's decision (`PageWork::late`), by page index,
//! so the same batch is always cut the same way, however the threads are scheduled; where
//! a page is cut depends only on the page.

use super::{Deadline, OcrEngine, OcrError};
use crate::model::{OcrPage, OcrWord};
use crate::timing::CpuClock;
use image::GrayImage;
use std::collections::{HashMap, VecDeque};
use std::sync::{Condvar, Mutex};

/// Bands a content page is cut into (fewer when the page has fewer blank rows to cut at).
pub const PAGE_BANDS: usize = 12;
/// On the OCR copy (paper white, ink black), a pixel darker than this is ink.
const INK_LEVEL: u8 = 128;

/// Ink pixels per row of `gray`.
pub fn ink_per_row(gray: &GrayImage) -> Vec<u32> {
    let w = gray.width() as usize;
    if w == 0 {
        return Vec::new();
    }
    gray.as_raw().chunks_exact(w).map(|row| row.iter().filter(|&&v| v < INK_LEVEL).count() as u32).collect()
}

/// Where to cut a page with `ink` pixels per row into at most `n` bands of about equal
/// ink. A row is blank when it has at most `noise` ink pixels; a cut is the middle row of
/// a run of at least `min_gap` blank rows, the run nearest to the row where the ink so
/// far reaches k/n of the page's, and no further from it than half a band. A target with
/// no such run gets no cut. Returns the cut rows, ascending; empty: read the page whole.
pub fn band_cuts(ink: &[u32], n: usize, min_gap: usize, noise: u32) -> Vec<usize> {
    let h = ink.len();
    if n < 2 || h == 0 {
        return Vec::new();
    }
    // Runs of blank rows, as (first, end).
    let mut runs = Vec::new();
    let mut start = None;
    for (y, &v) in ink.iter().chain(std::iter::once(&u32::MAX)).enumerate() {
        match (v <= noise, start) {
            (true, None) => start = Some(y),
            (false, Some(s)) => {
                if y - s >= min_gap.max(1) {
                    runs.push((s, y));
                }
                start = None;
            }
            _ => {}
        }
    }
    let total: u64 = ink.iter().map(|&v| v as u64).sum();
    if total == 0 {
        return Vec::new();
    }
    let mut cumulative = Vec::with_capacity(h);
    let mut sum = 0u64;
    for &v in ink {
        sum += v as u64;
        cumulative.push(sum);
    }
    let window = h / (2 * n);
    let mut cuts: Vec<usize> = Vec::new();
    for k in 1..n {
        let want = total * k as u64 / n as u64;
        let target = cumulative.partition_point(|&c| c < want);
        let best = runs
            .iter()
            .map(|&(s, e)| (s + e) / 2)
            // Cuts inside the page's top or bottom margin would make an empty band.
            .filter(|&mid| cumulative[mid] > 0 && cumulative[mid] < total)
            .filter(|&mid| mid.abs_diff(target) <= window)
            .min_by_key(|&mid| mid.abs_diff(target));
        if let Some(mid) = best
            && cuts.last().is_none_or(|&last| mid > last)
        {
            cuts.push(mid);
        }
    }
    cuts
}

/// The cuts for a page image as the OCR stage sees it: blank-row runs of at least a
/// twentieth of an inch (no line gap of body text is narrower), up to one ink pixel per
/// 500 columns of noise.
pub fn page_cuts(gray: &GrayImage, dpi: f32, n: usize) -> Vec<usize> {
    let min_gap = ((dpi / 20.0).round() as usize).max(3);
    band_cuts(&ink_per_row(gray), n, min_gap, gray.width() / 500)
}

/// One page from its bands, each `(first row of the band, what OCR read in it)`: words
/// moved to page coordinates, lines kept apart band from band, and the whole page put in
/// reading order (`layout::reading_order`) once more, as if it had been read in one piece.
pub fn merge_bands(bands: Vec<(u32, OcrPage)>) -> OcrPage {
    let mut words: Vec<OcrWord> = Vec::new();
    for (band, (y0, page)) in bands.into_iter().enumerate() {
        for mut w in page.words {
            w.top += y0;
            // reading_order numbers lines (0, 0, n) per band; keep bands' lines distinct.
            w.line = (band as u32, w.line.1, w.line.2);
            words.push(w);
        }
    }
    super::tsv::page_from_words(super::layout::reading_order(words))
}

/// The first row of every band of a page `height` rows high cut at `cuts`, and the end.
fn band_bounds(cuts: &[usize], height: u32) -> Vec<u32> {
    let mut bounds = vec![0u32];
    bounds.extend(cuts.iter().map(|&c| c as u32));
    bounds.push(height);
    bounds
}

/// A copy of rows `y0..y1` of `gray` (none past its end).
pub(crate) fn crop_band(gray: &GrayImage, y0: u32, y1: u32) -> GrayImage {
    image::imageops::crop_imm(gray, 0, y0, gray.width(), y1.saturating_sub(y0)).to_image()
}

/// The page from its bands' results (in band order, band `i` starting at `bounds[i]`):
/// the first error, if any, or the merged page; and the CPU seconds of all the bands.
fn merge_results(results: Vec<BandResult>, bounds: &[u32]) -> BandResult {
    let cpu: f64 = results.iter().map(|r| r.1).sum();
    let mut pages = Vec::with_capacity(results.len());
    for ((page, _), &y0) in results.into_iter().zip(bounds) {
        match page {
            Ok(p) => pages.push((y0, p)),
            Err(e) => return (Err(e), cpu),
        }
    }
    (Ok(merge_bands(pages)), cpu)
}

/// Reads `gray` cut at `cuts` (see [`page_cuts`]) on `engine`, one band after the other,
/// all by the page's `deadline`; the whole page when there is no cut. Returns the merged
/// page (the first band error, if any) and the CPU seconds all the bands took.
pub fn recognize_in_bands(engine: &mut dyn OcrEngine, gray: &GrayImage, dpi: f32, cuts: &[usize], deadline: Deadline) -> BandResult {
    if cuts.is_empty() {
        let t = CpuClock::start();
        return (engine.recognize_rows(gray, 0, gray.height(), dpi, deadline), t.seconds());
    }
    let bounds = band_bounds(cuts, gray.height());
    let mut results = Vec::with_capacity(bounds.len() - 1);
    for pair in bounds.windows(2) {
        let t = CpuClock::start();
        let page = engine.recognize_rows(gray, pair[0], pair[1], dpi, deadline);
        let failed = page.is_err();
        results.push((page, t.seconds()));
        if failed {
            break;
        }
    }
    merge_results(results, &bounds)
}

/// One band waiting for an engine.
struct BandJob {
    id: u64,
    image: GrayImage,
    dpi: f32,
    /// The page's, not the band's.
    deadline: Deadline,
}

/// What an engine read in a band, and its thread CPU seconds.
type BandResult = (Result<OcrPage, OcrError>, f64);

#[derive(Default)]
struct PoolState {
    queue: VecDeque<BandJob>,
    done: HashMap<u64, BandResult>,
    next_id: u64,
    /// Page threads still taking pages (they may put more bands in the pool).
    active: usize,
}

/// Bands of late pages, shared by the page threads of one `run_pages` call. Every thread
/// holds an engine of its own; a band is read by whichever thread is free.
pub struct BandPool {
    state: Mutex<PoolState>,
    changed: Condvar,
}

/// Marks a page thread as done taking pages when dropped (also when it panics), so the
/// threads waiting for bands in [`BandPool::help_until_done`] do not wait forever.
pub struct ActiveGuard<'a>(&'a BandPool);

impl Drop for ActiveGuard<'_> {
    fn drop(&mut self) {
        let mut state = self.0.state.lock().unwrap_or_else(|e| e.into_inner());
        state.active = state.active.saturating_sub(1);
        self.0.changed.notify_all();
    }
}

impl BandPool {
    pub fn new() -> BandPool {
        BandPool { state: Mutex::new(PoolState::default()), changed: Condvar::new() }
    }

    /// Registers a page thread; it counts as taking pages until the guard is dropped.
    pub fn enter(&self) -> ActiveGuard<'_> {
        self.lock().active += 1;
        ActiveGuard(self)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PoolState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reads `gray` cut at `cuts` (see [`page_cuts`]) by the page's `deadline`: the first
    /// band on `engine`, the others by whichever page thread is free, this one included.
    /// Returns the merged page (the first band error, if any) and the CPU seconds all the
    /// bands took.
    pub fn recognize_split(&self, engine: &mut dyn OcrEngine, gray: &GrayImage, dpi: f32, cuts: &[usize], deadline: Deadline) -> BandResult {
        if cuts.is_empty() {
            // Nothing to share: the whole page, on this engine.
            return recognize_in_bands(engine, gray, dpi, cuts, deadline);
        }
        let bounds = band_bounds(cuts, gray.height());
        // Cropped before the pool is locked: the other threads never wait on a copy.
        let others: Vec<GrayImage> = bounds.windows(2).skip(1).map(|pair| crop_band(gray, pair[0], pair[1])).collect();
        let ids: Vec<u64> = {
            let mut state = self.lock();
            let first = state.next_id;
            state.next_id += others.len() as u64;
            for (id, image) in (first..).zip(others) {
                state.queue.push_back(BandJob { id, image, dpi, deadline });
            }
            (first..state.next_id).collect()
        };
        self.changed.notify_all();

        let t = CpuClock::start();
        let first = engine.recognize_rows(gray, 0, bounds[1], dpi, deadline);
        let mut results: Vec<BandResult> = vec![(first, t.seconds())];
        let mut state = self.lock();
        loop {
            if ids.iter().all(|id| state.done.contains_key(id)) {
                results.extend(ids.iter().map(|id| state.done.remove(id).expect("band result")));
                break;
            }
            state = match state.queue.pop_front() {
                Some(job) => {
                    drop(state);
                    self.run(engine, job)
                }
                None => self.changed.wait(state).unwrap_or_else(|e| e.into_inner()),
            };
        }
        drop(state);
        merge_results(results, &bounds)
    }

    /// Reads one band and files its result; returns the pool locked again. A panic while
    /// reading is filed as that band's error, so the page's owner never waits forever.
    fn run(&self, engine: &mut dyn OcrEngine, job: BandJob) -> std::sync::MutexGuard<'_, PoolState> {
        let t = CpuClock::start();
        let rows = job.image.height();
        let page = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| engine.recognize_rows(&job.image, 0, rows, job.dpi, job.deadline)))
            .unwrap_or_else(|_| Err(OcrError::Recognize("OCR stopped with a panic on a band of this page".into())));
        let cpu = t.seconds();
        let mut state = self.lock();
        state.done.insert(job.id, (page, cpu));
        self.changed.notify_all();
        state
    }

    /// For a page thread that has no more pages (its guard dropped): reads waiting bands
    /// until every page thread is done and no band is left.
    pub fn help_until_done(&self, engine: &mut dyn OcrEngine) {
        let mut state = self.lock();
        loop {
            state = match state.queue.pop_front() {
                Some(job) => {
                    drop(state);
                    self.run(engine, job)
                }
                None if state.active == 0 => return,
                None => self.changed.wait(state).unwrap_or_else(|e| e.into_inner()),
            };
        }
    }
}

impl Default for BandPool {
    fn default() -> Self {
        BandPool::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows of a page: `lines` text lines of `line` rows of ink, `gap` blank rows apart,
    /// after a `margin` of blank rows (and the same at the bottom).
    fn profile(margin: usize, lines: usize, line: usize, gap: usize) -> Vec<u32> {
        let mut rows = vec![0; margin];
        for i in 0..lines {
            rows.extend(std::iter::repeat_n(100, line));
            if i + 1 < lines {
                rows.extend(std::iter::repeat_n(0, gap));
            }
        }
        rows.extend(std::iter::repeat_n(0, margin));
        rows
    }

    #[test]
    fn cuts_fall_in_line_gaps_near_equal_ink() {
        let ink = profile(200, 40, 30, 12);
        let cuts = band_cuts(&ink, 4, 5, 0);
        assert_eq!(cuts.len(), 3, "{cuts:?}");
        for &c in &cuts {
            assert_eq!(ink[c], 0, "cut {c} is on a text row");
        }
        // Each band holds about a quarter of the 40 lines.
        let mut bounds = vec![0];
        bounds.extend(&cuts);
        bounds.push(ink.len());
        for pair in bounds.windows(2) {
            let lines = ink[pair[0]..pair[1]].iter().filter(|&&v| v > 0).count() / 30;
            assert!((9..=11).contains(&lines), "band {pair:?} has {lines} lines");
        }
    }

    #[test]
    fn no_cut_without_a_wide_enough_gap() {
        // Line gaps of 3 rows are narrower than the 5 asked for.
        assert!(band_cuts(&profile(100, 20, 30, 3), 4, 5, 0).is_empty());
        // A page of solid ink, an empty page, a single band asked for.
        assert!(band_cuts(&[50; 400], 4, 5, 0).is_empty());
        assert!(band_cuts(&[0; 400], 4, 5, 0).is_empty());
        assert!(band_cuts(&profile(100, 20, 30, 12), 1, 5, 0).is_empty());
    }

    #[test]
    fn margins_are_never_cut_off_as_empty_bands() {
        // All the text in the top tenth: the only gaps with ink on both sides are inside it.
        let mut ink = profile(20, 4, 30, 12);
        ink.extend(std::iter::repeat_n(0, 2000));
        for c in band_cuts(&ink, 4, 5, 0) {
            assert!(c < 200, "cut {c} would leave an empty band");
        }
    }

    #[test]
    fn noise_rows_count_as_blank() {
        let mut ink = profile(100, 20, 30, 12);
        for v in ink.iter_mut().filter(|v| **v == 0) {
            *v = 2;
        }
        assert!(band_cuts(&ink, 4, 5, 1).is_empty());
        assert_eq!(band_cuts(&ink, 4, 5, 2).len(), 3);
    }

    fn word(text: &str, left: u32, top: u32, line: u32) -> OcrWord {
        OcrWord { text: text.into(), left, top, width: 40, height: 20, confidence: 90.0, line: (0, 0, line) }
    }

    #[test]
    fn merged_bands_are_in_page_coordinates_and_order() {
        let band = |words: Vec<OcrWord>| crate::stages::ocr::tsv::page_from_words(words);
        let top = band(vec![word("một", 100, 10, 0), word("hai", 150, 10, 0), word("ba", 100, 50, 1)]);
        let bottom = band(vec![word("bốn", 100, 5, 0), word("năm", 100, 45, 1)]);
        let page = merge_bands(vec![(0, top), (300, bottom)]);
        assert_eq!(page.text, "một hai\nba\nbốn\nnăm");
        let tops: Vec<u32> = page.words.iter().map(|w| w.top).collect();
        assert_eq!(tops, vec![10, 10, 50, 305, 345]);
        assert_eq!(page.confidence, Some(90.0));
    }

    /// Reads `gray` cut at `cuts` through `pool` on `owner`, while a second page thread,
    /// already out of pages, reads shared bands on `helper`; returns once both are done.
    fn split_with_helper(
        pool: &BandPool,
        owner: &mut dyn OcrEngine,
        mut helper: impl OcrEngine,
        gray: &GrayImage,
        cuts: &[usize],
        deadline: Deadline,
    ) -> BandResult {
        std::thread::scope(|scope| {
            let guard = pool.enter();
            let helper_guard = pool.enter();
            scope.spawn(move || {
                drop(helper_guard);
                pool.help_until_done(&mut helper);
            });
            let result = pool.recognize_split(owner, gray, 200.0, cuts, deadline);
            drop(guard);
            result
        })
    }

    /// A deadline no test reaches.
    fn far() -> Deadline {
        Deadline::after_ms(3_600_000)
    }

    /// Takes 25 ms a call, reads nothing, counts the calls.
    struct Slow(std::sync::Arc<std::sync::atomic::AtomicUsize>);
    impl OcrEngine for Slow {
        fn recognize(&mut self, _: &GrayImage, _: f32) -> Result<OcrPage, OcrError> {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            std::thread::sleep(std::time::Duration::from_millis(25));
            Ok(OcrPage::default())
        }
    }

    #[test]
    fn a_page_gets_one_budget_for_all_its_bands() {
        use std::sync::{Arc, atomic::AtomicUsize, atomic::Ordering::SeqCst};
        let gray = GrayImage::new(50, 1200);
        let cuts: Vec<usize> = (1..12).map(|k| k * 100).collect();
        // Twelve bands of at least 25 ms each against a page budget of 60 ms: the page
        // times out after at most three bands per engine, read in turn on one engine...
        let calls = Arc::new(AtomicUsize::new(0));
        let (page, _) = recognize_in_bands(&mut Slow(calls.clone()), &gray, 200.0, &cuts, Deadline::after_ms(60));
        let e = page.expect_err("over budget");
        assert!(e.to_string().contains("timed out after 60 ms"), "{e}");
        assert!(calls.load(SeqCst) <= 3, "{} bands read", calls.load(SeqCst));
        // ...or shared in the pool with a second page thread.
        let calls = Arc::new(AtomicUsize::new(0));
        let (page, _) = split_with_helper(&BandPool::new(), &mut Slow(calls.clone()), Slow(calls.clone()), &gray, &cuts, Deadline::after_ms(60));
        assert!(page.expect_err("over budget").to_string().contains("timed out after 60 ms"));
        assert!(calls.load(SeqCst) <= 6, "{} bands read by two engines", calls.load(SeqCst));
        // A spent budget reads nothing at all.
        let calls = Arc::new(AtomicUsize::new(0));
        let (page, _) = recognize_in_bands(&mut Slow(calls.clone()), &gray, 200.0, &[], Deadline::after_ms(0));
        assert!(page.is_err());
        assert_eq!(calls.load(SeqCst), 0);
    }

    /// Reads a fixed text per call and counts the calls.
    struct Counting(std::sync::Arc<std::sync::atomic::AtomicUsize>);
    impl OcrEngine for Counting {
        fn recognize(&mut self, gray: &GrayImage, _: f32) -> Result<OcrPage, OcrError> {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok(crate::stages::ocr::tsv::page_from_words(vec![word(&format!("h{}", gray.height()), 0, 0, 0)]))
        }
    }

    /// Panics on every call.
    struct Panicking;
    impl OcrEngine for Panicking {
        fn recognize(&mut self, _: &GrayImage, _: f32) -> Result<OcrPage, OcrError> {
            panic!("engine bug")
        }
    }

    #[test]
    fn a_band_that_panics_fails_the_page_instead_of_hanging_it() {
        let pool = BandPool::new();
        let gray = GrayImage::new(50, 1000);
        // The owner reads its first band only once the helper has taken the second.
        let (page, _) = split_with_helper(&pool, &mut WaitsForHelper(&pool), Panicking, &gray, &[500], far());
        let e = page.expect_err("the helper's band panicked");
        assert!(e.to_string().contains("panic"), "{e}");
    }

    /// Reads nothing, once no band is left waiting in the pool.
    struct WaitsForHelper<'a>(&'a BandPool);
    impl OcrEngine for WaitsForHelper<'_> {
        fn recognize(&mut self, _: &GrayImage, _: f32) -> Result<OcrPage, OcrError> {
            while !self.0.lock().queue.is_empty() {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            Ok(OcrPage::default())
        }
    }

    #[test]
    fn every_band_is_read_once_by_some_thread() {
        let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let gray = GrayImage::new(50, 1000);
        let (page, _) = split_with_helper(&BandPool::new(), &mut Counting(calls.clone()), Counting(calls.clone()), &gray, &[100, 400, 800], far());
        let page = page.expect("bands read");
        assert_eq!(page.text, "h100\nh300\nh400\nh200");
        assert_eq!(page.words.iter().map(|w| w.top).collect::<Vec<_>>(), vec![0, 100, 400, 800]);
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 4);
    }

    /// Fails on a band of the given height, reads a fixed text otherwise.
    struct FailsOn(u32, usize);
    impl OcrEngine for FailsOn {
        fn recognize(&mut self, gray: &GrayImage, _: f32) -> Result<OcrPage, OcrError> {
            self.1 += 1;
            if gray.height() == self.0 {
                return Err(OcrError::Recognize("bad band".into()));
            }
            Ok(crate::stages::ocr::tsv::page_from_words(vec![word(&format!("h{}", gray.height()), 0, 0, 0)]))
        }
    }

    #[test]
    fn bands_read_in_turn_on_one_engine_make_the_page() {
        let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let gray = GrayImage::new(50, 1000);
        let (page, _) = recognize_in_bands(&mut Counting(calls.clone()), &gray, 200.0, &[100, 400, 800], far());
        let page = page.expect("bands read");
        assert_eq!(page.text, "h100\nh300\nh400\nh200");
        assert_eq!(page.words.iter().map(|w| w.top).collect::<Vec<_>>(), vec![0, 100, 400, 800]);
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 4);
        // No cut: the page in one call.
        let (page, _) = recognize_in_bands(&mut Counting(calls.clone()), &gray, 200.0, &[], far());
        assert_eq!(page.unwrap().text, "h1000");
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 5);
        // A band that fails fails the page, and the bands after it are not read.
        let mut engine = FailsOn(300, 0);
        let (page, _) = recognize_in_bands(&mut engine, &gray, 200.0, &[100, 400, 800], far());
        assert!(page.expect_err("second band fails").to_string().contains("bad band"));
        assert_eq!(engine.1, 2);
    }

    /// Real Tesseract `vie` with sohoa's models on generated pages (realistic defects,
    /// skewed, cleaned as the pipeline cleans them): reading a page in its bands costs
    /// little in accuracy against reading it whole, and the bands hold the same words.
    #[test]
    fn pages_read_in_bands_read_as_well_as_whole() {
        use crate::tools::eval::{self, Truth};
        let dir = tempfile::tempdir().unwrap();
        let models = crate::stages::ocr::models::materialize_models(dir.path()).unwrap();
        let config = crate::stages::ocr::OcrConfig { models: Some(models), deadline_ms: 3_600_000, ..Default::default() };
        let mut engine = crate::stages::ocr::tesseract::TesseractEngine::new(&config).expect("tesseract vie");
        let pool = BandPool::new();
        let (mut whole_cer, mut banded_cer, mut pages, mut split) = (0.0, 0.0, 0, 0);
        for p in eval::build_set_with(5, 7, eval::Defects::Realistic, false) {
            let Truth::Content { text, .. } = &p.truth else { continue };
            let gray = p.ocr_copy();
            let cuts = page_cuts(&gray, p.dpi, PAGE_BANDS);
            split += usize::from(!cuts.is_empty());
            let whole = engine.recognize(&gray, p.dpi).unwrap();
            let (banded, _) = pool.recognize_split(&mut engine, &gray, p.dpi, &cuts, far());
            let banded = banded.unwrap();
            let (w, b) = (crate::tools::synth::cer(text, &whole.text), crate::tools::synth::cer(text, &banded.text));
            println!("{}: {} cuts {cuts:?}, CER whole {:.3}%, in bands {:.3}%", p.name, cuts.len(), w * 100.0, b * 100.0);
            whole_cer += w;
            banded_cer += b;
            pages += 1;
            // Each band's words land where the whole page's are: same lines, same rows.
            let rows = |page: &OcrPage| {
                let mut tops: Vec<u32> = page.words.iter().map(|w| w.top / 8).collect();
                tops.dedup();
                tops.len()
            };
            assert!(rows(&banded).abs_diff(rows(&whole)) <= rows(&whole) / 10 + 1, "{}: rows differ", p.name);
        }
        assert!(pages >= 3 && split >= 3, "{pages} content pages, {split} cut");
        let (whole_cer, banded_cer) = (whole_cer / pages as f64, banded_cer / pages as f64);
        println!("mean CER whole {:.3}%, in bands {:.3}%", whole_cer * 100.0, banded_cer * 100.0);
        assert!(banded_cer <= whole_cer + 0.002, "bands {:.3}% vs whole {:.3}%", banded_cer * 100.0, whole_cer * 100.0);
    }
}
