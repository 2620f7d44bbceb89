//! Reads the generated separator set (`tools::synth::sheets`) and prints sohoa's recall,
//! false separators and time per page; with `--write DIR` also writes every page as PNG
//! and `DIR/truth.json` for `scripts/compare_barcodes.py`.
//!
//! `cargo run --release --example separator_set -- [--seed S] [--sheets N] [--content N] [--write DIR]`

use sohoa::tools::synth::sheets::{SetPage, plan_set, read_set, render_set_page};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let seed: u64 = arg("--seed").and_then(|s| s.parse().ok()).unwrap_or(1);
    let sheets: usize = arg("--sheets").and_then(|s| s.parse().ok()).unwrap_or(300);
    let content: usize = arg("--content").and_then(|s| s.parse().ok()).unwrap_or(300);
    let pages = plan_set(seed, sheets, content);
    if let Some(dir) = arg("--write") {
        write(&pages, std::path::Path::new(&dir));
    }
    let out = read_set(&pages);
    let sheet_out: Vec<_> = out.iter().filter(|o| o.page.is_sheet()).collect();
    let read = sheet_out.iter().filter(|o| o.correct()).count();
    let false_seps = out.iter().filter(|o| !o.page.is_sheet() && !o.separators.is_empty()).count();
    let flagged_content = out.iter().filter(|o| !o.page.is_sheet() && o.unread_sheet).count();
    let flagged_missed = sheet_out.iter().filter(|o| !o.correct() && o.unread_sheet).count();
    for o in &out {
        if !o.correct() || (!o.page.is_sheet() && o.unread_sheet) {
            println!("page {:4} {:?} read {:?} flagged {}: {}", o.page.index, o.page.payload, o.texts, o.unread_sheet, o.page.describe());
        }
    }
    let mean = |v: Vec<f64>| v.iter().sum::<f64>() / v.len().max(1) as f64 * 1000.0;
    println!(
        "sheets read {read}/{} ({:.1}%), missed but flagged {flagged_missed}, false separators {false_seps}/{}, content pages flagged {flagged_content}; mean ms: sheets {:.1}, content {:.1}",
        sheet_out.len(),
        100.0 * read as f64 / sheet_out.len().max(1) as f64,
        out.len() - sheet_out.len(),
        mean(sheet_out.iter().map(|o| o.seconds).collect()),
        mean(out.iter().filter(|o| !o.page.is_sheet()).map(|o| o.seconds).collect()),
    );
}

fn write(pages: &[SetPage], dir: &std::path::Path) {
    use rayon::prelude::*;
    std::fs::create_dir_all(dir).expect("output folder");
    let truth: Vec<serde_json::Value> = pages
        .par_iter()
        .map(|p| {
            let (img, dpi) = render_set_page(p);
            let file = format!("page-{:04}.png", p.index);
            img.save(dir.join(&file)).expect("write PNG");
            let symbology = p.symbols.first().map(|(_, _, s)| match s {
                sohoa::tools::synth::sheets::Symbol::Code { format, .. } => format.clone(),
                sohoa::tools::synth::sheets::Symbol::Patch(_) => "PATCH_CODE".to_string(),
            });
            serde_json::json!({"file": file, "dpi": dpi, "payload": p.payload, "symbology": symbology, "describe": p.describe()})
        })
        .collect();
    std::fs::write(dir.join("truth.json"), serde_json::to_string_pretty(&truth).unwrap()).expect("write truth.json");
}
