//! `sohoa serve`: every route, every role, the cross-agency matrix, bad requests, and
//! the audit chain, against the real binary on a free port with a real SQLite catalog and
//! local store, the sample batch uploaded and processed by the in-process workers.

use crate::common::{Server, create_token, repo, sohoa};
use serde_json::Value;
use std::time::{Duration, Instant};

/// The agencies of the two dossiers of `samples/batch.tif`.
const AGENCY_A: &str = "000.01.05.G54";
const AGENCY_B: &str = "000.16.25.H23";

fn wait_done(server: &Server, batch: &str, token: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let (status, v) = server.get_json(&format!("/api/v1/batches/{batch}"), Some(token));
        assert_eq!(status, 200, "{v}");
        match v["state"].as_str() {
            Some("done") => return v,
            Some("failed") => panic!("batch failed: {v}"),
            _ => {}
        }
        assert!(Instant::now() < deadline, "batch not done in 300 s: {v}");
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn cli_json(args: &[&str], data: &std::path::Path) -> (i32, Value) {
    let out = sohoa().args(args).arg("--data").arg(data).output().unwrap();
    (out.status.code().unwrap_or(-1), serde_json::from_slice(&out.stdout).unwrap_or(Value::Null))
}

fn error_code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or_else(|| panic!("not an error object: {v}"))
}

/// The first document of the dossier whose code begins with `agency`, and a content page
/// of it.
fn document_of(batch: &Value, agency: &str) -> (String, u64, Value) {
    for d in batch["dossiers"].as_array().unwrap() {
        if d["code"].as_str().is_some_and(|c| c.starts_with(&format!("{agency}-"))) {
            let doc = &d["documents"][0];
            return (doc["id"].as_str().unwrap().to_string(), doc["source_pages"][0].as_u64().unwrap(), doc.clone());
        }
    }
    panic!("no dossier of {agency} in {batch}");
}

#[test]
fn service_routes_roles_and_the_cross_agency_matrix() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (_, admin) = create_token(&data, "admin", &["--name", "ops"]);
    let (_, clerk) = create_token(&data, "clerk", &["--post-office", "700000"]);
    let (_, other_clerk) = create_token(&data, "clerk", &["--post-office", "700001"]);
    let (_, agency_a) = create_token(&data, "agency", &["--agency", AGENCY_A]);
    let (agency_b_id, agency_b) = create_token(&data, "agency", &["--agency", AGENCY_B]);
    let (_, certifier_a) = create_token(&data, "certifier", &["--agency", AGENCY_A]);
    let server = Server::start(&data, &["--workers", "2"]);

    // Public routes.
    assert_eq!(server.get_json("/healthz", None), (200, serde_json::json!({"status": "ok"})));
    let (status, openapi) = server.get_json("/api/v1/openapi.json", None);
    assert_eq!(status, 200);
    assert!(openapi["openapi"].as_str().unwrap().starts_with('3'));
    for path in [
        "/api/v1/batches",
        "/api/v1/batches/{id}",
        "/api/v1/batches/{id}/pages/{index}/thumbnail",
        "/api/v1/search",
        "/api/v1/documents/{id}",
        "/api/v1/documents/{id}/pdf",
        "/api/v1/audit",
        "/metrics",
        "/healthz",
    ] {
        assert!(openapi["paths"][path].is_object(), "{path} missing from the OpenAPI document");
    }
    let docs = server.get("/docs", None).unwrap();
    assert_eq!(docs.status, 200);
    assert!(docs.text().contains("/api/v1/openapi.json") && !docs.text().contains("src=\"http"), "the docs page loads nothing from elsewhere");

    // No token, a malformed header, an unknown token.
    for (headers, what) in
        [(vec![], "no token"), (vec![("Authorization", "Basic eDp5")], "basic auth"), (vec![("Authorization", "Bearer sohoa_nope")], "unknown token")]
    {
        let r = server.request("GET", "/api/v1/search?q=don", None, &headers, b"").unwrap();
        assert_eq!(r.status, 401, "{what}");
        assert_eq!(error_code(&serde_json::from_slice(&r.body).unwrap()), "unauthorized", "{what}");
    }

    // Upload: wrong role, wrong content type, then the sample batch as a clerk.
    let scan = std::fs::read(repo().join("samples/batch.tif")).unwrap();
    let (status, v) = server.upload(Some(&agency_a), &[("batch.tif", &scan)]);
    assert_eq!((status, error_code(&v)), (403, "forbidden"));
    let r = server.request("POST", "/api/v1/batches", Some(&clerk), &[("Content-Type", "application/json")], b"{}").unwrap();
    assert_eq!((r.status, error_code(&serde_json::from_slice(&r.body).unwrap())), (415, "unsupported-media-type"));
    let (status, v) = server.upload(Some(&clerk), &[("not-a-scan.txt", b"hello")]);
    assert_eq!((status, error_code(&v)), (400, "input-unsupported"), "{v}");
    let (status, uploaded) = server.upload(Some(&clerk), &[("batch.tif", &scan)]);
    assert_eq!(status, 202, "{uploaded}");
    let batch_id = uploaded["batches"][0]["batch_id"].as_str().unwrap().to_string();
    assert_eq!(uploaded, serde_json::json!({"batches": [{"batch_id": batch_id, "source": "batch.tif", "duplicate": false}]}));
    // The same scan again: the object of `sohoa ingest --json` for a duplicate.
    let (status, again) = server.upload(Some(&clerk), &[("batch.tif", &scan)]);
    assert_eq!((status, &again), (202, &serde_json::json!({"batches": [{"batch_id": batch_id, "source": "batch.tif", "duplicate": true}]})));
    let (code, cli_again) = cli_json(&["ingest", "--json", repo().join("samples/batch.tif").to_str().unwrap()], &data);
    assert_eq!(code, 0);
    assert_eq!(cli_again["batches"][0]["batch_id"], batch_id.as_str());
    assert_eq!(cli_again["batches"][0]["duplicate"], true);

    let batch = wait_done(&server, &batch_id, &clerk);
    assert_eq!(batch["post_office"], "700000");
    // The API's batch is the CLI's `status --json` object.
    let (code, cli_status) = cli_json(&["status", &batch_id, "--json"], &data);
    assert_eq!(code, 0);
    assert_eq!(batch, cli_status);

    // Batches: the clerk's post office only; agencies do not read batches.
    let batch_url = format!("/api/v1/batches/{batch_id}");
    assert_eq!(server.get_json(&batch_url, Some(&admin)).0, 200);
    let (status, v) = server.get_json(&batch_url, Some(&other_clerk));
    assert_eq!((status, error_code(&v)), (404, "not-found"));
    let (_, missing) = server.get_json("/api/v1/batches/bat_does_not_exist", Some(&other_clerk));
    assert_eq!(
        v["error"]["message"].as_str().unwrap().replace(&batch_id, "ID"),
        missing["error"]["message"].as_str().unwrap().replace("bat_does_not_exist", "ID")
    );
    assert_eq!(error_code(&server.get_json(&batch_url, Some(&agency_a)).1), "forbidden");
    let (status, list) = server.get_json("/api/v1/batches?state=done", Some(&clerk));
    assert_eq!(status, 200);
    assert_eq!(list["batches"].as_array().unwrap().len(), 1);
    assert_eq!(list["batches"][0], batch);
    assert_eq!(server.get_json("/api/v1/batches", Some(&other_clerk)).1, serde_json::json!({"batches": []}));
    assert_eq!(server.get_json("/api/v1/batches?state=queued", Some(&admin)).1, serde_json::json!({"batches": []}));
    let (status, v) = server.get_json("/api/v1/batches?state=bogus", Some(&clerk));
    assert_eq!((status, error_code(&v)), (400, "bad-usage"));

    // Re-queue: only a failed batch, only by who sees it.
    let requeue = format!("/api/v1/batches/{batch_id}/requeue");
    for (token, status, code) in [(&clerk, 400, "bad-usage"), (&other_clerk, 404, "not-found"), (&agency_a, 403, "forbidden")] {
        let r = server.request("POST", &requeue, Some(token), &[], b"").unwrap();
        assert_eq!((r.status, error_code(&serde_json::from_slice(&r.body).unwrap())), (status, code));
    }

    let (doc_a, page_a, doc_a_json) = document_of(&batch, AGENCY_A);
    let (doc_b, page_b, _) = document_of(&batch, AGENCY_B);
    let separator_page = batch["pages"].as_array().unwrap().iter().find(|p| p["kind"] == "separator").unwrap()["index"].as_u64().unwrap();

    // Search: an agency finds only its own dossiers; the admin's answer is the CLI's.
    let (status, all) = server.get_json("/api/v1/search?q=viet%20nam&limit=100", Some(&admin));
    assert_eq!(status, 200);
    let (code, cli_hits) = cli_json(&["search", "viet", "nam", "--limit", "100", "--json"], &data);
    assert_eq!(code, 0);
    assert_eq!(all, cli_hits);
    let dossiers = |v: &Value| v["hits"].as_array().unwrap().iter().map(|h| h["dossier"].as_str().unwrap_or("").to_string()).collect::<Vec<_>>();
    let all_dossiers = dossiers(&all);
    assert!(all_dossiers.iter().any(|d| d.starts_with(AGENCY_A)) && all_dossiers.iter().any(|d| d.starts_with(AGENCY_B)), "{all}");
    for token in [&agency_a, &certifier_a] {
        let (status, mine) = server.get_json("/api/v1/search?q=viet%20nam&limit=100", Some(token));
        assert_eq!(status, 200);
        let found = dossiers(&mine);
        assert!(!found.is_empty());
        assert!(found.iter().all(|d| d.starts_with(&format!("{AGENCY_A}-"))), "{mine}");
        assert_eq!(found.len(), all_dossiers.iter().filter(|d| d.starts_with(AGENCY_A)).count());
    }
    let code_b = all_dossiers.iter().find(|d| d.starts_with(AGENCY_B)).unwrap();
    assert_eq!(server.get_json(&format!("/api/v1/search?dossier={code_b}"), Some(&agency_a)).1, serde_json::json!({"hits": []}));
    assert!(!server.get_json(&format!("/api/v1/search?dossier={code_b}"), Some(&agency_b)).1["hits"].as_array().unwrap().is_empty());
    let (status, v) = server.get_json("/api/v1/search?q=don", Some(&clerk));
    assert_eq!((status, error_code(&v)), (403, "forbidden"));
    let (status, v) = server.get_json("/api/v1/search", Some(&agency_a));
    assert_eq!((status, error_code(&v)), (400, "bad-usage"));
    let (status, v) = server.get_json("/api/v1/search?citizen_id=12", Some(&agency_a));
    assert_eq!((status, error_code(&v)), (400, "bad-usage"));
    let (status, v) = server.get_json("/api/v1/search?limit=x&q=a", Some(&agency_a));
    assert_eq!((status, error_code(&v)), (400, "bad-usage"));

    // Documents: metadata of one's own; another agency's answers exactly as a missing one.
    let (status, meta) = server.get_json(&format!("/api/v1/documents/{doc_a}?purpose=h%E1%BB%93%20s%C6%A1%20c%E1%BA%A5p%20l%E1%BA%A1i"), Some(&agency_a));
    assert_eq!(status, 200);
    let mut want = doc_a_json.clone();
    want["dossier"] = batch["dossiers"].as_array().unwrap().iter().find(|d| d["code"].as_str().unwrap_or("").starts_with(AGENCY_A)).unwrap()["code"].clone();
    want["batch_id"] = batch_id.as_str().into();
    assert_eq!(meta, want);
    let (status, hidden) = server.get_json(&format!("/api/v1/documents/{doc_b}"), Some(&agency_a));
    let (_, absent) = server.get_json("/api/v1/documents/doc_does_not_exist", Some(&agency_a));
    assert_eq!(status, 404);
    assert_eq!(
        hidden["error"]["message"].as_str().unwrap().replace(&doc_b, "ID"),
        absent["error"]["message"].as_str().unwrap().replace("doc_does_not_exist", "ID")
    );
    assert_eq!(error_code(&hidden), "not-found");
    assert_eq!(server.get_json(&format!("/api/v1/documents/{doc_b}"), Some(&agency_b)).0, 200);
    assert_eq!(server.get_json(&format!("/api/v1/documents/{doc_a}"), Some(&certifier_a)).0, 200);
    assert_eq!(server.get_json(&format!("/api/v1/documents/{doc_b}"), Some(&certifier_a)).0, 404);
    assert_eq!(error_code(&server.get_json(&format!("/api/v1/documents/{doc_a}"), Some(&clerk)).1), "forbidden");

    // The PDF: whole (ETag = BLAKE3, Content-Length), a range, a bad range, not modified.
    let blake3 = meta["blake3"].as_str().unwrap();
    let bytes = meta["bytes"].as_u64().unwrap() as usize;
    let pdf_url = format!("/api/v1/documents/{doc_a}/pdf?purpose=reuse");
    let pdf = server.get(&pdf_url, Some(&agency_a)).unwrap();
    assert_eq!(pdf.status, 200);
    assert_eq!(pdf.header("content-type"), Some("application/pdf"));
    assert_eq!(pdf.header("etag"), Some(format!("\"{blake3}\"").as_str()));
    assert_eq!(pdf.header("content-length"), Some(bytes.to_string().as_str()));
    assert_eq!(pdf.body.len(), bytes);
    assert_eq!(blake3::hash(&pdf.body).to_hex().as_str(), blake3);
    let part = server.request("GET", &pdf_url, Some(&agency_a), &[("Range", "bytes=10-19")], b"").unwrap();
    assert_eq!(part.status, 206);
    assert_eq!(part.header("content-range"), Some(format!("bytes 10-19/{bytes}").as_str()));
    assert_eq!(part.body, pdf.body[10..20]);
    let tail = server.request("GET", &pdf_url, Some(&agency_a), &[("Range", "bytes=-7")], b"").unwrap();
    assert_eq!((tail.status, &tail.body[..]), (206, &pdf.body[bytes - 7..]));
    let r = server.request("GET", &pdf_url, Some(&agency_a), &[("Range", &format!("bytes={bytes}-"))], b"").unwrap();
    assert_eq!((r.status, error_code(&serde_json::from_slice(&r.body).unwrap())), (416, "range-not-satisfiable"));
    let etag = format!("\"{blake3}\"");
    let r = server.request("GET", &pdf_url, Some(&agency_a), &[("If-None-Match", &etag)], b"").unwrap();
    assert_eq!((r.status, r.body.len()), (304, 0));
    for (token, doc) in [(&agency_a, &doc_b), (&agency_b, &doc_a), (&certifier_a, &doc_b)] {
        let (status, v) = server.get_json(&format!("/api/v1/documents/{doc}/pdf"), Some(token));
        assert_eq!((status, error_code(&v)), (404, "not-found"));
    }
    // The PDF is the one `sohoa get` writes.
    let got = dir.path().join("got.pdf");
    assert_eq!(crate::common::get(&doc_a, &got, &data), 0);
    assert_eq!(std::fs::read(&got).unwrap(), pdf.body);

    // Thumbnails: a clerk's batch, an agency's document pages, nothing else.
    let thumb = |page: u64| format!("/api/v1/batches/{batch_id}/pages/{page}/thumbnail");
    for (token, page, want) in [
        (&clerk, page_a, 200),
        (&clerk, separator_page, 200),
        (&admin, page_b, 200),
        (&agency_a, page_a, 200),
        (&agency_a, page_b, 404),
        (&agency_a, separator_page, 404),
        (&agency_b, page_a, 404),
        (&other_clerk, page_a, 404),
        (&clerk, 9999, 404),
    ] {
        let r = server.get(&thumb(page), Some(token)).unwrap();
        assert_eq!(r.status, want, "page {page}: {}", r.text());
        if want == 200 {
            assert_eq!(r.header("content-type"), Some("image/png"));
            let img = image::load_from_memory(&r.body).unwrap();
            assert!(img.width().max(img.height()) <= 320 && img.width() > 20, "{}x{}", img.width(), img.height());
        } else {
            assert_eq!(error_code(&serde_json::from_slice(&r.body).unwrap()), "not-found");
        }
    }
    let (status, v) = server.get_json(&format!("/api/v1/batches/{batch_id}/pages/x/thumbnail"), Some(&clerk));
    assert_eq!((status, error_code(&v)), (400, "bad-usage"));

    // Audit: each metadata read and download, with its purpose, chained.
    let (status, v) = server.get_json(&format!("/api/v1/audit?document={doc_a}"), Some(&agency_a));
    assert_eq!((status, error_code(&v)), (403, "forbidden"));
    let (status, trail) = server.get_json(&format!("/api/v1/audit?document={doc_a}"), Some(&admin));
    assert_eq!(status, 200);
    let events = trail["events"].as_array().unwrap();
    // Metadata: agency A, certifier A; PDF: whole, two ranges, the 304 (the 416 and the
    // refused reads are not reads).
    let actions: Vec<(&str, &str)> = events.iter().map(|e| (e["role"].as_str().unwrap(), e["action"].as_str().unwrap())).collect();
    assert_eq!(actions, [("agency", "metadata"), ("certifier", "metadata"), ("agency", "pdf"), ("agency", "pdf"), ("agency", "pdf"), ("agency", "pdf")]);
    assert_eq!(events[0]["purpose"], "hồ sơ cấp lại");
    assert_eq!(events[2]["purpose"], "reuse");
    assert!(server.get_json(&format!("/api/v1/audit?document={doc_b}"), Some(&admin)).1["events"].as_array().unwrap().iter().all(|e| e["role"] == "agency"));
    let out = sohoa().args(["audit", "verify", "--json"]).arg("--data").arg(&data).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let verified: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(verified["rows"].as_u64().unwrap() >= 6 && verified["broken"].is_null(), "{verified}");

    // Metrics: admin only; the counters saw this test.
    let (status, v) = server.get_json("/metrics", Some(&agency_a));
    assert_eq!((status, error_code(&v)), (403, "forbidden"));
    let m = server.get("/metrics", Some(&admin)).unwrap();
    assert_eq!(m.status, 200);
    let text = m.text();
    let pages = batch["pages"].as_array().unwrap().len();
    for line in [
        format!("sohoa_pages_processed {pages}"),
        "sohoa_queue_batches{state=\"done\"} 1".to_string(),
        "sohoa_queue_batches{state=\"queued\"} 0".to_string(),
        "sohoa_http_requests_total{route=\"/api/v1/documents/{id}/pdf\",status=\"206\"} 2".to_string(),
        "sohoa_http_requests_total{route=\"/api/v1/batches\",status=\"202\"} 2".to_string(),
        "sohoa_errors_total{code=\"unsupported-media-type\"} 1".to_string(),
    ] {
        assert!(text.lines().any(|l| l == line), "no line {line:?} in\n{text}");
    }
    let ocr_s: f64 = text.lines().find_map(|l| l.strip_prefix("sohoa_stage_seconds_total{stage=\"ocr\"} ")).unwrap().parse().unwrap();
    assert!(ocr_s > 0.0, "the in-process workers ran OCR");

    // Unknown routes and methods.
    let (status, v) = server.get_json("/api/v1/nothing", Some(&admin));
    assert_eq!((status, error_code(&v)), (404, "not-found"));
    let r = server.request("DELETE", "/api/v1/search", Some(&admin), &[], b"").unwrap();
    assert_eq!(r.status, 405);

    // Revoked: refused from the next request on.
    assert_eq!(server.get_json(&format!("/api/v1/documents/{doc_b}"), Some(&agency_b)).0, 200);
    let out = sohoa().args(["token", "revoke", &agency_b_id]).arg("--data").arg(&data).output().unwrap();
    assert!(out.status.success());
    let (status, v) = server.get_json(&format!("/api/v1/documents/{doc_b}"), Some(&agency_b));
    assert_eq!((status, error_code(&v)), (401, "unauthorized"));
    let out = sohoa().args(["token", "list", "--json"]).arg("--data").arg(&data).output().unwrap();
    let tokens: Value = serde_json::from_slice(&out.stdout).unwrap();
    let listed = tokens["tokens"].as_array().unwrap();
    assert_eq!(listed.len(), 6);
    assert!(listed.iter().all(|t| t.get("token").is_none() && t.get("token_hash").is_none()), "secrets are never listed");
    assert!(listed.iter().find(|t| t["id"] == agency_b_id.as_str()).unwrap()["revoked_at"].is_i64());
    assert!(!String::from_utf8_lossy(&std::fs::read(data.join("catalog.db")).unwrap()).contains(&agency_a), "only the hash of a token is stored");

    // After all of that, still serving.
    assert_eq!(server.get_json("/healthz", None).0, 200);
    assert_eq!(server.get_json(&format!("/api/v1/documents/{doc_a}"), Some(&agency_a)).0, 200);
}

#[test]
fn an_oversized_upload_is_refused_and_the_server_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (_, clerk) = create_token(&data, "clerk", &["--post-office", "700000"]);
    let server = Server::start(&data, &["--no-workers", "--max-upload-mb", "1"]);
    let big = vec![0x49u8; 3 * 1024 * 1024];
    let (status, v) = server.upload(Some(&clerk), &[("big.tif", &big)]);
    assert_eq!((status, error_code(&v)), (413, "payload-too-large"), "{v}");
    // Nothing kept of it.
    let uploads = data.join("uploads");
    assert!(!uploads.exists() || std::fs::read_dir(&uploads).unwrap().next().is_none(), "the refused upload left files behind");
    assert_eq!(server.get_json("/healthz", None).0, 200);
    // Under the limit: queued (no workers here), tagged with the clerk's post office.
    let png = small_png(7);
    let (status, v) = server.upload(Some(&clerk), &[("page.png", &png)]);
    assert_eq!(status, 202, "{v}");
    let id = v["batches"][0]["batch_id"].as_str().unwrap();
    let (status, b) = server.get_json(&format!("/api/v1/batches/{id}"), Some(&clerk));
    assert_eq!((status, b["state"].as_str(), b["post_office"].as_str()), (200, Some("queued"), Some("700000")));
    // An upload without a file field.
    let (ct, body) = sohoa_testkit::http::multipart(&[("note", "x.txt", b"hello")]);
    let r = server.request("POST", "/api/v1/batches", Some(&clerk), &[("Content-Type", &ct)], &body).unwrap();
    assert_eq!((r.status, error_code(&serde_json::from_slice(&r.body).unwrap())), (400, "bad-usage"));
}

/// A small gray PNG that differs by `seed` (a distinct BLAKE3 per seed).
pub fn small_png(seed: u8) -> Vec<u8> {
    let img = image::GrayImage::from_fn(64, 48, |x, y| image::Luma([if (x + y) % 7 == u32::from(seed) % 7 { 0 } else { 255 - seed }]));
    let mut out = Vec::new();
    image::DynamicImage::ImageLuma8(img).write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png).unwrap();
    out
}

#[test]
fn audit_verify_finds_a_row_changed_in_the_database() {
    use sohoa::runtime::catalog::{AuditAction, Catalog, NewAuditEvent};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let cat = Catalog::open(None, &data).await.unwrap();
        for i in 0..5 {
            let e = NewAuditEvent {
                token_id: "tok_t".into(),
                role: "agency".into(),
                document_id: format!("doc_{i}"),
                action: AuditAction::Pdf,
                purpose: Some(format!("p{i}")),
            };
            cat.append_audit(&e).await.unwrap();
        }
        cat.close().await;
    });
    let out = sohoa().args(["audit", "verify"]).arg("--data").arg(&data).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("5 rows"));

    rt.block_on(async {
        use sqlx::ConnectOptions;
        let mut conn = sqlx::sqlite::SqliteConnectOptions::new().filename(data.join("catalog.db")).connect().await.unwrap();
        // The table refuses changes...
        let refused = sqlx::query("UPDATE audit_events SET purpose = 'x' WHERE seq = 3").execute(&mut conn).await;
        assert!(refused.unwrap_err().to_string().contains("append-only"));
        assert!(sqlx::query("DELETE FROM audit_events WHERE seq = 5").execute(&mut conn).await.is_err());
        // ...unless someone with the database file goes around it.
        sqlx::query("DROP TRIGGER audit_events_no_update").execute(&mut conn).await.unwrap();
        sqlx::query("UPDATE audit_events SET document_id = 'doc_other' WHERE seq = 3").execute(&mut conn).await.unwrap();
    });
    let out = sohoa().args(["audit", "verify", "--json"]).arg("--data").arg(&data).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(error_code(&v), "audit-chain-broken");
    let message = v["error"]["message"].as_str().unwrap();
    assert!(message.contains("breaks at row 3: row 3 was changed") && message.contains("(2 rows before it hold)"), "{message}");
}
