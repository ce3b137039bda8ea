import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findExecutable } from '../../src/stack/binaries.js';
import { freePort } from '../../src/stack/ports.js';
import {
  dropExpiredMetricsPartitions,
  ensureMetricsPartitions,
  insertProcessingSamples,
  LATENCY_BUCKET_BOUNDS_MS,
  mergeBuckets,
  type ProcessingSample,
  quantileFromBuckets,
  rollUpProcessingMinutes,
} from '../../src/store/metrics.js';
import { countQueuedVersions } from '../../src/store/versions.js';
import { defaultWorkerConcurrency } from '../../src/worker/concurrency.js';
import { startWorkerNode, type WorkerNode } from '../../src/worker/worker-node.js';
import {
  createTestApp,
  eventually,
  insertUnqueuedDocument,
  numberedWords,
  silentLogger,
  type TestContext,
} from '../helpers/context.js';

const GiB = 1024 ** 3;

async function partitions(context: TestContext): Promise<string[]> {
  const { rows } = await context.pool.query<{ name: string }>(
    `SELECT child.relname AS name FROM pg_inherits
     JOIN pg_class parent ON parent.oid = inhparent JOIN pg_class child ON child.oid = inhrelid
     WHERE parent.relname = 'metrics' ORDER BY 1`,
  );
  return rows.map((row) => row.name);
}

function sample(overrides: Partial<ProcessingSample>): ProcessingSample {
  return {
    at: new Date(),
    outcome: 'completed',
    tenantId: 'default',
    format: 'text/plain',
    bytes: 100,
    chunks: 1,
    queueMs: 5,
    extractMs: 1,
    chunkMs: 1,
    storeMs: 1,
    processingMs: 10,
    ...overrides,
  };
}

describe("the monitor's queries", () => {
  let context: TestContext;
  beforeAll(async () => {
    context = await createTestApp();
  });
  afterAll(async () => context?.close());

  describe('metrics partitions', () => {
    it('are made months ahead, and making them again is a no-op', async () => {
      await ensureMetricsPartitions(context.pool, 6);
      const made = await partitions(context);
      const now = new Date();
      const month = (offset: number) => {
        const date = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, 1));
        return `metrics_${date.getUTCFullYear()}_${String(date.getUTCMonth() + 1).padStart(2, '0')}`;
      };
      for (let offset = 0; offset <= 6; offset++) expect(made).toContain(month(offset));
      expect(await ensureMetricsPartitions(context.pool, 6)).toBe(0);
      // The parent's index exists on every partition.
      const { rows } = await context.pool.query<{ count: number }>(
        `SELECT count(*)::int AS count FROM pg_indexes WHERE tablename = $1 AND indexdef LIKE '%(name, ts)%'`,
        [month(6)],
      );
      expect(rows[0]?.count).toBe(1);
    });

    it('older than the retention are dropped whole, rows and all; the current ones stay', async () => {
      await context.pool.query(`SELECT ensure_metrics_partitions('2020-01-15', 2)`);
      await context.pool.query(`INSERT INTO metrics (name, value, ts) VALUES ('old', 1, '2020-02-10')`);
      const before = await partitions(context);
      expect(before).toEqual(expect.arrayContaining(['metrics_2020_01', 'metrics_2020_02']));

      expect(await dropExpiredMetricsPartitions(context.pool, 90)).toBe(2);
      const after = await partitions(context);
      expect(after).not.toContain('metrics_2020_01');
      expect(after).not.toContain('metrics_2020_02');
      expect(after.length).toBe(before.length - 2);
      expect(await dropExpiredMetricsPartitions(context.pool, 90)).toBe(0);
      const { rows } = await context.pool.query(`SELECT 1 FROM metrics WHERE name = 'old'`);
      expect(rows).toHaveLength(0);
    });
  });

  describe('the queued-versions gauge', () => {
    it('counts the versions Postgres holds queued, not completed or failed ones', async () => {
      const before = await countQueuedVersions(context.pool);
      const ids = [
        await insertUnqueuedDocument(context.pool, numberedWords(10)),
        await insertUnqueuedDocument(context.pool, numberedWords(20)),
        await insertUnqueuedDocument(context.pool, numberedWords(30)),
      ];
      expect(await countQueuedVersions(context.pool)).toBe(before + 3);
      await context.pool.query(
        `UPDATE document_versions SET status = CASE WHEN document_id = $1 THEN 'completed' ELSE 'failed' END
       WHERE document_id = ANY($2::uuid[])`,
        [ids[0], ids.slice(0, 2)],
      );
      expect(await countQueuedVersions(context.pool)).toBe(before + 1);
    });
  });
});

describe('latency buckets', () => {
  it('read percentiles within a bucket width of the exact ones', () => {
    // 1..1000 ms, one sample each: exact p50 = 500, p95 = 950, p99 = 990.
    const histogram: Record<string, number> = {};
    for (let ms = 1; ms <= 1000; ms++) {
      const bucket = LATENCY_BUCKET_BOUNDS_MS.findIndex((bound) => ms < bound);
      const key = String(bucket === -1 ? LATENCY_BUCKET_BOUNDS_MS.length : bucket);
      histogram[key] = (histogram[key] ?? 0) + 1;
    }
    const merged = mergeBuckets([histogram, {}]);
    for (const [q, exact] of [
      [0.5, 500],
      [0.95, 950],
      [0.99, 990],
    ] as const) {
      const estimate = quantileFromBuckets(merged, q) as number;
      expect(Math.abs(estimate - exact) / exact).toBeLessThan(0.1);
    }
    expect(quantileFromBuckets(new Map(), 0.5)).toBeUndefined();
  });
});

describe('processing samples, rollups and GET /api/v1/stats', () => {
  let context: TestContext;
  beforeAll(async () => {
    context = await createTestApp();
  });
  afterAll(async () => context?.close());

  it('rolls whole minutes up once and answers throughput, percentiles and error rate from them', async () => {
    const threeMinutesAgo = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 3 * 60_000 + 5_000);
    const twoMinutesAgo = new Date(threeMinutesAgo.getTime() + 60_000);
    // 100 samples: processing 1..100 ms; 2 of them failed; split over two minutes.
    const samples = Array.from({ length: 100 }, (_, i) =>
      sample({
        at: i < 60 ? threeMinutesAgo : twoMinutesAgo,
        processingMs: i + 1,
        queueMs: 100,
        ...(i >= 98 ? { outcome: 'failed' as const, code: 'corrupt_file' } : {}),
      }),
    );
    await insertProcessingSamples(context.pool, samples);
    // As if they had been written back then: rows are stamped with the database's clock at insert.
    await context.pool.query(
      `UPDATE metrics SET ts = (tags->>'finished_at')::timestamptz WHERE name = 'document_processed'`,
    );
    // A sample in the current minute is not rolled up yet: its minute is still open.
    await insertProcessingSamples(context.pool, [sample({ at: new Date() })]);

    expect(await rollUpProcessingMinutes(context.pool, 0)).toBe(2);
    expect(await rollUpProcessingMinutes(context.pool, 0)).toBe(0);

    const response = await context.app.inject({ method: 'GET', url: '/api/v1/stats?window=1h' });
    expect(response.statusCode).toBe(200);
    const stats = response.json();
    expect(stats.documents).toEqual({ processed: 100, completed: 98, failed: 2 });
    expect(stats.errorRate).toBeCloseTo(0.02);
    expect(stats.throughput.peakCompletedPerMinute).toBe(60);
    expect(stats.throughput.series).toHaveLength(60);
    const busy = stats.throughput.series.filter(
      (point: { completedPerMinute: number }) => point.completedPerMinute > 0,
    );
    expect(busy.map((point: { completedPerMinute: number }) => point.completedPerMinute)).toEqual([60, 38]);
    expect(stats.processingMs.p50).toBeGreaterThan(45);
    expect(stats.processingMs.p50).toBeLessThan(55);
    expect(stats.processingMs.p99).toBeGreaterThan(90);
    expect(stats.endToEndMs.p50).toBeGreaterThan(140);
    expect(stats.endToEndMs.p50).toBeLessThan(165);
    expect(stats.targets.errorRate).toEqual({ target: 0.01, actual: 0.02, met: false });
    expect(stats.targets.p95ProcessingMs.met).toBe(true);
    expect(stats.targets.completedPerMinute).toEqual({ target: 100, actual: 60, met: false });
    // No monitor has written gauges in this database.
    expect(stats.queue).toBeNull();

    const bad = await context.app.inject({ method: 'GET', url: '/api/v1/stats?window=2h' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('validation_error');
  });
});

describe('the processor and monitor roles', () => {
  let context: TestContext;
  const nodes: WorkerNode[] = [];
  let monitorPort: number;
  beforeAll(async () => {
    monitorPort = await freePort();
    context = await createTestApp({ MONITOR_INTERVAL_MS: '200', WORKER_CONCURRENCY: '' });
    nodes.push(await startWorkerNode({ config: context.config, logger: silentLogger, role: 'processor' }));
    for (let i = 0; i < 2; i++) {
      const config = { ...context.config, WORKER_METRICS_PORT: i === 0 ? monitorPort : 0 };
      nodes.push(await startWorkerNode({ config, logger: silentLogger, role: 'monitor' }));
    }
  });
  afterAll(async () => {
    for (const node of nodes) await node.close();
    await context?.close();
  });

  it('processors write one sample per processed version with its stages, format and outcome', async () => {
    const ids: string[] = [];
    // A whitespace-only document fails as `empty` (permanent): one sample of each outcome.
    for (const content of [numberedWords(1000), '   ']) {
      const response = await context.app.inject({
        method: 'POST',
        url: '/api/v1/documents',
        payload: { content },
      });
      ids.push(response.json().id);
    }
    const rows = await eventually(async () => {
      const { rows } = await context.pool.query<{ value: number; tags: Record<string, unknown> }>(
        `SELECT value, tags FROM metrics WHERE name = 'document_processed' ORDER BY tags->>'outcome'`,
      );
      return rows.length === 2 ? rows : undefined;
    }, 20_000);
    const [completed, failed] = rows;
    expect(completed?.tags).toMatchObject({
      outcome: 'completed',
      tenant: 'default',
      chunks: 3,
      format: 'text/plain',
    });
    for (const stage of ['queue_ms', 'extract_ms', 'chunk_ms', 'store_ms', 'e2e_ms']) {
      expect(typeof completed?.tags[stage]).toBe('number');
    }
    expect(completed?.value).toBeGreaterThan(0);
    expect(failed?.tags).toMatchObject({ outcome: 'failed', code: 'empty' });
  });

  it('the monitor writes queue and DLQ gauges, exports DLQ size, and only one monitor leads', async () => {
    const gauges = await eventually(async () => {
      const { rows } = await context.pool.query<{ name: string }>(
        `SELECT DISTINCT name FROM metrics
         WHERE name IN ('queue_waiting', 'dlq_pending', 'completed_last_minute', 'versions_queued')`,
      );
      return rows.length === 4 ? rows : undefined;
    });
    expect(gauges).toHaveLength(4);
    const stats = (await context.app.inject({ method: 'GET', url: '/api/v1/stats' })).json();
    expect(stats.queue).toMatchObject({
      waiting: expect.any(Number),
      versionsQueued: expect.any(Number),
      active: expect.any(Number),
    });
    // The versions gauge counts what Postgres holds queued, as of the monitor's round.
    const { rows: latest } = await context.pool.query<{ value: number; ts: Date }>(
      `SELECT value, ts FROM metrics WHERE name = 'versions_queued' ORDER BY ts DESC LIMIT 1`,
    );
    expect(Number.isInteger(latest[0]?.value)).toBe(true);
    expect(stats.dlq).toMatchObject({ pending: expect.any(Number) });

    // Rounds of two monitors never overlap: the gauges of one round are written together.
    const { rows } = await context.pool.query<{ ts: Date; count: number }>(
      `SELECT ts, count(*)::int AS count FROM metrics WHERE name = 'queue_waiting' GROUP BY ts`,
    );
    expect(rows.every((row) => row.count === 1)).toBe(true);

    const text = await eventually(async () => {
      const body = await (await fetch(`http://127.0.0.1:${monitorPort}/metrics`)).text();
      return /^ingestd_dlq_items\{status="pending"\} \d+$/m.test(body) ? body : undefined;
    });
    expect(text).toMatch(/^ingestd_versions_queued \d+$/m);
    const promtool = spawnSync(findExecutable('promtool') as string, ['check', 'metrics'], {
      input: text,
      encoding: 'utf8',
    });
    expect(promtool.stdout + promtool.stderr).toBe('');
  });

  it('a processor without WORKER_CONCURRENCY picks it from cores and memory and exports it', async () => {
    expect(defaultWorkerConcurrency({ cores: 2, memoryBytes: 2 * GiB })).toBe(2);
    expect(defaultWorkerConcurrency({ cores: 8, memoryBytes: 2 * GiB })).toBe(4);
    expect(defaultWorkerConcurrency({ cores: 2, memoryBytes: 6 * GiB })).toBe(4);
    expect(defaultWorkerConcurrency({ cores: 2, memoryBytes: 24 * GiB })).toBe(8);
    expect(defaultWorkerConcurrency({ cores: 16, memoryBytes: 64 * GiB })).toBe(16);

    const port = await freePort();
    const config = { ...context.config, WORKER_METRICS_PORT: port };
    const node = await startWorkerNode({ config, logger: silentLogger, role: 'processor' });
    try {
      const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(body).toMatch(/^ingestd_worker_concurrency [1-9]\d*$/m);
      expect(node.consumer?.().opts.concurrency).toBeGreaterThan(0);
    } finally {
      await node.close();
    }
  });
});

describe('a processing sample flushed late', () => {
  let context: TestContext;
  beforeAll(async () => {
    context = await createTestApp();
  });
  afterAll(async () => context?.close());

  it('is stamped with the time it reaches the database, so it lands in a minute not yet rolled up', async () => {
    const tenMinutesAgo = new Date(Date.now() - 10 * 60_000);
    await insertProcessingSamples(context.pool, [sample({ at: tenMinutesAgo })]);
    const { rows } = await context.pool.query<{ age: number; finished: string }>(
      `SELECT extract(epoch FROM now() - ts)::float8 AS age, tags->>'finished_at' AS finished
       FROM metrics WHERE name = 'document_processed'`,
    );
    expect(rows[0]?.age).toBeLessThan(5);
    expect(rows[0]?.finished).toBe(tenMinutesAgo.toISOString());
  });
});
