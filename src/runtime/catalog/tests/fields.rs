//! Document fields in the catalog on both backends (issue #24): the fields of a report
//! come back as written (batch report, document by id), `--field` filters match folded
//! values, combine with AND and with the other filters, and a batch completed again
//! leaves no stale field rows.

use super::{STALE, document, new_batch, postgres_pair, small_report, sqlite_pair};
use crate::model::{BatchReport, DocumentFields, DossierReport};
use crate::runtime::catalog::{Catalog, SearchQuery};

const CODE: &str = "000.00.15.H40-250301-0001";

fn fields(n: usize) -> DocumentFields {
    DocumentFields {
        so_ky_hieu: Some(format!("{n}/QĐ-SNV")),
        ngay: Some("2025-03-14".into()),
        loai: Some("QĐ".into()),
        co_quan: Some("SỞ NỘI VỤ".into()),
        co_quan_chu_quan: Some("UBND TỈNH BÌNH ĐỊNH".into()),
        trich_yeu: Some(format!("Về việc tiếp nhận hồ sơ số {n}")),
        nguoi_ky: Some("Nguyễn Văn An".into()),
        chuc_vu: Some("GIÁM ĐỐC".into()),
        tham_quyen: None,
        cccd: vec![format!("05219012345{n}"), "001203004567".into()],
    }
}

/// Batch `n`: d1 and d2 with fields 1 and 2, d3 with none.
fn report(n: usize) -> BatchReport {
    let b = new_batch(n);
    let mut report = small_report(&b.id, &b.source);
    let mut docs = Vec::new();
    for i in 1..=3 {
        let mut d = document(n, i, vec![i - 1]);
        d.id = format!("f{n}-d{i}").into();
        if i < 3 {
            d.fields = fields(i);
        }
        docs.push(d);
    }
    report.dossiers.push(DossierReport { code: Some(CODE.into()), documents: docs, ..Default::default() });
    report
}

async fn ids(cat: &Catalog, filters: &[&str]) -> Vec<String> {
    let q = SearchQuery { fields: filters.iter().map(|s| s.to_string()).collect(), ..Default::default() };
    let mut v: Vec<String> = cat.search_documents(&q).await.unwrap_or_else(|e| panic!("{filters:?}: {e}")).into_iter().map(|h| h.document_id).collect();
    v.sort();
    v
}

async fn fields_scenario(cats: [Catalog; 2]) {
    let [cat, other] = cats;
    let r = report(1);
    cat.create_batch(&new_batch(1)).await.unwrap();
    let job = cat.claim_job("w", STALE).await.unwrap().unwrap();
    cat.complete_job(&job.id, "w", &r).await.unwrap();

    // Read back exactly, from another handle.
    assert_eq!(other.batch_report("batch-001").await.unwrap().unwrap(), r);
    let d1 = other.find_document("f1-d1").await.unwrap().unwrap();
    assert_eq!(d1.fields, fields(1));
    assert_eq!(other.document_record("f1-d3").await.unwrap().unwrap().document.fields, DocumentFields::default());
    assert_eq!(other.list_documents().await.unwrap().iter().filter(|d| !d.fields.is_empty()).count(), 2);

    // Filters: exact folded values, AND, with other filters.
    assert_eq!(ids(&other, &["so_ky_hieu=1/QĐ-SNV"]).await, ["f1-d1"]);
    assert_eq!(ids(&other, &["so_ky_hieu=1/qd-snv"]).await, ["f1-d1"], "folded");
    assert_eq!(ids(&other, &["so_ky_hieu=1/QĐ"]).await, Vec::<String>::new(), "whole value");
    assert_eq!(ids(&other, &["co_quan=so noi vu"]).await, ["f1-d1", "f1-d2"]);
    assert_eq!(ids(&other, &["co_quan=Sở Nội vụ", "trich_yeu=về việc tiếp nhận hồ sơ số 2"]).await, ["f1-d2"]);
    assert_eq!(ids(&other, &["cccd=001203004567"]).await, ["f1-d1", "f1-d2"], "every CCCD number is a value");
    assert_eq!(ids(&other, &["cccd=052190123452"]).await, ["f1-d2"]);
    assert_eq!(ids(&other, &["loai=QĐ", "nguoi_ky=nguyen van an", "ngay=2025-03-14"]).await, ["f1-d1", "f1-d2"]);
    assert_eq!(ids(&other, &["loai=TB"]).await, Vec::<String>::new());
    let with_dossier = SearchQuery { dossier: Some("other".into()), fields: vec!["loai=QĐ".into()], ..Default::default() };
    assert!(other.search_documents(&with_dossier).await.unwrap().is_empty());
    let bad = SearchQuery { fields: vec!["title=x".into()], ..Default::default() };
    assert_eq!(other.search_documents(&bad).await.unwrap_err().code(), "catalog-invalid");

    // Completed again with other fields: the old rows are gone.
    let mut again = report(1);
    again.dossiers[0].documents[0].fields.so_ky_hieu = Some("99/QĐ-SNV".into());
    let mut tx = cat.begin_write().await.unwrap();
    cat.write_report(&mut tx, &again, 1).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(ids(&other, &["so_ky_hieu=1/QĐ-SNV"]).await, Vec::<String>::new());
    assert_eq!(ids(&other, &["so_ky_hieu=99/QĐ-SNV"]).await, ["f1-d1"]);
    assert_eq!(ids(&other, &["cccd=001203004567"]).await, ["f1-d1", "f1-d2"], "no duplicate rows");
}

on_both_backends!(fields_scenario);
