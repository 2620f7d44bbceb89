//! Tesseract's text-line images, kept uncompressed.
//!
//! Tesseract 5 hands every text line to its LSTM recognizer as an `ImageData`, which
//! stores the line image encoded: `ImageData::SetPixInternal` writes it to memory as PNG
//! (leptonica's `pixWriteMem`, zlib at its default level) and `GetPix` reads it back a
//! moment later (`pixReadMem`, which recognises the format from its first bytes). For a
//! page that is every line written, compressed and inflated again, for nothing.
//!
//! The `sohoa` executable defines `pixWriteMem` itself (exported by `build.rs`, so the
//! dynamic linker binds Tesseract's calls to it ahead of leptonica's): a PNG asked of an
//! 8-bit gray or 1-bit image without a colour map is written as PNM instead, losslessly
//! and uncompressed, and `pixReadMem` reads it back as the same pixels. Every other call
//! goes to leptonica's own function unchanged. Tesseract's PDF renderer, the one other
//! caller that asks for PNG, is not used by sohoa.
//!
//! Measured with the same change as a preloaded library, `sohoa process` on a 50-page
//! batch (25 content pages): user CPU 35.3 / 35.6 s against 36.4 / 36.5 s (-2.8%), and
//! the text of every stored PDF identical. The bench's Tesseract floor runs in the same
//! process, so it gets the saving too: `efficiency` does not move, pages/min does.

use std::os::raw::{c_char, c_int, c_void};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// leptonica's `IFF_PNG` and `IFF_PNM` (imageio.h).
const IFF_PNG: c_int = 3;
const IFF_PNM: c_int = 11;

/// Whether PNG line images are written as PNM (on unless a test turns it off).
static UNCOMPRESSED: AtomicBool = AtomicBool::new(true);
/// Images written as PNM instead of PNG, since the process started.
static SWAPPED: AtomicU64 = AtomicU64::new(0);

type WriteMem = unsafe extern "C" fn(*mut *mut u8, *mut usize, *mut c_void, c_int) -> c_int;

unsafe extern "C" {
    fn pixGetDepth(pix: *const c_void) -> c_int;
    fn pixGetColormap(pix: *const c_void) -> *mut c_void;
}

/// leptonica's own `pixWriteMem`: the next definition after ours.
fn leptonica_write_mem() -> Option<WriteMem> {
    static REAL: OnceLock<usize> = OnceLock::new();
    let addr = *REAL.get_or_init(|| {
        // SAFETY: a NUL-terminated name; RTLD_NEXT skips this executable's definition.
        unsafe { libc::dlsym(libc::RTLD_NEXT, c"pixWriteMem".as_ptr() as *const c_char) as usize }
    });
    // SAFETY: a non-null address dlsym gave for leptonica's pixWriteMem, of this type.
    (addr != 0).then(|| unsafe { std::mem::transmute::<usize, WriteMem>(addr) })
}

/// The format to write `pix` in when `format` was asked (pure but for reading the pix).
///
/// # Safety
/// `pix` is null or a live leptonica PIX.
unsafe fn format_for(pix: *mut c_void, format: c_int) -> c_int {
    if format != IFF_PNG || pix.is_null() || !UNCOMPRESSED.load(Ordering::Relaxed) {
        return format;
    }
    // SAFETY: a live PIX (the caller's promise).
    let (depth, colormap) = unsafe { (pixGetDepth(pix), pixGetColormap(pix)) };
    if (depth == 8 || depth == 1) && colormap.is_null() {
        SWAPPED.fetch_add(1, Ordering::Relaxed);
        IFF_PNM
    } else {
        format
    }
}

/// leptonica's `pixWriteMem`, as Tesseract calls it (see the module doc).
///
/// # Safety
/// The contract of leptonica's `pixWriteMem`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pixWriteMem(pdata: *mut *mut u8, psize: *mut usize, pix: *mut c_void, format: c_int) -> c_int {
    let Some(real) = leptonica_write_mem() else {
        // leptonica's error value; not reached while Tesseract (linked to it) runs.
        return 1;
    };
    // SAFETY: forwarded as given; `pix` is the caller's.
    unsafe { real(pdata, psize, pix, format_for(pix, format)) }
}

/// Line images written uncompressed so far in this process.
pub fn swapped() -> u64 {
    SWAPPED.load(Ordering::Relaxed)
}

/// Turns the swap off (false) or on again; for the test that compares both ways.
#[doc(hidden)]
pub fn set_uncompressed(on: bool) {
    UNCOMPRESSED.store(on, Ordering::Relaxed);
}
