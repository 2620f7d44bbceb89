-- sohoa catalog, PostgreSQL. Same logical schema as ../sqlite/0001_initial.sql:
-- TEXT ids, BIGINT unix-millisecond timestamps, JSON in TEXT, booleans as BIGINT 0/1.

CREATE TABLE batches (
    id              TEXT PRIMARY KEY NOT NULL,
    source          TEXT NOT NULL,
    original_key    TEXT NOT NULL,
    original_blake3 TEXT NOT NULL UNIQUE,
    original_bytes  BIGINT NOT NULL,
    state           TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    finished_at     BIGINT,
    warnings_json   TEXT NOT NULL DEFAULT '[]',
    -- The files the batch was made from (keys, hashes, scan time), JSON.
    manifest_json   TEXT NOT NULL DEFAULT '{}'
);

CREATE TABLE jobs (
    id           TEXT PRIMARY KEY NOT NULL,
    batch_id     TEXT NOT NULL REFERENCES batches (id),
    status       TEXT NOT NULL,
    attempts     BIGINT NOT NULL DEFAULT 0,
    max_attempts BIGINT NOT NULL,
    worker_id    TEXT,
    heartbeat_at BIGINT,
    run_after    BIGINT NOT NULL,
    last_error   TEXT,
    created_at   BIGINT NOT NULL
);
CREATE INDEX jobs_claim ON jobs (status, run_after, created_at);
CREATE INDEX jobs_batch ON jobs (batch_id);

CREATE TABLE pages (
    batch_id       TEXT NOT NULL REFERENCES batches (id),
    idx            BIGINT NOT NULL,
    kind           TEXT NOT NULL,
    barcode        TEXT,
    skew_deg       DOUBLE PRECISION NOT NULL,
    rotation       BIGINT NOT NULL,
    ocr_confidence DOUBLE PRECISION,
    warnings_json  TEXT NOT NULL,
    PRIMARY KEY (batch_id, idx)
);

CREATE TABLE dossiers (
    id         TEXT PRIMARY KEY NOT NULL,
    batch_id   TEXT NOT NULL REFERENCES batches (id),
    seq        BIGINT NOT NULL,
    code       TEXT,
    code_valid BIGINT NOT NULL
);
CREATE INDEX dossiers_batch ON dossiers (batch_id, seq);
CREATE INDEX dossiers_code ON dossiers (code);

CREATE TABLE documents (
    id                TEXT PRIMARY KEY NOT NULL,
    batch_id          TEXT NOT NULL REFERENCES batches (id),
    dossier_id        TEXT NOT NULL REFERENCES dossiers (id),
    seq               BIGINT NOT NULL,
    doc_type          TEXT,
    source_pages_json TEXT NOT NULL,
    page_count        BIGINT NOT NULL,
    blake3            TEXT NOT NULL,
    sha256            TEXT NOT NULL,
    bytes             BIGINT NOT NULL,
    object_key        TEXT NOT NULL,
    ocr_text          TEXT NOT NULL,
    created_at        BIGINT NOT NULL
);
CREATE INDEX documents_blake3 ON documents (blake3);
-- Lets `blake3 LIKE 'prefix%'` use an index whatever the database collation.
CREATE INDEX documents_blake3_prefix ON documents (blake3 text_pattern_ops);
CREATE INDEX documents_batch ON documents (batch_id, dossier_id, seq);
