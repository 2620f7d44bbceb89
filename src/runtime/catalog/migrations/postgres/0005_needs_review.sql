-- A dossier whose split may be wrong (content before any cover sheet, or a page that looks
-- like a separator sheet whose barcode could not be read): 1 = a clerk should check it.
ALTER TABLE dossiers ADD COLUMN needs_review BIGINT NOT NULL DEFAULT 0;
CREATE INDEX dossiers_needs_review ON dossiers (needs_review, batch_id);
