//! Memory (issue #20): `sohoa process --workers 2` stays under 2 GiB of peak resident
//! memory on hostile inputs and on a normal batch. The process reports its own peak
//! (`stats.peak_rss_bytes`, from `VmHWM`), which the test reads.

use crate::common::*;
use sohoa_testkit::hostile::{pdf_with_image, png_of_size};

const LIMIT: u64 = 2 << 30;

fn peak(extra: &[&std::path::Path], data: &std::path::Path) -> (i32, u64) {
    let (code, json, stderr) = process(extra, data, &["--workers", "2"]);
    let peak = json["stats"]["peak_rss_bytes"].as_u64().unwrap_or_else(|| panic!("no peak_rss_bytes: {json} {stderr}"));
    (code, peak)
}

#[test]
fn process_with_two_workers_stays_under_2_gib_on_hostile_and_normal_input() {
    let dir = tempfile::tempdir().unwrap();
    let hostile = dir.path().join("hostile");
    std::fs::create_dir(&hostile).unwrap();
    let files: [(&str, Vec<u8>); 3] = [
        ("a-line.pdf", pdf_with_image(100_000, 1, false, 612.0, 792.0)),
        ("b-big.pdf", pdf_with_image(15_000, 15_000, true, 612.0, 792.0)),
        ("c-huge.png", png_of_size(20_000, 20_000)),
    ];
    for (name, bytes) in &files {
        std::fs::write(hostile.join(name), bytes).unwrap();
    }
    let (code, hostile_peak) = peak(&[&hostile], &dir.path().join("data1"));
    assert_eq!(code, 1, "every page fails alone");
    let (code, normal_peak) = peak(&[&repo().join("samples/batch.tif")], &dir.path().join("data2"));
    assert!(code == 0 || code == 1, "exit {code}");
    eprintln!("peak RSS: hostile {} MiB, samples/batch.tif {} MiB", hostile_peak >> 20, normal_peak >> 20);
    assert!(hostile_peak < LIMIT, "hostile inputs: {hostile_peak} bytes");
    assert!(normal_peak < LIMIT, "normal batch: {normal_peak} bytes");
}
