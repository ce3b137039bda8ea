import { afterAll, describe, expect, it } from 'vitest';
import { migrate, readMigrations } from '../../src/store/migrate.js';
import { createPool, type Pool } from '../../src/store/pool.js';
import { createEmptyDatabase, silentLogger } from '../helpers/context.js';

const pools: Pool[] = [];
afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.end()));
});

async function freshPool(): Promise<Pool> {
  const pool = createPool(
    { connectionString: await createEmptyDatabase(), max: 4, applicationName: 'test' },
    silentLogger,
  );
  pools.push(pool);
  return pool;
}

describe('migrate', () => {
  it('applies every migration once when several nodes migrate at the same time', async () => {
    const pool = await freshPool();
    const results = await Promise.all([1, 2, 3].map(() => migrate(pool, silentLogger)));
    const all = (await readMigrations()).map((m) => m.name);
    expect(results.flat().sort()).toEqual(all.sort());
    const { rows } = await pool.query('SELECT name FROM schema_migrations ORDER BY version');
    expect(rows.map((row) => row.name)).toEqual(all);
    expect(await migrate(pool, silentLogger)).toEqual([]);
  });

  it('makes the metrics partitions of this month and the next three, and does so idempotently', async () => {
    const pool = await freshPool();
    await migrate(pool, silentLogger);
    const partitions = async () =>
      (
        await pool.query(
          `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
           WHERE i.inhparent = 'metrics'::regclass ORDER BY c.relname`,
        )
      ).rows.map((row) => row.relname);
    const now = new Date();
    const expected = [0, 1, 2, 3].map((ahead) => {
      const month = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + ahead, 1));
      return `metrics_${month.getUTCFullYear()}_${String(month.getUTCMonth() + 1).padStart(2, '0')}`;
    });
    expect(await partitions()).toEqual(expected);
    await pool.query('SELECT ensure_metrics_partitions(current_date, 4)');
    expect(await partitions()).toEqual(expected);
    await pool.query(`INSERT INTO metrics (name, value) VALUES ('probe', 1)`);
    const { rows } = await pool.query(
      `SELECT tableoid::regclass::text AS partition FROM metrics WHERE name = 'probe'`,
    );
    expect(rows[0].partition).toBe(expected[0]);
  });

  it('has the indexes the design guide asks for', async () => {
    const pool = await freshPool();
    await migrate(pool, silentLogger);
    const { rows } = await pool.query(`SELECT indexdef FROM pg_indexes WHERE schemaname = 'public'`);
    const definitions = rows.map((row) => row.indexdef).join('\n');
    expect(definitions).toContain('ON public.documents USING btree (status, created_at)');
    expect(definitions).toMatch(
      /ON public\.documents USING btree \(updated_at\) WHERE \(status = 'processing'::text\)/,
    );
    expect(definitions).toContain('ON public.dlq_items USING btree (priority, status, created_at)');
  });

  it.each([
    [
      'a page of documents by status',
      `SELECT id FROM documents WHERE tenant_id = 'default' AND status = 'failed' AND id < gen_random_uuid() ORDER BY id DESC LIMIT 20`,
      'documents_tenant_status_idx',
    ],
    [
      'versions queued too long',
      `SELECT document_id FROM document_versions WHERE status = 'queued' AND created_at < now() ORDER BY created_at LIMIT 10`,
      'document_versions_queued_idx',
    ],
    [
      'versions processing too long',
      `SELECT document_id FROM document_versions WHERE status = 'processing' AND updated_at < now() ORDER BY updated_at LIMIT 10`,
      'document_versions_processing_idx',
    ],
  ])('serves %s from an index', async (_case, query, index) => {
    const pool = await freshPool();
    await migrate(pool, silentLogger);
    const client = await pool.connect();
    try {
      await client.query('SET enable_seqscan = off');
      const { rows } = await client.query(`EXPLAIN ${query}`);
      expect(rows.map((row) => row['QUERY PLAN']).join('\n')).toContain(index);
    } finally {
      client.release();
    }
  });
});
