//! Issue 5, search: `sohoa process` on a small generated batch, then `sohoa search` finds
//! each document by words of its ground-truth text typed without diacritics, by citizen
//! ID, dossier and type, and never returns another document.

use crate::common::*;
use serde_json::Value;
use sohoa::runtime::catalog::{fold_vietnamese, index_text, is_citizen_id};
use sohoa::tools::synth::{BatchTruth, GenOptions, write_sample_set};
use std::collections::HashSet;
use std::path::Path;

/// Runs `sohoa search ARGS --json`; returns the exit code and the hits.
fn search(args: &[&str], data: &Path) -> (i32, Vec<Value>) {
    let out = sohoa().arg("search").args(args).arg("--data").arg(data).arg("--json").output().expect("sohoa runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let code = out.status.code().unwrap_or(-1);
    if code != 0 {
        // A failure is one error object: {"error":{"code","message"}}, the code stable.
        let err: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("one JSON error object on failure ({e}); stderr={stderr}"));
        let keys: Vec<&String> = err.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["error"]);
        assert!(err["error"]["code"].as_str().is_some_and(|c| !c.is_empty()) && err["error"]["message"].is_string(), "{err}");
        return (code, vec![]);
    }
    let json: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is one JSON object ({e}): {:?} stderr={stderr}", String::from_utf8_lossy(&out.stdout)));
    let keys: Vec<&String> = json.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["hits"]);
    (code, json["hits"].as_array().unwrap().clone())
}

fn hit_ids(hits: &[Value]) -> Vec<String> {
    hits.iter().map(|h| h["document_id"].as_str().unwrap().to_string()).collect()
}

/// A stored document and its ground truth.
struct Doc {
    json: Value,
    dossier: Option<String>,
    text: String,
}

#[test]
fn process_then_search_without_diacritics() {
    let dir = tempfile::tempdir().unwrap();
    let opts = GenOptions { seed: 5, dpi: 150.0, dossiers: 1, docs_per_dossier: (2, 2), pages_per_doc: (1, 1), ..Default::default() };
    write_sample_set(dir.path(), &opts).unwrap();
    let truth: BatchTruth = serde_json::from_slice(&std::fs::read(dir.path().join("batch.truth.json")).unwrap()).unwrap();
    let data = dir.path().join("data");
    let (code, json, stderr) = process(&[&dir.path().join("batch.tif")], &data, &[]);
    assert_eq!(code, 0, "{stderr}");
    let batch = &json["batches"][0];
    assert_matches_truth(batch, &truth);

    let mut docs = Vec::new();
    for (d, dt) in batch["dossiers"].as_array().unwrap().iter().zip(&truth.dossiers) {
        for (doc, t) in d["documents"].as_array().unwrap().iter().zip(&dt.documents) {
            let text: Vec<&str> = t.source_pages.iter().filter_map(|&p| truth.pages[p].text.as_deref()).collect();
            docs.push(Doc { json: doc.clone(), dossier: dt.code.clone(), text: text.join("\n") });
        }
    }
    assert!(docs.len() >= 2);

    let mut checked = 0;
    for (i, doc) in docs.iter().enumerate() {
        let id = doc.json["id"].as_str().unwrap();
        let others: HashSet<String> =
            docs.iter().enumerate().filter(|&(j, _)| j != i).flat_map(|(_, d)| index_text(&d.text).split(' ').map(String::from).collect::<Vec<_>>()).collect();
        // Words of this document only, written with diacritics in the truth.
        let mut seen = HashSet::new();
        let candidates: Vec<(String, String)> = doc
            .text
            .split(|c: char| !c.is_alphanumeric())
            .map(|w| (w.to_string(), fold_vietnamese(w)))
            .filter(|(w, f)| f.chars().count() >= 4 && w.to_lowercase() != *f && !others.contains(f) && seen.insert(f.clone()))
            .take(4)
            .collect();
        assert!(candidates.len() >= 2, "document {id} has distinctive words: {candidates:?}");
        let mut found = 0;
        for (word, folded) in &candidates {
            let (code, hits) = search(&[folded], &data);
            assert_eq!(code, 0);
            assert!(hit_ids(&hits).iter().all(|h| h == id), "{folded:?} found another document: {hits:?}");
            let (_, with_marks) = search(&[word], &data);
            assert_eq!(with_marks, hits, "{word:?} and {folded:?} find the same");
            let Some(hit) = hits.first() else {
                eprintln!("{folded:?} ({word}) not found in {id}: OCR misread it?");
                continue;
            };
            found += 1;
            for (field, want) in
                [("type", &doc.json["type"]), ("blake3", &doc.json["blake3"]), ("object_key", &doc.json["object_key"]), ("page_count", &doc.json["page_count"])]
            {
                assert_eq!(&hit[field], want, "{field}");
            }
            assert_eq!(hit["batch_id"], batch["batch_id"]);
            assert_eq!(hit["dossier"].as_str(), doc.dossier.as_deref());
            assert!(hit["score"].as_f64().unwrap() > 0.0);
            let snippet = hit["snippet"].as_str().unwrap();
            assert!(fold_vietnamese(snippet).contains(folded.as_str()), "{snippet:?} shows {folded:?}");
        }
        assert!(found + 1 >= candidates.len(), "{id}: only {found} of {candidates:?} found");
        // Two words at once, lowercase and without diacritics: AND.
        let (_, both) = search(&[&candidates[0].1, &candidates[1].1], &data);
        assert!(hit_ids(&both).iter().all(|h| h == id));
        checked += 1;

        // A CCCD number of the text, as a citizen ID.
        if let Some(cccd) = index_text(&doc.text).split(' ').find(|w| is_citizen_id(w)) {
            let (code, hits) = search(&["--citizen-id", cccd], &data);
            assert_eq!(code, 0);
            assert_eq!(hit_ids(&hits), [id], "citizen ID {cccd}");
        }
    }
    assert_eq!(checked, docs.len());

    // Filters: the dossier's documents in batch order; a type's documents.
    let code = docs[0].dossier.clone().unwrap();
    let (_, hits) = search(&["--dossier", &code], &data);
    let want: Vec<String> = docs.iter().filter(|d| d.dossier.as_deref() == Some(&code)).map(|d| d.json["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(hit_ids(&hits), want);
    assert!(hits.iter().all(|h| h["score"].is_null()));
    let ty = docs.iter().find_map(|d| d.json["type"].as_str()).expect("a typed document");
    let (_, hits) = search(&["--type", ty], &data);
    let want: HashSet<String> = docs.iter().filter(|d| d.json["type"] == ty).map(|d| d.json["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(hit_ids(&hits).into_iter().collect::<HashSet<_>>(), want);
    let (_, hits) = search(&["khongcotrongvanban"], &data);
    assert!(hits.is_empty());

    // The table; bad usage.
    let out = sohoa().args(["search", "--type", ty, "--data"]).arg(&data).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(want.iter().all(|id| table.contains(id.as_str())), "{table}");
    assert_eq!(search(&[], &data).0, 2, "no query and no filter");
    assert_eq!(search(&["--citizen-id", "12345"], &data).0, 2, "not 12 digits");
    assert_eq!(search(&["--limit", "0", "ho"], &data).0, 2);
}
