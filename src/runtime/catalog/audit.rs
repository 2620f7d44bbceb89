//! The audit chain: every document metadata read, PDF download, reuse, certification and
//! verification, in an append-only table where each row holds the hash of the row before it.
//!
//! Invariants:
//! - rows are numbered 1, 2, 3, … without gaps; row `n` holds `prev_hash` = the `hash` of
//!   row `n-1` (64 zeros for row 1) and `hash` = [`audit_row_hash`] of its own fields;
//! - appends are serialised (the catalog's write lock on SQLite, a table lock on
//!   PostgreSQL), so two appends never chain to the same row;
//! - the database refuses UPDATE and DELETE on the table (triggers); [`Catalog::verify_audit`]
//!   finds a row changed or removed behind the triggers' back: the first row whose hash,
//!   link or number is wrong.
//!
//! These rows are the reuse records the indicators count (a document fetched again
//! instead of asking the citizen for the paper).

use super::{Backend, Catalog, CatalogError};
use sqlx::Row;
use sqlx::any::AnyRow;

/// The `prev_hash` of the first row.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What was done with the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    /// Its metadata was read (`GET /api/v1/documents/{id}`).
    Metadata,
    /// Its PDF was downloaded, whole or a range (`GET /api/v1/documents/{id}/pdf`).
    Pdf,
    /// It was attached to another dossier instead of asking for the paper again
    /// (`sohoa reuse --attach`, `POST /api/v1/reuse`).
    Reuse,
    /// A certified electronic copy was made from it (`sohoa certify`,
    /// `POST /api/v1/documents/{id}/certify`); the purpose names the copy and its book entry.
    Certify,
    /// Its signatures and hashes were checked (`sohoa verify ID`,
    /// `GET /api/v1/documents/{id}/verify`).
    Verify,
}

impl AuditAction {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::Metadata => "metadata",
            AuditAction::Pdf => "pdf",
            AuditAction::Reuse => "reuse",
            AuditAction::Certify => "certify",
            AuditAction::Verify => "verify",
        }
    }
}

/// An event to append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuditEvent {
    pub token_id: String,
    pub role: String,
    pub document_id: String,
    pub action: AuditAction,
    /// Why, as the caller said (`?purpose=`).
    pub purpose: Option<String>,
}

/// A recorded event.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditEvent {
    pub seq: i64,
    /// Unix milliseconds.
    pub at: i64,
    pub token_id: String,
    pub role: String,
    pub document_id: String,
    pub action: String,
    pub purpose: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

/// The first row of the chain that does not hold.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditBreak {
    /// The row's number (`seq`), or the number that is missing.
    pub seq: i64,
    pub reason: String,
}

/// The hash a row holds: BLAKE3 of the JSON array of its fields (`seq`, `at`, `token_id`,
/// `role`, `document_id`, `action`, `purpose`, `prev_hash`), hex. JSON keeps each field
/// apart whatever it contains (a purpose with newlines or quotes).
#[allow(clippy::too_many_arguments)] // the row's fields, each named
pub fn audit_row_hash(seq: i64, at: i64, token_id: &str, role: &str, document_id: &str, action: &str, purpose: Option<&str>, prev_hash: &str) -> String {
    let fields = serde_json::json!([seq, at, token_id, role, document_id, action, purpose, prev_hash]);
    blake3::hash(fields.to_string().as_bytes()).to_hex().to_string()
}

impl AuditEvent {
    fn expected_hash(&self) -> String {
        audit_row_hash(self.seq, self.at, &self.token_id, &self.role, &self.document_id, &self.action, self.purpose.as_deref(), &self.prev_hash)
    }
}

const AUDIT_COLUMNS: &str = "seq, at, token_id, role, document_id, action, purpose, prev_hash, hash";

fn event_from_row(row: &AnyRow) -> Result<AuditEvent, CatalogError> {
    Ok(AuditEvent {
        seq: row.try_get(0)?,
        at: row.try_get(1)?,
        token_id: row.try_get(2)?,
        role: row.try_get(3)?,
        document_id: row.try_get(4)?,
        action: row.try_get(5)?,
        purpose: row.try_get(6)?,
        prev_hash: row.try_get(7)?,
        hash: row.try_get(8)?,
    })
}

/// Rows read at a time by [`Catalog::verify_audit`].
const VERIFY_CHUNK: i64 = 1000;

impl Catalog {
    /// Appends an event to the chain; returns it as recorded.
    pub async fn append_audit(&self, e: &NewAuditEvent) -> Result<AuditEvent, CatalogError> {
        let mut tx = self.begin_write().await?;
        if self.backend == Backend::Postgres {
            // Appends wait for each other; reads go on.
            sqlx::query("LOCK TABLE audit_events IN EXCLUSIVE MODE").execute(&mut *tx).await?;
        }
        let last = sqlx::query("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1").fetch_optional(&mut *tx).await?;
        let (seq, prev_hash) = match last {
            Some(row) => (row.try_get::<i64, _>(0)? + 1, row.try_get::<String, _>(1)?),
            None => (1, GENESIS_HASH.to_string()),
        };
        let at = self.now_ms();
        let hash = audit_row_hash(seq, at, &e.token_id, &e.role, &e.document_id, e.action.as_str(), e.purpose.as_deref(), &prev_hash);
        sqlx::query(&format!("INSERT INTO audit_events ({AUDIT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"))
            .bind(seq)
            .bind(at)
            .bind(&e.token_id)
            .bind(&e.role)
            .bind(&e.document_id)
            .bind(e.action.as_str())
            .bind(e.purpose.as_deref())
            .bind(&prev_hash)
            .bind(&hash)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(AuditEvent {
            seq,
            at,
            token_id: e.token_id.clone(),
            role: e.role.clone(),
            document_id: e.document_id.clone(),
            action: e.action.as_str().into(),
            purpose: e.purpose.clone(),
            prev_hash,
            hash,
        })
    }

    /// The events of one document, oldest first.
    pub async fn audit_events(&self, document_id: &str) -> Result<Vec<AuditEvent>, CatalogError> {
        sqlx::query(&format!("SELECT {AUDIT_COLUMNS} FROM audit_events WHERE document_id = $1 ORDER BY seq"))
            .bind(document_id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(event_from_row)
            .collect()
    }

    /// Walks the whole chain: how many rows hold, and the first that does not.
    pub async fn verify_audit(&self) -> Result<(u64, Option<AuditBreak>), CatalogError> {
        let mut prev_hash = GENESIS_HASH.to_string();
        let mut expected_seq = 1i64;
        let mut good = 0u64;
        loop {
            let rows = sqlx::query(&format!("SELECT {AUDIT_COLUMNS} FROM audit_events WHERE seq >= $1 ORDER BY seq LIMIT $2"))
                .bind(expected_seq)
                .bind(VERIFY_CHUNK)
                .fetch_all(&self.pool)
                .await?;
            if rows.is_empty() {
                // Rows numbered below 1 are not part of any chain this code writes.
                let stray: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_events WHERE seq < 1").fetch_one(&self.pool).await?;
                if stray > 0 {
                    return Ok((good, Some(AuditBreak { seq: 0, reason: format!("{stray} row(s) numbered below 1") })));
                }
                return Ok((good, None));
            }
            for row in &rows {
                let e = event_from_row(row)?;
                if let Some(reason) = check_link(&e, expected_seq, &prev_hash) {
                    return Ok((good, Some(AuditBreak { seq: if e.seq != expected_seq { expected_seq } else { e.seq }, reason })));
                }
                prev_hash = e.hash;
                expected_seq += 1;
                good += 1;
            }
        }
    }
}

/// Why row `e` does not continue a chain that expects row `expected_seq` after a row
/// hashed `prev_hash`, if it does not.
fn check_link(e: &AuditEvent, expected_seq: i64, prev_hash: &str) -> Option<String> {
    if e.seq != expected_seq {
        return Some(format!("row {expected_seq} is missing (the next row is {})", e.seq));
    }
    if e.prev_hash != prev_hash {
        return Some(format!("row {} does not hold the hash of row {} (holds {}, row {} hashes to {})", e.seq, e.seq - 1, e.prev_hash, e.seq - 1, prev_hash));
    }
    let want = e.expected_hash();
    if e.hash != want {
        return Some(format!("row {} was changed: its fields hash to {want}, it holds {}", e.seq, e.hash));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<AuditEvent> {
        let mut prev = GENESIS_HASH.to_string();
        (1..=n)
            .map(|seq| {
                let purpose = (seq % 2 == 0).then(|| format!("hồ sơ \"{seq}\"\nline"));
                let hash = audit_row_hash(seq, 1000 + seq, "tok_a", "agency", "doc_x", "pdf", purpose.as_deref(), &prev);
                let e = AuditEvent {
                    seq,
                    at: 1000 + seq,
                    token_id: "tok_a".into(),
                    role: "agency".into(),
                    document_id: "doc_x".into(),
                    action: "pdf".into(),
                    purpose,
                    prev_hash: prev.clone(),
                    hash: hash.clone(),
                };
                prev = hash;
                e
            })
            .collect()
    }

    fn first_break(rows: &[AuditEvent]) -> Option<i64> {
        let (mut prev, mut seq) = (GENESIS_HASH.to_string(), 1);
        for e in rows {
            if check_link(e, seq, &prev).is_some() {
                return Some(seq);
            }
            prev = e.hash.clone();
            seq += 1;
        }
        None
    }

    #[test]
    fn an_intact_chain_holds_and_every_change_is_found_at_its_row() {
        let rows = chain(6);
        assert_eq!(first_break(&rows), None);
        // A field changed.
        let mut changed = rows.clone();
        changed[2].document_id = "doc_y".into();
        assert_eq!(first_break(&changed), Some(3));
        // A purpose changed from none to something.
        let mut changed = rows.clone();
        changed[0].purpose = Some("x".into());
        assert_eq!(first_break(&changed), Some(1));
        // A row changed and rehashed: the next row's link breaks.
        let mut rehashed = rows.clone();
        rehashed[3].role = "admin".into();
        rehashed[3].hash = rehashed[3].expected_hash();
        assert_eq!(first_break(&rehashed), Some(5));
        // A row removed.
        let mut removed = rows.clone();
        removed.remove(1);
        assert_eq!(first_break(&removed), Some(2));
    }

    #[test]
    fn fields_cannot_be_shifted_into_each_other() {
        let a = audit_row_hash(1, 2, "tok", "agency", "doc", "pdf", Some("a\",\"b"), GENESIS_HASH);
        let b = audit_row_hash(1, 2, "tok", "agency", "doc", "pdf", Some("a"), GENESIS_HASH);
        assert_ne!(a, b);
        assert_ne!(
            audit_row_hash(1, 2, "tok", "agency", "doc", "pdf", None, GENESIS_HASH),
            audit_row_hash(1, 2, "tok", "agency", "doc", "pdf", Some(""), GENESIS_HASH)
        );
    }
}
