-- Dead letters: one row per failed version, written in the transaction that marks it failed, and
-- kept (resolved or discarded) as an audit trail after a re-drive or an operator's decision.
ALTER TABLE dlq_items
  ADD COLUMN retryable boolean NOT NULL DEFAULT false,
  ADD COLUMN redrives integer NOT NULL DEFAULT 0,        -- re-drives so far, by the dlq role or an operator
  ADD COLUMN next_redrive_at timestamptz,                -- the dlq role's backoff
  ADD COLUMN needs_human boolean NOT NULL DEFAULT false; -- the dlq role gave up on it
CREATE UNIQUE INDEX dlq_items_version_key ON dlq_items (document_id, version);
-- Operators page through open items by status, newest first; the re-drive takes pending retryable
-- ones by priority.
CREATE INDEX dlq_items_status_id_idx ON dlq_items (tenant_id, status, id);
CREATE INDEX dlq_items_due_idx ON dlq_items (priority DESC, id)
  WHERE status = 'pending' AND retryable AND NOT needs_human;
