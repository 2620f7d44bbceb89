-- The service (`sohoa serve`): API tokens, the post office a batch came from, and the
-- audit chain of document reads. Same logical schema as ../sqlite/0006_service.sql.

ALTER TABLE batches ADD COLUMN post_office TEXT;
CREATE INDEX batches_post_office ON batches (post_office, created_at);
CREATE INDEX batches_state ON batches (state, created_at);

CREATE TABLE api_tokens (
    id          TEXT PRIMARY KEY NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    role        TEXT NOT NULL,
    agency      TEXT,
    post_office TEXT,
    name        TEXT,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);

CREATE TABLE audit_events (
    seq         BIGINT PRIMARY KEY NOT NULL,
    at          BIGINT NOT NULL,
    token_id    TEXT NOT NULL,
    role        TEXT NOT NULL,
    document_id TEXT NOT NULL,
    action      TEXT NOT NULL,
    purpose     TEXT,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX audit_events_document ON audit_events (document_id, seq);

CREATE FUNCTION audit_events_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
