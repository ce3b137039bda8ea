-- The core tables: documents, their versions, the chunks of each version, dead letters and
-- the monthly-partitioned metrics table. Every tenant-owned row carries tenant_id from day one.

CREATE TABLE documents (
  id              uuid PRIMARY KEY,              -- UUIDv7 made by the API: time-ordered, so keyset pages follow creation
  tenant_id       text NOT NULL DEFAULT 'default',
  source          text NOT NULL,
  external_id     text,
  status          text NOT NULL CHECK (status IN ('queued', 'processing', 'completed', 'failed')),
  latest_version  integer NOT NULL,              -- the newest version received
  current_version integer,                       -- the newest completed version: its chunks are the ones served
  content_hash    bytea NOT NULL,                -- sha256 of the latest version's bytes
  metadata        jsonb NOT NULL DEFAULT '{}',
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX documents_status_created_idx ON documents (status, created_at);
CREATE INDEX documents_tenant_idx ON documents (tenant_id, id);
CREATE INDEX documents_tenant_status_idx ON documents (tenant_id, status, id);
CREATE INDEX documents_tenant_source_idx ON documents (tenant_id, source, id);
CREATE INDEX documents_external_id_idx ON documents (tenant_id, source, external_id) WHERE external_id IS NOT NULL;
-- Few rows are mid-flight at any time; this keeps "what is stuck in processing?" cheap.
CREATE INDEX documents_processing_idx ON documents (updated_at) WHERE status = 'processing';

CREATE TABLE document_versions (
  document_id    uuid NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
  version        integer NOT NULL,
  tenant_id      text NOT NULL DEFAULT 'default',
  content_hash   bytea NOT NULL,
  content_type   text NOT NULL,
  bytes          integer NOT NULL,
  raw_content    bytea NOT NULL,
  extracted_text text,
  chunking       jsonb NOT NULL,
  status         text NOT NULL CHECK (status IN ('queued', 'processing', 'completed', 'failed')),
  attempts       integer NOT NULL DEFAULT 0,
  chunk_count    integer,
  error_code     text,
  error_message  text,
  request_id     text,                           -- the request that created it, carried into the worker's logs
  queued_at      timestamptz NOT NULL DEFAULT now(),
  started_at     timestamptz,
  extracted_at   timestamptz,
  chunked_at     timestamptz,
  completed_at   timestamptz,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (document_id, version)
);

-- Raw bytes and extracted text are large and written once: lz4 is much cheaper than pglz for TOAST.
ALTER TABLE document_versions ALTER COLUMN raw_content SET COMPRESSION lz4;
ALTER TABLE document_versions ALTER COLUMN extracted_text SET COMPRESSION lz4;

-- The sweeper's two questions: what has been queued, or processing, for too long?
CREATE INDEX document_versions_queued_idx ON document_versions (created_at) WHERE status = 'queued';
CREATE INDEX document_versions_processing_idx ON document_versions (updated_at) WHERE status = 'processing';

CREATE TABLE chunks (
  document_id  uuid NOT NULL,
  version      integer NOT NULL,
  chunk_index  integer NOT NULL,
  tenant_id    text NOT NULL DEFAULT 'default',
  text         text NOT NULL,
  start_offset integer NOT NULL,                 -- UTF-16 code unit offsets into the version's extracted text
  end_offset   integer NOT NULL,
  word_count   integer NOT NULL,
  token_count  integer NOT NULL,
  -- The key makes a re-run of a version unable to add a second set of chunks.
  PRIMARY KEY (document_id, version, chunk_index),
  FOREIGN KEY (document_id, version) REFERENCES document_versions (document_id, version) ON DELETE CASCADE
);

CREATE TABLE dlq_items (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id        text NOT NULL DEFAULT 'default',
  document_id      uuid,
  version          integer,
  priority         integer NOT NULL DEFAULT 0,
  status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'retrying', 'resolved', 'discarded')),
  error_code       text NOT NULL,
  error_message    text NOT NULL,
  error_stack      text,
  attempts         integer NOT NULL DEFAULT 0,
  payload          jsonb NOT NULL,
  first_failed_at  timestamptz NOT NULL DEFAULT now(),
  last_failed_at   timestamptz NOT NULL DEFAULT now(),
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX dlq_items_priority_status_created_idx ON dlq_items (priority, status, created_at);

CREATE TABLE metrics (
  id     bigint GENERATED ALWAYS AS IDENTITY,
  name   text NOT NULL,
  value  double precision NOT NULL,
  ts     timestamptz NOT NULL DEFAULT now(),
  tags   jsonb NOT NULL DEFAULT '{}',
  PRIMARY KEY (id, ts)                           -- a partitioned table's keys must include the partition key
) PARTITION BY RANGE (ts);

-- Created on the parent, so every partition gets it.
CREATE INDEX metrics_name_ts_idx ON metrics (name, ts);

-- Makes the monthly partitions of `metrics` from the month of `start_month` for `months` months.
-- Safe to call concurrently and repeatedly: existing partitions are left alone.
CREATE FUNCTION ensure_metrics_partitions(start_month date, months integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  made integer := 0;
  month_start date;
  partition_name text;
BEGIN
  FOR i IN 0 .. months - 1 LOOP
    month_start := (date_trunc('month', start_month) + make_interval(months => i))::date;
    partition_name := format('metrics_%s', to_char(month_start, 'YYYY_MM'));
    IF to_regclass(partition_name) IS NULL THEN
      EXECUTE format(
        'CREATE TABLE IF NOT EXISTS %I PARTITION OF metrics FOR VALUES FROM (%L) TO (%L)',
        partition_name, month_start, (month_start + interval '1 month')::date);
      made := made + 1;
    END IF;
  END LOOP;
  RETURN made;
END;
$$;
