-- sohoa catalog, SQLite. Same logical schema as ../postgres/0001_initial.sql:
-- TEXT ids, INTEGER unix-millisecond timestamps, JSON in TEXT, booleans as 0/1.

CREATE TABLE batches (
    id              TEXT PRIMARY KEY NOT NULL,
    source          TEXT NOT NULL,
    original_key    TEXT NOT NULL,
    original_blake3 TEXT NOT NULL UNIQUE,
    original_bytes  INTEGER NOT NULL,
    state           TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    finished_at     INTEGER,
    warnings_json   TEXT NOT NULL DEFAULT '[]',
    -- The files the batch was made from (keys, hashes, scan time), JSON.
    manifest_json   TEXT NOT NULL DEFAULT '{}'
);

CREATE TABLE jobs (
    id           TEXT PRIMARY KEY NOT NULL,
    batch_id     TEXT NOT NULL REFERENCES batches (id),
    status       TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    worker_id    TEXT,
    heartbeat_at INTEGER,
    run_after    INTEGER NOT NULL,
    last_error   TEXT,
    created_at   INTEGER NOT NULL
);
CREATE INDEX jobs_claim ON jobs (status, run_after, created_at);
CREATE INDEX jobs_batch ON jobs (batch_id);

CREATE TABLE pages (
    batch_id       TEXT NOT NULL REFERENCES batches (id),
    idx            INTEGER NOT NULL,
    kind           TEXT NOT NULL,
    barcode        TEXT,
    skew_deg       REAL NOT NULL,
    rotation       INTEGER NOT NULL,
    ocr_confidence REAL,
    warnings_json  TEXT NOT NULL,
    PRIMARY KEY (batch_id, idx)
);

CREATE TABLE dossiers (
    id         TEXT PRIMARY KEY NOT NULL,
    batch_id   TEXT NOT NULL REFERENCES batches (id),
    seq        INTEGER NOT NULL,
    code       TEXT,
    code_valid INTEGER NOT NULL
);
CREATE INDEX dossiers_batch ON dossiers (batch_id, seq);
CREATE INDEX dossiers_code ON dossiers (code);

CREATE TABLE documents (
    id                TEXT PRIMARY KEY NOT NULL,
    batch_id          TEXT NOT NULL REFERENCES batches (id),
    dossier_id        TEXT NOT NULL REFERENCES dossiers (id),
    seq               INTEGER NOT NULL,
    doc_type          TEXT,
    source_pages_json TEXT NOT NULL,
    page_count        INTEGER NOT NULL,
    blake3            TEXT NOT NULL,
    sha256            TEXT NOT NULL,
    bytes             INTEGER NOT NULL,
    object_key        TEXT NOT NULL,
    ocr_text          TEXT NOT NULL,
    created_at        INTEGER NOT NULL
);
CREATE INDEX documents_blake3 ON documents (blake3);
CREATE INDEX documents_batch ON documents (batch_id, dossier_id, seq);
