//! Search over the catalog: documents found by full text of their OCR, dossier code,
//! document type and citizen ID (the 12-digit CCCD number, as a word of the text), on both
//! backends with the same semantics.
//!
//! Owns the Vietnamese fold and the search index. The fold ([`fold_vietnamese`]: Unicode
//! NFD, combining marks dropped, đ/Đ -> d, lowercase) is applied to the text when it is
//! indexed and to every query, so "ho so", "Hồ sơ" and "HỒ SƠ" find the same documents
//! whatever the normalisation (NFC or NFD) of either side. [`index_text`] turns a
//! document's OCR text into its folded words joined by single spaces (a word is a run of
//! letters and digits), stored in `documents.search_folded` with the fold's
//! [`FOLD_VERSION`] in `documents.search_version`:
//! - SQLite: a contentless FTS5 table `documents_fts` over that column, kept in sync by
//!   triggers on `documents` (migration `0003_search.sql`), ranked by `bm25`;
//! - PostgreSQL: a GIN index on `to_tsvector('simple', search_folded)`, queried with a
//!   `to_tsquery('simple', …)` built from the folded words, ranked by `ts_rank`.
//!
//! Invariants: every document row is in the index exactly once, with its current folded
//! text (re-completing a batch deletes and re-inserts its rows, and the index with them);
//! all query words must appear as words of the text (AND), a word written `nghi*` matches
//! as a prefix; filters combine with AND. Rows written before the index existed (or by an
//! older fold) are folded when the catalog opens ([`Catalog::backfill_search`]).
//! Only the first [`MAX_INDEXED_BYTES`] of a document's folded text are indexed, which keeps
//! a PostgreSQL tsvector below its 1 MB limit (so indexing can never fail a batch).
//!
//! Called by `Catalog::write_report` (the folded text of each document), `Catalog::open`
//! (backfill), and the CLI / API (`search_documents`).

use std::ops::Range;

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;
use unicode_normalization::char::is_combining_mark;

pub use crate::model::fold_vietnamese;
use crate::model::push_folded;

use super::{Backend, Catalog, CatalogError, from_i64};

/// Version of [`index_text`]; rows with a lower `search_version` are folded again when
/// the catalog opens. Bump it when the fold or the word split changes.
pub const FOLD_VERSION: i64 = 1;

/// Bytes of folded text indexed per document (about 80 pages of dense text).
pub const MAX_INDEXED_BYTES: usize = 256 * 1024;

/// Hits returned when the query does not say.
pub const DEFAULT_LIMIT: usize = 20;
/// Most hits one query may ask for.
pub const MAX_LIMIT: usize = 1000;

/// Length of a hit's snippet, in characters (without the ellipses).
pub const SNIPPET_CHARS: usize = 160;
/// How many characters of context a snippet shows before the first matching word.
const SNIPPET_BEFORE: usize = 50;

/// Rows folded per transaction by the backfill.
const BACKFILL_CHUNK: i64 = 200;
/// The rows left to fold. No ORDER BY: SQLite would then walk the primary key instead of
/// the `documents_search_version` index, a full scan at every open.
pub(crate) const BACKFILL_SELECT: &str = "SELECT id, ocr_text FROM documents WHERE search_version < $1 LIMIT $2";

/// Longest query word, in bytes (PostgreSQL refuses a tsquery word of 2 KiB).
pub const MAX_WORD_BYTES: usize = 256;

/// The words of `text`, each with its byte range in `text` and its folded form. A word is
/// a maximal run of alphanumeric characters and combining marks; words that fold to
/// nothing are skipped.
pub(crate) fn words(text: &str) -> Vec<(Range<usize>, String)> {
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (i, c) in text.char_indices() {
        if c.is_alphanumeric() || is_combining_mark(c) {
            let (_, folded) = current.get_or_insert_with(|| (i, String::new()));
            push_folded(c, folded);
        } else if let Some((start, folded)) = current.take()
            && !folded.is_empty()
        {
            out.push((start..i, folded));
        }
    }
    if let Some((start, folded)) = current
        && !folded.is_empty()
    {
        out.push((start..text.len(), folded));
    }
    out
}

/// What the index holds for a document's OCR text: its folded words joined by single
/// spaces, at most [`MAX_INDEXED_BYTES`] (cut between words).
pub fn index_text(ocr_text: &str) -> String {
    let mut out = String::new();
    for (_, w) in words(ocr_text) {
        let extra = w.len() + usize::from(!out.is_empty());
        if out.len() + extra > MAX_INDEXED_BYTES {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&w);
    }
    out
}

/// True for a CCCD (citizen identity card) number: exactly 12 ASCII digits.
pub fn is_citizen_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// What to look for. Every given part must match (AND); at least one must be given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchQuery {
    /// Words that must all appear in the OCR text, with or without diacritics, any case;
    /// `word*` matches words starting with `word`.
    pub text: Option<String>,
    /// Exact dossier code (`000.00.15.H40-250301-0007`).
    pub dossier: Option<String>,
    /// Exact document type code (`DON`, `CCCD`, …).
    pub doc_type: Option<String>,
    /// A 12-digit CCCD number that must appear as a word of the OCR text.
    pub citizen_id: Option<String>,
    /// At most this many hits (default [`DEFAULT_LIMIT`], at most [`MAX_LIMIT`]).
    pub limit: Option<usize>,
    /// Document fields that must match (`NAME=VALUE`, see [`super::parse_field_filter`]):
    /// the value compared folded and whole.
    pub fields: Vec<String>,
    /// Only documents of dossiers whose code begins with this (the scope of an agency's
    /// token, `000.00.15.H40-`); a restriction, not something to search for.
    pub dossier_prefix: Option<String>,
}

/// One word a document's text must contain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Term {
    /// Folded; letters and digits only.
    pub word: String,
    /// Matches any word starting with `word`.
    pub prefix: bool,
}

impl Term {
    fn matches(&self, folded_word: &str) -> bool {
        if self.prefix { folded_word.starts_with(&self.word) } else { folded_word == self.word }
    }
}

/// A validated [`SearchQuery`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SearchPlan {
    /// Full-text terms (query words, then the citizen ID); empty: filters only.
    pub terms: Vec<Term>,
    pub dossier: Option<String>,
    pub doc_type: Option<String>,
    pub dossier_prefix: Option<String>,
    /// (field name, folded value) pairs that must all match.
    pub fields: Vec<(String, String)>,
    pub limit: i64,
}

/// The query words of `text`: folded, deduplicated, `word*` marked as a prefix.
pub(crate) fn query_terms(text: &str) -> Vec<Term> {
    let mut terms: Vec<Term> = Vec::new();
    for (range, word) in words(text) {
        let prefix = text[range.end..].starts_with('*');
        let term = Term { word, prefix };
        // An exact term is implied by the same word as a prefix, and the other way round
        // keeps the stricter one.
        if let Some(same) = terms.iter_mut().find(|t| t.word == term.word) {
            same.prefix &= term.prefix;
        } else {
            terms.push(term);
        }
    }
    terms
}

fn non_empty(value: &Option<String>, what: &str) -> Result<Option<String>, String> {
    match value.as_deref().map(str::trim) {
        None => Ok(None),
        Some("") => Err(format!("{what} is empty")),
        Some(v) => Ok(Some(v.to_string())),
    }
}

impl SearchQuery {
    /// Checks the query: something to look for, a valid citizen ID, a limit in range.
    pub fn validate(&self) -> Result<(), CatalogError> {
        self.plan().map(|_| ()).map_err(CatalogError::Invalid)
    }

    pub(crate) fn plan(&self) -> Result<SearchPlan, String> {
        let mut terms = Vec::new();
        if let Some(text) = self.text.as_deref() {
            terms = query_terms(text);
            if terms.is_empty() {
                return Err(format!("the query {text:?} has no words to search for (letters or digits)"));
            }
            if let Some(t) = terms.iter().find(|t| t.word.len() > MAX_WORD_BYTES) {
                return Err(format!("the query word {:?}… is longer than {MAX_WORD_BYTES} bytes", t.word.chars().take(20).collect::<String>()));
            }
        }
        if let Some(id) = non_empty(&self.citizen_id, "the citizen ID")? {
            if !is_citizen_id(&id) {
                return Err(format!("citizen ID {id:?} is not a CCCD number (exactly 12 digits)"));
            }
            if !terms.iter().any(|t| t.word == id && !t.prefix) {
                terms.retain(|t| t.word != id);
                terms.push(Term { word: id, prefix: false });
            }
        }
        let dossier = non_empty(&self.dossier, "the dossier code")?;
        let doc_type = non_empty(&self.doc_type, "the document type")?;
        let fields = self.fields.iter().map(|f| super::parse_field_filter(f)).collect::<Result<Vec<_>, _>>()?;
        if terms.is_empty() && dossier.is_none() && doc_type.is_none() && fields.is_empty() {
            return Err("nothing to search for: give words, a dossier code, a document type, a citizen ID or a field".into());
        }
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(format!("limit {limit} is not in 1..={MAX_LIMIT}"));
        }
        Ok(SearchPlan { terms, dossier, doc_type, dossier_prefix: self.dossier_prefix.clone(), fields, limit: limit as i64 })
    }
}

/// One document found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchHit {
    pub document_id: String,
    #[serde(rename = "type")]
    pub doc_type: Option<String>,
    /// Code of the document's dossier (None when its cover sheet had none).
    pub dossier: Option<String>,
    pub batch_id: String,
    pub blake3: String,
    pub object_key: String,
    pub page_count: usize,
    /// About [`SNIPPET_CHARS`] characters of the OCR text, as recognised (diacritics
    /// kept), around the first matching word; the start of the text without words.
    pub snippet: String,
    /// Relevance for full-text queries (higher is better; `bm25` on SQLite, `ts_rank` on
    /// PostgreSQL, so not comparable across backends); None for filter-only queries.
    pub score: Option<f64>,
}

/// A snippet of `text` around the first word matching one of `terms`: whitespace runs
/// collapsed, cut at word boundaries, "…" where text was left out.
pub(crate) fn snippet(text: &str, terms: &[Term]) -> String {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let hit = words(text).into_iter().find(|(_, w)| terms.iter().any(|t| t.matches(w))).map(|(r, _)| r);
    let char_at = |byte: usize| chars.partition_point(|&(b, _)| b < byte);
    let (hit_start, hit_end) = match &hit {
        Some(r) => (char_at(r.start), char_at(r.end)),
        None => (0, 0),
    };
    let n = chars.len();
    let mut start = hit_start.saturating_sub(SNIPPET_BEFORE);
    let mut end = (start + SNIPPET_CHARS).min(n);
    if end == n {
        start = n.saturating_sub(SNIPPET_CHARS).min(start);
    }
    // Whole words only: move the cuts to whitespace, never past the hit (a cut inside a
    // word longer than the window stays where it is).
    let is_space = |i: usize| chars[i].1.is_whitespace();
    if start > 0 && !is_space(start - 1) {
        while start < hit_start && !is_space(start) {
            start += 1;
        }
    }
    if end < n && !is_space(end) {
        let floor = hit_end.max(start);
        let mut e = end;
        while e > floor && !is_space(e - 1) {
            e -= 1;
        }
        if e > start {
            end = e;
        }
    }
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    let mut space = false;
    for &(_, c) in &chars[start..end] {
        if c.is_whitespace() {
            space = true;
            continue;
        }
        if space && !out.is_empty() && out != "…" {
            out.push(' ');
        }
        space = false;
        out.push(c);
    }
    if end < n && chars[end..].iter().any(|(_, c)| !c.is_whitespace()) {
        out.push('…');
    }
    out
}

/// The FTS5 MATCH expression for `terms`: each a quoted phrase (implicit AND), `*` for
/// prefixes. Terms are letters and digits only, so nothing needs escaping.
fn fts5_match(terms: &[Term]) -> String {
    terms.iter().map(|t| format!("\"{}\"{}", t.word, if t.prefix { "*" } else { "" })).collect::<Vec<_>>().join(" ")
}

/// The `to_tsquery` text for `terms`: AND of the words, `:*` for prefixes.
fn tsquery(terms: &[Term]) -> String {
    terms.iter().map(|t| format!("{}{}", t.word, if t.prefix { ":*" } else { "" })).collect::<Vec<_>>().join(" & ")
}

/// Columns of every search query, in the order [`hit_from_row`] reads them.
const HIT_COLUMNS: &str = "d.id, d.doc_type, s.code, d.batch_id, d.blake3, d.object_key, d.page_count, d.ocr_text";

/// A document's dossier. The condition on `batch_id` is always true; it lets a dossier
/// code reach its documents through the `documents_batch` index.
const JOIN_DOSSIER: &str = "JOIN dossiers s ON s.id = d.dossier_id AND s.batch_id = d.batch_id";

/// Ties (and filter-only queries): newest first, then in batch order.
const NEWEST_FIRST: &str = "d.created_at DESC, d.batch_id DESC, s.seq, d.seq";

fn hit_from_row(row: &AnyRow, terms: &[Term], scored: bool) -> Result<SearchHit, CatalogError> {
    let text: String = row.try_get(7)?;
    Ok(SearchHit {
        document_id: row.try_get(0)?,
        doc_type: row.try_get(1)?,
        dossier: row.try_get(2)?,
        batch_id: row.try_get(3)?,
        blake3: row.try_get(4)?,
        object_key: row.try_get(5)?,
        page_count: from_i64(row.try_get(6)?, "documents.page_count")?,
        snippet: snippet(&text, terms),
        score: if scored { Some(row.try_get(8)?) } else { None },
    })
}

/// The SQL of a search and its text parameters (`$1`…); the limit is the last
/// parameter, after them.
pub(crate) fn search_sql(backend: Backend, plan: &SearchPlan) -> (String, Vec<String>) {
    let mut binds: Vec<String> = Vec::new();
    let mut conditions: Vec<String> = Vec::new();
    let scored = !plan.terms.is_empty();
    let mut sql = if !scored {
        format!("SELECT {HIT_COLUMNS} FROM documents d {JOIN_DOSSIER}")
    } else {
        match backend {
            Backend::Sqlite => {
                binds.push(fts5_match(&plan.terms));
                conditions.push("documents_fts MATCH $1".into());
                format!(
                    "SELECT {HIT_COLUMNS}, -bm25(documents_fts) AS score FROM documents_fts
                     JOIN document_fts_ids m ON m.fts_rowid = documents_fts.rowid
                     JOIN documents d ON d.id = m.document_id {JOIN_DOSSIER}"
                )
            }
            Backend::Postgres => {
                binds.push(tsquery(&plan.terms));
                // The expression of the GIN index `documents_search`, exactly.
                conditions.push("to_tsvector('simple', d.search_folded) @@ to_tsquery('simple', $1)".into());
                format!(
                    "SELECT {HIT_COLUMNS},
                            CAST(ts_rank(to_tsvector('simple', d.search_folded), to_tsquery('simple', $1)) AS DOUBLE PRECISION) AS score
                     FROM documents d {JOIN_DOSSIER}"
                )
            }
        }
    };
    if let Some(code) = &plan.dossier {
        binds.push(code.clone());
        conditions.push(format!("s.code = ${}", binds.len()));
    }
    if let Some(ty) = &plan.doc_type {
        binds.push(ty.clone());
        conditions.push(format!("d.doc_type = ${}", binds.len()));
    }
    for (name, value) in &plan.fields {
        binds.push(name.clone());
        binds.push(value.clone());
        conditions.push(format!(
            "EXISTS (SELECT 1 FROM document_fields f WHERE f.document_id = d.id AND f.name = ${} AND f.value_folded = ${})",
            binds.len() - 1,
            binds.len()
        ));
    }
    if let Some(prefix) = &plan.dossier_prefix {
        // substr, not LIKE: SQLite's LIKE ignores ASCII case, and a prefix is exact.
        binds.push(prefix.clone());
        conditions.push(format!("substr(s.code, 1, {}) = ${}", prefix.chars().count(), binds.len()));
    }
    if !conditions.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&conditions.join(" AND "));
    }
    sql.push_str(" ORDER BY ");
    if scored {
        sql.push_str("score DESC, ");
    }
    sql.push_str(NEWEST_FIRST);
    sql.push_str(&format!(" LIMIT ${}", binds.len() + 1));
    (sql, binds)
}

impl Catalog {
    /// Documents matching `query` (see [`SearchQuery`]): by relevance for full-text
    /// queries, newest first otherwise, at most `query.limit`.
    pub async fn search_documents(&self, query: &SearchQuery) -> Result<Vec<SearchHit>, CatalogError> {
        let plan = query.plan().map_err(CatalogError::Invalid)?;
        let (sql, binds) = search_sql(self.backend, &plan);
        let scored = !plan.terms.is_empty();
        let mut q = sqlx::query(&sql);
        for b in &binds {
            q = q.bind(b);
        }
        q.bind(plan.limit).fetch_all(&self.pool).await?.iter().map(|row| hit_from_row(row, &plan.terms, scored)).collect()
    }

    /// Folds the text of documents recorded before the search index existed, or by an
    /// older fold ([`FOLD_VERSION`]); returns how many. Cheap when there are none (an
    /// indexed lookup), so it runs whenever the catalog opens. Safe to run from several
    /// processes at once: a row is only updated while its version is old.
    pub(crate) async fn backfill_search(&self) -> Result<u64, CatalogError> {
        let mut done = 0u64;
        loop {
            let rows = sqlx::query(BACKFILL_SELECT).bind(FOLD_VERSION).bind(BACKFILL_CHUNK).fetch_all(&self.pool).await?;
            if rows.is_empty() {
                break;
            }
            let mut tx = self.begin_write().await?;
            let mut updated = 0;
            for row in &rows {
                let id: String = row.try_get(0)?;
                let text: String = row.try_get(1)?;
                updated += sqlx::query(
                    "UPDATE documents SET search_folded = $1, search_version = $2
                     WHERE id = $3 AND search_version < $2",
                )
                .bind(index_text(&text))
                .bind(FOLD_VERSION)
                .bind(&id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            }
            tx.commit().await?;
            done += updated;
        }
        if done > 0 {
            tracing::info!(documents = done, "Search index backfilled");
        }
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use unicode_normalization::UnicodeNormalization;

    #[test]
    fn folds_vietnamese() {
        assert_eq!(fold_vietnamese("Hồ sơ"), "ho so");
        assert_eq!(fold_vietnamese("ĐƠN ĐỀ NGHỊ"), "don de nghi");
        assert_eq!(fold_vietnamese("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"), "cong hoa xa hoi chu nghia viet nam");
        assert_eq!(fold_vietnamese("Độc lập - Tự do - Hạnh phúc"), "doc lap - tu do - hanh phuc");
        assert_eq!(fold_vietnamese("Số: 123/QĐ-UBND"), "so: 123/qd-ubnd");
        assert_eq!(fold_vietnamese("ưƯơƠăĂâÂêÊôÔ"), "uuooaaaaeeoo");
        assert_eq!(fold_vietnamese(""), "");
    }

    #[test]
    fn nfc_and_nfd_fold_the_same() {
        let samples = ["Hồ sơ thủ tục hành chính", "ĐƠN ĐỀ NGHỊ CẤP GIẤY CHỨNG NHẬN", "Nguyễn Thị Phượng, phường Bến Nghé"];
        for s in samples {
            let nfc: String = s.nfc().collect();
            let nfd: String = s.nfd().collect();
            assert_ne!(nfc, nfd, "{s} has marks");
            assert_eq!(fold_vietnamese(&nfc), fold_vietnamese(&nfd));
            assert_eq!(index_text(&nfc), index_text(&nfd));
        }
    }

    #[test]
    fn words_split_on_punctuation_and_keep_ranges() {
        let text = "Số: 123/QĐ-UBND, CCCD 001203004567.";
        let w = words(text);
        let folded: Vec<&str> = w.iter().map(|(_, f)| f.as_str()).collect();
        assert_eq!(folded, ["so", "123", "qd", "ubnd", "cccd", "001203004567"]);
        assert_eq!(&text[w[0].0.clone()], "Số");
        assert_eq!(&text[w[2].0.clone()], "QĐ");
        // NFD input: the marks stay inside the word.
        let nfd: String = "Hồ sơ".nfd().collect();
        let w = words(&nfd);
        assert_eq!(w.len(), 2);
        assert_eq!(&nfd[w[0].0.clone()], "Hồ".nfd().collect::<String>());
        assert_eq!(index_text("  Hồ\n\tsơ -- "), "ho so");
        assert_eq!(index_text("---"), "");
    }

    #[test]
    fn index_text_is_capped_between_words() {
        let long = "nghị ".repeat(MAX_INDEXED_BYTES);
        let folded = index_text(&long);
        assert!(folded.len() <= MAX_INDEXED_BYTES);
        assert!(folded.len() > MAX_INDEXED_BYTES - 6);
        assert!(folded.split(' ').all(|w| w == "nghi"));
    }

    #[test]
    fn query_terms_fold_dedupe_and_mark_prefixes() {
        let t = query_terms("Hồ SƠ ho nghi* \"cấp\"");
        assert_eq!(
            t,
            vec![
                Term { word: "ho".into(), prefix: false },
                Term { word: "so".into(), prefix: false },
                Term { word: "nghi".into(), prefix: true },
                Term { word: "cap".into(), prefix: false },
            ]
        );
        assert!(!query_terms("nghi* nghi")[0].prefix);
        assert_eq!(fts5_match(&t), "\"ho\" \"so\" \"nghi\"* \"cap\"");
        assert_eq!(tsquery(&t), "ho & so & nghi:* & cap");
    }

    #[test]
    fn plans_validate_the_query() {
        let q = |text: Option<&str>, citizen: Option<&str>| SearchQuery {
            text: text.map(String::from),
            citizen_id: citizen.map(String::from),
            ..Default::default()
        };
        assert!(SearchQuery::default().plan().is_err());
        assert!(q(Some(" -- "), None).plan().is_err());
        assert!(q(None, Some("12345678901")).plan().is_err());
        assert!(q(None, Some("12345678901a")).plan().is_err());
        assert!(q(None, Some("")).plan().is_err());
        assert!(q(Some(&"a".repeat(MAX_WORD_BYTES)), None).plan().is_ok());
        assert!(q(Some(&"a".repeat(MAX_WORD_BYTES + 1)), None).plan().is_err());
        let p = q(Some("hồ sơ"), Some(" 001203004567 ")).plan().unwrap();
        assert_eq!(p.terms.iter().map(|t| t.word.as_str()).collect::<Vec<_>>(), ["ho", "so", "001203004567"]);
        assert_eq!(p.limit, DEFAULT_LIMIT as i64);
        let p = q(Some("001203004567*"), Some("001203004567")).plan().unwrap();
        assert_eq!(p.terms, vec![Term { word: "001203004567".into(), prefix: false }]);
        let only_type = SearchQuery { doc_type: Some("DON".into()), ..Default::default() };
        assert_eq!(only_type.plan().unwrap().terms, vec![]);
        let empty_type = SearchQuery { doc_type: Some(" ".into()), ..Default::default() };
        assert!(empty_type.plan().is_err());
        for (limit, ok) in [(0, false), (1, true), (MAX_LIMIT, true), (MAX_LIMIT + 1, false)] {
            let lq = SearchQuery { limit: Some(limit), ..only_type.clone() };
            assert_eq!(lq.plan().is_ok(), ok, "limit {limit}");
        }
        assert_eq!(SearchQuery::default().validate().unwrap_err().code(), "catalog-invalid");
        assert!(is_citizen_id("001203004567"));
        assert!(!is_citizen_id("００１２０３００４５６７"), "ASCII digits only");
    }

    #[test]
    fn snippets_keep_diacritics_around_the_first_hit() {
        let terms = query_terms("ho so");
        assert_eq!(snippet("Hồ sơ đăng ký", &terms), "Hồ sơ đăng ký");
        let before = "Lorem ipsum dolor sit amet ".repeat(10);
        let after = " consectetur adipiscing elit".repeat(10);
        let text = format!("{before}ĐƠN ĐỀ NGHỊ\n\n cấp   lại{after}");
        let s = snippet(&text, &query_terms("nghi"));
        assert!(s.starts_with('…') && s.ends_with('…'), "{s}");
        assert!(s.contains("ĐƠN ĐỀ NGHỊ cấp lại"), "{s}");
        let body = s.trim_matches('…');
        assert!(body.chars().count() <= SNIPPET_CHARS, "{s}");
        assert!(body.chars().count() >= SNIPPET_CHARS - 30, "{s}");
        // Cut between words: the snippet starts and ends with whole words of the text.
        let first = body.split(' ').next().unwrap();
        let last = body.split(' ').next_back().unwrap();
        assert!(["Lorem", "ipsum", "dolor", "sit", "amet"].contains(&first), "{s}");
        assert!(["consectetur", "adipiscing", "elit"].contains(&last), "{s}");
        // Prefix terms, no hit, empty text.
        assert!(snippet(&text, &query_terms("ngh*")).contains("NGHỊ"));
        let start = snippet(&text, &[]);
        assert!(start.starts_with("Lorem ipsum") && start.ends_with('…'), "{start}");
        assert_eq!(snippet("", &terms), "");
        assert_eq!(snippet("  \n ", &terms), "");
        // Near the end of the text, the window slides back to show SNIPPET_CHARS.
        let s = snippet(&format!("{before}kết thúc"), &query_terms("ket"));
        assert!(s.ends_with("kết thúc") && s.starts_with('…'), "{s}");
        assert!(s.chars().count() > SNIPPET_CHARS - 12, "{s}");
    }
}
