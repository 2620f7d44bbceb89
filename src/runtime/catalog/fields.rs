//! Document fields in the catalog (issue #24): each document's [`DocumentFields`] as JSON
//! in `documents.fields_json`, and one `document_fields` row per value (per CCCD number)
//! for `sohoa search --field NAME=VALUE`, matched on the folded value ([`fold_value`]).
//!
//! Invariant: a document's rows are written in the transaction that writes the document
//! (`Catalog::write_report`), after the batch's earlier rows are deleted, so the rows and
//! the JSON always say the same thing. Migration `0009_document_fields`.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Catalog, CatalogError, WriteTx, to_json};
use crate::model::{DocumentFields, DocumentReport, fold_vietnamese};

/// The form a field value is matched on: folded, whitespace runs as one space, trimmed.
pub fn fold_value(v: &str) -> String {
    fold_vietnamese(v).split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Parses `NAME=VALUE` of `--field` (and the API's `field=`): a known field name, a value
/// that is not empty. Returns the name and the folded value.
pub fn parse_field_filter(s: &str) -> Result<(String, String), String> {
    let Some((name, value)) = s.split_once('=') else {
        return Err(format!("field filter {s:?} is not NAME=VALUE"));
    };
    let name = name.trim();
    if !DocumentFields::NAMES.contains(&name) {
        return Err(format!("unknown field {name:?}; fields are {}", DocumentFields::NAMES.join(", ")));
    }
    let value = fold_value(value);
    if value.is_empty() {
        return Err(format!("field filter {s:?} has an empty value"));
    }
    Ok((name.to_string(), value))
}

/// The fields of a document row that selected `d.fields_json` (default when it did not).
pub(crate) fn fields_from_row(row: &AnyRow) -> Result<DocumentFields, CatalogError> {
    match row.try_get::<String, _>("fields_json") {
        Ok(json) => serde_json::from_str(&json).map_err(|e| CatalogError::Corrupt(format!("documents.fields_json: {e}"))),
        Err(sqlx::Error::ColumnNotFound(_)) => Ok(DocumentFields::default()),
        Err(e) => Err(e.into()),
    }
}

impl Catalog {
    /// Deletes the field rows of a batch (before its report is written again).
    pub(crate) async fn delete_fields(&self, tx: &mut WriteTx, batch_id: &str) -> Result<(), CatalogError> {
        sqlx::query("DELETE FROM document_fields WHERE batch_id = $1").bind(batch_id).execute(&mut **tx).await?;
        Ok(())
    }

    /// Writes a document's fields (its row already inserted).
    pub(crate) async fn write_fields(&self, tx: &mut WriteTx, batch_id: &str, doc: &DocumentReport) -> Result<(), CatalogError> {
        sqlx::query("UPDATE documents SET fields_json = $1 WHERE id = $2").bind(to_json(&doc.fields)?).bind(doc.id.as_str()).execute(&mut **tx).await?;
        let mut seq: std::collections::HashMap<&str, i64> = std::collections::HashMap::new();
        for (name, value) in doc.fields.pairs() {
            let n = seq.entry(name).or_insert(0);
            sqlx::query("INSERT INTO document_fields (document_id, batch_id, name, seq, value, value_folded) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(doc.id.as_str())
                .bind(batch_id)
                .bind(name)
                .bind(*n)
                .bind(value)
                .bind(fold_value(value))
                .execute(&mut **tx)
                .await?;
            *n += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_filters_are_known_names_with_folded_values() {
        assert_eq!(parse_field_filter("so_ky_hieu=1234/UBND-VX").unwrap(), ("so_ky_hieu".into(), "1234/ubnd-vx".into()));
        assert_eq!(parse_field_filter("co_quan= Sở  Nội vụ ").unwrap(), ("co_quan".into(), "so noi vu".into()));
        assert_eq!(parse_field_filter("loai=QĐ").unwrap().1, "qd");
        assert!(parse_field_filter("so_ky_hieu").is_err());
        assert!(parse_field_filter("so_ky_hieu= ").is_err());
        assert!(parse_field_filter("title=x").unwrap_err().contains("unknown field"));
    }
}
