//! A throw-away Garage (S3-compatible object store) for tests: a single-node cluster in a
//! temporary directory on loopback ports, with one bucket and one access key, stopped
//! and deleted on drop.
//!
//! Invariants: the server never outlives the test process. It runs under a small `sh`
//! watchdog that reads our end of a pipe; when the pipe closes (the handle is dropped or
//! stopped, or the test process dies for any reason) the watchdog kills the server.
//! [`GarageServer::stop`] and [`GarageServer::restart`] keep the data, so a test can take
//! the store away for a while (an S3 outage) and bring it back. The binary is looked up in
//! `$SOHOA_GARAGE_BIN`, then `$SOHOA_CACHE/bin` (`~/.cache/sohoa/bin`, where
//! `scripts/install-deps.sh` puts it), then `$PATH`.
//!
//! Used by integration tests; not part of the product.

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

pub const BUCKET: &str = "sohoa-test";
pub const REGION: &str = "garage";
/// Fixed credentials imported into the test cluster (Garage's key formats).
pub const ACCESS_KEY: &str = "GK5c0a1e57000000000000beef";
pub const SECRET_KEY: &str = "5ec7e7000000000000000000000000000000000000000000000000005e17e700";

pub struct GarageServer {
    dir: PathBuf,
    bin: PathBuf,
    s3_port: u16,
    watchdog: Option<Child>,
    pipe: Option<ChildStdin>,
}

/// True when tests may skip Garage (`SOHOA_SKIP_GARAGE=1`); otherwise a missing Garage is a
/// test failure.
pub fn skip_requested() -> bool {
    std::env::var("SOHOA_SKIP_GARAGE").is_ok_and(|v| v == "1")
}

/// Starts a server, or `None` when it cannot start and the user asked to skip Garage tests.
pub fn start_or_skip() -> Option<GarageServer> {
    match GarageServer::start() {
        Ok(s) => Some(s),
        Err(e) if skip_requested() => {
            eprintln!("Skipping Garage test: {e}");
            None
        }
        Err(e) => panic!("cannot start a test Garage (set SOHOA_SKIP_GARAGE=1 to skip): {e}"),
    }
}

pub fn find_bin() -> Result<PathBuf, String> {
    if let Ok(p) = std::env::var("SOHOA_GARAGE_BIN") {
        return Ok(PathBuf::from(p));
    }
    let cache = std::env::var_os("SOHOA_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/sohoa")));
    if let Some(bin) = cache.map(|c| c.join("bin/garage")).filter(|b| b.is_file()) {
        return Ok(bin);
    }
    std::env::var_os("PATH")
        .and_then(|p| std::env::split_paths(&p).map(|d| d.join("garage")).find(|b| b.is_file()))
        .ok_or_else(|| "no garage binary: run scripts/install-deps.sh (cargo install garage)".into())
}

fn free_port() -> Result<u16, String> {
    let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| format!("no free port: {e}"))?;
    Ok(l.local_addr().map_err(|e| e.to_string())?.port())
}

impl GarageServer {
    /// Configures and starts a fresh single-node cluster with [`BUCKET`] and the test key.
    pub fn start() -> Result<GarageServer, String> {
        let bin = find_bin()?;
        let dir = std::env::temp_dir().join(format!(
            "sohoa-garage-{}-{}",
            std::process::id(),
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0)
        ));
        std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let (rpc, s3, admin) = (free_port()?, free_port()?, free_port()?);
        let config = format!(
            r#"metadata_dir = "{d}/meta"
data_dir = "{d}/data"
db_engine = "sqlite"
replication_factor = 1
rpc_bind_addr = "127.0.0.1:{rpc}"
rpc_public_addr = "127.0.0.1:{rpc}"
rpc_secret = "{secret}"

[s3_api]
s3_region = "{REGION}"
api_bind_addr = "127.0.0.1:{s3}"
root_domain = ".s3.garage.localhost"

[admin]
api_bind_addr = "127.0.0.1:{admin}"
admin_token = "sohoa-test-admin"
"#,
            d = dir.display(),
            secret = blake3::hash(dir.to_string_lossy().as_bytes()).to_hex(),
        );
        std::fs::write(dir.join("garage.toml"), config).map_err(|e| e.to_string())?;
        let mut server = GarageServer { dir, bin, s3_port: s3, watchdog: None, pipe: None };
        server.launch()?;
        server.setup()?;
        Ok(server)
    }

    fn garage(&self) -> Command {
        let mut c = Command::new(&self.bin);
        c.arg("-c").arg(self.dir.join("garage.toml")).env("RUST_LOG", "warn");
        c
    }

    fn run(&self, args: &[&str]) -> Result<String, String> {
        let out = self.garage().args(args).output().map_err(|e| format!("garage {args:?}: {e}"))?;
        if !out.status.success() {
            return Err(format!("garage {args:?} failed: {}", String::from_utf8_lossy(&out.stderr)));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    fn launch(&mut self) -> Result<(), String> {
        // The watchdog: start the server, wait until stdin closes, kill the server.
        let script = r#""$1" -c "$2/garage.toml" server >>"$2/server.log" 2>&1 &
pid=$!
read _line
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
"#;
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg("sh")
            .arg(&self.bin)
            .arg(&self.dir)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start garage: {e}"))?;
        self.pipe = child.stdin.take();
        self.watchdog = Some(child);
        let start = Instant::now();
        while TcpStream::connect((Ipv4Addr::LOCALHOST, self.s3_port)).is_err() {
            if start.elapsed() > Duration::from_secs(30) {
                let log = std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default();
                return Err(format!("garage did not listen on {} within 30 s: {log}", self.s3_port));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }

    /// Layout, key and bucket of a fresh cluster.
    fn setup(&self) -> Result<(), String> {
        let start = Instant::now();
        let node = loop {
            match self.run(&["node", "id", "-q"]) {
                Ok(out) => break out.trim().split('@').next().unwrap_or_default().to_string(),
                Err(e) if start.elapsed() > Duration::from_secs(30) => return Err(e),
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        };
        self.run(&["layout", "assign", "-z", "dc1", "-c", "1G", &node])?;
        self.run(&["layout", "apply", "--version", "1"])?;
        self.run(&["key", "import", "--yes", "-n", "sohoa-test", ACCESS_KEY, SECRET_KEY])?;
        self.run(&["bucket", "create", BUCKET])?;
        self.run(&["bucket", "allow", "--read", "--write", "--owner", BUCKET, "--key", ACCESS_KEY])?;
        Ok(())
    }

    /// Stops the server (an outage); the data stays for [`restart`](Self::restart).
    pub fn stop(&mut self) {
        self.pipe.take();
        if let Some(mut w) = self.watchdog.take() {
            let _ = w.wait();
        }
    }

    /// Starts the stopped server again on the same ports and data.
    pub fn restart(&mut self) -> Result<(), String> {
        self.stop();
        self.launch()
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.s3_port)
    }

    /// The environment a sohoa process needs to use this server.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint()),
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY.into()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY.into()),
            ("AWS_REGION", REGION.into()),
            ("AWS_ALLOW_HTTP", "true".into()),
        ]
    }

    /// `s3://sohoa-test/<prefix>`.
    pub fn store_url(&self, prefix: &str) -> String {
        format!("s3://{BUCKET}/{prefix}")
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for GarageServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
