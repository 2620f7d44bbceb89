//! Hot folders (`sohoa serve --watch DIR=POST_OFFICE`): files copied in slowly are taken
//! only once complete, a server killed in the middle and started again loses nothing and
//! ingests nothing twice, and a file that is not a scan goes to `failed/` with its reason.

use crate::api::small_png;
use crate::common::{Server, sohoa};
use serde_json::Value;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

/// Writes `bytes` to `path` in four pieces, `pause` apart (a scanner or a copy over a
/// slow share).
fn write_slowly(path: &Path, bytes: &[u8], pause: Duration) {
    let mut f = std::fs::File::create(path).unwrap();
    for piece in bytes.chunks(bytes.len().div_ceil(4)) {
        f.write_all(piece).unwrap();
        f.flush().unwrap();
        std::thread::sleep(pause);
    }
}

fn report(done: &Path, name: &str) -> Value {
    let path = done.join(format!("{name}.json"));
    serde_json::from_slice(&std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).unwrap()
}

fn wait_for(what: &str, timeout: Duration, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn status(data: &Path, batch: Option<&str>) -> Value {
    let out = sohoa().arg("status").args(batch).arg("--json").arg("--data").arg(data).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn hot_folder_ingests_each_file_once_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let inbox = dir.path().join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    let (done, failed) = (inbox.join("done"), inbox.join("failed"));
    let watch = format!("{}=700000", inbox.display());
    let args = ["--no-workers", "--watch", &watch, "--watch-poll", "0.5"];
    let pause = Duration::from_millis(150);
    let pngs: Vec<Vec<u8>> = (1..=6).map(small_png).collect();

    // A scan ingested before (by the command line), to be dropped in later.
    let earlier = dir.path().join("earlier.png");
    std::fs::write(&earlier, &pngs[5]).unwrap();
    let out = sohoa().args(["ingest", "--json"]).arg(&earlier).arg("--data").arg(&data).output().unwrap();
    assert!(out.status.success());
    let earlier_id = serde_json::from_slice::<Value>(&out.stdout).unwrap()["batches"][0]["batch_id"].as_str().unwrap().to_string();

    let server = Server::start(&data, &args);
    write_slowly(&inbox.join("p1.png"), &pngs[0], pause);
    write_slowly(&inbox.join("p2.png"), &pngs[1], pause);
    wait_for("p1 and p2 in done/", Duration::from_secs(30), || done.join("p1.png").exists() && done.join("p2.png").exists());
    // p3 is half written when the server dies.
    let p3 = inbox.join("p3.png");
    let writer = {
        let (p3, bytes) = (p3.clone(), pngs[2].clone());
        std::thread::spawn(move || write_slowly(&p3, &bytes, Duration::from_millis(300)))
    };
    std::thread::sleep(Duration::from_millis(400));
    server.kill();
    writer.join().unwrap();
    write_slowly(&inbox.join("p4.png"), &pngs[3], pause);

    // Started again: the rescan takes what was left, and what comes next.
    let server = Server::start(&data, &args);
    write_slowly(&inbox.join("p5.png"), &pngs[4], pause);
    std::fs::copy(&earlier, inbox.join("again.png")).unwrap();
    std::fs::write(inbox.join("notes.txt"), b"not a scan").unwrap();
    std::fs::write(inbox.join(".hidden.png"), &pngs[0]).unwrap();
    wait_for("the inbox to empty", Duration::from_secs(30), || {
        std::fs::read_dir(&inbox).unwrap().filter_map(|e| e.ok()).filter(|e| e.path().is_file()).all(|e| e.file_name() == ".hidden.png")
    });

    // Every file moved intact, with its report; one batch each, tagged with the post office.
    let mut ids = Vec::new();
    for (i, name) in ["p1.png", "p2.png", "p3.png", "p4.png", "p5.png"].iter().enumerate() {
        assert_eq!(std::fs::read(done.join(name)).unwrap(), pngs[i], "{name} moved whole");
        let r = report(&done, name);
        assert_eq!(r["duplicate"], false, "{name}: {r}");
        assert_eq!(r["post_office"], "700000");
        let id = r["batch_id"].as_str().unwrap().to_string();
        assert_eq!(status(&data, Some(&id))["post_office"], "700000");
        ids.push(id);
    }
    let distinct: std::collections::HashSet<&String> = ids.iter().collect();
    assert_eq!(distinct.len(), 5, "{ids:?}");
    let again = report(&done, "again.png");
    assert_eq!((again["batch_id"].as_str(), again["duplicate"].as_bool()), (Some(earlier_id.as_str()), Some(true)));
    let bad = report(&failed, "notes.txt");
    assert_eq!(bad["error"]["code"], "input-unsupported", "{bad}");
    assert!(failed.join("notes.txt").exists());
    assert!(inbox.join(".hidden.png").exists(), "hidden files are left alone");
    // Five new batches and the earlier one: nothing ingested twice, no partial copy ingested.
    assert_eq!(status(&data, None)["queued"], 6);

    // The same name dropped again with new content: kept apart in done/.
    write_slowly(&inbox.join("p1.png"), &small_png(9), pause);
    wait_for("the second p1", Duration::from_secs(30), || done.join("p1-2.png.json").exists() && done.join("p1-2.png").exists());
    assert_eq!(std::fs::read(done.join("p1.png")).unwrap(), pngs[0]);
    assert_eq!(report(&done, "p1-2.png")["duplicate"], false);
    drop(server);
}
