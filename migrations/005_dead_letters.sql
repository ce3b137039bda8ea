-- Dead letters: one row per failed version, written in the transaction that marks it failed, and
-- kept (resolved or discarded) as an audit trail after a re-drive or an operator's decision.
ALTER TABLE dlq_items ADD COLUMN retryable boolean NOT NULL DEFAULT false;
CREATE UNIQUE INDEX dlq_items_version_key ON dlq_items (document_id, version);
-- Operators page through open items by status, newest first; the re-drive takes pending retryable
-- ones by priority.
CREATE INDEX dlq_items_status_id_idx ON dlq_items (tenant_id, status, id);
