-- Records an agency can reuse (issue #24): the completeness check of each dossier, the
-- electronic results of a dossier, the citizen a document belongs to, and the documents
-- of earlier dossiers attached to a new one. Same logical schema as
-- ../sqlite/0008_dossier_records.sql.

-- The procedure a dossier was checked against (cover `HS:<code>|<procedure>`, else its
-- agency's default), the citizen ID its cover names, whether every required component
-- was found (1, 0, NULL: not checked) and the missing ones (JSON list of type codes).
ALTER TABLE dossiers ADD COLUMN procedure TEXT;
ALTER TABLE dossiers ADD COLUMN citizen_id TEXT;
ALTER TABLE dossiers ADD COLUMN complete BIGINT;
ALTER TABLE dossiers ADD COLUMN missing_json TEXT NOT NULL DEFAULT '[]';
CREATE INDEX dossiers_complete ON dossiers (complete, batch_id);

-- Electronic results of a dossier (Decree 45/2020 Art. 14.3): `<dossier code>-KQ<n>`,
-- n = 1, 2, 3, … per dossier code without gaps.
CREATE TABLE dossier_results (
    id           TEXT PRIMARY KEY NOT NULL,
    dossier_code TEXT NOT NULL,
    n            BIGINT NOT NULL,
    file_name    TEXT NOT NULL,
    object_key   TEXT NOT NULL,
    blake3       TEXT NOT NULL,
    bytes        BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    UNIQUE (dossier_code, n)
);

-- Which citizen a stored document belongs to: from the dossier cover (`cover`), a clerk's
-- declaration (`declared`) or the document's own CCCD field (`field`). The reuse lookup
-- reads this table.
CREATE TABLE citizen_documents (
    citizen_id  TEXT NOT NULL,
    document_id TEXT NOT NULL,
    source      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (citizen_id, document_id)
);
CREATE INDEX citizen_documents_document ON citizen_documents (document_id);

-- A document of an earlier dossier served as a component of another dossier instead of
-- the paper (Decision 766/QĐ-TTg indicator 4.3).
CREATE TABLE reuse_attachments (
    dossier_code TEXT NOT NULL,
    document_id  TEXT NOT NULL,
    citizen_id   TEXT,
    doc_type     TEXT,
    actor        TEXT NOT NULL,
    at           BIGINT NOT NULL,
    PRIMARY KEY (dossier_code, document_id)
);
CREATE INDEX reuse_attachments_at ON reuse_attachments (at);
