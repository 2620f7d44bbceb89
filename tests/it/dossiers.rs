//! Issue #24 end to end, on SQLite and on PostgreSQL: a generated multi-dossier batch
//! whose covers name a procedure and a citizen, some dossiers lacking a required
//! component, processed by `sohoa process`; then completeness in the batch JSON and
//! `status`, the receipt (its QR decoded back by zxing-cpp, its text by pdftotext, its
//! reference checked), result codes, the reuse lookup and attachment, and the indicators,
//! each against the generator's ground truth.

use crate::common::*;
use serde_json::Value;
use sohoa::tools::synth::{BatchTruth, GenOptions, write_sample_set};
use std::collections::BTreeSet;
use std::path::Path;

/// `sohoa ARGS --data DATA [--catalog URL]`: (exit code, stdout as JSON or Null, stderr).
fn run(args: &[&str], data: &Path, catalog: Option<&str>) -> (i32, Value, String) {
    let mut cmd = sohoa();
    cmd.args(args).arg("--data").arg(data);
    if let Some(c) = catalog {
        cmd.args(["--catalog", c]);
    }
    let out = cmd.output().expect("sohoa runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let json = serde_json::from_str(&stdout).unwrap_or(Value::String(stdout));
    (out.status.code().unwrap_or(-1), json, String::from_utf8_lossy(&out.stderr).into_owned())
}

fn ok(args: &[&str], data: &Path, catalog: Option<&str>) -> Value {
    let (code, json, stderr) = run(args, data, catalog);
    assert_eq!(code, 0, "sohoa {args:?}: {stderr}");
    json
}

/// A generated batch with at least one complete and one incomplete dossier.
fn generate(dir: &Path) -> BatchTruth {
    for seed in 24u64.. {
        let opts = GenOptions {
            seed,
            dpi: 150.0,
            dossiers: 4,
            pages_per_doc: (1, 1),
            max_skew_deg: 1.0,
            blank_backs: false,
            noise_sigma: 2.0,
            procedures: true,
            missing_prob: 0.5,
            citizens: 1,
            ..Default::default()
        };
        write_sample_set(dir, &opts).unwrap();
        let truth: BatchTruth = serde_json::from_slice(&std::fs::read(dir.join("batch.truth.json")).unwrap()).unwrap();
        let incomplete = truth.dossiers.iter().filter(|d| !d.missing.as_ref().unwrap().is_empty()).count();
        if incomplete > 0 && incomplete < truth.dossiers.len() {
            return truth;
        }
    }
    unreachable!()
}

fn dossier_records_end_to_end(catalog: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let truth = generate(dir.path());
    let data = dir.path().join("data");
    let mut args = vec!["--workers", "2"];
    if let Some(c) = catalog {
        args.extend(["--catalog", c]);
    }
    let (code, json, stderr) = process(&[&dir.path().join("batch.tif")], &data, &args);
    assert_eq!(code, 0, "{stderr}");
    let batch = &json["batches"][0];
    assert_matches_truth(batch, &truth);

    // Completeness: each dossier's procedure, citizen and missing components, as generated.
    for (d, t) in batch["dossiers"].as_array().unwrap().iter().zip(&truth.dossiers) {
        let missing: Vec<String> = d["missing"].as_array().unwrap().iter().map(|m| m.as_str().unwrap().to_string()).collect();
        assert_eq!(d["procedure"].as_str(), t.procedure.as_deref());
        assert_eq!(d["citizen_id"].as_str(), t.citizen_id.as_deref());
        assert_eq!(&missing, t.missing.as_ref().unwrap(), "dossier {:?}", t.code);
        assert_eq!(d["complete"].as_bool(), Some(missing.is_empty()));
    }
    let incomplete: Vec<_> = truth.dossiers.iter().filter(|d| !d.missing.as_ref().unwrap().is_empty()).collect();
    let warnings = batch["warnings"].as_array().unwrap();
    assert_eq!(warnings.iter().filter(|w| w.as_str().unwrap().contains("is incomplete for procedure")).count(), incomplete.len());
    // `status` shows the same.
    let batch_id = batch["batch_id"].as_str().unwrap();
    let status = ok(&["status", batch_id, "--json"], &data, catalog);
    assert_eq!(status["dossiers"], batch["dossiers"]);

    // The receipt of the first incomplete dossier.
    let target = incomplete[0];
    let code = target.code.as_deref().unwrap();
    let pdf = dir.path().join("receipt.pdf");
    let receipt = ok(&["receipt", code, "-o", pdf.to_str().unwrap(), "--json"], &data, catalog);
    let reference = receipt["reference"].as_str().unwrap().to_string();
    let text = pdftotext_mode(&pdf, &["-raw"]);
    assert!(text.contains(&format!("Mã hồ sơ: {code}")), "{text}");
    let stored = &batch["dossiers"].as_array().unwrap().iter().find(|d| d["code"] == code).unwrap()["documents"];
    for (i, doc) in stored.as_array().unwrap().iter().enumerate() {
        let ty = doc["type"].as_str().unwrap();
        let line = format!(
            "{}. {} ({ty}) - {} trang - mã băm {}",
            i + 1,
            sohoa::model::doc_kind(ty).unwrap().name,
            doc["page_count"],
            &doc["blake3"].as_str().unwrap()[..16]
        );
        assert!(text.contains(&line), "{line:?} not in {text}");
    }
    assert!(text.contains("Thành phần còn thiếu:"), "{text}");
    assert_pdfa(&pdf);
    // Its QR, rasterised by poppler and decoded by zxing-cpp, gives the code and reference.
    let png = dir.path().join("receipt");
    let st = std::process::Command::new("pdftoppm").args(["-r", "200", "-gray", "-png", "-singlefile"]).arg(&pdf).arg(&png).status().unwrap();
    assert!(st.success());
    let page = image::open(dir.path().join("receipt.png")).unwrap().to_luma8();
    let read = sohoa::stages::barcode::decode_zxing(&page, false);
    assert_eq!(read.len(), 1, "{read:?}");
    let qr = read[0].text.clone();
    assert_eq!(sohoa::stages::dossier::receipt::parse_qr(&qr), Some((code.to_string(), reference.clone())));
    let verified = ok(&["receipt", "--verify", &qr, "--json"], &data, catalog);
    assert_eq!((verified["valid"].as_bool(), verified["documents"].as_array().map(|d| d.len())), (Some(true), Some(target.documents.len())));
    let forged = format!("BN:{code}|BN-0000000000000000");
    let (exit, v, _) = run(&["receipt", "--verify", &forged, "--json"], &data, catalog);
    assert_eq!((exit, v["valid"].as_bool()), (1, Some(false)));

    // Result codes: KQ1, KQ2, listed with the dossier.
    let file = dir.path().join("ket-qua.pdf");
    std::fs::write(&file, b"%PDF-1.4 result").unwrap();
    for n in 1..=2 {
        let r = ok(&["result", "add", code, file.to_str().unwrap(), "--json"], &data, catalog);
        assert_eq!(r["id"].as_str().unwrap(), format!("{code}-KQ{n}"));
    }
    let (exit, _, _) = run(&["result", "add", "000.00.00.A00-000101-0001", file.to_str().unwrap()], &data, catalog);
    assert_eq!(exit, 2, "no result for a dossier that was never stored");

    // Reuse: the citizen's CCCD documents of the other dossiers, then one attached.
    let citizen = target.citizen_id.as_deref().unwrap();
    let expected: BTreeSet<String> = truth
        .dossiers
        .iter()
        .filter(|d| d.code.as_deref() != Some(code))
        .flat_map(|d| d.documents.iter().filter(|doc| doc.r#type.as_deref() == Some("CCCD")).map(move |_| d.code.clone().unwrap()))
        .collect();
    let found = ok(&["reuse", "--citizen-id", citizen, "--type", "CCCD", "--attach", code, "--json"], &data, catalog);
    let got: BTreeSet<String> = found["documents"].as_array().unwrap().iter().map(|h| h["dossier"].as_str().unwrap().to_string()).collect();
    assert_eq!(got, expected);
    assert!(!expected.is_empty(), "every sample procedure requires a CCCD and only one component is ever missing");
    assert_eq!(found["attached"]["dossier_code"], code);
    let shown = ok(&["dossier", "show", code, "--json"], &data, catalog);
    assert_eq!((shown["results"].as_array().unwrap().len(), shown["reused"].as_array().unwrap().len()), (2, 1));
    assert_eq!(shown["missing"], serde_json::json!(target.missing.clone().unwrap()));
    let audit = ok(&["audit", "verify", "--json"], &data, catalog);
    assert_eq!(audit["rows"].as_u64(), Some(1), "{audit}");

    // Indicators of today (Vietnam time), and by agency (groups add up to the total).
    let today = (chrono::Utc::now() + chrono::Duration::hours(7)).date_naive().to_string();
    let report = ok(&["report", "--from", &today, "--to", &today, "--by", "agency", "--json"], &data, catalog);
    let total = &report["total"];
    let n = truth.dossiers.len() as u64;
    assert_eq!(
        (total["received"].as_u64(), total["digitized"].as_u64(), total["reused"].as_u64(), total["with_result"].as_u64()),
        (Some(n), Some(n), Some(1), Some(1))
    );
    assert_eq!(total["completeness_failures"].as_u64(), Some(incomplete.len() as u64));
    assert_eq!(total["reuse_rate"].as_f64(), Some(1.0 / n as f64));
    assert_eq!(total["digitization_rate"].as_f64(), Some(1.0));
    assert_eq!(total["received_postal"].as_u64(), Some(0), "a batch from the command line has no post office");
    let pages: u64 = truth.dossiers.iter().flat_map(|d| &d.documents).map(|d| d.source_pages.len() as u64).sum();
    assert_eq!(total["pages"].as_u64(), Some(pages));
    assert!(total["median_scan_to_stored_s"].as_f64().unwrap() >= 0.0);
    let summed: u64 = report["groups"].as_array().unwrap().iter().map(|g| g["received"].as_u64().unwrap()).sum();
    assert_eq!(summed, n);
    let (exit, csv, _) = run(&["report", "--from", &today, "--to", &today, "--csv"], &data, catalog);
    assert_eq!(exit, 0);
    let csv = csv.as_str().unwrap().to_string();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(lines[0].starts_with("group,received,") && lines[1].starts_with(&format!("total,{n},0,{n},1.0000,1,")), "{csv}");
    let (exit, _, _) = run(&["report", "--from", "2025-03-02", "--to", "2025-03-01"], &data, catalog);
    assert_eq!(exit, 2);

    if catalog.is_none() {
        // Without --attach the lookup leaves no dossier out: every CCCD of the citizen.
        let all_cccd = truth.dossiers.iter().filter(|d| d.documents.iter().any(|doc| doc.r#type.as_deref() == Some("CCCD"))).count();
        api_answers_the_same(&data, code, &reference, citizen, all_cccd, &today);
    }
}

/// The same records through `sohoa serve`: the dossier, the receipt and its public
/// verification, a third result, the reuse lookup and the indicators, with their scopes.
fn api_answers_the_same(data: &Path, code: &str, reference: &str, citizen: &str, cccd_hits: usize, today: &str) {
    let (_, admin) = create_token(data, "admin", &[]);
    let agency_code = code.split_once('-').unwrap().0;
    let (_, agency) = create_token(data, "agency", &["--agency", agency_code]);
    let other_agency = if agency_code == "999.99.99.Z99" { "998.99.99.Z99" } else { "999.99.99.Z99" };
    let (_, stranger) = create_token(data, "agency", &["--agency", other_agency]);
    let server = Server::start(data, &["--no-workers"]);

    let (status, v) = server.get_json(&format!("/api/v1/dossiers/{code}"), Some(&agency));
    assert_eq!(status, 200, "{v}");
    assert_eq!((v["results"].as_array().unwrap().len(), v["reused"].as_array().unwrap().len(), v["complete"].as_bool()), (2, 1, Some(false)));
    assert_eq!(server.get_json(&format!("/api/v1/dossiers/{code}"), Some(&stranger)).0, 404);
    assert_eq!(server.get_json(&format!("/api/v1/dossiers/{code}"), None).0, 401);

    let r = server.get(&format!("/api/v1/dossiers/{code}/receipt"), Some(&admin)).unwrap();
    assert_eq!((r.status, r.header("content-type")), (200, Some("application/pdf")));
    assert_eq!(r.header("x-receipt-reference"), Some(reference));
    assert!(r.body.starts_with(b"%PDF-"));
    // Verification needs no token; a forged reference does not hold.
    let (status, v) = server.get_json(&format!("/api/v1/dossiers/{code}/receipt/verify?ref={reference}"), None);
    assert_eq!((status, v["valid"].as_bool()), (200, Some(true)), "{v}");
    let (_, v) = server.get_json(&format!("/api/v1/dossiers/{code}/receipt/verify?ref=BN-0000000000000000"), None);
    assert_eq!(v["valid"].as_bool(), Some(false));

    let r = server
        .request(
            "POST",
            &format!("/api/v1/dossiers/{code}/results?file_name=kq3.pdf"),
            Some(&agency),
            &[("Content-Type", "application/pdf")],
            b"%PDF-1.4 third",
        )
        .unwrap();
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!((r.status, v["id"].as_str()), (201, Some(format!("{code}-KQ3").as_str())), "{v}");
    assert_eq!(server.request("POST", &format!("/api/v1/dossiers/{code}/results"), Some(&stranger), &[], b"x").unwrap().status, 404);

    let (status, v) = server.get_json(&format!("/api/v1/reuse?citizen_id={citizen}&type=CCCD"), Some(&admin));
    assert_eq!((status, v["documents"].as_array().map(|d| d.len())), (200, Some(cccd_hits)), "{v}");
    assert_eq!(server.get_json("/api/v1/reuse?citizen_id=123&type=CCCD", Some(&admin)).0, 400);

    let r = server.get(&format!("/api/v1/reports/indicators?from={today}&to={today}&format=csv"), Some(&admin)).unwrap();
    assert_eq!(r.status, 200);
    assert!(r.text().lines().nth(1).unwrap().starts_with("total,"), "{}", r.text());
    let (status, v) = server.get_json(&format!("/api/v1/reports/indicators?from={today}&to={today}&by=post-office"), Some(&admin));
    assert_eq!((status, v["total"]["with_result"].as_u64()), (200, Some(1)));
    assert_eq!(server.get_json(&format!("/api/v1/reports/indicators?from={today}&to={today}"), Some(&agency)).0, 403);
    // The admin page carries the indicators' chart.
    let cookie = format!("sohoa_token={admin}");
    let page = server.request("GET", "/ui", None, &[("Cookie", &cookie)], b"").unwrap();
    let html = page.text();
    assert!(html.contains("id=\"indicators\"") && html.contains("class=\"rate-digitized\""), "{html}");
}

#[test]
fn dossier_records_on_sqlite() {
    dossier_records_end_to_end(None);
}

#[test]
fn dossier_records_on_postgres() {
    let Some(catalog) = sohoa_testkit::postgres::shared_database_or_skip("dossiers") else { return };
    dossier_records_end_to_end(Some(&catalog));
}
