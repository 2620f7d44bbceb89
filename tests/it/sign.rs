//! Signatures (issue #23): scan signing in `sohoa process`, certification by the CLI and
//! the API, and `sohoa verify`, each checked by two independent verifiers: poppler's
//! `pdfsig` with the test root trusted in an NSS database, and pyHanko. One changed byte
//! fails all three. Fifty certifications at once, CLI processes and API calls mixed, get
//! the numbers 1 to 50 of the book, on SQLite and on PostgreSQL.
//!
//! pyHanko comes from `scripts/install-deps.sh --test` (a venv under `$SOHOA_CACHE`);
//! without it these tests fail, unless `SOHOA_SKIP_PYHANKO=1`.

use crate::common::{Server, assert_pdfa, create_token, repo, sohoa};
use serde_json::Value;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The agency of the first dossier of `samples/batch.tif`.
const AGENCY: &str = "000.01.05.G54";

pub fn dev_ca(dir: &Path) -> PathBuf {
    let keys = dir.join("keys");
    let out = sohoa().args(["keys", "dev-ca", "--out"]).arg(&keys).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for f in ["ca.pem", "clerk.pem", "certifier.pem", "agency.pem", "tsa.pem"] {
        assert!(keys.join(f).is_file(), "{f} written");
    }
    keys
}

/// One A4 page of printed text as a PNG (150 dpi), different per `seed`.
fn text_page_png(seed: u32) -> Vec<u8> {
    use sohoa::stages::render::{self, PageLayout, Style};
    let mut layout = PageLayout::default();
    layout.centered("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", Style::Bold, 13.0, render::TEXT_CX_MM, 30.0);
    layout.centered("Độc lập - Tự do - Hạnh phúc", Style::Bold, 13.0, render::TEXT_CX_MM, 37.0);
    layout.centered("ĐƠN ĐỀ NGHỊ", Style::Bold, 14.0, render::TEXT_CX_MM, 60.0);
    for i in 0..8 {
        layout.text_at(format!("Dòng {} của đơn số {seed}: nội dung đề nghị cấp bản sao.", i + 1), Style::Regular, 13.0, 30.0, 80.0 + i as f32 * 8.0);
    }
    let img = render::render(&layout, 150.0);
    let mut out = Vec::new();
    image::DynamicImage::ImageLuma8(img).write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png).unwrap();
    out
}

/// `sohoa process --json` of `inputs`; the ids of the stored documents.
fn process(inputs: &[&Path], data: &Path, extra: &[&str]) -> (Value, Vec<String>) {
    let out = sohoa().arg("process").args(inputs).arg("--data").arg(data).args(["--json", "--workers", "2"]).args(extra).output().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert!(out.status.code() == Some(0), "process failed: {v} {}", String::from_utf8_lossy(&out.stderr));
    let ids = v["batches"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|b| b["dossiers"].as_array().unwrap().iter())
        .flat_map(|d| d["documents"].as_array().unwrap().iter())
        .map(|doc| doc["id"].as_str().unwrap().to_string())
        .collect();
    (v, ids)
}

fn get(id: &str, out: &Path, data: &Path, extra: &[&str]) {
    let status = sohoa().args(["get", id, "-o"]).arg(out).arg("--data").arg(data).args(extra).status().unwrap();
    assert!(status.success(), "sohoa get {id}");
}

/// `sohoa verify TARGET --trust ca.pem --json`: (exit code, report).
fn verify(target: &str, data: &Path, ca: &Path, extra: &[&str]) -> (i32, Value) {
    let out = sohoa().args(["verify", target, "--json", "--trust"]).arg(ca).arg("--data").arg(data).args(extra).output().unwrap();
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap_or(-1), v)
}

/// An NSS database trusting `ca` (for pdfsig).
fn nss_db(dir: &Path, ca: &Path) -> PathBuf {
    let db = dir.join("nss");
    std::fs::create_dir_all(&db).unwrap();
    let sql = format!("sql:{}", db.display());
    let run = |args: &[&str]| {
        let out = Command::new("certutil").args(args).output().expect("certutil is installed (libnss3-tools, scripts/install-deps.sh --test)");
        assert!(out.status.success(), "certutil {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    run(&["-N", "-d", &sql, "--empty-password"]);
    run(&["-A", "-d", &sql, "-n", "root", "-t", "CT,C,C", "-i", ca.to_str().unwrap()]);
    db
}

/// `pdfsig -nssdir sql:DB FILE`'s output (it exits 0 on a digest mismatch too).
fn pdfsig(db: &Path, pdf: &Path) -> String {
    let out = Command::new("pdfsig").arg("-nssdir").arg(format!("sql:{}", db.display())).arg(pdf).output().expect("pdfsig is installed (poppler-utils)");
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn pyhanko_bin() -> Option<PathBuf> {
    let cache = std::env::var_os("SOHOA_CACHE").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache/sohoa"));
    let venv = cache.join("pyhanko/bin/pyhanko");
    if venv.is_file() {
        return Some(venv);
    }
    let on_path = Command::new("pyhanko").arg("--version").output().is_ok_and(|o| o.status.success());
    if on_path {
        return Some(PathBuf::from("pyhanko"));
    }
    assert!(
        std::env::var("SOHOA_SKIP_PYHANKO").is_ok_and(|v| v == "1"),
        "pyhanko is not installed: run scripts/install-deps.sh --test (or set SOHOA_SKIP_PYHANKO=1 to skip its checks)"
    );
    eprintln!("Skipping the pyHanko checks (SOHOA_SKIP_PYHANKO=1).");
    None
}

/// `pyhanko sign validate --no-revocation-check --trust ca.pem --trust-replace FILE`:
/// (exit success, output).
fn pyhanko(bin: &Path, ca: &Path, pdf: &Path, extra: &[&str]) -> (bool, String) {
    let out =
        Command::new(bin).args(["sign", "validate", "--no-revocation-check", "--trust"]).arg(ca).arg("--trust-replace").args(extra).arg(pdf).output().unwrap();
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

fn assert_pdfsig_valid(db: &Path, pdf: &Path, signatures: usize) {
    let out = pdfsig(db, pdf);
    assert_eq!(out.matches("Signature Validation: Signature is Valid.").count(), signatures, "pdfsig:\n{out}");
    assert!(out.contains("Certificate Validation: Certificate is Trusted."), "pdfsig:\n{out}");
    assert!(out.contains("Total document signed"), "pdfsig:\n{out}");
}

fn assert_pyhanko_valid(bin: &Path, ca: &Path, pdf: &Path) {
    let (ok, out) = pyhanko(bin, ca, pdf, &["--executive-summary"]);
    assert!(ok && out.contains("VALID") && !out.contains("INVALID"), "pyhanko:\n{out}");
    let (ok, out) = pyhanko(bin, ca, pdf, &[]);
    assert!(ok && out.contains("INTACT:TRUSTED"), "pyhanko:\n{out}");
}

/// Flips one byte in the middle of the signed bytes.
fn tampered(pdf: &Path, dir: &Path) -> PathBuf {
    let mut bytes = std::fs::read(pdf).unwrap();
    let at = bytes.len() / 3;
    bytes[at] ^= 0x01;
    let out = dir.join("tampered.pdf");
    std::fs::write(&out, bytes).unwrap();
    out
}

#[test]
fn scan_signing_b_b_is_valid_for_sohoa_pdfsig_and_pyhanko_and_one_byte_breaks_it() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dev_ca(dir.path());
    let ca = keys.join("ca.pem");
    let data = dir.path().join("data");
    let scan = dir.path().join("page.png");
    std::fs::write(&scan, text_page_png(1)).unwrap();
    let clerk = keys.join("clerk.pem");
    let (_, ids) = process(&[&scan], &data, &["--sign-key", clerk.to_str().unwrap()]);
    assert_eq!(ids.len(), 1);

    // sohoa verify on the stored document: hashes match the catalog, one valid signature.
    let (code, v) = verify(&ids[0], &data, &ca, &[]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!((v["valid"].as_bool(), v["hash_matches_catalog"].as_bool()), (Some(true), Some(true)), "{v:#}");
    let sig = &v["signatures"][0];
    assert_eq!(sig["signer"], "Nguyễn Văn An");
    assert_eq!(sig["organisation"], "Bưu điện tỉnh Bình Định");
    assert_eq!(sig["sub_filter"], "ETSI.CAdES.detached");
    assert!(sig["signed_at"].as_str().unwrap().ends_with("+07'00'"), "{sig}");
    assert!(sig["timestamp"].is_null());

    // The stored bytes are the signed ones: what `get` writes verifies as a file too.
    let pdf = dir.path().join("signed.pdf");
    get(&ids[0], &pdf, &data, &[]);
    let (code, v) = verify(pdf.to_str().unwrap(), &data, &ca, &[]);
    assert_eq!((code, v["document_id"].as_str()), (0, Some(ids[0].as_str())), "{v:#}");
    // Without the root it is not trusted: exit 1.
    let bare = sohoa().args(["verify"]).arg(&pdf).arg("--data").arg(&data).output().unwrap();
    assert_eq!(bare.status.code(), Some(1));
    // An unknown id is bad usage: exit 2.
    assert_eq!(sohoa().args(["verify", "doc_nope"]).arg("--data").arg(&data).status().unwrap().code(), Some(2));

    // Signed as an incremental update of the PDF/A-2b file, it is still PDF/A-2b.
    assert_pdfa(&pdf);
    let db = nss_db(dir.path(), &ca);
    assert_pdfsig_valid(&db, &pdf, 1);
    let pyhanko_bin = pyhanko_bin();
    if let Some(bin) = &pyhanko_bin {
        assert_pyhanko_valid(bin, &ca, &pdf);
    }

    // One byte changed: sohoa verify exits 1, pdfsig and pyHanko say so.
    let bad = tampered(&pdf, dir.path());
    let (code, v) = verify(bad.to_str().unwrap(), &data, &ca, &[]);
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(v["signatures"][0]["digest_ok"], false, "{v:#}");
    let out = pdfsig(&db, &bad);
    assert!(!out.contains("Signature is Valid"), "pdfsig accepted a changed byte:\n{out}");
    if let Some(bin) = &pyhanko_bin {
        let (ok, out) = pyhanko(bin, &ca, &bad, &["--executive-summary"]);
        assert!(!ok && out.contains("INVALID"), "pyhanko accepted a changed byte:\n{out}");
    }
}

/// A loopback RFC 3161 timestamp authority: each POST answered by `openssl ts -reply`.
struct OpensslTsa {
    addr: std::net::SocketAddr,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl OpensslTsa {
    fn start(keys: &Path, dir: &Path) -> OpensslTsa {
        let conf = dir.join("tsa.cnf");
        std::fs::write(dir.join("tsaserial"), "01\n").unwrap();
        std::fs::write(
            &conf,
            format!(
                "[ tsa ]\ndefault_tsa = tsa1\n[ tsa1 ]\nserial = {serial}\ncrypto_device = builtin\nsigner_cert = {tsa}\ncerts = {ca}\nsigner_key = {tsa}\n\
                 signer_digest = sha256\ndefault_policy = 1.3.6.1.4.1.99999.1\ndigests = sha256, sha384, sha512\naccuracy = secs:1\nordering = no\n\
                 tsa_name = no\ness_cert_id_chain = no\ness_cert_id_alg = sha256\n",
                serial = dir.join("tsaserial").display(),
                tsa = keys.join("tsa.pem").display(),
                ca = keys.join("ca.pem").display()
            ),
        )
        .unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (flag, dir) = (stop.clone(), dir.to_path_buf());
        std::thread::spawn(move || {
            let mut n = 0;
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        n += 1;
                        answer(stream, &conf, &dir, n);
                    }
                    Err(_) => std::thread::sleep(std::time::Duration::from_millis(10)),
                }
            }
        });
        OpensslTsa { addr, stop }
    }

    fn url(&self) -> String {
        format!("http://{}/tsr", self.addr)
    }
}

impl Drop for OpensslTsa {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

fn answer(mut stream: std::net::TcpStream, conf: &Path, dir: &Path, n: usize) {
    stream.set_nonblocking(false).unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let body = loop {
        let got = stream.read(&mut chunk).unwrap();
        assert!(got > 0, "the client closed before its request ended");
        buf.extend_from_slice(&chunk[..got]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len: usize = head.lines().find_map(|l| l.strip_prefix("content-length:")).map(|v| v.trim().parse().unwrap()).unwrap();
            if buf.len() >= end + 4 + len {
                break buf[end + 4..end + 4 + len].to_vec();
            }
        }
    };
    let (query, reply) = (dir.join(format!("q{n}.tsq")), dir.join(format!("r{n}.tsr")));
    std::fs::write(&query, body).unwrap();
    let out = Command::new("openssl").args(["ts", "-reply", "-config"]).arg(conf).arg("-queryfile").arg(&query).arg("-out").arg(&reply).output().unwrap();
    assert!(out.status.success(), "openssl ts -reply: {}", String::from_utf8_lossy(&out.stderr));
    let reply = std::fs::read(&reply).unwrap();
    let head = format!("HTTP/1.1 200 OK\r\nContent-Type: application/timestamp-reply\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", reply.len());
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(&reply).unwrap();
}

/// A scratch folder with the dev CA's keys (`keys/`) and a test TSA (its files in `tsa/`).
fn with_tsa() -> (tempfile::TempDir, PathBuf, OpensslTsa) {
    let dir = tempfile::tempdir().unwrap();
    let keys = dev_ca(dir.path());
    let tsa_dir = dir.path().join("tsa");
    std::fs::create_dir_all(&tsa_dir).unwrap();
    let tsa = OpensslTsa::start(&keys, &tsa_dir);
    (dir, keys, tsa)
}

#[test]
fn b_t_with_an_openssl_timestamp_authority_is_valid_for_sohoa_pdfsig_and_pyhanko() {
    let (dir, keys, tsa) = with_tsa();
    let ca = keys.join("ca.pem");
    let data = dir.path().join("data");
    let scan = dir.path().join("page.png");
    std::fs::write(&scan, text_page_png(2)).unwrap();
    let (_, ids) = process(&[&scan], &data, &["--sign-key", keys.join("clerk.pem").to_str().unwrap(), "--tsa", &tsa.url()]);
    let (code, v) = verify(&ids[0], &data, &ca, &[]);
    assert_eq!(code, 0, "{v:#}");
    let ts = &v["signatures"][0]["timestamp"];
    assert_eq!((ts["imprint_ok"].as_bool(), ts["signature_ok"].as_bool(), ts["chain_trusted"].as_bool()), (Some(true), Some(true), Some(true)), "{v:#}");
    assert_eq!(ts["authority"], "sohoa dev TSA");

    let pdf = dir.path().join("signed.pdf");
    get(&ids[0], &pdf, &data, &[]);
    assert_pdfa(&pdf);
    let db = nss_db(dir.path(), &ca);
    assert_pdfsig_valid(&db, &pdf, 1);
    if let Some(bin) = pyhanko_bin() {
        assert_pyhanko_valid(&bin, &ca, &pdf);
        let (_, out) = pyhanko(&bin, &ca, &pdf, &["--pretty-print"]);
        assert!(out.to_lowercase().contains("timestamp"), "pyhanko sees the timestamp:\n{out}");
    }
}

/// Fifty certifications of one document at once: 25 `sohoa certify` processes and 25
/// API calls; the book gets 1..=50, each copy verifies.
fn fifty_certifications(catalog: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let keys = dev_ca(dir.path());
    let ca = keys.join("ca.pem");
    let data = dir.path().join("data");
    let cat: Vec<&str> = catalog.map(|c| vec!["--catalog", c]).unwrap_or_default();
    let (batch, _) = process(&[&repo().join("samples/batch.tif")], &data, &cat);
    let original = batch["batches"][0]["dossiers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"].as_str().is_some_and(|c| c.starts_with(&format!("{AGENCY}-"))))
        .map(|d| d["documents"][0]["id"].as_str().unwrap().to_string())
        .expect("a document of the agency");

    let token_args: Vec<&str> = [&["--agency", AGENCY][..], &cat].concat();
    let (_, certifier) = create_token(&data, "certifier", &token_args);
    let (_, agency_reader) = create_token(&data, "agency", &token_args);
    let (_, admin) = create_token(&data, "admin", &cat);
    let (certifier_key, agency_key) = (keys.join("certifier.pem"), keys.join("agency.pem"));
    let mut serve_args =
        vec!["--no-workers", "--certifier-key", certifier_key.to_str().unwrap(), "--agency-key", agency_key.to_str().unwrap(), "--trust", ca.to_str().unwrap()];
    serve_args.extend(&cat);
    let server = std::sync::Arc::new(Server::start(&data, &serve_args));

    // An agency token may not certify; a certifier may.
    let r = server.request("POST", &format!("/api/v1/documents/{original}/certify"), Some(&agency_reader), &[], b"").unwrap();
    assert_eq!(r.status, 403, "{}", r.text());

    let mut children = Vec::new();
    for _ in 0..25 {
        let child = sohoa()
            .args(["certify", &original, "--json", "--key"])
            .arg(&certifier_key)
            .arg("--agency-key")
            .arg(&agency_key)
            .arg("--data")
            .arg(&data)
            .args(&cat)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        children.push(child);
    }
    let api_calls: Vec<_> = (0..25)
        .map(|_| {
            let (server, token, id) = (server.clone(), certifier.clone(), original.clone());
            std::thread::spawn(move || {
                let r = server.request("POST", &format!("/api/v1/documents/{id}/certify"), Some(&token), &[], b"").unwrap();
                assert_eq!(r.status, 201, "{}", r.text());
                serde_json::from_slice::<Value>(&r.body).unwrap()
            })
        })
        .collect();
    let mut results: Vec<Value> = api_calls.into_iter().map(|t| t.join().unwrap()).collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "sohoa certify: {}", String::from_utf8_lossy(&out.stderr));
        results.push(serde_json::from_slice(&out.stdout).unwrap());
    }
    let year = results[0]["year"].as_i64().unwrap();
    let mut numbers: Vec<i64> = results.iter().map(|r| r["number"].as_i64().unwrap()).collect();
    numbers.sort();
    assert_eq!(numbers, (1..=50).collect::<Vec<_>>(), "50 consecutive numbers, no gap, no repeat");
    for r in &results {
        let keys: Vec<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
        let mut want = vec!["book", "certified_from", "document_id", "number", "year"];
        let mut got = keys.clone();
        got.sort();
        want.sort();
        assert_eq!(got, want, "{r}");
        assert_eq!(r["certified_from"], original.as_str());
        assert_eq!(r["book"], format!("01/{year}-SCT/BS/ĐT"));
        assert_eq!(r["year"], year);
    }

    // One copy, checked by sohoa (CLI and API), pdfsig and pyHanko.
    let copy = results.iter().find(|r| r["number"] == 12).unwrap()["document_id"].as_str().unwrap().to_string();
    let (code, v) = verify(&copy, &data, &ca, &cat);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["signatures"].as_array().unwrap().len(), 2, "certifier, then agency");
    assert_eq!(v["signatures"][0]["signer"], "Trần Thị Bình");
    assert_eq!(v["signatures"][1]["organisation"], "Ủy ban Nhân dân phường Quy Nhơn");
    assert_eq!((v["certification"]["number"].as_i64(), v["certification"]["certified_from"].as_str()), (Some(12), Some(original.as_str())));
    let (status, api) = server.get_json(&format!("/api/v1/documents/{copy}/verify"), Some(&agency_reader));
    assert_eq!((status, api["valid"].as_bool()), (200, Some(true)), "{api:#}");
    assert_eq!(api["certification"]["book"], format!("01/{year}-SCT/BS/ĐT"));

    let pdf = dir.path().join("certified.pdf");
    get(&copy, &pdf, &data, &cat);
    let db = nss_db(dir.path(), &ca);
    assert_pdfsig_valid(&db, &pdf, 2);
    if let Some(bin) = pyhanko_bin() {
        assert_pyhanko_valid(&bin, &ca, &pdf);
    }
    let bad = tampered(&pdf, dir.path());
    assert_eq!(verify(bad.to_str().unwrap(), &data, &ca, &cat).0, 1);
    // The certified copy is still PDF/A-2b: the statement page and both signatures keep
    // the rules.
    assert_pdfa(&pdf);
    // The statement page has a text layer: the certification can be searched and copied.
    let last = parsed_page_count(&pdf);
    let statement = crate::common::pdftotext_mode(&pdf, &["-raw", "-f", &last.to_string()]);
    for line in ["Chứng thực bản sao đúng với bản chính.", &format!("Số chứng thực: 12, quyển số 01/{year}-SCT/BS/ĐT"), "Trần Thị Bình"]
    {
        assert!(statement.contains(line), "{line:?} not in the statement's text:\n{statement}");
    }

    // Every certification is in the audit chain against the original, by whom it was
    // made, naming its copy and number; each check of the copy by id is there too.
    let (status, trail) = server.get_json(&format!("/api/v1/audit?document={original}"), Some(&admin));
    assert_eq!(status, 200, "{trail}");
    let certified: Vec<&Value> = trail["events"].as_array().unwrap().iter().filter(|e| e["action"] == "certify").collect();
    assert_eq!(certified.len(), 50, "{trail:#}");
    assert_eq!(certified.iter().filter(|e| e["role"] == "certifier").count(), 25, "API calls");
    assert_eq!(certified.iter().filter(|e| e["role"] == "cli").count(), 25, "sohoa certify");
    let mut audited: Vec<i64> = certified
        .iter()
        .map(|e| {
            let purpose = e["purpose"].as_str().unwrap();
            let n = purpose.split("Số chứng thực ").nth(1).and_then(|r| r.split(',').next()).unwrap();
            n.parse().unwrap()
        })
        .collect();
    audited.sort();
    assert_eq!(audited, numbers);
    assert!(certified.iter().any(|e| e["purpose"].as_str().unwrap().starts_with(&format!("certified copy {copy}:"))), "{trail:#}");
    let (_, trail) = server.get_json(&format!("/api/v1/audit?document={copy}"), Some(&admin));
    let checks: Vec<(&str, &str)> = trail["events"].as_array().unwrap().iter().map(|e| (e["role"].as_str().unwrap(), e["action"].as_str().unwrap())).collect();
    assert_eq!(checks, [("cli", "verify"), ("agency", "verify")], "{trail:#}");
    let out = sohoa().args(["audit", "verify", "--json"]).arg("--data").arg(&data).args(&cat).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn fifty_parallel_certifications_get_fifty_consecutive_numbers_on_sqlite() {
    fifty_certifications(None);
}

#[test]
fn fifty_parallel_certifications_get_fifty_consecutive_numbers_on_postgres() {
    let Some(url) = sohoa_testkit::postgres::shared_database_or_skip("certify") else { return };
    fifty_certifications(Some(&url));
}

fn parsed_page_count(pdf: &Path) -> usize {
    lopdf::Document::load(pdf).unwrap().get_pages().len()
}

/// A TLS front for a timestamp authority: Python's `http.server` behind `ssl`, passing each
/// POST on to `upstream` (the plain [`OpensslTsa`]), with a server certificate for
/// `localhost` issued by a throwaway root made with `openssl`.
struct HttpsFront {
    child: std::process::Child,
    port: u16,
    root: PathBuf,
}

const HTTPS_FRONT: &str = r#"
import http.server, ssl, sys, urllib.request
cert, key, upstream = sys.argv[1:4]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        req = urllib.request.Request(upstream, data=body, headers={"Content-Type": self.headers["Content-Type"]})
        reply = urllib.request.urlopen(req).read()
        self.send_response(200)
        self.send_header("Content-Type", "application/timestamp-reply")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)
    def log_message(self, *args):
        pass
srv = http.server.HTTPServer(("127.0.0.1", 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print(srv.server_address[1], flush=True)
srv.serve_forever()
"#;

impl HttpsFront {
    fn start(dir: &Path, upstream: &str) -> HttpsFront {
        let openssl = |args: &[&str]| {
            let out = Command::new("openssl").args(args).current_dir(dir).output().unwrap();
            assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        };
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
        openssl(&[&["req", "-x509"][..], &ec, &["-keyout", "tls-root.key", "-out", "tls-root.pem", "-subj", "/CN=sohoa test TLS root", "-days", "2"]].concat());
        openssl(&[&["req"][..], &ec, &["-keyout", "tls.key", "-out", "tls.csr", "-subj", "/CN=localhost"]].concat());
        std::fs::write(dir.join("tls.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n").unwrap();
        openssl(&[
            "x509",
            "-req",
            "-in",
            "tls.csr",
            "-CA",
            "tls-root.pem",
            "-CAkey",
            "tls-root.key",
            "-CAcreateserial",
            "-out",
            "tls.pem",
            "-days",
            "2",
            "-extfile",
            "tls.ext",
        ]);
        let mut child = Command::new("python3")
            .args(["-c", HTTPS_FRONT])
            .arg(dir.join("tls.pem"))
            .arg(dir.join("tls.key"))
            .arg(upstream)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python3 is installed");
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut line).unwrap();
        let port = line.trim().parse().unwrap_or_else(|_| panic!("the HTTPS front did not start: {line:?}"));
        HttpsFront { child, port, root: dir.join("tls-root.pem") }
    }
}

impl Drop for HttpsFront {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn b_t_with_an_https_timestamp_authority_trusted_through_ssl_cert_file() {
    let (dir, keys, tsa) = with_tsa();
    let ca = keys.join("ca.pem");
    let front = HttpsFront::start(&dir.path().join("tsa"), &tsa.url());
    let url = format!("https://localhost:{}/tsr", front.port);
    let data = dir.path().join("data");
    let scan = dir.path().join("page.png");
    std::fs::write(&scan, text_page_png(3)).unwrap();
    let out = sohoa()
        .arg("process")
        .arg(&scan)
        .args(["--json", "--sign-key", keys.join("clerk.pem").to_str().unwrap(), "--tsa", &url, "--data"])
        .arg(&data)
        .env("SSL_CERT_FILE", &front.root)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let batch: Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = batch["batches"][0]["dossiers"][0]["documents"][0]["id"].as_str().unwrap().to_string();
    let (code, v) = verify(&id, &data, &ca, &[]);
    assert_eq!(code, 0, "{v:#}");
    let ts = &v["signatures"][0]["timestamp"];
    assert_eq!((ts["imprint_ok"].as_bool(), ts["chain_trusted"].as_bool()), (Some(true), Some(true)), "{v:#}");
}
