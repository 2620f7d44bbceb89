-- Page-level work: a big batch is split into `pages` jobs (one per range of pages), any
-- worker may run any of them; when the last one is done an `assemble` job cuts the pages
-- into documents and stores them. A small batch keeps one `batch` job doing everything.
ALTER TABLE jobs ADD COLUMN kind TEXT NOT NULL DEFAULT 'batch';
-- For `pages` jobs: the batch page indexes [page_start, page_end).
ALTER TABLE jobs ADD COLUMN page_start BIGINT;
ALTER TABLE jobs ADD COLUMN page_end BIGINT;
-- For done `pages` jobs: the object holding the processed pages, and its BLAKE3.
ALTER TABLE jobs ADD COLUMN result_key TEXT;
ALTER TABLE jobs ADD COLUMN result_blake3 TEXT;
ALTER TABLE batches ADD COLUMN page_count BIGINT;
CREATE INDEX jobs_worker ON jobs (worker_id, status);
