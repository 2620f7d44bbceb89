//! Issue #24 on both backends: dossier records with completeness and the cover's
//! citizen, result codes numbered without gaps under concurrent adds from two handles,
//! the reuse lookup (cover, declaration, OCR text) and audited attachments, and the
//! indicator rows.

use super::{STALE, document, new_batch, postgres_pair, sqlite_pair};
use crate::model::{BatchReport, DossierReport};
use crate::runtime::catalog::Catalog;
use crate::stages::dossier::indicators;

const A: &str = "000.00.15.H40-250301-0001";
const B: &str = "000.00.15.H40-250301-0002";
const C: &str = "001.00.00.H01-250302-0003";
const CITIZEN: &str = "079190000123";

/// Stores batch `n` (received at `post_office`) with these dossiers.
async fn store(cat: &Catalog, n: usize, post_office: Option<&str>, dossiers: Vec<DossierReport>) {
    let mut nb = new_batch(n);
    nb.post_office = post_office.map(str::to_string);
    cat.create_batch(&nb).await.unwrap();
    let job = cat.claim_job_for_batch(&nb.id, "w1", STALE).await.unwrap().expect("a job");
    let report = BatchReport { batch_id: nb.id.clone().into(), source: nb.source.clone(), pages: vec![], dossiers, warnings: vec![] };
    cat.complete_job(&job.id, "w1", &report).await.unwrap();
}

fn typed(batch: usize, n: usize, ty: &str, text: &str) -> crate::model::DocumentReport {
    let mut d = document(batch, n, vec![n * 2, n * 2 + 1]);
    d.doc_type = Some(ty.into());
    d.ocr_text = text.into();
    d
}

async fn dossier_records(cats: [Catalog; 2]) {
    let [cat, other] = cats;
    // Batch 1 (post office 700000): A is complete and names the citizen on its cover; B
    // misses a component. Batch 2 (no post office): C, whose CCCD page carries the number.
    store(
        &cat,
        1,
        Some("700000"),
        vec![
            DossierReport {
                code: Some(A.into()),
                documents: vec![typed(1, 0, "TK", "tờ khai"), typed(1, 1, "CCCD", "căn cước")],
                procedure: Some("1.001193".into()),
                citizen_id: Some(CITIZEN.into()),
                complete: Some(true),
                ..Default::default()
            },
            DossierReport {
                code: Some(B.into()),
                documents: vec![typed(1, 2, "TK", "tờ khai")],
                procedure: Some("1.001193".into()),
                complete: Some(false),
                missing: vec!["CCCD".into()],
                ..Default::default()
            },
        ],
    )
    .await;
    store(
        &cat,
        2,
        None,
        vec![DossierReport { code: Some(C.into()), documents: vec![typed(2, 0, "CCCD", &format!("Số: {CITIZEN} Họ tên"))], ..Default::default() }],
    )
    .await;

    let a = other.dossier_record(A).await.unwrap().unwrap();
    assert_eq!(
        (a.post_office.as_deref(), a.procedure.as_deref(), a.citizen_id.as_deref(), a.complete),
        (Some("700000"), Some("1.001193"), Some(CITIZEN), Some(true))
    );
    assert_eq!(a.documents.iter().map(|d| d.doc_type.as_deref().unwrap()).collect::<Vec<_>>(), ["TK", "CCCD"]);
    let b = other.dossier_record(B).await.unwrap().unwrap();
    assert_eq!((b.complete, b.missing.clone()), (Some(false), vec!["CCCD".to_string()]));
    assert_eq!(other.dossier_record("000.00.15.H40-250301-0404").await.unwrap(), None);

    // Result codes: 1..=12 without gaps or repeats, from two handles at once.
    let mut tasks = Vec::new();
    for i in 0..12 {
        let c = if i % 2 == 0 { cat.clone() } else { other.clone() };
        tasks.push(tokio::spawn(async move { c.add_result(A, &format!("kq{i}.pdf"), "results/x", "h", 10).await.unwrap().id }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        ids.push(t.await.unwrap());
    }
    ids.sort_by_key(|id| id.rsplit("KQ").next().unwrap().parse::<u32>().unwrap());
    assert_eq!(ids, (1..=12).map(|n| format!("{A}-KQ{n}")).collect::<Vec<_>>());
    assert_eq!(cat.add_result(B, "b.pdf", "results/y", "h", 1).await.unwrap().id, format!("{B}-KQ1"), "numbering is per dossier");
    assert_eq!(other.results(A).await.unwrap().len(), 12);

    // Reuse: A's CCCD is the citizen's (cover), C's by its text; B's TK only once declared.
    let hits = other.reuse_lookup(CITIZEN, "CCCD", None, 20).await.unwrap();
    let mut found: Vec<(Option<&str>, &str)> = hits.iter().map(|h| (h.dossier.as_deref(), h.source.as_str())).collect();
    found.sort();
    assert_eq!(found, vec![(Some(A), "cover"), (Some(C), "text")]);
    assert!(other.reuse_lookup(CITIZEN, "TK", Some(A), 20).await.unwrap().is_empty());
    assert_eq!(cat.declare_citizen(B, CITIZEN).await.unwrap(), 1);
    let tk = other.reuse_lookup(CITIZEN, "TK", Some(A), 20).await.unwrap();
    assert_eq!((tk.len(), tk[0].dossier.as_deref(), tk[0].source.as_str()), (1, Some(B), "declared"));
    assert!(other.reuse_lookup("001200000999", "CCCD", None, 20).await.unwrap().is_empty());

    // Attaching B's missing CCCD from A: audited, recorded once however often it is asked.
    let from_a = hits.iter().find(|h| h.dossier.as_deref() == Some(A)).unwrap();
    let (att, new) = cat.attach_document(B, from_a, Some(CITIZEN), "tok_1", "agency").await.unwrap();
    assert!(new);
    assert_eq!((att.dossier_code.as_str(), att.document_id.as_str(), att.doc_type.as_deref()), (B, from_a.document_id.as_str(), Some("CCCD")));
    let (_, again) = other.attach_document(B, from_a, Some(CITIZEN), "tok_1", "agency").await.unwrap();
    assert!(!again);
    assert_eq!(other.attachments(B).await.unwrap().len(), 1);
    let events = cat.audit_events(&from_a.document_id).await.unwrap();
    assert_eq!(events.iter().filter(|e| e.action == "reuse").count(), 2, "each request is audited");
    assert_eq!(cat.verify_audit().await.unwrap().1, None);

    // Indicator rows and the figures computed from them.
    let rows = other.indicator_rows(0, i64::MAX).await.unwrap();
    type Row<'a> = (&'a str, Option<&'a str>, u64, u64, Option<bool>, bool, bool);
    let view: Vec<Row> = rows.iter().map(|r| (r.code.as_str(), r.post_office.as_deref(), r.documents, r.pages, r.complete, r.reused, r.has_result)).collect();
    assert_eq!(
        view,
        vec![(A, Some("700000"), 2, 4, Some(true), false, true), (B, Some("700000"), 1, 2, Some(false), true, true), (C, None, 1, 2, None, false, false)]
    );
    let (_, total) = indicators::report(&rows, None, other.certifications_issued(0, i64::MAX).await.unwrap());
    assert_eq!((total.received, total.received_postal, total.digitized, total.reused, total.completeness_failures), (3, 2, 3, 1, 1));
    assert_eq!(total.certifications, Some(0));
    assert!(other.indicator_rows(0, 1).await.unwrap().is_empty(), "nothing received before the period");
}

mod dossier_records {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        let (_dir, cats) = sqlite_pair().await;
        dossier_records(cats).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        let Some((_dir, cats)) = postgres_pair().await else { return };
        dossier_records(cats).await;
    }
}
