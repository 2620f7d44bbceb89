//! A throw-away S3-compatible server for tests: `moto_server` (Python moto) on a free
//! loopback port, in memory.
//!
//! Like the PostgreSQL helper, the server runs under a `sh` watchdog reading our end of a
//! pipe, so it stops when the [`S3Server`] is dropped or the test process dies. Object
//! store code under test is configured with [`S3Server::env`] (the standard `AWS_*`
//! variables), set on a child process since changing the environment of a running
//! multi-threaded test binary is unsound.

use std::io::{Read as _, Write as _};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

/// A running moto S3 server owned by the test.
pub struct S3Server {
    port: u16,
    watchdog: Option<Child>,
    pipe: Option<ChildStdin>,
}

/// Starts a server, or returns `None` when it cannot start and `SOHOA_SKIP_S3=1` is set.
/// Panics with the reason otherwise.
pub fn start_or_skip() -> Option<S3Server> {
    match S3Server::start() {
        Ok(s) => Some(s),
        Err(e) if std::env::var("SOHOA_SKIP_S3").is_ok_and(|v| v == "1") => {
            eprintln!("Skipping S3 test: {e}");
            None
        }
        Err(e) => panic!("cannot start a test S3 server (set SOHOA_SKIP_S3=1 to skip): {e}"),
    }
}

impl S3Server {
    /// Starts `moto_server` (from `$SOHOA_MOTO_SERVER` or `PATH`); about a second.
    pub fn start() -> Result<S3Server, String> {
        let exe = std::env::var("SOHOA_MOTO_SERVER").unwrap_or_else(|_| "moto_server".into());
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port: {e}"))?
            .port();
        let script = r#"
command -v "$1" >/dev/null 2>&1 || { echo "$1 not found" >&2; exit 127; }
"$1" -H 127.0.0.1 -p "$2" >/dev/null 2>&1 &
pid=$!
read _line
kill "$pid" 2>/dev/null
wait "$pid"
"#;
        let mut child = Command::new("sh")
            .args(["-c", script, "sh", &exe, &port.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run sh: {e}"))?;
        let pipe = child.stdin.take();
        let mut server = S3Server {
            port,
            watchdog: Some(child),
            pipe,
        };
        let start = Instant::now();
        loop {
            if let Some(child) = server.watchdog.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                let mut err = String::new();
                if let Some(mut e) = child.stderr.take() {
                    let _ = e.read_to_string(&mut err);
                }
                return Err(format!("moto_server exited with {status}: {err}"));
            }
            if server.request("GET", "/").is_ok() {
                return Ok(server);
            }
            if start.elapsed() > Duration::from_secs(30) {
                return Err("moto_server did not answer within 30 s".into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `http://127.0.0.1:<port>`
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The `AWS_*` variables that point `object_store` at this server.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint()),
            ("AWS_ACCESS_KEY_ID", "test".into()),
            ("AWS_SECRET_ACCESS_KEY", "test".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_ALLOW_HTTP", "true".into()),
        ]
    }

    /// Creates a bucket (moto accepts unsigned requests).
    pub fn create_bucket(&self, name: &str) -> Result<(), String> {
        match self.request("PUT", &format!("/{name}"))? {
            200..=299 => Ok(()),
            s => Err(format!("creating bucket {name}: HTTP {s}")),
        }
    }

    /// A bare HTTP/1.1 request; returns the status code.
    fn request(&self, method: &str, path: &str) -> Result<u16, String> {
        let mut s =
            TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)).map_err(|e| e.to_string())?;
        s.set_read_timeout(Some(Duration::from_secs(10)))
            .map_err(|e| e.to_string())?;
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.port
        )
        .map_err(|e| e.to_string())?;
        let mut head = [0u8; 12];
        s.read_exact(&mut head).map_err(|e| e.to_string())?;
        std::str::from_utf8(&head[9..12])
            .ok()
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| format!("bad HTTP response {:?}", String::from_utf8_lossy(&head)))
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        if let Some(mut pipe) = self.pipe.take() {
            let _ = pipe.write_all(b"stop\n");
        }
        if let Some(mut child) = self.watchdog.take() {
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(10) {
                match child.try_wait() {
                    Ok(Some(_)) | Err(_) => break,
                    Ok(None) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        }
    }
}
