//! Issue 24, document fields: `sohoa eval-fields` on a small generated set meets the
//! issue's bar (each header field exact on ≥ 95% of documents, CCCD recall ≥ 99%, no
//! false number); a processed batch carries `fields` per document in its JSON, in
//! `sohoa status`, in the API's document object and in the PDF's XMP, and
//! `sohoa search --field` / `GET /api/v1/search?field=` find the document by them.

use crate::common::*;
use serde_json::Value;
use sohoa::tools::synth::{GenOptions, write_sample_set};

const HEADER_FIELDS: [&str; 6] = ["so_ky_hieu", "ngay", "loai", "co_quan", "trich_yeu", "nguoi_ky"];

// 24 documents (28 pages) read through the OCR: at ≥ 95% a header field may be missed on
// one document at most. Seed 11 holds misses of the kinds the extractor sets right (a
// mangled symbol, a title or body read without its spaces) and one it must leave `null`
// (`ngày 37`).
#[test]
fn eval_fields_meets_the_bar() {
    let data = tempfile::tempdir().unwrap();
    let out = sohoa().args(["eval-fields", "--docs", "24", "--seed", "11", "--threads", "2", "--json", "--data"]).arg(data.path()).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let r: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    assert_eq!(r["docs"], 24);
    let fields = r["fields"].as_array().unwrap();
    for name in HEADER_FIELDS {
        let f = fields.iter().find(|f| f["field"] == name).unwrap_or_else(|| panic!("{name} in {r}"));
        // The set has documents with and without the field, so null must be earned too.
        assert!(f["present"].as_u64().unwrap() > 0, "{f}");
        assert!(f["rate"].as_f64().unwrap() >= 0.95, "{name}: {f}\n{stderr}");
    }
    assert!(r["cccd_printed"].as_u64().unwrap() >= 10, "{r}");
    assert!(r["cccd_recall"].as_f64().unwrap() >= 0.99, "{r}\n{stderr}");
    assert_eq!(r["cccd_false"], 0, "{r}\n{stderr}");
    assert!(out.status.success(), "{stderr}");
}

#[test]
fn processed_documents_carry_searchable_fields() {
    let dir = tempfile::tempdir().unwrap();
    let opts = GenOptions { seed: 8, dpi: 200.0, dossiers: 1, docs_per_dossier: (3, 3), pages_per_doc: (1, 1), ..Default::default() };
    write_sample_set(dir.path(), &opts).unwrap();
    let data = dir.path().join("data");
    let (code, json, stderr) = process(&[&dir.path().join("batch.tif")], &data, &[]);
    assert_eq!(code, 0, "{stderr}");
    let batch = &json["batches"][0];
    let docs: Vec<&Value> = batch["dossiers"].as_array().unwrap().iter().flat_map(|d| d["documents"].as_array().unwrap()).collect();
    assert_eq!(docs.len(), 3);
    for d in &docs {
        let f = &d["fields"];
        for name in HEADER_FIELDS {
            assert!(f.get(name).is_some(), "{name} missing (null, not absent): {f}");
        }
        assert!(f["cccd"].is_array(), "{f}");
        // Every document of the generator has a place and date and a signer.
        assert!(f["ngay"].is_string() && f["nguoi_ky"].is_string(), "{f}");
    }

    // The first document with a number: found by it, in the CLI and the API, and its
    // XMP carries it.
    let doc = docs.iter().find(|d| d["fields"]["so_ky_hieu"].is_string()).expect("a numbered document");
    let id = doc["id"].as_str().unwrap();
    let number = doc["fields"]["so_ky_hieu"].as_str().unwrap();
    let out = sohoa().args(["search", "--field", &format!("so_ky_hieu={number}"), "--json", "--data"]).arg(&data).output().unwrap();
    let hits: Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<&str> = hits["hits"].as_array().unwrap().iter().map(|h| h["document_id"].as_str().unwrap()).collect();
    assert_eq!(ids, [id], "{hits}");
    let signer = doc["fields"]["nguoi_ky"].as_str().unwrap();
    let folded = sohoa::model::fold_vietnamese(signer);
    let out = sohoa()
        .args(["search", "--field", &format!("so_ky_hieu={number}"), "--field", &format!("nguoi_ky={folded}"), "--json", "--data"])
        .arg(&data)
        .output()
        .unwrap();
    assert_eq!(serde_json::from_slice::<Value>(&out.stdout).unwrap()["hits"].as_array().unwrap().len(), 1);
    let out = sohoa().args(["search", "--field", "nope=1", "--json", "--data"]).arg(&data).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "an unknown field is bad usage");

    let pdf = dir.path().join("doc.pdf");
    assert_eq!(get(id, &pdf, &data), 0);
    let bytes = std::fs::read(&pdf).unwrap();
    let xmp = String::from_utf8_lossy(&bytes);
    assert!(xmp.contains(&format!("<sohoa:so_ky_hieu>{number}</sohoa:so_ky_hieu>")), "no so_ky_hieu in the XMP");

    let out = sohoa().args(["status", batch["batch_id"].as_str().unwrap(), "--json", "--data"]).arg(&data).output().unwrap();
    let status: Value = serde_json::from_slice(&out.stdout).unwrap();
    let in_status: Vec<&Value> = status["dossiers"].as_array().unwrap().iter().flat_map(|d| d["documents"].as_array().unwrap()).collect();
    assert_eq!(in_status.iter().map(|d| &d["fields"]).collect::<Vec<_>>(), docs.iter().map(|d| &d["fields"]).collect::<Vec<_>>());

    let (_, token) = create_token(&data, "admin", &[]);
    let server = Server::start(&data, &["--no-workers"]);
    let target = format!("/api/v1/search?field={}", url_encode(&format!("so_ky_hieu={number}")));
    let (status, body) = server.get_json(&target, Some(&token));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["hits"].as_array().unwrap().iter().map(|h| h["document_id"].as_str().unwrap()).collect::<Vec<_>>(), [id]);
    let (status, body) = server.get_json(&format!("/api/v1/documents/{id}"), Some(&token));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["fields"], doc["fields"]);
}

fn url_encode(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() || b"-_.".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}
