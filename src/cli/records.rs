//! `sohoa status`, `sohoa search` and `sohoa get`: reading the catalog and the store.
//! A read command never creates state: a catalog that is not there is an error (exit 2),
//! not an empty answer.

use crate::runtime::catalog::{Catalog, SearchHit, SearchQuery};
use crate::runtime::config::Config;
use crate::runtime::error::{Error, exit};
use crate::runtime::store::Store;
use std::path::Path;

/// `sohoa status [BATCH_ID] [--json]`: queue counts, or one batch with its state.
pub async fn status(batch: Option<&str>, config: &Config, json: bool) -> Result<u8, Error> {
    let catalog = &Catalog::open_existing(config.catalog.as_deref(), &config.data).await?;
    let result = match batch {
        None => match (catalog.queue_counts().await, catalog.batches_needing_review().await) {
            (Ok(c), Ok(review)) => {
                if json {
                    println!("{}", serde_json::json!({"queued": c.queued, "running": c.running, "done": c.done, "failed": c.failed, "needs_review": review}));
                } else {
                    println!("queued {}  running {}  done {}  failed {}", c.queued, c.running, c.done, c.failed);
                    if !review.is_empty() {
                        println!("needs review ({}): {}", review.len(), review.join(" "));
                    }
                }
                Ok(())
            }
            (Err(e), _) | (_, Err(e)) => Err(Error::from(e)),
        },
        Some(id) => match crate::runtime::views::batch_status(catalog, id).await {
            Ok(Some(value)) => {
                if json {
                    println!("{value}");
                } else {
                    print_batch_status(&value);
                }
                Ok(())
            }
            Ok(None) => Err(Error::NotFound(format!("no batch {id}; `sohoa status` lists the queue"))),
            Err(e) => Err(e.into()),
        },
    };
    catalog.close().await;
    result.map(|()| exit::OK)
}

fn print_batch_status(v: &serde_json::Value) {
    println!("Batch {} ({}): {}", v["batch_id"].as_str().unwrap_or(""), v["source"].as_str().unwrap_or(""), v["state"].as_str().unwrap_or(""));
    if let Some(err) = v["last_error"].as_str() {
        println!("  last error: {err}");
    }
    for d in v["dossiers"].as_array().into_iter().flatten() {
        let review = if d["needs_review"].as_bool() == Some(true) { "  NEEDS REVIEW (see the batch warnings)" } else { "" };
        let missing: Vec<&str> = d["missing"].as_array().into_iter().flatten().filter_map(|m| m.as_str()).collect();
        let incomplete = if missing.is_empty() { String::new() } else { format!("  INCOMPLETE: missing {}", missing.join(", ")) };
        println!("  Dossier {}{review}{incomplete}", d["code"].as_str().unwrap_or("(no code)"));
        for doc in d["documents"].as_array().into_iter().flatten() {
            println!("    {}  {:<8} pages {}", doc["id"].as_str().unwrap_or(""), doc["type"].as_str().unwrap_or("-"), doc["source_pages"]);
            if let Some(fields) = fields_line(&doc["fields"]) {
                println!("      {fields}");
            }
        }
    }
}

/// The fields found in a document, `name: value` separated by two spaces (`None` when
/// none was found).
fn fields_line(fields: &serde_json::Value) -> Option<String> {
    let parts: Vec<String> = fields
        .as_object()?
        .iter()
        .filter_map(|(k, v)| match v {
            serde_json::Value::String(s) => Some(format!("{k}: {s}")),
            serde_json::Value::Array(a) if !a.is_empty() => Some(format!("{k}: {}", a.iter().filter_map(|x| x.as_str()).collect::<Vec<_>>().join(", "))),
            _ => None,
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join("  "))
}

/// `sohoa search`: documents by words of their text, dossier, type or citizen ID. Exit 0
/// with or without hits, 2 on a bad query, 3 when the catalog fails.
pub async fn search(query: &SearchQuery, config: &Config, json: bool) -> Result<u8, Error> {
    // A bad query is bad usage whatever the catalog; check it before opening anything.
    query.plan().map_err(|msg| Error::Usage(format!("{msg} (see `sohoa search --help`)")))?;
    let catalog = Catalog::open_existing(config.catalog.as_deref(), &config.data).await?;
    let result = catalog.search_documents(query).await;
    catalog.close().await;
    let hits = result?;
    if json {
        println!("{}", crate::runtime::views::search_body(&hits));
    } else {
        print_hits(&hits);
    }
    Ok(exit::OK)
}

/// `sohoa get`: the stored PDF of a document, byte for byte, hash-checked on the way out.
pub async fn get(id: &str, output: &Path, config: &Config) -> Result<u8, Error> {
    let catalog = Catalog::open_existing(config.catalog.as_deref(), &config.data).await?;
    let doc = catalog
        .find_document(id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("no document {id:?} in the catalog; ids look like doc_… (see `sohoa process --json`)")))?;
    let store = Store::open(config.store.as_deref(), &config.data)?;
    let bytes = store.get_verified(&doc.object_key, &doc.blake3).await?;
    super::files::write_output(output, &bytes)?;
    eprintln!("Wrote {} ({} bytes, blake3 {}).", output.display(), bytes.len(), doc.blake3);
    Ok(exit::OK)
}

fn print_hits(hits: &[SearchHit]) {
    for h in hits {
        let score = h.score.map(|s| format!("  score {s:.3e}")).unwrap_or_default();
        println!(
            "{}  {:<6} {}  {} page{}  batch {}{score}",
            h.document_id,
            h.doc_type.as_deref().unwrap_or("-"),
            h.dossier.as_deref().unwrap_or("(no dossier code)"),
            h.page_count,
            if h.page_count == 1 { "" } else { "s" },
            h.batch_id,
        );
        if !h.snippet.is_empty() {
            println!("    {}", h.snippet);
        }
    }
    match hits.len() {
        0 => println!("No documents found."),
        1 => println!("1 document."),
        n => println!("{n} documents."),
    }
}
