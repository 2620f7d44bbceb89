//! A throw-away PostgreSQL server for tests: `initdb` into a temporary directory, start on
//! a free loopback port (unix socket in the same directory), create databases, and stop
//! and delete everything on drop.
//!
//! Invariants: the server never outlives the test process. It runs under a small `sh`
//! watchdog that reads our end of a pipe; when the `PgServer` is dropped, or the test
//! process dies for any reason (panic, SIGKILL), the pipe closes, the watchdog stops the
//! server and removes its directory. PostgreSQL refuses to run as root, so when we are
//! root everything runs as the `postgres` user (`runuser`, or `su` as a fallback) in a
//! directory owned by that user. Binaries are looked up in `$SOHOA_PG_BIN`, then
//! `/usr/lib/postgresql/<newest>/bin`, then `$PATH`.
//!
//! Used by the catalog tests and by integration tests; not part of the product.

use std::io::Write as _;
use std::net::{Ipv4Addr, TcpListener};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

static SEQ: AtomicUsize = AtomicUsize::new(0);

/// A running PostgreSQL server owned by the test.
pub struct PgServer {
    dir: PathBuf,
    port: u16,
    bin: PathBuf,
    watchdog: Option<Child>,
    pipe: Option<ChildStdin>,
}

/// True when tests may skip PostgreSQL (`SOHOA_SKIP_POSTGRES=1`); otherwise a missing
/// PostgreSQL is a test failure.
pub fn skip_requested() -> bool {
    std::env::var("SOHOA_SKIP_POSTGRES").is_ok_and(|v| v == "1")
}

/// Starts a server, or returns `None` when it cannot start and the user asked to skip
/// PostgreSQL tests. Panics with the reason otherwise.
pub fn start_or_skip() -> Option<PgServer> {
    match PgServer::start() {
        Ok(s) => Some(s),
        Err(e) => skip_or_panic(e),
    }
}

/// A fresh, empty database on the server shared by all tests of this process (started on
/// first use, stopped and deleted when the process exits), or `None` when PostgreSQL cannot
/// start and the user asked to skip. Panics with the reason otherwise. Much cheaper than a
/// server per test; use [`start_or_skip`] when a test needs a server of its own (to stop
/// it, say).
pub fn shared_database_or_skip(prefix: &str) -> Option<String> {
    static SHARED: OnceLock<Result<PgServer, String>> = OnceLock::new();
    let server = match SHARED.get_or_init(PgServer::start) {
        Ok(s) => s,
        Err(e) => return skip_or_panic(e.clone()),
    };
    let name = format!("{prefix}_{}", SEQ.fetch_add(1, Ordering::Relaxed));
    match server.create_database(&name) {
        Ok(url) => Some(url),
        Err(e) => panic!("cannot create test database {name}: {e}"),
    }
}

fn skip_or_panic<T>(e: String) -> Option<T> {
    if skip_requested() {
        eprintln!("Skipping PostgreSQL test: {e}");
        return None;
    }
    panic!("cannot start a test PostgreSQL (set SOHOA_SKIP_POSTGRES=1 to skip): {e}")
}

fn find_bin_dir() -> Result<PathBuf, String> {
    if let Ok(dir) = std::env::var("SOHOA_PG_BIN") {
        return Ok(PathBuf::from(dir));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("postgres").is_file().then_some((v, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Ok(bin);
    }
    std::env::var_os("PATH")
        .and_then(|p| std::env::split_paths(&p).find(|d| d.join("initdb").is_file()))
        .ok_or_else(|| {
            "no PostgreSQL binaries (initdb, postgres) found in /usr/lib/postgresql/*/bin or PATH"
                .to_string()
        })
}

fn free_port() -> Result<u16, String> {
    let l =
        TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| format!("no free port: {e}"))?;
    Ok(l.local_addr().map_err(|e| e.to_string())?.port())
}

/// Runs a shell script as the server user: ourselves, or `postgres` when we are root.
fn as_server_user(as_root: bool, script: &str, args: &[&str]) -> Command {
    if !as_root {
        let mut c = Command::new("sh");
        c.arg("-c").arg(script).arg("sh").args(args);
        return c;
    }
    if Path::new("/usr/sbin/runuser").exists() || Path::new("/sbin/runuser").exists() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--", "sh", "-c", script, "sh"])
            .args(args);
        c
    } else {
        // su joins the arguments into one command line: quote them.
        let quoted: Vec<String> = args
            .iter()
            .map(|a| format!("'{}'", a.replace('\'', "'\\''")))
            .collect();
        let mut c = Command::new("su");
        c.args(["postgres", "-s", "/bin/sh", "-c"])
            .arg(format!("set -- {}; {script}", quoted.join(" ")));
        c
    }
}

impl PgServer {
    /// Initialises and starts a fresh server; takes about a second.
    pub fn start() -> Result<PgServer, String> {
        let bin = find_bin_dir()?;
        let dir = std::env::temp_dir().join(format!(
            "sohoa-pg-{}-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0)
        ));
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let as_root = std::fs::metadata(&dir)
            .map(|m| m.uid() == 0)
            .unwrap_or(false);
        let cleanup = |msg: String| {
            let _ = std::fs::remove_dir_all(&dir);
            msg
        };
        if as_root {
            let ok = Command::new("chown")
                .args(["postgres:", dir.to_str().unwrap_or_default()])
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
            if !ok {
                return Err(cleanup(
                    "running as root and cannot chown the test directory to user postgres".into(),
                ));
            }
        }
        let dir_s = dir
            .to_str()
            .ok_or_else(|| "non-UTF-8 temp dir".to_string())?
            .to_string();
        let bin_s = bin
            .to_str()
            .ok_or_else(|| "non-UTF-8 bin dir".to_string())?
            .to_string();

        let port = free_port().map_err(&cleanup)?;
        // The watchdog: initdb, start the server, wait until stdin closes, stop the server
        // and delete the directory. Everything after `read` also runs when the test
        // process dies, since its end of the pipe closes then.
        // pg_ctl runs postgres detached from this shell, so the server does not inherit
        // the SIGINT/SIGQUIT "ignored" disposition of a `&` job and stops on request.
        let script = r#"
"$2/initdb" -D "$1/data" -A trust -U postgres -E UTF8 --locale=C --no-sync >"$1/initdb.log" 2>&1 || {
  cat "$1/initdb.log" >&2; rm -rf "$1"; exit 1; }
"$2/pg_ctl" -D "$1/data" -l "$1/server.log" -s -w -t 30 \
  -o "-p $3 -k $1 -c listen_addresses=127.0.0.1 -F -c full_page_writes=off -c synchronous_commit=off -c max_connections=200" \
  start >/dev/null 2>&1 || { cat "$1/server.log" >&2; rm -rf "$1"; exit 1; }
read _line
"$2/pg_ctl" -D "$1/data" -s -m immediate -w stop >/dev/null 2>&1
rm -rf "$1"
"#;
        let port_s = port.to_string();
        let mut child = as_server_user(as_root, script, &[&dir_s, &bin_s, &port_s])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| cleanup(format!("cannot start postgres: {e}")))?;
        let pipe = child.stdin.take();
        let mut server = PgServer {
            dir,
            port,
            bin,
            watchdog: Some(child),
            pipe,
        };
        server.wait_ready(Duration::from_secs(30))?;
        Ok(server)
    }

    fn wait_ready(&mut self, timeout: Duration) -> Result<(), String> {
        let start = Instant::now();
        loop {
            if let Some(child) = self.watchdog.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    let mut err = String::new();
                    if let Some(mut e) = child.stderr.take() {
                        let _ = std::io::Read::read_to_string(&mut e, &mut err);
                    }
                    return Err(format!("postgres setup exited with {status}: {err}"));
                }
            }
            let ok = Command::new(self.bin.join("pg_isready"))
                .args([
                    "-q",
                    "-h",
                    "127.0.0.1",
                    "-p",
                    &self.port.to_string(),
                    "-U",
                    "postgres",
                ])
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
            if ok {
                return Ok(());
            }
            if start.elapsed() > timeout {
                let log = std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default();
                return Err(format!(
                    "postgres did not become ready in {timeout:?}: {log}"
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// TCP port the server listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// URL of database `name` (which may not exist yet).
    pub fn url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// Creates database `name` and returns its URL.
    pub fn create_database(&self, name: &str) -> Result<String, String> {
        let out = Command::new(self.bin.join("createdb"))
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                name,
            ])
            .output()
            .map_err(|e| format!("cannot run createdb: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "createdb {name} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(self.url(name))
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        // Closing the pipe tells the watchdog to stop the server and delete the directory.
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
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_creates_databases_and_cleans_up() {
        let Some(server) = start_or_skip() else {
            return;
        };
        let url = server.create_database("probe").unwrap();
        assert!(url.ends_with("/probe"), "{url}");
        let dir = server.dir.clone();
        assert!(dir.join("data").is_dir());
        drop(server);
        assert!(!dir.exists(), "server directory left behind");
    }

    #[test]
    fn shared_server_hands_out_distinct_databases() {
        let Some(a) = shared_database_or_skip("probe") else {
            return;
        };
        let b = shared_database_or_skip("probe").unwrap();
        assert_ne!(a, b);
    }
}
