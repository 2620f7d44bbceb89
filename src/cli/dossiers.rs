//! `sohoa dossier`, `sohoa receipt`, `sohoa result`, `sohoa reuse` and `sohoa report`:
//! the dossier records of issue #24 on the command line. The objects printed with
//! `--json` are built by [`crate::runtime::dossiers`], the same ones the API answers.
//! Exit codes: 0 done; 1 for `receipt --verify` of a reference that does not hold; 2 bad
//! usage or an unknown dossier; 3 catalog or store failures.

use super::args::{DossierAction, ResultAction};
use super::location;
use crate::runtime::catalog::Catalog;
use crate::runtime::config::Config;
use crate::runtime::dossiers as records;
use crate::runtime::error::{Error, exit};
use crate::runtime::store::Store;
use serde_json::Value;
use std::path::Path;

/// Who the audit trail names for what the command line does.
pub(super) const CLI_ACTOR: (&str, &str) = ("cli", "cli");

async fn open(config: &Config) -> Result<Catalog, Error> {
    Ok(Catalog::open_existing(config.catalog.as_deref(), &config.data).await?)
}

/// Runs `f` on the catalog of `config`, then closes it.
async fn with_catalog<T>(config: &Config, f: impl AsyncFnOnce(&Catalog) -> Result<T, Error>) -> Result<T, Error> {
    let catalog = open(config).await?;
    let out = f(&catalog).await;
    catalog.close().await;
    out
}

pub async fn dossier(action: DossierAction) -> Result<u8, Error> {
    match action {
        DossierAction::Show { code, json, loc } => {
            let config = location(&loc)?;
            let v = with_catalog(&config, async |c| records::dossier_body(c, &config.procedures, &code).await).await?;
            if json {
                println!("{v}");
            } else {
                print_dossier(&v);
            }
            Ok(exit::OK)
        }
        DossierAction::SetCitizen { code, citizen_id, loc } => {
            let config = location(&loc)?;
            let code = records::dossier_code(&code)?;
            let id = records::citizen_id(&citizen_id)?;
            let n = with_catalog(&config, async |c| Ok(c.declare_citizen(&code, &id).await?)).await?;
            if n == 0 {
                return Err(Error::NotFound(format!("no stored dossier {code} with documents")));
            }
            eprintln!("{n} document(s) of dossier {code} recorded as citizen {id}'s.");
            Ok(exit::OK)
        }
    }
}

fn print_dossier(v: &Value) {
    let s = |k: &str| v[k].as_str().unwrap_or("-").to_string();
    println!("Dossier {}  (batch {}, post office {})", s("code"), s("batch_id"), s("post_office"));
    println!("  received {}  stored {}", s("received_at"), s("stored_at"));
    let completeness = match v["complete"].as_bool() {
        Some(true) => "complete".to_string(),
        Some(false) => {
            format!("INCOMPLETE, missing {}", v["missing"].as_array().into_iter().flatten().filter_map(|m| m.as_str()).collect::<Vec<_>>().join(", "))
        }
        None => "not checked".to_string(),
    };
    println!("  procedure {} {}: {completeness}", s("procedure"), v["procedure_name"].as_str().unwrap_or(""));
    for d in v["documents"].as_array().into_iter().flatten() {
        println!(
            "    {}  {:<6} {} page(s)  blake3 {}",
            d["id"].as_str().unwrap_or(""),
            d["type"].as_str().unwrap_or("-"),
            d["page_count"],
            d["blake3"].as_str().unwrap_or("")
        );
    }
    for r in v["results"].as_array().into_iter().flatten() {
        println!("  result {}  {}", r["id"].as_str().unwrap_or(""), r["file_name"].as_str().unwrap_or(""));
    }
    for a in v["reused"].as_array().into_iter().flatten() {
        println!("  reused {} ({})", a["document_id"].as_str().unwrap_or(""), a["type"].as_str().unwrap_or("-"));
    }
}

pub async fn receipt(code: Option<&str>, output: Option<&Path>, verify: Option<&str>, json: bool, config: &Config) -> Result<u8, Error> {
    if let Some(given) = verify {
        let v = with_catalog(config, async |c| records::verify_receipt(c, &config.procedures, code, given).await).await?;
        let valid = v["valid"].as_bool() == Some(true);
        if json {
            println!("{v}");
        } else if valid {
            println!(
                "Receipt {} of dossier {} holds: the catalog has exactly the documents it lists.",
                v["reference"].as_str().unwrap_or(""),
                v["dossier"].as_str().unwrap_or("")
            );
        } else {
            println!(
                "Receipt {} of dossier {} does NOT hold: {}",
                v["reference"].as_str().unwrap_or(""),
                v["dossier"].as_str().unwrap_or(""),
                v["reason"].as_str().unwrap_or("")
            );
        }
        return Ok(if valid { exit::OK } else { exit::PAGE_ERRORS });
    }
    let (code, output) = match (code, output) {
        (Some(c), Some(o)) => (c, o),
        _ => return Err(Error::Usage("give DOSSIER_CODE -o receipt.pdf, or --verify REF".into())),
    };
    let (pdf, reference) = with_catalog(config, async |c| records::receipt(c, &config.procedures, code).await).await?;
    super::files::write_output(output, &pdf)?;
    if json {
        println!(
            "{}",
            serde_json::json!({"dossier": code, "reference": reference, "qr": crate::stages::dossier::receipt::qr_payload(code, &reference), "output": output.display().to_string(), "bytes": pdf.len()})
        );
    } else {
        eprintln!("Wrote {} (receipt of {code}, reference {reference}).", output.display());
    }
    Ok(exit::OK)
}

pub async fn result(action: ResultAction) -> Result<u8, Error> {
    match action {
        ResultAction::Add { code, file, json, loc } => {
            let config = location(&loc)?;
            let bytes = std::fs::read(&file).map_err(|e| Error::Usage(format!("cannot read {}: {e}", file.display())))?;
            let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "result".into());
            let store = Store::open(config.store.as_deref(), &config.data)?;
            let v = with_catalog(&config, async |c| records::add_result(c, &store, &code, &name, bytes).await).await?;
            if json {
                println!("{v}");
            } else {
                println!("{}", v["id"].as_str().unwrap_or(""));
            }
            Ok(exit::OK)
        }
        ResultAction::List { code, json, loc } => {
            let config = location(&loc)?;
            let v = with_catalog(&config, async |c| records::results_body(c, &code).await).await?;
            if json {
                println!("{v}");
            } else {
                for r in v["results"].as_array().into_iter().flatten() {
                    println!(
                        "{}  {}  {} bytes  blake3 {}",
                        r["id"].as_str().unwrap_or(""),
                        r["file_name"].as_str().unwrap_or(""),
                        r["bytes"],
                        r["blake3"].as_str().unwrap_or("")
                    );
                }
            }
            Ok(exit::OK)
        }
    }
}

pub async fn reuse(citizen: &str, doc_type: &str, attach: Option<&str>, limit: i64, json: bool, config: &Config) -> Result<u8, Error> {
    let v = with_catalog(config, async |c| records::reuse(c, citizen, doc_type, attach, limit, CLI_ACTOR).await).await?;
    if json {
        println!("{v}");
        return Ok(exit::OK);
    }
    let docs = v["documents"].as_array().cloned().unwrap_or_default();
    for d in &docs {
        println!(
            "{}  {:<6} dossier {}  {} page(s)  ({})",
            d["document_id"].as_str().unwrap_or(""),
            d["type"].as_str().unwrap_or("-"),
            d["dossier"].as_str().unwrap_or("-"),
            d["page_count"],
            d["source"].as_str().unwrap_or("")
        );
    }
    println!("{} document(s).", docs.len());
    if let Some(a) = v["attached"].as_object() {
        println!("Attached {} to dossier {}.", a["document_id"].as_str().unwrap_or(""), a["dossier_code"].as_str().unwrap_or(""));
    }
    Ok(exit::OK)
}

pub async fn report(from: &str, to: &str, by: Option<&str>, json: bool, csv: bool, config: &Config) -> Result<u8, Error> {
    let (v, lines) = with_catalog(config, async |c| records::report(c, from, to, by).await).await?;
    if json {
        println!("{v}");
    } else if csv {
        for l in lines {
            println!("{l}");
        }
    } else {
        let pct = |x: &Value| x.as_f64().map(|r| format!("{:.1}%", r * 100.0)).unwrap_or_else(|| "-".into());
        println!(
            "{:<16} {:>8} {:>7} {:>9} {:>7} {:>7} {:>7} {:>6} {:>7} {:>8}",
            "group", "received", "postal", "4.2", "4.3", "docs", "pages", "certs", "incompl", "median s"
        );
        for g in v["groups"].as_array().into_iter().flatten().chain(std::iter::once(&v["total"])) {
            println!(
                "{:<16} {:>8} {:>7} {:>9} {:>7} {:>7} {:>7} {:>6} {:>7} {:>8}",
                g["group"].as_str().unwrap_or(""),
                g["received"],
                g["received_postal"],
                pct(&g["digitization_rate"]),
                pct(&g["reuse_rate"]),
                g["documents"],
                g["pages"],
                g["certifications"].as_u64().map(|c| c.to_string()).unwrap_or_else(|| "-".into()),
                g["completeness_failures"],
                g["median_scan_to_stored_s"].as_f64().map(|s| format!("{s:.1}")).unwrap_or_else(|| "-".into())
            );
        }
    }
    Ok(exit::OK)
}
