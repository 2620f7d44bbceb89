//! The certification book on both backends: numbers from 1 per agency and year, a failed
//! certification gives its number back, concurrent certifications from two handles never
//! share or skip a number, and certified copies stay out of their batch's report.

use super::{STALE, full_report, new_batch, postgres_pair, sqlite_pair};
use crate::runtime::catalog::{BookPlace, Catalog, CatalogError, CertifiedDocument};

fn place(agency: &str, year: i32) -> BookPlace {
    BookPlace { agency: agency.into(), year, book: format!("01/{year}-SCT/BS/ĐT"), certifier: "Trần Thị Bình".into() }
}

fn hash(what: &str) -> String {
    blake3::hash(what.as_bytes()).to_hex().to_string()
}

fn copy(n: u32, tag: &str) -> CertifiedDocument {
    CertifiedDocument {
        id: format!("doc_cert_{tag}_{n}"),
        blake3: hash(&format!("b{tag}{n}")),
        sha256: hash(&format!("s{tag}{n}")),
        bytes: 1000 + u64::from(n),
        object_key: format!("documents/00/{}.pdf", hash(&format!("b{tag}{n}"))),
        page_count: 3,
    }
}

async fn certify(cat: &Catalog, original: &str, p: &BookPlace, tag: &str) -> Result<u32, CatalogError> {
    let tag = tag.to_string();
    cat.record_certification(original, p, |n| async move { Ok::<_, CatalogError>(copy(n, &tag)) }).await.map(|e| e.number)
}

async fn numbering(cats: [Catalog; 2]) {
    let [cat, other] = cats;
    let nb = new_batch(3);
    cat.create_batch(&nb).await.unwrap();
    let job = cat.claim_job("w1", STALE).await.unwrap().expect("a job");
    let report = full_report(3);
    cat.complete_job(&job.id, "w1", &report).await.unwrap();
    let original = report.dossiers[0].documents[0].id.to_string();
    let ubnd = place("UBND phường Quy Nhơn", 2026);

    // A certification that fails after taking its number gives the number back.
    let failed = cat.record_certification(&original, &ubnd, |_| async { Err::<CertifiedDocument, _>(CatalogError::Invalid("signing failed".into())) }).await;
    assert!(failed.is_err());
    assert_eq!(certify(&cat, &original, &ubnd, "a").await.unwrap(), 1);
    // No original: refused, and the number is not used.
    assert!(certify(&cat, "doc_missing", &ubnd, "x").await.is_err());

    // Twenty at once from two handles: 2..=21, each once.
    let mut tasks = Vec::new();
    for i in 0..20 {
        let (c, o, p) = (if i % 2 == 0 { cat.clone() } else { other.clone() }, original.clone(), ubnd.clone());
        tasks.push(tokio::spawn(async move { certify(&c, &o, &p, &format!("c{i}")).await.unwrap() }));
    }
    let mut numbers = Vec::new();
    for t in tasks {
        numbers.push(t.await.unwrap());
    }
    numbers.sort();
    assert_eq!(numbers, (2..=21).collect::<Vec<_>>());

    // Another year and another agency start at 1.
    assert_eq!(certify(&other, &original, &place("UBND phường Quy Nhơn", 2027), "y").await.unwrap(), 1);
    assert_eq!(certify(&other, &original, &place("UBND phường Ghềnh Ráng", 2026), "g").await.unwrap(), 1);

    let book = other.certification_book("UBND phường Quy Nhơn", 2026).await.unwrap();
    assert_eq!(book.iter().map(|e| e.number).collect::<Vec<_>>(), (1..=21).collect::<Vec<_>>());
    let first = &book[0];
    assert_eq!((first.certified_from.as_str(), first.book.as_str(), first.document_id.as_str()), (original.as_str(), "01/2026-SCT/BS/ĐT", "doc_cert_a_1"));
    assert_eq!(cat.certification_of("doc_cert_a_1").await.unwrap().as_ref(), Some(first));
    assert_eq!(cat.certification_of(&original).await.unwrap(), None);

    // The copy is a document of the original's dossier, found by id and by SHA-256, and the
    // batch's report is still exactly the one stored.
    let rec = cat.document_record("doc_cert_a_1").await.unwrap().expect("the copy");
    assert_eq!((rec.batch_id.as_str(), rec.dossier.as_deref(), rec.document.page_count), (nb.id.as_str(), report.dossiers[0].code.as_deref(), 3));
    assert_eq!(cat.documents_with_sha256(&hash("sa1")).await.unwrap(), vec!["doc_cert_a_1".to_string()]);
    assert_eq!(other.batch_report(&nb.id).await.unwrap().as_ref(), Some(&report));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn numbering_sqlite() {
    let (_dir, cats) = sqlite_pair().await;
    numbering(cats).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn numbering_postgres() {
    let Some((_dir, cats)) = postgres_pair().await else { return };
    numbering(cats).await;
}
