//! The web UI in a real headless Chromium (Debian's `chromium` and `chromium-driver`,
//! installed by `scripts/install-deps.sh --test`; nothing is downloaded at run time),
//! driven over WebDriver: a clerk signs in, uploads the sample batch, watches it finish and
//! opens a thumbnail; an agency signs in, searches, and downloads a PDF whose BLAKE3 is the
//! one the catalog recorded.

use crate::common::{Server, create_token, repo};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// The WebDriver element key (W3C).
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

struct Browser {
    addr: SocketAddr,
    driver: std::process::Child,
    session: String,
}

impl Browser {
    fn start() -> Browser {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let driver = std::process::Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("chromedriver runs (Debian's chromium-driver; scripts/install-deps.sh --test installs it)");
        let deadline = Instant::now() + Duration::from_secs(30);
        while sohoa_testkit::http::request(addr, "GET", "/status", &[], b"").map(|r| r.status != 200).unwrap_or(true) {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        let mut b = Browser { addr, driver, session: String::new() };
        let caps = json!({"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1024"]}}}});
        let v = b.raw("POST", "/session", &caps);
        b.session = v["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {v}")).to_string();
        b
    }

    fn raw(&self, method: &str, path: &str, body: &Value) -> Value {
        let bytes = if method == "GET" || method == "DELETE" { Vec::new() } else { serde_json::to_vec(body).unwrap() };
        let r = sohoa_testkit::http::request(self.addr, method, path, &[("Content-Type", "application/json")], &bytes).expect("chromedriver answers");
        let v: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
        assert!(r.status < 300, "WebDriver {method} {path}: {} {v}", r.status);
        v
    }

    fn cmd(&self, method: &str, path: &str, body: Value) -> Value {
        self.raw(method, &format!("/session/{}{path}", self.session), &body)["value"].clone()
    }

    fn goto(&self, url: &str) {
        self.cmd("POST", "/url", json!({ "url": url }));
    }

    fn find(&self, css: &str) -> String {
        let v = self.cmd("POST", "/element", json!({"using": "css selector", "value": css}));
        v[ELEMENT].as_str().unwrap_or_else(|| panic!("no element {css}: {v}")).to_string()
    }

    fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css);
        self.cmd("POST", &format!("/element/{e}/value"), json!({ "text": text }));
    }

    fn click(&self, css: &str) {
        let e = self.find(css);
        self.cmd("POST", &format!("/element/{e}/click"), json!({}));
    }

    fn js(&self, script: &str) -> Value {
        self.cmd("POST", "/execute/sync", json!({"script": script, "args": []}))
    }

    /// Waits until `script` (a JS expression) is truthy.
    fn wait(&self, what: &str, script: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let v = self.js(&format!("return !!({script});"));
            if v == json!(true) {
                return;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}; page: {}", self.js("return document.body.innerText;"));
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    fn sign_in(&self, base: &str, token: &str) {
        self.cmd("DELETE", "/cookie", json!({}));
        self.goto(&format!("{base}/ui/login"));
        self.type_into("#token", token);
        self.click("#login");
        self.wait("the signed-in page", "document.getElementById('logout')", Duration::from_secs(10));
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = sohoa_testkit::http::request(self.addr, "DELETE", &format!("/session/{}", self.session), &[], b"");
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

#[test]
fn a_clerk_uploads_and_an_agency_downloads_in_a_real_browser() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (_, clerk) = create_token(&data, "clerk", &["--post-office", "700000"]);
    let (_, agency) = create_token(&data, "agency", &["--agency", "000.01.05.G54"]);
    let server = Server::start(&data, &["--workers", "2"]);
    let base = format!("http://{}", server.addr);
    let browser = Browser::start();

    // A wrong token is refused on the login page.
    browser.goto(&format!("{base}/ui"));
    browser.wait("the login page", "document.getElementById('token')", Duration::from_secs(10));
    browser.type_into("#token", "sohoa_wrong");
    browser.click("#login");
    browser.wait("the refusal", "document.getElementById('login-error')", Duration::from_secs(10));

    // The clerk: upload, watch it finish, open a thumbnail.
    browser.sign_in(&base, &clerk);
    browser.type_into("#file", repo().join("samples/batch.tif").to_str().unwrap());
    browser.click("#upload");
    browser.wait("the upload to be accepted", "document.getElementById('upload-result').dataset.batches", Duration::from_secs(30));
    let batch = browser.js("return document.getElementById('upload-result').dataset.batches;").as_str().unwrap().to_string();
    browser.wait("the batch to show as done", &format!("document.querySelector('tr[data-batch=\"{batch}\"][data-state=\"done\"]')"), Duration::from_secs(300));
    browser.click(&format!("tr[data-batch=\"{batch}\"] a.batch-link"));
    browser.wait("the batch page", "document.querySelector('figure.page img.thumb')", Duration::from_secs(10));
    assert_eq!(browser.js("return document.getElementById('batch-state').dataset.state;"), json!("done"));
    let text = browser.js("return document.body.innerText;").as_str().unwrap().to_string();
    for words in ["Tờ phân cách", "Nội dung", "Độ nghiêng", "Mã vạch", "000.01.05.G54-"] {
        assert!(text.contains(words), "{words:?} not on the batch page:\n{text}");
    }
    browser.wait(
        "the first thumbnail to load",
        "(() => { const i = document.querySelector('figure.page img.thumb'); return i.complete && i.naturalWidth > 20; })()",
        Duration::from_secs(60),
    );
    let href = browser.js("return document.querySelector('a.thumb-link').href;").as_str().unwrap().to_string();
    browser.goto(&href);
    assert_eq!(browser.js("return document.contentType;"), json!("image/png"));

    // The agency: search, preview, download; the bytes are the recorded ones.
    browser.sign_in(&base, &agency);
    browser.type_into("#q", "viet nam");
    browser.click("#search");
    browser.wait("hits", "document.querySelector('tr.hit a.download')", Duration::from_secs(10));
    let dossiers = browser.js("return Array.from(document.querySelectorAll('tr.hit strong')).map(e => e.textContent);");
    assert!(dossiers.as_array().unwrap().iter().all(|d| d.as_str().unwrap().starts_with("000.01.05.G54-")), "another agency's hit: {dossiers}");
    let want = browser.js("return document.querySelector('tr.hit').dataset.blake3;").as_str().unwrap().to_string();
    let bytes = browser.cmd(
        "POST",
        "/execute/async",
        json!({"script": "const done = arguments[arguments.length - 1]; fetch(document.querySelector('tr.hit a.download').href).then(r => r.arrayBuffer()).then(b => done(Array.from(new Uint8Array(b)))).catch(e => done(String(e)));", "args": []}),
    );
    let bytes: Vec<u8> = bytes.as_array().unwrap_or_else(|| panic!("download failed: {bytes}")).iter().map(|b| b.as_u64().unwrap() as u8).collect();
    assert!(bytes.starts_with(b"%PDF-"));
    assert_eq!(blake3::hash(&bytes).to_hex().as_str(), want);
    // The agency has no batch list and no upload form.
    assert_eq!(browser.js("return document.getElementById('upload-form') === null && document.getElementById('batches') === null;"), json!(true));
}
