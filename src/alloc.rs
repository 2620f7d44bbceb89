//! How the process takes memory from the C allocator (glibc's malloc), which Rust's
//! global allocator and Tesseract both use. Called once by `main`, before any thread.
//!
//! A page is a few buffers of megabytes (the decoded page, the deskewed page, the OCR
//! copy), made and freed on every page by every page thread. glibc's default serves the
//! first one with `mmap`, then, once it is freed, raises its mmap threshold to that size
//! and its trim threshold to twice it: from then on every page buffer comes from the
//! thread's arena, and each arena keeps up to two page buffers of free memory it never
//! gives back. Over a long batch more arenas fill so, and the resident size creeps while
//! the live heap stays flat.
//!
//! [`tune`] fixes both thresholds: blocks up to [`MMAP_THRESHOLD`] come from the arenas,
//! as with the warmed-up default, and an arena gives back any free top above
//! [`TRIM_THRESHOLD`] at once. (Mapping every page buffer on its own flattens memory too,
//! but costs more CPU in page faults.) Figures: docs/performance.md, "Memory".

/// Blocks of this size or more are mapped on their own and unmapped when freed: glibc's
/// own ceiling for its moving threshold, 32 MiB (a 300 dpi colour page is 26 MB).
pub const MMAP_THRESHOLD: usize = 32 << 20;

/// An arena returns free memory at its top once it is more than this.
pub const TRIM_THRESHOLD: usize = 128 << 10;

/// Sets the thresholds (see the module doc). Returns false where the C library is not
/// glibc, or refused.
pub fn tune() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only sets allocator parameters; it is called before threads.
        let (mmap, trim) = unsafe {
            (libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD as libc::c_int), libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD as libc::c_int))
        };
        mmap == 1 && trim == 1
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}

#[cfg(all(test, target_os = "linux", target_env = "gnu"))]
mod tests {
    use super::*;
    use std::process::Command;

    const CHILD: &str = "SOHOA_ALLOC_TEST_CHILD";
    const NAME: &str = "alloc::tests::freed_page_buffers_go_back_to_the_system";

    /// Free bytes the allocator holds after threads have made and freed page buffers one
    /// after the other, as page threads do: 4 threads, 20 pages each, a buffer of about
    /// 4 MiB per page (pages differ a little in size, as scanned pages do).
    fn held_after_pages() -> usize {
        let threads: Vec<_> = (0..4u8)
            .map(|t| {
                std::thread::spawn(move || {
                    for page in 0..20usize {
                        let buf = vec![1u8 + t; (4 << 20) - page * 4096];
                        std::hint::black_box(&buf);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        // SAFETY: mallinfo2 only reads the allocator's counters.
        unsafe { libc::mallinfo2() }.fordblks
    }

    /// Runs in a fresh copy of this test binary (the allocator is process-wide, and the
    /// test harness's other threads must not allocate meanwhile), tuned or not.
    #[test]
    fn freed_page_buffers_go_back_to_the_system() {
        if let Ok(mode) = std::env::var(CHILD) {
            if mode == "tuned" {
                assert!(tune());
            }
            println!("\nheld={}", held_after_pages());
            return;
        }
        let held = |mode: &str| -> usize {
            let out = Command::new(std::env::current_exe().unwrap())
                .args([NAME, "--exact", "--nocapture", "--test-threads=1"])
                .env(CHILD, mode)
                // glibc's default, whatever this environment sets.
                .env_remove("GLIBC_TUNABLES")
                .env_remove("MALLOC_ARENA_MAX")
                .env_remove("MALLOC_MMAP_THRESHOLD_")
                .env_remove("MALLOC_TRIM_THRESHOLD_")
                .env_remove("MALLOC_TOP_PAD_")
                .output()
                .unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            let stdout = String::from_utf8_lossy(&out.stdout);
            let line = stdout.lines().find_map(|l| l.strip_prefix("held=")).unwrap_or_else(|| panic!("no report in {stdout}"));
            line.trim().parse().unwrap()
        };
        let (default, tuned) = (held("default"), held("tuned"));
        // glibc's moving thresholds keep a freed page buffer in each arena.
        assert!(default >= 4 << 20, "default allocator held only {default} bytes");
        assert!(tuned < 2 << 20, "tuned allocator still holds {tuned} bytes");
    }
}
