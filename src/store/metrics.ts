import type { Pool } from './pool.js';

/** Row name of one document version's processing sample in `metrics`. */
export const PROCESSING_SAMPLE = 'document_processed';
/** Row name of the monitor's per-minute rollup of processing samples. */
export const PROCESSING_ROLLUP = 'processing_minute';

/** What one processed (completed or finally failed) version cost; written by processors in batches. */
export interface ProcessingSample {
  at: Date;
  outcome: 'completed' | 'failed';
  /** Error code of a failed version. */
  code?: string | undefined;
  tenantId: string;
  /** The detected format, when extraction got that far. */
  format?: string | undefined;
  bytes: number;
  chunks: number;
  /** Accepted to claimed by a worker. */
  queueMs: number;
  extractMs: number;
  chunkMs: number;
  storeMs: number;
  /** Claimed to done: the worker's share. */
  processingMs: number;
}

/**
 * Inserts processing samples in one statement; value is the processing time in ms. Each row's
 * `ts` is the database's clock at insert, not the worker's (the worker's time is kept in
 * tags.finished_at): the monitor closes a minute 30 s after it ends by that same clock, so a
 * sample flushed late (after an outage) or from a worker whose clock is behind still lands in an
 * open minute instead of one already rolled up.
 */
export async function insertProcessingSamples(
  pool: Pool,
  samples: readonly ProcessingSample[],
): Promise<void> {
  if (samples.length === 0) return;
  const rows = samples.map((sample) => ({
    value: sample.processingMs,
    tags: {
      finished_at: sample.at.toISOString(),
      outcome: sample.outcome,
      ...(sample.code ? { code: sample.code } : {}),
      tenant: sample.tenantId,
      ...(sample.format ? { format: sample.format } : {}),
      bytes: sample.bytes,
      chunks: sample.chunks,
      queue_ms: round(sample.queueMs),
      extract_ms: round(sample.extractMs),
      chunk_ms: round(sample.chunkMs),
      store_ms: round(sample.storeMs),
      e2e_ms: round(sample.queueMs + sample.processingMs),
    },
  }));
  await pool.query({
    name: 'insert-processing-samples',
    text: `INSERT INTO metrics (name, value, tags)
     SELECT $1, s.value, s.tags FROM jsonb_to_recordset($2::jsonb) AS s(value float8, tags jsonb)`,
    values: [PROCESSING_SAMPLE, JSON.stringify(rows)],
  });
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;

/** Names of the gauges the monitor writes to `metrics`; GET /api/v1/stats reads them back. */
export const monitorGauges = {
  queueWaiting: 'queue_waiting',
  queueActive: 'queue_active',
  queueDelayed: 'queue_delayed',
  queueOldestWaitingSeconds: 'queue_oldest_waiting_seconds',
  dlqPending: 'dlq_pending',
  dlqRetrying: 'dlq_retrying',
  dlqNeedsHuman: 'dlq_needs_human',
  completedLastMinute: 'completed_last_minute',
  versionsQueued: 'versions_queued',
} as const;

export interface Gauge {
  name: string;
  value: number;
  tags?: Record<string, string | number>;
}

/** Inserts point-in-time gauges (queue depth, DLQ size, ...) stamped with the database's clock. */
export async function insertGauges(pool: Pool, gauges: readonly Gauge[]): Promise<void> {
  if (gauges.length === 0) return;
  await pool.query(
    `INSERT INTO metrics (name, value, tags)
     SELECT g.name, g.value, coalesce(g.tags, '{}') FROM jsonb_to_recordset($1::jsonb) AS g(name text, value float8, tags jsonb)`,
    [JSON.stringify(gauges)],
  );
}

/** The newest value of each named gauge written within `maxAgeMs`. */
export async function latestGauges(
  pool: Pool,
  names: readonly string[],
  maxAgeMs: number,
): Promise<Map<string, { value: number; at: Date }>> {
  const { rows } = await pool.query<{ name: string; value: number; at: Date }>(
    `SELECT DISTINCT ON (name) name, value, ts AS at FROM metrics
     WHERE name = ANY($1::text[]) AND ts > now() - make_interval(secs => $2::float8 / 1000)
     ORDER BY name, ts DESC`,
    [names, maxAgeMs],
  );
  return new Map(rows.map((row) => [row.name, { value: row.value, at: row.at }]));
}

/**
 * Upper bounds (ms) of the rollups' latency buckets: a quarter-octave apart from 1 ms to about an
 * hour, so a percentile read from merged buckets is within ~10% of the exact one.
 */
export const LATENCY_BUCKET_BOUNDS_MS: readonly number[] = Array.from({ length: 88 }, (_, i) =>
  Number((2 ** (i / 4)).toPrecision(4)),
);

/**
 * Rolls processing samples up into one row per minute (count, failures, latency histograms of
 * processing and accept-to-done time), for every whole minute after the last rolled one and at
 * least `lagMs` old, so samples still being flushed land before their minute is closed. Only the
 * last day is rolled up if the monitor was away longer. Returns the minutes written. Safe to run
 * twice: the newest rollup row is the watermark.
 */
export async function rollUpProcessingMinutes(pool: Pool, lagMs: number): Promise<number> {
  const { rowCount } = await pool.query(
    `WITH bounds AS (
       SELECT greatest(
                coalesce((SELECT max(ts) FROM metrics WHERE name = $1 AND ts > now() - interval '2 days')
                         + interval '1 minute', '-infinity'),
                date_trunc('minute', now() - interval '1 day')) AS from_ts,
              date_trunc('minute', now() - make_interval(secs => $3::float8 / 1000)) AS to_ts
     ), samples AS (
       SELECT date_trunc('minute', m.ts) AS minute, m.value AS processing_ms,
              (m.tags->>'e2e_ms')::float8 AS e2e_ms, m.tags->>'outcome' AS outcome
       FROM metrics m, bounds
       WHERE m.name = $2 AND m.ts >= bounds.from_ts AND m.ts < bounds.to_ts
     ), processing AS (
       SELECT minute, jsonb_object_agg(bucket, n) AS buckets
       FROM (SELECT minute, width_bucket(processing_ms, $4::float8[]) AS bucket, count(*) AS n
             FROM samples GROUP BY 1, 2) b
       GROUP BY minute
     ), e2e AS (
       SELECT minute, jsonb_object_agg(bucket, n) AS buckets
       FROM (SELECT minute, width_bucket(e2e_ms, $4::float8[]) AS bucket, count(*) AS n
             FROM samples WHERE e2e_ms IS NOT NULL GROUP BY 1, 2) b
       GROUP BY minute
     ), totals AS (
       SELECT minute, count(*) AS total, count(*) FILTER (WHERE outcome = 'failed') AS failed
       FROM samples GROUP BY minute
     )
     INSERT INTO metrics (name, value, ts, tags)
     SELECT $1, t.total, t.minute,
            jsonb_build_object('failed', t.failed, 'processing', p.buckets, 'e2e', coalesce(e.buckets, '{}'))
     FROM totals t JOIN processing p USING (minute) LEFT JOIN e2e e USING (minute)`,
    [PROCESSING_ROLLUP, PROCESSING_SAMPLE, lagMs, LATENCY_BUCKET_BOUNDS_MS],
  );
  return rowCount ?? 0;
}

export interface ProcessingMinute {
  minute: Date;
  total: number;
  failed: number;
  /** Bucket index (as width_bucket numbers them: 0 below the first bound) -> count. */
  processing: Record<string, number>;
  e2e: Record<string, number>;
}

/** The rollups of the minutes since `since`, oldest first. */
export async function listProcessingMinutes(pool: Pool, since: Date): Promise<ProcessingMinute[]> {
  const { rows } = await pool.query<{
    minute: Date;
    total: number;
    tags: Omit<ProcessingMinute, 'minute' | 'total'>;
  }>(`SELECT ts AS minute, value AS total, tags FROM metrics WHERE name = $1 AND ts >= $2 ORDER BY ts`, [
    PROCESSING_ROLLUP,
    since,
  ]);
  return rows.map((row) => ({
    minute: row.minute,
    total: row.total,
    failed: row.tags.failed,
    processing: row.tags.processing,
    e2e: row.tags.e2e,
  }));
}

/** Makes `metrics` partitions from this month to `monthsAhead` months ahead; returns how many were made. */
export async function ensureMetricsPartitions(pool: Pool, monthsAhead: number): Promise<number> {
  const { rows } = await pool.query<{ made: number }>(
    'SELECT ensure_metrics_partitions(current_date, $1) AS made',
    [monthsAhead + 1],
  );
  return rows[0]?.made ?? 0;
}

/** Drops the monthly partitions wholly older than `retentionDays`; returns how many were dropped. */
export async function dropExpiredMetricsPartitions(pool: Pool, retentionDays: number): Promise<number> {
  const { rows } = await pool.query<{ dropped: number }>(
    `SELECT drop_expired_metrics_partitions(now() - make_interval(days => $1)) AS dropped`,
    [retentionDays],
  );
  return rows[0]?.dropped ?? 0;
}

/** Adds bucket counts of several rollups into one histogram. */
export function mergeBuckets(histograms: readonly Record<string, number>[]): Map<number, number> {
  const merged = new Map<number, number>();
  for (const histogram of histograms) {
    for (const [bucket, count] of Object.entries(histogram)) {
      merged.set(Number(bucket), (merged.get(Number(bucket)) ?? 0) + count);
    }
  }
  return merged;
}

/**
 * The q-quantile (0..1) of a merged histogram, interpolated linearly inside its bucket; undefined
 * when it is empty. Values past the last bound report that bound.
 */
export function quantileFromBuckets(buckets: Map<number, number>, q: number): number | undefined {
  const total = [...buckets.values()].reduce((sum, count) => sum + count, 0);
  if (total === 0) return undefined;
  const rank = q * total;
  let seen = 0;
  for (const bucket of [...buckets.keys()].sort((a, b) => a - b)) {
    const count = buckets.get(bucket) ?? 0;
    if (seen + count >= rank) {
      // width_bucket: bucket i (1-based) holds bounds[i-1] <= v < bounds[i]; 0 is below bounds[0].
      const bounds = LATENCY_BUCKET_BOUNDS_MS;
      const last = bounds.length - 1;
      const lower = bucket === 0 ? 0 : (bounds[Math.min(bucket - 1, last)] ?? 0);
      const upper = bucket > last ? lower : (bounds[bucket] ?? lower);
      const within = count === 0 ? 0 : (rank - seen) / count;
      return lower + (upper - lower) * within;
    }
    seen += count;
  }
  return LATENCY_BUCKET_BOUNDS_MS[LATENCY_BUCKET_BOUNDS_MS.length - 1];
}
