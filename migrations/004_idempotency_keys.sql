-- Idempotency-Key: the first response to a key is kept, so a client that retries a POST (its
-- connection dropped before the answer) gets the same answer instead of a second document.
CREATE TABLE idempotency_keys (
  tenant_id    text NOT NULL,
  key          text NOT NULL,
  request_hash bytea NOT NULL,                 -- what was asked: the same key with another request is a 409
  status_code  integer,                        -- NULL while the first request is still being handled
  response     jsonb,
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, key)
);

CREATE INDEX idempotency_keys_expires_idx ON idempotency_keys (expires_at);
