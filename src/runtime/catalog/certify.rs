//! The electronic certification book (Circular 01/2020/TT-BTP): one book per certifying
//! agency and year, numbered from 1 with no gap and no repeat, and the certified copies
//! as documents of their original's dossier (`documents.certified_from`).
//!
//! The number is taken by raising the book's counter row inside the write transaction
//! that then stores the copy's rows: `INSERT … ON CONFLICT DO UPDATE … RETURNING` holds
//! the row lock on PostgreSQL until the commit, and `BEGIN IMMEDIATE` holds SQLite's
//! write lock, so concurrent certifications (threads, processes, hosts) take turns, and
//! one that fails before its commit gives its number back. `UNIQUE (agency, year,
//! number)` is the last line of defence.

use super::{Catalog, CatalogError, to_i64};
use sqlx::Row;

/// One line of the book.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CertificationEntry {
    pub document_id: String,
    pub certified_from: String,
    pub agency: String,
    pub year: i32,
    pub number: u32,
    pub book: String,
    pub certifier: String,
    /// Unix milliseconds.
    pub certified_at: i64,
}

/// The stored copy a certification records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertifiedDocument {
    pub id: String,
    pub blake3: String,
    pub sha256: String,
    pub bytes: u64,
    pub object_key: String,
    pub page_count: usize,
}

/// Who certifies, in which book.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookPlace {
    pub agency: String,
    pub year: i32,
    pub book: String,
    pub certifier: String,
}

const ENTRY_COLUMNS: &str = "document_id, certified_from, agency, year, number, book, certifier, certified_at";

fn entry_from_row(row: &sqlx::any::AnyRow) -> Result<CertificationEntry, CatalogError> {
    Ok(CertificationEntry {
        document_id: row.try_get(0)?,
        certified_from: row.try_get(1)?,
        agency: row.try_get(2)?,
        year: super::from_i64(row.try_get(3)?, "certifications.year")?,
        number: super::from_i64(row.try_get(4)?, "certifications.number")?,
        book: row.try_get(5)?,
        certifier: row.try_get(6)?,
        certified_at: row.try_get(7)?,
    })
}

impl Catalog {
    /// Takes the next number of `place`'s book, calls `make` with it (which builds, signs
    /// and stores the copy), and records the copy and the book line, all in one write
    /// transaction: the number is used only if everything succeeds.
    pub async fn record_certification<F, Fut, E>(&self, original_id: &str, place: &BookPlace, make: F) -> Result<CertificationEntry, E>
    where
        F: FnOnce(u32) -> Fut,
        Fut: std::future::Future<Output = Result<CertifiedDocument, E>>,
        E: From<CatalogError>,
    {
        let now = self.now_ms();
        let mut tx = self.begin_write().await?;
        let number: i64 = sqlx::query_scalar(
            "INSERT INTO certification_counters (agency, year, last_number) VALUES ($1, $2, 1)
             ON CONFLICT (agency, year) DO UPDATE SET last_number = certification_counters.last_number + 1
             RETURNING last_number",
        )
        .bind(&place.agency)
        .bind(i64::from(place.year))
        .fetch_one(&mut *tx)
        .await
        .map_err(CatalogError::from)?;
        let number: u32 = super::from_i64(number, "certification_counters.last_number")?;
        // An error here drops `tx`, which rolls back and gives the number back.
        let doc = make(number).await?;
        let inserted = sqlx::query(
            "INSERT INTO documents (id, batch_id, dossier_id, seq, doc_type, source_pages_json, page_count, blake3, sha256, bytes, object_key,
                                    ocr_text, created_at, search_folded, search_version, certified_from)
             SELECT $1, batch_id, dossier_id, seq, doc_type, source_pages_json, $2, $3, $4, $5, $6, ocr_text, $7, search_folded, search_version, id
             FROM documents WHERE id = $8",
        )
        .bind(&doc.id)
        .bind(to_i64(doc.page_count as u64, "page_count")?)
        .bind(&doc.blake3)
        .bind(&doc.sha256)
        .bind(to_i64(doc.bytes, "bytes")?)
        .bind(&doc.object_key)
        .bind(now)
        .bind(original_id)
        .execute(&mut *tx)
        .await
        .map_err(CatalogError::from)?
        .rows_affected();
        if inserted != 1 {
            return Err(CatalogError::Invalid(format!("no document {original_id} to certify")).into());
        }
        let entry = CertificationEntry {
            document_id: doc.id.clone(),
            certified_from: original_id.to_string(),
            agency: place.agency.clone(),
            year: place.year,
            number,
            book: place.book.clone(),
            certifier: place.certifier.clone(),
            certified_at: now,
        };
        sqlx::query(&format!("INSERT INTO certifications ({ENTRY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"))
            .bind(&entry.document_id)
            .bind(&entry.certified_from)
            .bind(&entry.agency)
            .bind(i64::from(entry.year))
            .bind(i64::from(entry.number))
            .bind(&entry.book)
            .bind(&entry.certifier)
            .bind(entry.certified_at)
            .execute(&mut *tx)
            .await
            .map_err(CatalogError::from)?;
        tx.commit().await.map_err(CatalogError::from)?;
        Ok(entry)
    }

    /// The book line of a certified copy, if `document_id` is one.
    pub async fn certification_of(&self, document_id: &str) -> Result<Option<CertificationEntry>, CatalogError> {
        let row =
            sqlx::query(&format!("SELECT {ENTRY_COLUMNS} FROM certifications WHERE document_id = $1")).bind(document_id).fetch_optional(&self.pool).await?;
        row.as_ref().map(entry_from_row).transpose()
    }

    /// One book, in number order.
    pub async fn certification_book(&self, agency: &str, year: i32) -> Result<Vec<CertificationEntry>, CatalogError> {
        sqlx::query(&format!("SELECT {ENTRY_COLUMNS} FROM certifications WHERE agency = $1 AND year = $2 ORDER BY number"))
            .bind(agency)
            .bind(i64::from(year))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(entry_from_row)
            .collect()
    }

    /// The stored documents with this SHA-256 (hex), oldest first.
    pub async fn documents_with_sha256(&self, sha256: &str) -> Result<Vec<String>, CatalogError> {
        let rows = sqlx::query("SELECT id FROM documents WHERE sha256 = $1 ORDER BY created_at, id").bind(sha256).fetch_all(&self.pool).await?;
        rows.iter().map(|r| r.try_get::<String, _>(0).map_err(CatalogError::from)).collect()
    }
}
