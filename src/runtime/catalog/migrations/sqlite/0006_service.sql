-- The service (`sohoa serve`): API tokens, the post office a batch came from, and the
-- audit chain of document reads. Same logical schema as ../postgres/0006_service.sql.

-- The post office a batch was received at (a clerk's token or a hot folder's tag); NULL
-- for batches ingested from the command line.
ALTER TABLE batches ADD COLUMN post_office TEXT;
CREATE INDEX batches_post_office ON batches (post_office, created_at);
CREATE INDEX batches_state ON batches (state, created_at);

-- API tokens: only the BLAKE3 of the secret is kept.
CREATE TABLE api_tokens (
    id          TEXT PRIMARY KEY NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    role        TEXT NOT NULL,
    agency      TEXT,
    post_office TEXT,
    name        TEXT,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);

-- Append-only: every document metadata read and PDF download, each row holding the hash
-- of the row before it (`prev_hash`; 64 zeros for the first) and its own (`hash`, the
-- BLAKE3 of its fields and `prev_hash`, see catalog/audit.rs).
CREATE TABLE audit_events (
    seq         INTEGER PRIMARY KEY NOT NULL,
    at          INTEGER NOT NULL,
    token_id    TEXT NOT NULL,
    role        TEXT NOT NULL,
    document_id TEXT NOT NULL,
    action      TEXT NOT NULL,
    purpose     TEXT,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX audit_events_document ON audit_events (document_id, seq);

CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
