//! Tesseract's text-line images, kept uncompressed.
//!
//! Tesseract 5 hands every text line to its LSTM recognizer as an `ImageData`, which
//! stores the line image encoded: `ImageData::SetPixInternal` writes it to memory as PNG
//! (leptonica's `pixWriteMem`, zlib at its default level) and `GetPix` reads it back a
//! moment later (`pixReadMem`, which recognises the format from its first bytes). For a
//! page that is every line written, compressed and inflated again, for nothing.
//!
//! The `sohoa` executable defines `pixWriteMem` itself (exported by `build.rs`, so the
//! dynamic linker binds every call to it ahead of leptonica's, leptonica's own included).
//! While a thread is inside [`recognizing`] (the Tesseract engine's recognition call),
//! a PNG asked of an 8-bit gray or 1-bit image without a colour map is written as PNM
//! instead, losslessly and uncompressed, and `pixReadMem` reads it back as the same
//! pixels (Tesseract itself falls back to PNM when PNG fails). Every other call, and
//! every call outside recognition, goes to leptonica's own function unchanged.
//!
//! It saves a few percent of OCR CPU with the same text (docs/performance.md). The bench's
//! Tesseract floor uses the same engine, so it gets the saving too.

use std::cell::Cell;
use std::os::raw::{c_char, c_int, c_void};
use std::sync::OnceLock;

/// leptonica's `IFF_PNG` and `IFF_PNM` (imageio.h).
const IFF_PNG: c_int = 3;
const IFF_PNM: c_int = 11;

thread_local! {
    /// This thread is inside a Tesseract recognition call.
    static RECOGNIZING: Cell<bool> = const { Cell::new(false) };
    /// PNG line images written as PNM instead on this thread.
    static SWAPPED: Cell<u64> = const { Cell::new(0) };
    /// Off only in the test that reads a page both ways.
    static ENABLED: Cell<bool> = const { Cell::new(true) };
}

type WriteMem = unsafe extern "C" fn(*mut *mut u8, *mut usize, *mut c_void, c_int) -> c_int;

unsafe extern "C" {
    fn pixGetDepth(pix: *const c_void) -> c_int;
    fn pixGetColormap(pix: *const c_void) -> *mut c_void;
}

/// Runs `f` (a Tesseract recognition call) with its line images kept uncompressed.
pub fn recognizing<R>(f: impl FnOnce() -> R) -> R {
    let was = RECOGNIZING.with(|r| r.replace(ENABLED.with(Cell::get)));
    let out = f();
    RECOGNIZING.with(|r| r.set(was));
    out
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

/// The format to write `pix` in when `format` was asked; counts the swaps.
///
/// # Safety
/// `pix` is null or a live leptonica PIX.
unsafe fn format_for(pix: *mut c_void, format: c_int) -> c_int {
    if format != IFF_PNG || pix.is_null() || !RECOGNIZING.with(Cell::get) {
        return format;
    }
    // SAFETY: a live PIX (the caller's promise).
    let (depth, colormap) = unsafe { (pixGetDepth(pix), pixGetColormap(pix)) };
    if (depth == 8 || depth == 1) && colormap.is_null() {
        SWAPPED.with(|n| n.set(n.get() + 1));
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
        // As leptonica fails: no data, size 0, error 1. Not reached while Tesseract,
        // which is linked to leptonica, runs.
        // SAFETY: the caller's output pointers, written only when not null.
        unsafe {
            if !pdata.is_null() {
                *pdata = std::ptr::null_mut();
            }
            if !psize.is_null() {
                *psize = 0;
            }
        }
        return 1;
    };
    // SAFETY: forwarded as given; `pix` is the caller's.
    unsafe { real(pdata, psize, pix, format_for(pix, format)) }
}

/// Line images written uncompressed on this thread so far.
pub fn swapped() -> u64 {
    SWAPPED.with(Cell::get)
}

/// Turns the swap off (false) or on again on this thread; for the test that reads a page
/// both ways.
#[cfg(test)]
pub(crate) fn set_enabled(on: bool) {
    ENABLED.with(|e| e.set(on));
}
