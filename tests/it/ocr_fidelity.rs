//! `sohoa eval-ocr` on the small CI sets: sohoa's text layer is never worse than bare
//! Tesseract on the same cleaned page with the same model (character and word errors, per
//! set), and the report carries every figure the docs table quotes.

use crate::common::*;

#[test]
fn text_layer_is_never_worse_than_bare_tesseract() {
    let data = tempfile::tempdir().unwrap();
    let sets = sohoa::tools::eval::fidelity::CI_SETS.join(",");
    let out = sohoa().args(["eval-ocr", "--pages", "1", "--threads", "2", "--json", "--sets", &sets, "--data"]).arg(data.path()).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    let mut got: Vec<&str> = r["sets"].as_array().unwrap().iter().map(|s| s["set"].as_str().unwrap()).collect();
    let mut want = sohoa::tools::eval::fidelity::CI_SETS.to_vec();
    got.sort_unstable();
    want.sort_unstable();
    assert_eq!(got, want, "{stderr}");
    for s in r["sets"].as_array().unwrap() {
        let reader = |name: &str| s["readers"].as_array().unwrap().iter().find(|x| x["reader"] == name).cloned().unwrap_or_else(|| panic!("{name} in {s}"));
        let (sohoa, bare) = (reader("sohoa"), reader("bare"));
        for field in
            ["cer", "wer", "chars", "words", "char_errors", "word_errors", "mark_errors", "tone_errors", "protected_words", "protected_errors", "cpu_s"]
        {
            assert!(sohoa[field].is_number() && bare[field].is_number(), "{field}: {s}");
        }
        assert!(sohoa["words"].as_u64().unwrap() > 100, "{s}");
        // Something was read: a broken reader must not pass as "never worse".
        assert!(bare["cer"].as_f64().unwrap() < 0.5 && sohoa["cer"].as_f64().unwrap() < 0.5, "{s}");
        for field in ["char_errors", "word_errors"] {
            assert!(sohoa[field].as_u64().unwrap() <= bare[field].as_u64().unwrap(), "{}: sohoa {field} above bare Tesseract's: {s}", s["set"]);
        }
    }
    assert_eq!(r["worse_than_bare"].as_array().unwrap().len(), 0, "{r}");
    assert!(out.status.success(), "{stderr}");
}
