-- Full-text search over documents' OCR text (see src/catalog/search.rs). Same logical
-- schema as ../sqlite/0003_search.sql: `documents.search_folded` is the OCR text folded
-- by `search::index_text` (no diacritics, đ -> d, lowercase, words joined by one space),
-- written by the Rust side; `search_version` says which fold wrote it (0: not yet, the
-- catalog backfills such rows when it opens).
ALTER TABLE documents ADD COLUMN search_folded TEXT NOT NULL DEFAULT '';
ALTER TABLE documents ADD COLUMN search_version BIGINT NOT NULL DEFAULT 0;
CREATE INDEX documents_search_version ON documents (search_version);
CREATE INDEX documents_created ON documents (created_at);
CREATE INDEX documents_type ON documents (doc_type, created_at);
-- Queries must use exactly this expression to use the index.
CREATE INDEX documents_search ON documents USING GIN (to_tsvector('simple', search_folded));
