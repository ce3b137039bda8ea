-- The ids of the documents a keyed request is about to create, recorded with its claim. A retry
-- that takes over a claim abandoned by a dead node reuses them, and the inserts skip ids that
-- exist, so a request whose node died between its commit and its answer is not stored twice.
ALTER TABLE idempotency_keys ADD COLUMN document_ids uuid[] NOT NULL DEFAULT '{}';
