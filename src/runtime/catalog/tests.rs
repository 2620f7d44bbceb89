//! Catalog tests against real databases: a SQLite file in a temp dir, and a PostgreSQL
//! server started by the test. Each scenario is one async fn run on both backends; it gets
//! two handles with separate pools on the same database (two "processes").

use std::collections::HashSet;
use std::time::Duration;

use super::*;
use crate::model::{BatchReport, DocumentReport, DossierReport, PageKind, PageReport};
use sohoa_testkit::postgres;

const STALE: Duration = Duration::from_secs(30);

fn hex64(seed: usize, tag: u8) -> String {
    blake3::hash(&[&seed.to_le_bytes()[..], &[tag]].concat()).to_hex().to_string()
}

fn new_batch(n: usize) -> NewBatch {
    let h = hex64(n, 0);
    NewBatch {
        id: format!("batch-{n:03}"),
        source: format!("scan-{n}.tif"),
        original_key: crate::runtime::store::Store::original_key(&h, "tif").into_string(),
        original_blake3: h,
        original_bytes: 1_000_000 + n as u64,
        manifest_json: format!("{{\"n\":{n}}}"),
        page_count: 0,
        chunk_pages: 0,
        post_office: None,
    }
}

fn document(batch: usize, n: usize, pages: Vec<usize>) -> DocumentReport {
    let h = hex64(batch * 1000 + n, 1);
    DocumentReport {
        id: format!("doc-{batch}-{n}").into(),
        doc_type: if n.is_multiple_of(2) { Some("QĐ".into()) } else { None },
        page_count: pages.len(),
        source_pages: pages,
        sha256: hex64(batch * 1000 + n, 2),
        bytes: 10_000 + n as u64,
        object_key: crate::runtime::store::Store::document_key(&h),
        blake3: h.into(),
        fields: Default::default(),
        ocr_text: format!("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nVăn bản số {n}"),
    }
}

/// A report with every kind of value: page kinds, absent and present options, warnings,
/// a dossier without documents, and more than ten dossiers (ordering beyond one digit).
fn full_report(batch: usize) -> BatchReport {
    let b = new_batch(batch);
    let mut pages = Vec::new();
    let mut dossiers = Vec::new();
    let mut page = 0usize;
    for d in 0..12 {
        pages.push(PageReport {
            index: page,
            kind: PageKind::Separator,
            barcode: Some(format!("000.00.15.H40-250301-{d:04}")),
            skew_deg: 0.0,
            rotation: 0,
            ocr_confidence: None,
            warnings: vec![],
        });
        page += 1;
        let mut docs = Vec::new();
        let ndocs = if d == 3 { 0 } else { 1 + d % 3 };
        for k in 0..ndocs {
            let first = page;
            for p in 0..2 {
                pages.push(PageReport {
                    index: page,
                    kind: if p == 1 && k == 0 { PageKind::Blank } else { PageKind::Content },
                    barcode: None,
                    skew_deg: -1.25 + 0.1 * page as f32,
                    rotation: [0, 90, 180, 270][page % 4],
                    ocr_confidence: if p == 1 && k == 0 { None } else { Some(87.5 + page as f32 / 3.0) },
                    warnings: if page.is_multiple_of(5) { vec![format!("ocr-timeout on page {page}")] } else { vec![] },
                });
                page += 1;
            }
            docs.push(document(batch, d * 10 + k, (first..page).collect()));
        }
        dossiers.push(DossierReport {
            code: match d {
                5 => None,
                7 => Some("not-a-code".into()),
                _ => Some(format!("000.00.15.H40-250301-{d:04}")),
            },
            documents: docs,
            needs_review: d == 5,
            // Issue #24: the completeness outcome and the cover's citizen round-trip too.
            procedure: (d % 3 == 0).then(|| "1.001193".to_string()),
            citizen_id: (d == 3).then(|| "079190000123".to_string()),
            complete: match d % 3 {
                0 => Some(d != 3),
                _ => None,
            },
            missing: if d == 3 { vec!["TK".into(), "CCCD".into()] } else { vec![] },
        });
    }
    BatchReport { batch_id: b.id.into(), source: b.source, pages, dossiers, warnings: vec!["page 3: barcode unreadable".into()] }
}

fn small_report(batch_id: &str, source: &str) -> BatchReport {
    BatchReport { batch_id: batch_id.into(), source: source.into(), pages: vec![], dossiers: vec![], warnings: vec![] }
}

async fn create_and_duplicate(cats: [Catalog; 2]) {
    let [cat, other] = cats;
    assert_eq!(cat.create_batch(&new_batch(1)).await.unwrap(), CreateOutcome::Created);
    // Same original under another id, from another handle: duplicate, nothing inserted.
    let mut dup = new_batch(2);
    dup.original_blake3 = new_batch(1).original_blake3;
    assert_eq!(other.create_batch(&dup).await.unwrap(), CreateOutcome::Duplicate { batch_id: "batch-001".into() });
    assert_eq!(cat.batch_state("batch-002").await.unwrap(), None);
    assert_eq!(cat.batch_state("batch-001").await.unwrap().map(|s| s.as_str()), Some("queued"));
    assert_eq!(cat.queue_counts().await.unwrap(), QueueCounts { queued: 1, running: 0, done: 0, failed: 0 });
    // Same id, other original: a conflict, and no stray job.
    let mut clash = new_batch(3);
    clash.id = "batch-001".into();
    let e = cat.create_batch(&clash).await.unwrap_err();
    assert_eq!((e.code(), e.is_retryable()), ("catalog-conflict", false), "{e}");
    assert_eq!(cat.queue_counts().await.unwrap().queued, 1);
    let js = cat.job_status("batch-001").await.unwrap().unwrap();
    assert_eq!((js.status.as_str(), js.attempts, js.max_attempts), ("queued", 0, MAX_ATTEMPTS));
    assert_eq!(cat.batch_report("batch-001").await.unwrap(), None);
}

async fn round_trip(cats: [Catalog; 2]) {
    let [cat, other] = cats;
    let nb = new_batch(7);
    cat.create_batch(&nb).await.unwrap();
    let job = cat.claim_job("w1", STALE).await.unwrap().expect("a job");
    assert_eq!(
        (job.batch_id.as_str(), job.attempts, job.source.as_str(), job.original_key.as_str(), job.original_blake3.as_str()),
        (nb.id.as_str(), 1, nb.source.as_str(), nb.original_key.as_str(), nb.original_blake3.as_str())
    );
    assert_eq!(job.manifest_json, nb.manifest_json);
    assert_eq!(cat.batch_state(&nb.id).await.unwrap().map(|s| s.as_str()), Some("running"));
    assert_eq!(other.claim_job("w2", STALE).await.unwrap(), None);
    assert!(cat.heartbeat(&job.id, "w1").await.unwrap());
    assert!(!cat.heartbeat(&job.id, "w2").await.unwrap());

    let report = full_report(7);
    let wrong = small_report("batch-999", "x");
    assert_eq!(cat.complete_job(&job.id, "w1", &wrong).await.unwrap_err().code(), "catalog-invalid");
    let e = cat.complete_job(&job.id, "w2", &report).await.unwrap_err();
    assert_eq!((e.code(), e.is_retryable()), ("job-lost", false));

    // A first completion with other content, then the real one: leftovers are replaced.
    let mut first = full_report(7);
    first.pages.truncate(3);
    first.dossiers.truncate(2);
    cat.complete_job(&job.id, "w1", &first).await.unwrap();
    assert_eq!(other.batch_report(&nb.id).await.unwrap().as_ref(), Some(&first));
    cat.complete_job(&job.id, "w1", &report).await.unwrap();
    let back = other.batch_report(&nb.id).await.unwrap().expect("report");
    assert_eq!(back, report);
    assert_eq!(cat.batch_state(&nb.id).await.unwrap().map(|s| s.as_str()), Some("done"));
    assert_eq!(cat.queue_counts().await.unwrap(), QueueCounts { queued: 0, running: 0, done: 1, failed: 0 });
    assert!(!cat.heartbeat(&job.id, "w1").await.unwrap(), "a done job takes no heartbeats");
    assert_eq!(cat.claim_job("w1", Duration::ZERO).await.unwrap(), None);

    // Documents: by id, by hash, by unique prefix; all of them in batch order.
    let all: Vec<DocumentReport> = report.dossiers.iter().flat_map(|d| d.documents.clone()).collect();
    assert_eq!(other.list_documents().await.unwrap(), all);
    let d = &all[4];
    assert_eq!(cat.find_document(&d.id).await.unwrap().as_ref(), Some(d));
    assert_eq!(cat.find_document(&d.blake3).await.unwrap().as_ref(), Some(d));
    assert_eq!(cat.find_document(&d.blake3.to_uppercase()).await.unwrap().as_ref(), Some(d));
    let unique_prefix = (8..=64).map(|n| &d.blake3[..n]).find(|p| all.iter().filter(|x| x.blake3.starts_with(p)).count() == 1).unwrap();
    assert_eq!(cat.find_document(unique_prefix).await.unwrap().as_ref(), Some(d));
    assert_eq!(cat.find_document(&d.blake3[..7]).await.unwrap(), None, "prefixes need 8 digits");
    assert_eq!(cat.find_document("0123456789abcdef").await.unwrap(), None);
    assert_eq!(cat.find_document("doc-%").await.unwrap(), None);
}

async fn ambiguous_prefix(cats: [Catalog; 2]) {
    let [cat, _] = cats;
    let nb = new_batch(1);
    cat.create_batch(&nb).await.unwrap();
    let job = cat.claim_job("w", STALE).await.unwrap().unwrap();
    let mut a = document(1, 1, vec![0]);
    let mut b = document(1, 2, vec![1]);
    a.blake3 = format!("abcdef01{}", &a.blake3[8..]).into();
    b.blake3 = format!("abcdef01{}", &b.blake3[8..]).into();
    let mut report = small_report(&nb.id, &nb.source);
    report.dossiers.push(DossierReport { code: None, documents: vec![a.clone(), b.clone()], needs_review: true, ..Default::default() });
    cat.complete_job(&job.id, "w", &report).await.unwrap();
    let e = cat.find_document("abcdef01").await.unwrap_err();
    assert_eq!(e.code(), "document-ambiguous");
    assert_eq!(cat.find_document(&a.blake3[..20]).await.unwrap(), Some(a));
}

async fn fail_with_backoff_then_permanently(cats: [Catalog; 2]) {
    let [cat, other] = cats;
    let nb = new_batch(1);
    cat.create_batch(&nb).await.unwrap();
    for attempt in 1..=MAX_ATTEMPTS {
        let job = cat.claim_job_for_batch(&nb.id, "w", STALE).await.unwrap().unwrap_or_else(|| panic!("attempt {attempt} not claimable"));
        assert_eq!(job.attempts, attempt);
        let e = cat.fail_job(&job.id, "intruder", "nope", true).await.unwrap_err();
        assert_eq!(e.code(), "job-lost");
        cat.fail_job(&job.id, "w", &format!("boom {attempt}"), true).await.unwrap();
        match retry_delay(attempt, MAX_ATTEMPTS, true) {
            Some(delay) => {
                assert_eq!(cat.batch_state(&nb.id).await.unwrap().map(|s| s.as_str()), Some("queued"));
                assert_eq!(cat.queue_counts().await.unwrap().queued, 1);
                assert_eq!(cat.claim_job("w", STALE).await.unwrap(), None, "claimed before its backoff");
                cat.advance_clock(delay - Duration::from_millis(500));
                assert_eq!(cat.claim_job("w", STALE).await.unwrap(), None, "claimed before its backoff");
                cat.advance_clock(Duration::from_millis(600));
            }
            None => {
                assert_eq!(attempt, MAX_ATTEMPTS);
                assert_eq!(cat.batch_state(&nb.id).await.unwrap().map(|s| s.as_str()), Some("failed"));
            }
        }
    }
    cat.advance_clock(Duration::from_secs(3600));
    assert_eq!(cat.claim_job("w", STALE).await.unwrap(), None);
    let js = other.job_status(&nb.id).await.unwrap().unwrap();
    assert_eq!((js.status.as_str(), js.attempts), ("failed", MAX_ATTEMPTS));
    assert_eq!(js.last_error.as_deref(), Some("boom 5"));
    assert_eq!(other.queue_counts().await.unwrap(), QueueCounts { queued: 0, running: 0, done: 0, failed: 1 });

    // A permanent error fails at once.
    let nb2 = new_batch(2);
    cat.create_batch(&nb2).await.unwrap();
    let job = cat.claim_job("w", STALE).await.unwrap().unwrap();
    assert_eq!(job.batch_id, nb2.id);
    cat.fail_job(&job.id, "w", "unreadable TIFF", false).await.unwrap();
    assert_eq!(cat.batch_state(&nb2.id).await.unwrap().map(|s| s.as_str()), Some("failed"));
    let js = cat.job_status(&nb2.id).await.unwrap().unwrap();
    assert_eq!((js.attempts, js.last_error.as_deref()), (1, Some("unreadable TIFF")));
    assert_eq!(cat.batch_report(&nb2.id).await.unwrap(), None);

    // An operator retry gives the batch a fresh set of attempts.
    assert!(other.requeue_failed(&nb2.id).await.unwrap());
    assert!(!other.requeue_failed(&nb2.id).await.unwrap(), "not failed any more");
    assert_eq!(cat.batch_state(&nb2.id).await.unwrap().map(|s| s.as_str()), Some("queued"));
    let job = cat.claim_job("w", STALE).await.unwrap().unwrap();
    assert_eq!((job.batch_id.as_str(), job.attempts), (nb2.id.as_str(), 1));
    assert!(!cat.requeue_failed("no-such-batch").await.unwrap());
}

async fn stale_heartbeat_reclaim(cats: [Catalog; 2]) {
    let [cat, _] = cats;
    let nb = new_batch(1);
    cat.create_batch(&nb).await.unwrap();
    let a = cat.claim_job("a", STALE).await.unwrap().unwrap();
    assert_eq!(cat.claim_job("b", STALE).await.unwrap(), None);
    cat.advance_clock(STALE - Duration::from_secs(5));
    assert!(cat.heartbeat(&a.id, "a").await.unwrap());
    cat.advance_clock(STALE - Duration::from_secs(1));
    assert_eq!(cat.claim_job("b", STALE).await.unwrap(), None, "heartbeat kept the job");
    cat.advance_clock(Duration::from_secs(2));
    let b = cat.claim_job("b", STALE).await.unwrap().expect("stale job reclaimed");
    assert_eq!((b.id.as_str(), b.attempts), (a.id.as_str(), 2));
    assert!(!cat.heartbeat(&a.id, "a").await.unwrap(), "a lost the job");
    let report = small_report(&nb.id, &nb.source);
    assert_eq!(cat.complete_job(&a.id, "a", &report).await.unwrap_err().code(), "job-lost");
    assert_eq!(cat.fail_job(&a.id, "a", "late", true).await.unwrap_err().code(), "job-lost");
    cat.complete_job(&b.id, "b", &report).await.unwrap();
    assert_eq!(cat.batch_report(&nb.id).await.unwrap(), Some(report));

    // A job that kills its worker on every attempt is failed after the last one.
    let nb2 = new_batch(2);
    cat.create_batch(&nb2).await.unwrap();
    for attempt in 1..=MAX_ATTEMPTS {
        let j = cat.claim_job(&format!("dies-{attempt}"), STALE).await.unwrap().unwrap();
        assert_eq!(j.attempts, attempt);
        cat.advance_clock(STALE + Duration::from_secs(1));
    }
    assert_eq!(cat.claim_job("next", STALE).await.unwrap(), None);
    assert_eq!(cat.batch_state(&nb2.id).await.unwrap().map(|s| s.as_str()), Some("failed"));
    let js = cat.job_status(&nb2.id).await.unwrap().unwrap();
    assert_eq!(js.status, "failed");
    assert!(js.last_error.unwrap().contains("heartbeat"));
}

async fn concurrent_claims_never_share_a_job(cats: [Catalog; 2]) {
    const JOBS: usize = 50;
    for n in 0..JOBS {
        cats[n % 2].create_batch(&new_batch(n)).await.unwrap();
    }
    let mut tasks = Vec::new();
    for w in 0..6 {
        let cat = cats[w % 2].clone();
        tasks.push(tokio::spawn(async move {
            let worker = format!("worker-{w}");
            let mut got = Vec::new();
            while let Some(job) = cat.claim_job(&worker, Duration::from_secs(3600)).await.unwrap() {
                assert!(cat.heartbeat(&job.id, &worker).await.unwrap());
                let report = small_report(&job.batch_id, &job.source);
                cat.complete_job(&job.id, &worker, &report).await.unwrap();
                got.push(job.id);
            }
            got
        }));
    }
    let mut all = Vec::new();
    let mut per_worker = Vec::new();
    for t in tasks {
        let got = t.await.unwrap();
        per_worker.push(got.len());
        all.extend(got);
    }
    let distinct: HashSet<&String> = all.iter().collect();
    assert_eq!(all.len(), JOBS, "claims per worker: {per_worker:?}");
    assert_eq!(distinct.len(), JOBS, "a job was claimed twice");
    assert_eq!(cats[1].queue_counts().await.unwrap(), QueueCounts { queued: 0, running: 0, done: JOBS as u64, failed: 0 });
}

/// A big batch becomes `pages` jobs that two workers share; the last completion creates
/// the assemble job, claimed by that worker; a dead worker's part is taken over; an
/// unreadable part is queued again.
async fn page_jobs_are_shared_then_assembled(cats: [Catalog; 2]) {
    let [a, b] = cats;
    let mut nb = new_batch(7);
    nb.page_count = 10;
    nb.chunk_pages = 4;
    assert_eq!(nb.page_ranges(), Some(vec![(0, 4), (4, 8), (8, 10)]));
    a.create_batch(&nb).await.unwrap();
    // A second batch small enough for one job.
    let mut small = new_batch(8);
    small.page_count = 4;
    small.chunk_pages = 4;
    assert_eq!(small.page_ranges(), None);
    a.create_batch(&small).await.unwrap();
    assert_eq!(a.batch_progress(&nb.id).await.unwrap(), Some((10, 0)));

    let only = [nb.id.clone()];
    let filter = ClaimFilter { batches: Some(&only), pages_only: true };
    let j1 = a.claim(filter, "wa", STALE).await.unwrap().unwrap();
    let j2 = b.claim(filter, "wb", STALE).await.unwrap().unwrap();
    assert_eq!(j1.kind, JobKind::Pages { start: 0, end: 4 });
    assert_eq!(j2.kind, JobKind::Pages { start: 4, end: 8 });
    assert_eq!(a.batch_state(&nb.id).await.unwrap().map(|s| s.as_str()), Some("running"));
    // pages_only never hands out the small batch's whole-batch job.
    let any_pages = ClaimFilter { batches: None, pages_only: true };
    let j3 = a.claim(any_pages, "wa", STALE).await.unwrap().unwrap();
    assert_eq!(j3.kind, JobKind::Pages { start: 8, end: 10 });
    assert_eq!(a.claim(any_pages, "wa", STALE).await.unwrap(), None);

    assert_eq!(a.complete_pages_job(&j1.id, "wa", "work/k1", "h1").await.unwrap(), None);
    assert!(matches!(a.complete_pages_job(&j2.id, "wa", "work/x", "hx").await, Err(CatalogError::JobLost { .. })));
    assert_eq!(a.batch_progress(&nb.id).await.unwrap(), Some((10, 4)));
    // wb dies holding 4..8: its heartbeat goes stale, wa takes the part over.
    assert_eq!(a.heartbeat_worker("wa").await.unwrap(), 1);
    a.advance_clock(STALE * 2);
    b.advance_clock(STALE * 2);
    assert_eq!(a.heartbeat_worker("wa").await.unwrap(), 1);
    let again = a.claim(filter, "wa", STALE).await.unwrap().unwrap();
    assert_eq!((again.id.as_str(), again.attempts), (j2.id.as_str(), 2));
    assert!(matches!(b.complete_pages_job(&j2.id, "wb", "work/late", "hl").await, Err(CatalogError::JobLost { .. })));
    assert_eq!(a.complete_pages_job(&j2.id, "wa", "work/k2", "h2").await.unwrap(), None);
    let assemble = a.complete_pages_job(&j3.id, "wa", "work/k3", "h3").await.unwrap().expect("last part creates the assembly");
    assert_eq!(assemble.kind, JobKind::Assemble);
    assert_eq!(assemble.batch_id, nb.id);
    assert_eq!(assemble.manifest_json, nb.manifest_json);
    let parts = b.part_records(&nb.id).await.unwrap();
    assert_eq!(
        parts.iter().map(|p| (p.start, p.end, p.key.as_str(), p.blake3.as_str())).collect::<Vec<_>>(),
        vec![(0, 4, "work/k1", "h1"), (4, 8, "work/k2", "h2"), (8, 10, "work/k3", "h3")]
    );
    // The assembly is held: nobody else gets it.
    assert_eq!(b.claim(ClaimFilter { batches: Some(&only), pages_only: false }, "wb", STALE).await.unwrap(), None);

    // Part 2 turns out unreadable: it goes back to the queue, the assembly is dropped.
    assert!(a.reopen_pages_job(&assemble.id, "wa", &parts[1].job_id, "stored part does not decode").await.unwrap());
    assert_eq!(a.batch_progress(&nb.id).await.unwrap(), Some((10, 6)));
    let redo = b.claim(ClaimFilter { batches: Some(&only), pages_only: false }, "wb", STALE).await.unwrap().unwrap();
    assert_eq!(redo.kind, JobKind::Pages { start: 4, end: 8 });
    let assemble = b.complete_pages_job(&redo.id, "wb", "work/k2b", "h2b").await.unwrap().expect("assembly again");
    let report = small_report(&nb.id, &nb.source);
    b.complete_job(&assemble.id, "wb", &report).await.unwrap();
    assert_eq!(a.batch_state(&nb.id).await.unwrap().map(|s| s.as_str()), Some("done"));
    assert_eq!(a.batch_progress(&nb.id).await.unwrap(), Some((10, 10)));

    // The small batch is one `batch` job, claimed by a normal claim.
    let whole = a.claim_job("wa", STALE).await.unwrap().unwrap();
    assert_eq!((whole.kind, whole.batch_id.as_str()), (JobKind::Batch, small.id.as_str()));
}

/// A part that fails for good fails its batch and cancels the parts still queued.
async fn a_failed_part_fails_the_batch(cats: [Catalog; 2]) {
    let [a, _b] = cats;
    let mut nb = new_batch(9);
    nb.page_count = 9;
    nb.chunk_pages = 3;
    a.create_batch(&nb).await.unwrap();
    let j = a.claim_job("w", STALE).await.unwrap().unwrap();
    assert_eq!(j.kind, JobKind::Pages { start: 0, end: 3 });
    a.fail_job(&j.id, "w", "input-unreadable: broken", false).await.unwrap();
    assert_eq!(a.batch_state(&nb.id).await.unwrap().map(|s| s.as_str()), Some("failed"));
    assert_eq!(a.claim_job("w", STALE).await.unwrap(), None);
    let js = a.job_status(&nb.id).await.unwrap().unwrap();
    assert_eq!(js.last_error.as_deref(), Some("input-unreadable: broken"));
    assert_eq!(a.queue_counts().await.unwrap(), QueueCounts { queued: 0, running: 0, done: 0, failed: 1 });
}

/// A part that never reads back is redone until its `pages` job has used every attempt;
/// then the job and the batch fail with the reason, instead of a redo loop.
async fn an_unreadable_part_fails_the_batch_after_its_attempts(cats: [Catalog; 2]) {
    let [a, _b] = cats;
    let mut nb = new_batch(10);
    nb.page_count = 8;
    nb.chunk_pages = 4;
    a.create_batch(&nb).await.unwrap();
    let only = [nb.id.clone()];
    let filter = ClaimFilter { batches: Some(&only), pages_only: true };
    let first = a.claim(filter, "w", STALE).await.unwrap().unwrap();
    let second = a.claim(filter, "w", STALE).await.unwrap().unwrap();
    assert_eq!(a.complete_pages_job(&second.id, "w", "work/b", "hb").await.unwrap(), None);
    let mut job = first.clone();
    for attempt in 1..=MAX_ATTEMPTS {
        assert_eq!((job.id.as_str(), job.attempts), (first.id.as_str(), attempt));
        let assemble = a.complete_pages_job(&job.id, "w", "work/a", "ha").await.unwrap().expect("the last part creates the assembly");
        let requeued = a.reopen_pages_job(&assemble.id, "w", &job.id, "stored part does not decode").await.unwrap();
        assert_eq!(requeued, attempt < MAX_ATTEMPTS, "attempt {attempt}");
        if requeued {
            job = a.claim(filter, "w", STALE).await.unwrap().unwrap();
        }
    }
    assert_eq!(a.batch_state(&nb.id).await.unwrap().map(|s| s.as_str()), Some("failed"));
    assert_eq!(a.claim(ClaimFilter { batches: Some(&only), pages_only: false }, "w", STALE).await.unwrap(), None);
    let js = a.job_status(&nb.id).await.unwrap().unwrap();
    assert_eq!(js.last_error.as_deref(), Some("stored part does not decode"));
}

async fn sqlite_pair() -> (tempfile::TempDir, [Catalog; 2]) {
    let dir = tempfile::tempdir().unwrap();
    let a = Catalog::open(None, dir.path()).await.unwrap();
    let b = Catalog::open(None, dir.path()).await.unwrap();
    assert_eq!(a.backend(), Backend::Sqlite);
    (dir, [a, b])
}

/// Two handles on a fresh database of the process-wide test server.
async fn postgres_pair() -> Option<(tempfile::TempDir, [Catalog; 2])> {
    let url = postgres::shared_database_or_skip("catalog")?;
    let dir = tempfile::tempdir().unwrap();
    let a = Catalog::open(Some(&url), dir.path()).await.unwrap();
    let b = Catalog::open(Some(&url), dir.path()).await.unwrap();
    assert_eq!(a.backend(), Backend::Postgres);
    Some((dir, [a, b]))
}

macro_rules! on_both_backends {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let (_dir, cats) = super::sqlite_pair().await;
                super::$scenario(cats).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some((_dir, cats)) = super::postgres_pair().await else { return };
                super::$scenario(cats).await;
            }
        }
    )*};
}

on_both_backends!(
    create_and_duplicate,
    round_trip,
    ambiguous_prefix,
    fail_with_backoff_then_permanently,
    stale_heartbeat_reclaim,
    concurrent_claims_never_share_a_job,
    page_jobs_are_shared_then_assembled,
    a_failed_part_fails_the_batch,
    an_unreadable_part_fails_the_batch_after_its_attempts,
);

/// Run by `sqlite_claims_are_exclusive_across_processes` in child processes (a no-op
/// otherwise): claims and completes jobs until none is left, printing each job id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claimer_child_process() {
    let Ok(dir) = std::env::var("SOHOA_TEST_CLAIMER_DIR") else {
        return;
    };
    let worker = std::env::var("SOHOA_TEST_CLAIMER_ID").unwrap();
    let cat = Catalog::open(None, std::path::Path::new(&dir)).await.unwrap();
    let mut tasks = Vec::new();
    for t in 0..2 {
        let (cat, worker) = (cat.clone(), format!("{worker}-{t}"));
        tasks.push(tokio::spawn(async move {
            while let Some(job) = cat.claim_job(&worker, Duration::from_secs(3600)).await.unwrap() {
                let report = small_report(&job.batch_id, &job.source);
                cat.complete_job(&job.id, &worker, &report).await.unwrap();
                println!("CLAIMED {}", job.id);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_claims_are_exclusive_across_processes() {
    const JOBS: usize = 40;
    let dir = tempfile::tempdir().unwrap();
    let cat = Catalog::open(None, dir.path()).await.unwrap();
    for n in 0..JOBS {
        cat.create_batch(&new_batch(n)).await.unwrap();
    }
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..3)
        .map(|p| {
            std::process::Command::new(&exe)
                .args(["--exact", "runtime::catalog::tests::claimer_child_process", "--nocapture", "--test-threads=1"])
                .env("SOHOA_TEST_CLAIMER_DIR", dir.path())
                .env("SOHOA_TEST_CLAIMER_ID", format!("proc-{p}"))
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut claimed = Vec::new();
    let mut per_process = Vec::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "child failed: {stdout}\n{}", String::from_utf8_lossy(&out.stderr));
        // libtest prints "test <name> ... " without a newline before the test runs.
        let ids: Vec<String> = stdout.split("CLAIMED ").skip(1).filter_map(|rest| rest.split_whitespace().next()).map(str::to_string).collect();
        per_process.push(ids.len());
        claimed.extend(ids);
    }
    let distinct: HashSet<&String> = claimed.iter().collect();
    let counts = cat.queue_counts().await.unwrap();
    assert_eq!(claimed.len(), JOBS, "claims per process: {per_process:?}, {counts:?}");
    assert_eq!(distinct.len(), JOBS, "a job was claimed twice");
    assert_eq!(cat.queue_counts().await.unwrap().done, JOBS as u64);
}

#[tokio::test]
async fn default_catalog_is_a_wal_sqlite_file_and_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data dir");
    {
        let cat = Catalog::open(None, &data).await.unwrap();
        cat.create_batch(&new_batch(1)).await.unwrap();
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(&cat.pool).await.unwrap();
        assert_eq!(mode, "wal");
        cat.close().await;
    }
    assert!(data.join("catalog.db").is_file());
    let url = format!("sqlite://{}", data.join("catalog.db").display());
    let cat = Catalog::open(Some(&url), dir.path()).await.unwrap();
    assert_eq!(cat.batch_state("batch-001").await.unwrap().map(|s| s.as_str()), Some("queued"));
}

#[test]
fn bad_urls_are_config_errors() {
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    for url in ["mysql://x/y", "catalog.db", "postgres://[bad"] {
        let e = rt.block_on(Catalog::open(Some(url), dir.path())).unwrap_err();
        assert_eq!((e.code(), e.is_retryable()), ("catalog-config", false), "{url}: {e}");
    }
}

#[test]
fn page_kinds_round_trip_and_non_finite_values_are_tamed() {
    for k in [PageKind::Content, PageKind::Separator, PageKind::Blank] {
        assert_eq!(parse_page_kind(page_kind_str(k)), Some(k));
    }
    assert_eq!(parse_page_kind("Content"), None);
    assert_eq!(finite_or_zero(f32::NAN), 0.0);
    assert_eq!(finite_or_zero(-2.5), -2.5);
    assert!(to_i64(u64::MAX, "bytes").is_err());
}

mod certify;
mod dossiers;
mod fields;
mod search;
mod service;
