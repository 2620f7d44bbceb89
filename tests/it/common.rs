//! Helpers shared by the integration tests.

use serde_json::Value;
use sohoa::tools::synth::BatchTruth;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn sohoa() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sohoa"));
    cmd.env("OMP_THREAD_LIMIT", "1");
    for var in
        ["SOHOA_DATA", "SOHOA_STORE", "SOHOA_CATALOG", "SOHOA_CONFIG", "SOHOA_LANG", "SOHOA_TESSDATA", "SOHOA_MODELS", "SOHOA_WORKERS", "SOHOA_CHUNK_PAGES"]
    {
        cmd.env_remove(var);
    }
    cmd
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `sohoa process --json` and returns (exit code, parsed stdout, stderr).
pub fn process(inputs: &[&Path], data: &Path, extra: &[&str]) -> (i32, Value, String) {
    let mut cmd = sohoa();
    cmd.arg("process").args(inputs).arg("--data").arg(data).arg("--json").args(extra);
    let out: Output = cmd.output().expect("sohoa runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let json = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is one JSON object ({e}); stdout={:?} stderr={stderr}", String::from_utf8_lossy(&out.stdout)));
    (out.status.code().unwrap_or(-1), json, stderr)
}

/// `sohoa get` into `out`; returns the exit code.
pub fn get(id: &str, out: &Path, data: &Path) -> i32 {
    sohoa().args(["get", id, "-o"]).arg(out).arg("--data").arg(data).status().expect("sohoa runs").code().unwrap_or(-1)
}

/// Text of a PDF with `pdftotext` in `mode` (`-raw`: content-stream order, which is the
/// reading order sohoa writes; none: poppler's layout mode, which re-derives the layout and
/// reads the two columns of a Decree 30 header row by row).
pub fn pdftotext_mode(pdf: &Path, mode: &[&str]) -> String {
    let out =
        Command::new("pdftotext").args(mode).args(["-enc", "UTF-8"]).arg(pdf).arg("-").output().expect("pdftotext is installed (scripts/install-deps.sh)");
    assert!(out.status.success(), "pdftotext failed on {}", pdf.display());
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// Per dossier: its code and, per document, its type and source pages.
type Dossiers = Vec<(Option<String>, Vec<(Option<String>, Vec<u64>)>)>;

/// Compares a `process --json` batch with the ground truth: every document found with
/// the right dossier, type and pages, no false documents, page kinds right.
pub fn assert_matches_truth(batch: &Value, truth: &BatchTruth) {
    let got: Dossiers = batch["dossiers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let docs = d["documents"]
                .as_array()
                .unwrap()
                .iter()
                .map(|doc| {
                    let pages = doc["source_pages"].as_array().unwrap().iter().map(|p| p.as_u64().unwrap()).collect();
                    (doc["type"].as_str().map(String::from), pages)
                })
                .collect();
            (d["code"].as_str().map(String::from), docs)
        })
        .collect();
    let want: Dossiers = truth
        .dossiers
        .iter()
        .map(|d| {
            let docs = d.documents.iter().map(|doc| (doc.r#type.clone(), doc.source_pages.iter().map(|&p| p as u64).collect())).collect();
            (d.code.clone(), docs)
        })
        .collect();
    assert_eq!(got, want, "dossiers/documents differ from ground truth");
    let pages = batch["pages"].as_array().unwrap();
    assert_eq!(pages.len(), truth.pages.len());
    for (p, t) in pages.iter().zip(&truth.pages) {
        assert_eq!(p["index"].as_u64().unwrap() as usize, t.index);
        assert_eq!(p["kind"].as_str().unwrap(), t.kind, "page {} kind", t.index);
        if t.kind == "separator" {
            assert_eq!(p["barcode"].as_str(), t.barcode.as_deref(), "page {} barcode", t.index);
        }
    }
}

/// Character error rate of the stored PDFs' text (pdftotext) against the ground truth of
/// their pages, over the whole batch.
pub fn batch_cer(batch: &Value, truth: &BatchTruth, data: &Path, scratch: &Path) -> f64 {
    batch_cer_with(batch, truth, data, scratch, &["-raw"])
}

/// As [`batch_cer`], with poppler's default layout mode.
pub fn batch_cer_default(batch: &Value, truth: &BatchTruth, data: &Path, scratch: &Path) -> f64 {
    batch_cer_with(batch, truth, data, scratch, &[])
}

fn batch_cer_with(batch: &Value, truth: &BatchTruth, data: &Path, scratch: &Path, mode: &[&str]) -> f64 {
    let (mut errors, mut chars) = (0.0, 0usize);
    for d in batch["dossiers"].as_array().unwrap() {
        for doc in d["documents"].as_array().unwrap() {
            let pdf = scratch.join(format!("{}.pdf", doc["id"].as_str().unwrap()));
            assert_eq!(get(doc["id"].as_str().unwrap(), &pdf, data), 0);
            let text = pdftotext_mode(&pdf, mode);
            let reference: Vec<&str> =
                doc["source_pages"].as_array().unwrap().iter().filter_map(|p| truth.pages[p.as_u64().unwrap() as usize].text.as_deref()).collect();
            let reference = reference.join("\n");
            let n = reference.chars().filter(|c| !c.is_whitespace()).count();
            let cer = sohoa::tools::synth::cer(&reference, &text);
            errors += cer * n as f64;
            chars += n;
        }
    }
    errors / chars.max(1) as f64
}

/// A running `sohoa serve` on a free port of 127.0.0.1, stopped (SIGKILL) when dropped.
pub struct Server {
    pub addr: std::net::SocketAddr,
    pub child: std::process::Child,
}

impl Server {
    /// Starts `sohoa serve --data DATA --listen 127.0.0.1:PORT EXTRA…` and waits until
    /// `/healthz` answers.
    pub fn start(data: &Path, extra: &[&str]) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let child = sohoa()
            .arg("serve")
            .arg("--data")
            .arg(data)
            .arg("--listen")
            .arg(addr.to_string())
            .args(extra)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .expect("sohoa serve starts");
        let server = Server { addr, child };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            if let Ok(r) = server.get("/healthz", None)
                && r.status == 200
            {
                return server;
            }
            assert!(std::time::Instant::now() < deadline, "sohoa serve did not answer /healthz within 60 s");
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }

    pub fn request(
        &self,
        method: &str,
        target: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> std::io::Result<sohoa_testkit::http::Reply> {
        let auth = token.map(|t| format!("Bearer {t}"));
        let mut all: Vec<(&str, &str)> = headers.to_vec();
        if let Some(a) = &auth {
            all.push(("Authorization", a));
        }
        sohoa_testkit::http::request(self.addr, method, target, &all, body)
    }

    pub fn get(&self, target: &str, token: Option<&str>) -> std::io::Result<sohoa_testkit::http::Reply> {
        self.request("GET", target, token, &[], b"")
    }

    /// GET that must answer; returns the status and the body as JSON (Null if not JSON).
    pub fn get_json(&self, target: &str, token: Option<&str>) -> (u16, Value) {
        let r = self.get(target, token).unwrap_or_else(|e| panic!("GET {target}: {e}"));
        (r.status, serde_json::from_slice(&r.body).unwrap_or(Value::Null))
    }

    /// Uploads files as multipart `file` fields.
    pub fn upload(&self, token: Option<&str>, files: &[(&str, &[u8])]) -> (u16, Value) {
        let parts: Vec<(&str, &str, &[u8])> = files.iter().map(|(name, bytes)| ("file", *name, *bytes)).collect();
        let (content_type, body) = sohoa_testkit::http::multipart(&parts);
        let r = self.request("POST", "/api/v1/batches", token, &[("Content-Type", &content_type)], &body).expect("upload answered");
        (r.status, serde_json::from_slice(&r.body).unwrap_or(Value::Null))
    }

    /// Stops the server at once (SIGKILL), as a crash or power cut would.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `sohoa token create --role ROLE EXTRA… --json` on `data`: (id, secret).
pub fn create_token(data: &Path, role: &str, extra: &[&str]) -> (String, String) {
    let out = sohoa().args(["token", "create", "--role", role, "--json"]).args(extra).arg("--data").arg(data).output().unwrap();
    assert!(out.status.success(), "token create failed: {}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["role"], role);
    (v["id"].as_str().unwrap().to_string(), v["token"].as_str().unwrap().to_string())
}

/// The PDF/A-2b rules hold for `pdf` (sohoa's structural check) and `qpdf --check` passes:
/// for every kind of document sohoa writes (scans, signed scans, certified copies, receipts).
pub fn assert_pdfa(pdf: &Path) {
    let parsed = lopdf::Document::load(pdf).unwrap_or_else(|e| panic!("{}: {e}", pdf.display()));
    let issues = sohoa::stages::pdf::check_pdfa(&parsed);
    assert!(issues.is_empty(), "{}: {issues:?}", pdf.display());
    crate::archive::qpdf_check(pdf);
}
