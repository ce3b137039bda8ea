-- API keys: each belongs to one tenant and carries scopes. Only a SHA-256 of the key is stored;
-- the short public prefix finds the row, the hash (compared in constant time) proves the key.

CREATE TABLE api_keys (
  id            uuid PRIMARY KEY,
  prefix        text NOT NULL UNIQUE,          -- shown in listings and logs; not secret
  key_hash      bytea NOT NULL,                -- sha256 of the whole key
  tenant_id     text NOT NULL,
  scopes        text[] NOT NULL CHECK (scopes <@ ARRAY['ingest', 'read', 'admin'] AND cardinality(scopes) > 0),
  name          text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  revoked_at    timestamptz,
  last_used_at  timestamptz
);

CREATE INDEX api_keys_tenant_idx ON api_keys (tenant_id, created_at);

-- The per-tenant queue quota counts a tenant's unfinished versions on every intake.
CREATE INDEX document_versions_tenant_unfinished_idx ON document_versions (tenant_id)
  WHERE status IN ('queued', 'processing');
