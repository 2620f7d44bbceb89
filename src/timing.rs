//! Where the time of a batch goes: a thread CPU clock and per-stage sums, reported by
//! `sohoa bench`. Plain data and a clock; used by every layer that does timed work.

/// CPU time of the calling thread (`CLOCK_THREAD_CPUTIME_ID`): what a stage cost, not
/// how long it waited for a core. Stages that fan out to rayon (clean) or wait on I/O
/// (store) are timed by the wall clock instead.
pub struct CpuClock(f64);

impl CpuClock {
    pub fn start() -> CpuClock {
        CpuClock(thread_cpu_seconds())
    }
    pub fn seconds(&self) -> f64 {
        (thread_cpu_seconds() - self.0).max(0.0)
    }
}

pub fn thread_cpu_seconds() -> f64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: a valid out-pointer for the duration of the call.
    if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) } != 0 {
        return 0.0;
    }
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

/// Per-stage time accumulated over a batch (for `sohoa bench`): thread CPU seconds for
/// decode, OCR, encode, PDF, scan signing and hash; wall seconds for clean (rayon inside),
/// barcode (its own watchdog thread) and store (I/O).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct StageTimes {
    pub decode_s: f64,
    pub clean_s: f64,
    pub barcode_s: f64,
    pub ocr_s: f64,
    pub encode_s: f64,
    pub pdf_s: f64,
    /// Scan signing (`--sign-key`): the signature's incremental update, 0 without a key.
    #[serde(default)]
    pub sign_s: f64,
    pub hash_s: f64,
    pub store_s: f64,
}

impl StageTimes {
    /// Each stage's name (as `sohoa bench` and `/metrics` print it) and seconds, in
    /// pipeline order.
    pub fn stages(&self) -> [(&'static str, f64); 9] {
        [
            ("decode", self.decode_s),
            ("clean", self.clean_s),
            ("barcode", self.barcode_s),
            ("ocr", self.ocr_s),
            ("encode", self.encode_s),
            ("pdf", self.pdf_s),
            ("sign", self.sign_s),
            ("hash", self.hash_s),
            ("store", self.store_s),
        ]
    }
}

pub fn add_times(sum: &mut StageTimes, t: &StageTimes) {
    sum.decode_s += t.decode_s;
    sum.clean_s += t.clean_s;
    sum.barcode_s += t.barcode_s;
    sum.ocr_s += t.ocr_s;
    sum.encode_s += t.encode_s;
    sum.pdf_s += t.pdf_s;
    sum.sign_s += t.sign_s;
    sum.hash_s += t.hash_s;
    sum.store_s += t.store_s;
}

/// Stage times of all the work this process has run (`/metrics` of `sohoa serve`).
static PROCESS_TIMES: std::sync::Mutex<StageTimes> = std::sync::Mutex::new(StageTimes {
    decode_s: 0.0,
    clean_s: 0.0,
    barcode_s: 0.0,
    ocr_s: 0.0,
    encode_s: 0.0,
    pdf_s: 0.0,
    sign_s: 0.0,
    hash_s: 0.0,
    store_s: 0.0,
});

/// Adds `t` to this process's running totals (see [`process_times`]).
pub fn add_process_times(t: &StageTimes) {
    if let Ok(mut sum) = PROCESS_TIMES.lock() {
        add_times(&mut sum, t);
    }
}

/// The stage times of all the work this process has run so far.
pub fn process_times() -> StageTimes {
    PROCESS_TIMES.lock().map(|t| t.clone()).unwrap_or_default()
}
