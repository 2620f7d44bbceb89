//! `sohoa bench` runs end to end and reports every figure the README table quotes, with
//! scan signing on (`--sign-key`).

use crate::common::*;

#[test]
fn bench_reports_throughput_stages_memory_and_the_tesseract_floor() {
    let dir = tempfile::tempdir().unwrap();
    let keys = crate::sign::dev_ca(dir.path());
    let out = sohoa().args(["bench", "--pages", "6", "--workers", "1", "--json", "--sign-key"]).arg(keys.join("clerk.pem")).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["pages"], 6);
    assert_eq!(r["workers"], 1);
    let content = r["content_pages"].as_u64().unwrap();
    assert!((1..6).contains(&content), "a generated batch has separators and content: {r}");
    for field in ["wall_s", "pages_per_min", "content_pages_per_min", "peak_rss_mb", "floor_s", "efficiency", "engines_busy"] {
        assert!(r[field].as_f64().unwrap() > 0.0, "{field}: {r}");
    }
    let stages = r["stages"].as_array().unwrap();
    let names: Vec<&str> = stages.iter().map(|s| s["stage"].as_str().unwrap()).collect();
    assert_eq!(names, ["decode", "clean", "barcode", "ocr", "encode", "pdf", "sign", "hash", "store"]);
    let share: f64 = stages.iter().map(|s| s["share"].as_f64().unwrap()).sum();
    assert!((share - 1.0).abs() < 1e-6, "shares add up to 1: {share}");
    for stage in ["ocr", "sign"] {
        let s = stages.iter().find(|s| s["stage"] == stage).unwrap();
        assert!(s["cpu_s"].as_f64().unwrap() > 0.0, "{stage}: {r}");
    }
    assert_eq!(r["signed"], true);
    assert!(r["documents"].as_u64().unwrap() >= 1, "{r}");
    // Issue 25's bound for a 200 dpi page, signature and metadata included.
    let bytes = r["bytes_per_page"].as_f64().unwrap();
    assert!(bytes > 10_000.0 && bytes <= 120_000.0, "bytes_per_page {bytes}: {r}");
    // One engine cannot read for longer than the run lasted.
    let busy = r["engines_busy"].as_f64().unwrap();
    assert!(busy <= 1.0, "engines_busy {busy}: {r}");
}
