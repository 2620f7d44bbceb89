//! The service's records on both backends: tokens (hash lookup, revocation), batch post
//! offices and listings, and the audit chain under concurrent appends from two handles.

use super::{new_batch, postgres_pair, sqlite_pair};
use crate::runtime::catalog::{AuditAction, Catalog, NewAuditEvent, NewToken};

async fn tokens_batches_and_audit(cats: [Catalog; 2]) {
    let [cat, other] = cats;
    // Tokens: found by hash while valid, listed without secrets, revoked for good.
    let t = NewToken {
        id: "tok_1".into(),
        token_hash: "h1".into(),
        role: "agency".into(),
        agency: Some("000.00.15.H40".into()),
        post_office: None,
        name: Some("Sở TN&MT".into()),
    };
    cat.create_token(&t).await.unwrap();
    let found = other.token_by_hash("h1").await.unwrap().unwrap();
    assert_eq!(
        (found.id.as_str(), found.role.as_str(), found.agency.as_deref(), found.name.as_deref()),
        ("tok_1", "agency", Some("000.00.15.H40"), Some("Sở TN&MT"))
    );
    assert_eq!(other.token_by_hash("h2").await.unwrap(), None);
    assert!(cat.revoke_token("tok_1").await.unwrap());
    assert!(!cat.revoke_token("tok_nope").await.unwrap());
    assert_eq!(other.token_by_hash("h1").await.unwrap(), None);
    let listed = other.list_tokens().await.unwrap();
    assert_eq!(listed.len(), 1);
    let revoked_at = listed[0].revoked_at.unwrap();
    assert!(cat.revoke_token("tok_1").await.unwrap());
    assert_eq!(cat.list_tokens().await.unwrap()[0].revoked_at, Some(revoked_at), "the first revocation time stays");

    // Batches carry their post office; listings filter by it and by state.
    let mut a = new_batch(1);
    a.post_office = Some("700000".into());
    cat.create_batch(&a).await.unwrap();
    cat.create_batch(&new_batch(2)).await.unwrap();
    assert_eq!(other.batch_post_office("batch-001").await.unwrap(), Some(Some("700000".into())));
    assert_eq!(other.batch_post_office("batch-002").await.unwrap(), Some(None));
    assert_eq!(other.batch_post_office("batch-404").await.unwrap(), None);
    let ids = |l: Vec<crate::runtime::catalog::BatchListing>| l.into_iter().map(|b| b.id).collect::<Vec<_>>();
    assert_eq!(ids(other.list_batches(None, Some("700000"), 10).await.unwrap()), ["batch-001"]);
    assert_eq!(ids(other.list_batches(Some("queued"), None, 10).await.unwrap()).len(), 2);
    assert!(other.list_batches(Some("done"), None, 10).await.unwrap().is_empty());
    assert_eq!(other.list_batches(None, None, 1).await.unwrap().len(), 1);

    // The audit chain: appends from two handles at once never share a row.
    let event = |i: usize| NewAuditEvent {
        token_id: format!("tok_{}", i % 3),
        role: "agency".into(),
        document_id: format!("doc_{}", i % 4),
        action: if i.is_multiple_of(2) { AuditAction::Pdf } else { AuditAction::Metadata },
        purpose: i.is_multiple_of(5).then(|| format!("lý do {i}")),
    };
    let mut tasks = Vec::new();
    for i in 0..40 {
        let c = if i % 2 == 0 { cat.clone() } else { other.clone() };
        tasks.push(tokio::spawn(async move { c.append_audit(&event(i)).await.unwrap().seq }));
    }
    let mut seqs = Vec::new();
    for t in tasks {
        seqs.push(t.await.unwrap());
    }
    seqs.sort();
    assert_eq!(seqs, (1..=40).collect::<Vec<i64>>());
    assert_eq!(cat.verify_audit().await.unwrap(), (40, None));
    let doc0 = other.audit_events("doc_0").await.unwrap();
    assert_eq!(doc0.len(), 10);
    assert!(doc0.windows(2).all(|w| w[0].seq < w[1].seq));
    // The table refuses changes on both backends.
    assert!(sqlx::query("UPDATE audit_events SET purpose = 'x' WHERE seq = 1").execute(&cat.pool).await.is_err());
    assert!(sqlx::query("DELETE FROM audit_events WHERE seq = 40").execute(&cat.pool).await.is_err());
    assert_eq!(cat.verify_audit().await.unwrap(), (40, None));
}

mod tokens_batches_and_audit {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        let (_dir, cats) = sqlite_pair().await;
        tokens_batches_and_audit(cats).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        let Some((_dir, cats)) = postgres_pair().await else { return };
        tokens_batches_and_audit(cats).await;
    }
}
