-- Full-text search over documents' OCR text (see src/catalog/search.rs). Same logical
-- schema as ../postgres/0003_search.sql: `documents.search_folded` is the OCR text folded
-- by `search::index_text` (no diacritics, đ -> d, lowercase, words joined by one space),
-- written by the Rust side; `search_version` says which fold wrote it (0: not yet, the
-- catalog backfills such rows when it opens).
ALTER TABLE documents ADD COLUMN search_folded TEXT NOT NULL DEFAULT '';
ALTER TABLE documents ADD COLUMN search_version INTEGER NOT NULL DEFAULT 0;
CREATE INDEX documents_search_version ON documents (search_version);
CREATE INDEX documents_created ON documents (created_at);
CREATE INDEX documents_type ON documents (doc_type, created_at);

-- A stable integer key per document for FTS5 (the implicit rowid of `documents` may be
-- renumbered by VACUUM; an INTEGER PRIMARY KEY never is).
CREATE TABLE document_fts_ids (
    fts_rowid   INTEGER PRIMARY KEY,
    document_id TEXT NOT NULL UNIQUE
);

-- Contentless: the text lives once, in documents.search_folded; the triggers below hand
-- FTS5 exactly the values it indexed when a row goes away.
CREATE VIRTUAL TABLE documents_fts USING fts5(
    search_folded,
    content = '',
    tokenize = 'unicode61 remove_diacritics 0'
);

-- Documents recorded before this migration: indexed with empty text until the backfill
-- updates them (through documents_fts_update).
INSERT INTO document_fts_ids (document_id) SELECT id FROM documents ORDER BY rowid;
INSERT INTO documents_fts (rowid, search_folded) SELECT fts_rowid, '' FROM document_fts_ids;

CREATE TRIGGER documents_fts_insert AFTER INSERT ON documents BEGIN
    INSERT INTO document_fts_ids (document_id) VALUES (new.id);
    INSERT INTO documents_fts (rowid, search_folded)
        SELECT fts_rowid, new.search_folded FROM document_fts_ids WHERE document_id = new.id;
END;

CREATE TRIGGER documents_fts_delete AFTER DELETE ON documents BEGIN
    INSERT INTO documents_fts (documents_fts, rowid, search_folded)
        SELECT 'delete', fts_rowid, old.search_folded FROM document_fts_ids WHERE document_id = old.id;
    DELETE FROM document_fts_ids WHERE document_id = old.id;
END;

CREATE TRIGGER documents_fts_update AFTER UPDATE OF search_folded ON documents BEGIN
    INSERT INTO documents_fts (documents_fts, rowid, search_folded)
        SELECT 'delete', fts_rowid, old.search_folded FROM document_fts_ids WHERE document_id = old.id;
    INSERT INTO documents_fts (rowid, search_folded)
        SELECT fts_rowid, new.search_folded FROM document_fts_ids WHERE document_id = new.id;
END;
