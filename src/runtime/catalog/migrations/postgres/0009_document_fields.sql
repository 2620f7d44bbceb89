-- Header fields read from documents' OCR text (src/stages/fields, issue #24): the whole set
-- as JSON (`DocumentFields`) to read back, and one row per value (one per CCCD number)
-- for `sohoa search --field NAME=VALUE`, matched on the value folded by
-- `model::fold_vietnamese` (no diacritics, đ -> d, lowercase, single spaces).
-- Same logical schema as ../sqlite/0009_document_fields.sql.
ALTER TABLE documents ADD COLUMN fields_json TEXT NOT NULL DEFAULT '{}';
CREATE TABLE document_fields (
    document_id  TEXT NOT NULL,
    batch_id     TEXT NOT NULL,
    name         TEXT NOT NULL,
    seq          BIGINT NOT NULL,
    value        TEXT NOT NULL,
    value_folded TEXT NOT NULL,
    PRIMARY KEY (document_id, name, seq)
);
CREATE INDEX document_fields_value ON document_fields (name, value_folded);
CREATE INDEX document_fields_batch ON document_fields (batch_id);
