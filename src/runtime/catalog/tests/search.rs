//! Search tests on both backends: reports with known OCR text (diacritics, NFC and NFD),
//! searched with and without diacritics, by dossier, type and citizen ID; AND semantics,
//! no false hits, re-completion without duplicates, and the backfill of documents written
//! before the search index existed.

use std::collections::BTreeSet;
use std::time::Duration;

use unicode_normalization::UnicodeNormalization;

use super::{STALE, document, new_batch, postgres_pair, small_report, sqlite_pair};
use sqlx::Row;

use crate::model::{BatchReport, DossierReport};
use crate::runtime::catalog::search::{BACKFILL_SELECT, FOLD_VERSION, search_sql};
use crate::runtime::catalog::{Backend, Catalog, SearchHit, SearchQuery};
use sohoa_testkit::postgres;

const CODE_A: &str = "000.00.15.H40-250301-0001";
const CODE_B: &str = "000.00.15.H40-250301-0002";

/// Dossier A: d1 (DON, a CCCD number), d2 (CCCD), d3 (QĐ, text in NFD); dossier B: d4
/// (DON), d5 (no type, "hồ sơ" three times).
fn texts() -> Vec<(&'static str, Option<&'static str>, String)> {
    vec![
        (CODE_A, Some("DON"), "ĐƠN ĐỀ NGHỊ cấp lại hồ sơ đất đai\nHọ và tên: Nguyễn Văn An\nSố CCCD: 001203004567, cấp ngày 12/05/2021".into()),
        (CODE_A, Some("CCCD"), "CĂN CƯỚC CÔNG DÂN\n079185000123\nHọ, chữ đệm và tên: Trần Thị Bình".into()),
        (CODE_A, Some("QĐ"), "QUYẾT ĐỊNH về việc cấp giấy phép xây dựng".nfd().collect()),
        (CODE_B, Some("DON"), "Đơn xin xác nhận tình trạng hôn nhân\nNguyễn Văn An".into()),
        (CODE_B, None, "Hồ sơ, hồ sơ, hồ sơ.".into()),
    ]
}

/// A done batch `n` with the documents of [`texts`], ids `s{n}-d1` … `s{n}-d5`.
fn report(n: usize) -> BatchReport {
    let b = new_batch(n);
    let mut report = small_report(&b.id, &b.source);
    for (i, (code, ty, text)) in texts().into_iter().enumerate() {
        let mut doc = document(n, i + 1, vec![i]);
        doc.id = format!("s{n}-d{}", i + 1).into();
        doc.doc_type = ty.map(String::from);
        doc.ocr_text = text;
        if report.dossiers.last().and_then(|d| d.code.as_deref()) != Some(code) {
            report.dossiers.push(DossierReport { code: Some(code.into()), documents: vec![], ..Default::default() });
        }
        report.dossiers.last_mut().unwrap().documents.push(doc);
    }
    report
}

/// Creates, claims and completes batch `n` with `report`.
async fn complete(cat: &Catalog, n: usize, report: &BatchReport) -> String {
    cat.create_batch(&new_batch(n)).await.unwrap();
    let job = cat.claim_job("w", STALE).await.unwrap().unwrap();
    cat.complete_job(&job.id, "w", report).await.unwrap();
    job.id
}

fn text(q: &str) -> SearchQuery {
    SearchQuery { text: Some(q.into()), ..Default::default() }
}

async fn ids(cat: &Catalog, q: &SearchQuery) -> Vec<String> {
    hits(cat, q).await.into_iter().map(|h| h.document_id).collect()
}

async fn hits(cat: &Catalog, q: &SearchQuery) -> Vec<SearchHit> {
    cat.search_documents(q).await.unwrap_or_else(|e| panic!("{q:?}: {e}"))
}

fn set(ids: Vec<String>) -> BTreeSet<String> {
    ids.into_iter().collect()
}

fn names(v: &[&str]) -> BTreeSet<String> {
    v.iter().map(|s| s.to_string()).collect()
}

async fn search_scenario(cats: [Catalog; 2]) {
    let [cat, other] = cats;
    let job = complete(&cat, 1, &report(1)).await;

    // With and without diacritics, any case, NFC or NFD: the same documents.
    for q in ["ho so", "hồ sơ", "HỒ SƠ", "Hồ Sơ", &"hồ sơ".nfd().collect::<String>()] {
        assert_eq!(ids(&other, &text(q)).await, ["s1-d5", "s1-d1"], "{q:?}");
    }
    assert_eq!(ids(&other, &text("quyet dinh")).await, ["s1-d3"], "NFD text");
    assert_eq!(ids(&other, &text("QUYẾT ĐỊNH")).await, ["s1-d3"]);
    assert_eq!(ids(&other, &text("dat dai")).await, ["s1-d1"]);

    // All words must appear (AND); no false hits.
    assert_eq!(set(ids(&other, &text("nguyen van an")).await), names(&["s1-d1", "s1-d4"]));
    assert_eq!(ids(&other, &text("nguyen binh")).await, Vec::<String>::new());
    assert_eq!(ids(&other, &text("tran binh")).await, ["s1-d2"]);
    assert_eq!(ids(&other, &text("xay dung")).await, ["s1-d3"]);
    assert_eq!(ids(&other, &text("dung")).await, ["s1-d3"]);
    assert_eq!(ids(&other, &text("nhà")).await, Vec::<String>::new(), "nha is not nhan");
    assert_eq!(ids(&other, &text("xyzzy")).await, Vec::<String>::new());
    // A word written with * matches as a prefix.
    assert_eq!(ids(&other, &text("nha*")).await, ["s1-d4"]);
    assert_eq!(ids(&other, &text("ngh* cap")).await, ["s1-d1"]);

    // Filters, alone and with words.
    let dossier = |code: &str| SearchQuery { dossier: Some(code.into()), ..Default::default() };
    assert_eq!(ids(&other, &dossier(CODE_A)).await, ["s1-d1", "s1-d2", "s1-d3"], "batch order");
    assert_eq!(ids(&other, &SearchQuery { text: Some("nguyen".into()), ..dossier(CODE_B) }).await, ["s1-d4"]);
    assert_eq!(ids(&other, &dossier("000.00.15.H40-250301-9999")).await, Vec::<String>::new());
    let of_type = |ty: &str| SearchQuery { doc_type: Some(ty.into()), ..Default::default() };
    assert_eq!(ids(&other, &of_type("DON")).await, ["s1-d1", "s1-d4"]);
    assert_eq!(ids(&other, &of_type("QĐ")).await, ["s1-d3"]);
    assert_eq!(ids(&other, &SearchQuery { text: Some("hon nhan".into()), ..of_type("DON") }).await, ["s1-d4"]);
    assert_eq!(ids(&other, &SearchQuery { text: Some("hon nhan".into()), ..of_type("CCCD") }).await, Vec::<String>::new());
    let citizen = |id: &str| SearchQuery { citizen_id: Some(id.into()), ..Default::default() };
    assert_eq!(ids(&other, &citizen("001203004567")).await, ["s1-d1"]);
    assert_eq!(ids(&other, &citizen("079185000123")).await, ["s1-d2"]);
    assert_eq!(ids(&other, &citizen("000000000000")).await, Vec::<String>::new());
    assert_eq!(ids(&other, &SearchQuery { dossier: Some(CODE_B.into()), ..citizen("001203004567") }).await, Vec::<String>::new());
    let e = other.search_documents(&citizen("0012030045")).await.unwrap_err();
    assert_eq!(e.code(), "catalog-invalid");
    let e = other.search_documents(&SearchQuery::default()).await.unwrap_err();
    assert_eq!(e.code(), "catalog-invalid");

    // The hit: document fields, a snippet with the original diacritics, a score.
    let d1 = report(1).dossiers[0].documents[0].clone();
    let h = &hits(&other, &text("dat dai")).await[0];
    assert_eq!((h.document_id.as_str(), h.doc_type.as_deref(), h.dossier.as_deref(), h.batch_id.as_str()), ("s1-d1", Some("DON"), Some(CODE_A), "batch-001"));
    assert_eq!((h.blake3.as_str(), h.object_key.as_str(), h.page_count), (d1.blake3.as_str(), d1.object_key.as_str(), 1));
    assert!(h.snippet.contains("cấp lại hồ sơ đất đai Họ và tên"), "{}", h.snippet);
    assert!(h.score.is_some_and(|s| s > 0.0), "{:?}", h.score);
    let ranked = hits(&other, &text("ho so")).await;
    assert!(ranked[0].score > ranked[1].score, "{ranked:?}");
    assert_eq!(ranked[0].snippet, "Hồ sơ, hồ sơ, hồ sơ.");
    let by_filter = &hits(&other, &dossier(CODE_B)).await[0];
    assert_eq!(by_filter.score, None);
    assert!(by_filter.snippet.starts_with("Đơn xin xác nhận"));
    assert_eq!(ids(&other, &SearchQuery { limit: Some(1), ..text("ho so") }).await, ["s1-d5"]);

    // Completing the batch again, even with other text: no duplicates, no stale words.
    cat.complete_job(&job, "w", &report(1)).await.unwrap();
    assert_eq!(ids(&other, &text("ho so")).await, ["s1-d5", "s1-d1"]);
    assert_eq!(ids(&other, &of_type("DON")).await, ["s1-d1", "s1-d4"]);
    let mut changed = report(1);
    changed.dossiers[0].documents[0].ocr_text = "Giấy xác nhận cư trú".into();
    cat.complete_job(&job, "w", &changed).await.unwrap();
    assert_eq!(ids(&other, &text("ho so")).await, ["s1-d5"]);
    assert_eq!(ids(&other, &text("dat dai")).await, Vec::<String>::new());
    assert_eq!(ids(&other, &text("cu tru")).await, ["s1-d1"]);
    assert_eq!(ids(&other, &citizen("001203004567")).await, Vec::<String>::new());
    cat.complete_job(&job, "w", &report(1)).await.unwrap();

    // A later batch: filter-only results newest first; text results by score, and the
    // same score newest first.
    cat.advance_clock(Duration::from_secs(10));
    complete(&cat, 2, &report(2)).await;
    assert_eq!(ids(&other, &of_type("DON")).await, ["s2-d1", "s2-d4", "s1-d1", "s1-d4"]);
    assert_eq!(ids(&other, &text("tran thi binh")).await, ["s2-d2", "s1-d2"]);
    assert_eq!(ids(&other, &citizen("001203004567")).await, ["s2-d1", "s1-d1"]);
    assert_eq!(ids(&other, &SearchQuery { limit: Some(3), ..text("ho so") }).await.len(), 3);

    if cat.backend() == Backend::Sqlite {
        // One index entry per document, and FTS5 itself finds nothing wrong.
        let n = |sql: &'static str| {
            let cat = cat.clone();
            async move { sqlx::query_scalar::<_, i64>(sql).fetch_one(&cat.pool).await.unwrap() }
        };
        assert_eq!(n("SELECT COUNT(*) FROM documents").await, 10);
        assert_eq!(n("SELECT COUNT(*) FROM document_fts_ids").await, 10);
        assert_eq!(n("SELECT COUNT(*) FROM documents d JOIN document_fts_ids m ON m.document_id = d.id").await, 10);
        sqlx::query("INSERT INTO documents_fts (documents_fts) VALUES ('integrity-check')").execute(&cat.pool).await.unwrap();
    }
}

/// Documents whose folded text is missing (written before the index existed, or by an
/// older fold) are folded by the backfill, and found afterwards.
async fn backfill_scenario(cats: [Catalog; 2]) {
    let [cat, other] = cats;
    complete(&cat, 1, &report(1)).await;
    sqlx::query("UPDATE documents SET search_folded = '', search_version = 0").execute(&cat.pool).await.unwrap();
    assert_eq!(ids(&other, &text("ho so")).await, Vec::<String>::new());
    assert_eq!(other.backfill_search().await.unwrap(), 5);
    assert_eq!(cat.backfill_search().await.unwrap(), 0);
    assert_eq!(ids(&cat, &text("ho so")).await, ["s1-d5", "s1-d1"]);
    assert_eq!(ids(&cat, &text("quyet dinh")).await, ["s1-d3"]);
}

/// The query plan of a search, one line per step.
async fn query_plan(cat: &Catalog, q: &SearchQuery) -> String {
    let plan = q.plan().unwrap();
    let (sql, binds) = search_sql(cat.backend(), &plan);
    let mut tx = cat.pool.begin().await.unwrap();
    let (explain, column) = match cat.backend() {
        Backend::Sqlite => (format!("EXPLAIN QUERY PLAN {sql}"), 3),
        Backend::Postgres => {
            // A handful of rows: make the planner show whether it *can* use an index.
            sqlx::query("SET LOCAL enable_seqscan = off").execute(&mut *tx).await.unwrap();
            (format!("EXPLAIN {sql}"), 0)
        }
    };
    let mut query = sqlx::query(&explain);
    for b in &binds {
        query = query.bind(b);
    }
    let rows = query.bind(plan.limit).fetch_all(&mut *tx).await.unwrap();
    rows.iter().map(|r| r.try_get::<String, _>(column).unwrap()).collect::<Vec<_>>().join("\n")
}

/// Text queries go through the full-text index (on PostgreSQL: the query's expression is
/// the GIN index's), filters through theirs.
async fn queries_use_the_indexes(cats: [Catalog; 2]) {
    let [cat, _] = cats;
    complete(&cat, 1, &report(1)).await;
    let with_filters = SearchQuery { text: Some("ho so".into()), dossier: Some(CODE_A.into()), doc_type: Some("DON".into()), ..Default::default() };
    let mut queries = vec![text("ho so"), text("ngh*")];
    if cat.backend() == Backend::Sqlite {
        // (PostgreSQL may rightly start from the type's index instead.)
        queries.push(with_filters);
    }
    for q in queries {
        let plan = query_plan(&cat, &q).await;
        let index = match cat.backend() {
            Backend::Sqlite => "documents_fts VIRTUAL TABLE INDEX",
            Backend::Postgres => "documents_search",
        };
        assert!(plan.contains(index), "{q:?}:\n{plan}");
    }
    if cat.backend() == Backend::Sqlite {
        let dossier = SearchQuery { dossier: Some(CODE_A.into()), ..Default::default() };
        let plan = query_plan(&cat, &dossier).await;
        assert!(plan.contains("dossiers_code") && plan.contains("documents_batch"), "{plan}");
        let of_type = SearchQuery { doc_type: Some("DON".into()), ..Default::default() };
        let plan = query_plan(&cat, &of_type).await;
        assert!(plan.contains("documents_type"), "{plan}");
        // The backfill's lookup, at every open, must not scan the table.
        let rows = sqlx::query(&format!("EXPLAIN QUERY PLAN {BACKFILL_SELECT}")).bind(FOLD_VERSION).bind(200i64).fetch_all(&cat.pool).await.unwrap();
        let plan: Vec<String> = rows.iter().map(|r| r.try_get(3).unwrap()).collect();
        assert!(plan.iter().any(|p| p.contains("documents_search_version")), "{plan:?}");
    }
}

on_both_backends!(search_scenario, backfill_scenario, queries_use_the_indexes);

/// A catalog migrated only to `0001_initial.sql`, with a done batch and two documents
/// written with the old columns; then opened by this version, which must migrate it and
/// make the old documents searchable.
async fn catalog_from_before_search(url: &str, dir: &std::path::Path, migrations: &str) {
    sqlx::any::install_default_drivers();
    let old = tempfile::tempdir().unwrap();
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(migrations);
    std::fs::copy(src.join("0001_initial.sql"), old.path().join("0001_initial.sql")).unwrap();
    let pool = sqlx::AnyPool::connect(url).await.unwrap();
    sqlx::migrate::Migrator::new(old.path()).await.unwrap().run(&pool).await.unwrap();
    for sql in [
        "INSERT INTO batches (id, source, original_key, original_blake3, original_bytes, state, created_at)
         VALUES ('old', 'old.tif', 'originals/old.tif', 'b3', 1, 'done', 1)",
        "INSERT INTO dossiers (id, batch_id, seq, code, code_valid) VALUES ('old/d0', 'old', 0, 'X-1', 0)",
        "INSERT INTO documents (id, batch_id, dossier_id, seq, doc_type, source_pages_json, page_count,
                                blake3, sha256, bytes, object_key, ocr_text, created_at)
         VALUES ('old-1', 'old', 'old/d0', 0, 'DON', '[0]', 1, 'aa', 'bb', 1, 'documents/aa.pdf',
                 'Đơn đề nghị cấp lại hồ sơ', 1)",
        "INSERT INTO documents (id, batch_id, dossier_id, seq, doc_type, source_pages_json, page_count,
                                blake3, sha256, bytes, object_key, ocr_text, created_at)
         VALUES ('old-2', 'old', 'old/d0', 1, NULL, '[1]', 1, 'cc', 'dd', 1, 'documents/cc.pdf', '', 1)",
    ] {
        sqlx::query(sql).execute(&pool).await.unwrap();
    }
    pool.close().await;

    let cat = Catalog::open(Some(url), dir).await.unwrap();
    assert_eq!(ids(&cat, &text("de nghi")).await, ["old-1"]);
    assert_eq!(ids(&cat, &text("hồ sơ")).await, ["old-1"]);
    // The old rows take part in re-completion like any other.
    complete(&cat, 1, &report(1)).await;
    let found = names(&["s1-d5", "s1-d1", "old-1"]);
    assert_eq!(set(ids(&cat, &text("ho so")).await), found);
    assert_eq!(ids(&cat, &SearchQuery { dossier: Some("X-1".into()), ..Default::default() }).await, ["old-1", "old-2"]);
    let again = Catalog::open(Some(url), dir).await.unwrap();
    assert_eq!(again.backfill_search().await.unwrap(), 0);
    assert_eq!(set(ids(&again, &text("ho so")).await), found);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_catalog_from_before_search_is_migrated_and_backfilled() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("catalog.db").display());
    catalog_from_before_search(&url, dir.path(), "src/runtime/catalog/migrations/sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_catalog_from_before_search_is_migrated_and_backfilled() {
    let Some(url) = postgres::shared_database_or_skip("search_old") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    catalog_from_before_search(&url, dir.path(), "src/runtime/catalog/migrations/postgres").await;
}

#[tokio::test]
async fn bundled_sqlite_has_fts5() {
    let dir = tempfile::tempdir().unwrap();
    let cat = Catalog::open(None, dir.path()).await.unwrap();
    let options: Vec<String> = sqlx::query_scalar("PRAGMA compile_options").fetch_all(&cat.pool).await.unwrap();
    assert!(options.iter().any(|o| o == "ENABLE_FTS5"), "{options:?}");
}
