-- Certified electronic copies (Decree 45/2020, Art. 10) and the electronic certification
-- book (Circular 01/2020/TT-BTP: numbered per certifying agency and year, from 1, no gap,
-- no repeat). Same logical schema as ../postgres/0007_certification.sql.

-- A certified copy is a document of its original's dossier; this names the original.
-- NULL for the documents a batch produced.
ALTER TABLE documents ADD COLUMN certified_from TEXT;
CREATE INDEX documents_certified_from ON documents (certified_from);
CREATE INDEX documents_sha256 ON documents (sha256);

-- The last number given in each book. Taken and raised in the transaction that records
-- the certification, so a rolled-back certification gives its number back.
CREATE TABLE certification_counters (
    agency      TEXT NOT NULL,
    year        INTEGER NOT NULL,
    last_number INTEGER NOT NULL,
    PRIMARY KEY (agency, year)
);

-- The book: one row per certification.
CREATE TABLE certifications (
    document_id    TEXT PRIMARY KEY NOT NULL,
    certified_from TEXT NOT NULL,
    agency         TEXT NOT NULL,
    year           INTEGER NOT NULL,
    number         INTEGER NOT NULL,
    book           TEXT NOT NULL,
    certifier      TEXT NOT NULL,
    certified_at   INTEGER NOT NULL,
    UNIQUE (agency, year, number)
);
CREATE INDEX certifications_original ON certifications (certified_from);
