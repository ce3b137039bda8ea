import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { Metrics } from '../../src/metrics.js';
import { PipelinePool } from '../../src/pipeline/pipeline-pool.js';
import { createPool } from '../../src/store/pool.js';
import { processVersion } from '../../src/worker/processor.js';
import { startWorkerNode, type WorkerNode } from '../../src/worker/worker-node.js';
import {
  createTestConfig,
  eventually,
  insertUnqueuedDocument,
  silentLogger,
  waitForDocument,
} from '../helpers/context.js';

let app: Awaited<ReturnType<typeof buildApp>>;
let config: Awaited<ReturnType<typeof createTestConfig>>;
let worker: WorkerNode;

beforeAll(async () => {
  config = await createTestConfig();
  app = await buildApp({ config });
  await app.ready();
  worker = await startWorkerNode({ config, logger: silentLogger, role: 'processor' });
});
afterAll(async () => {
  await worker?.close();
  await app?.close();
});

const get = (url: string) => app.inject({ method: 'GET', url });
const dlqItemOf = async (documentId: string) =>
  (await get('/api/v1/dlq?limit=100'))
    .json()
    .items.find((item: { documentId: string }) => item.documentId === documentId);

/** A version that failed for a transient cause on its last attempt: stored while the chunks table was locked. */
async function failTransiently(): Promise<string> {
  const id = await insertUnqueuedDocument(app.db, 'words that deserve a second chance');
  const locker = await app.db.connect();
  const faultyPool = createPool(
    { connectionString: config.DATABASE_URL, max: 2, applicationName: 'test', statementTimeoutMs: 200 },
    silentLogger,
  );
  const pipeline = new PipelinePool({ threads: 1, timeoutMs: 10_000, heapMb: 256 });
  try {
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE chunks IN ACCESS EXCLUSIVE MODE');
    const deps = { pool: faultyPool, pipeline, metrics: new Metrics(), logger: silentLogger };
    await expect(
      processVersion(deps, { documentId: id, version: 1, tenantId: 'default' }, { number: 5, isLast: true }),
    ).rejects.toThrow();
  } finally {
    await locker.query('ROLLBACK');
    locker.release();
    await faultyPool.end();
    await pipeline.close();
  }
  return id;
}

describe('dead letters', () => {
  it('are written when a version fails for good, with its error, and listed and shown by the API', async () => {
    const { id } = (
      await app.inject({ method: 'POST', url: '/api/v1/documents', payload: { content: ' \n ' } })
    ).json();
    await waitForDocument(app, id, { statuses: ['failed'] });
    const item = await eventually(() => dlqItemOf(id));
    expect(item).toMatchObject({
      documentId: id,
      version: 1,
      status: 'pending',
      retryable: false,
      attempts: 1,
      priority: 0,
      error: { code: 'empty', message: expect.any(String) },
      payload: { documentId: id, version: 1 },
    });
    const one = await get(`/api/v1/dlq/${item.id}`);
    expect(one.json()).toEqual(item);
    const filtered = (await get('/api/v1/dlq?status=pending&code=empty')).json().items;
    expect(filtered.map((i: { id: string }) => i.id)).toContain(item.id);
    expect((await get('/api/v1/dlq?code=corrupt')).json().items).toEqual([]);
    expect((await get('/api/v1/dlq?status=lost')).statusCode).toBe(400);
    expect((await get('/api/v1/dlq/999999')).statusCode).toBe(404);
  });

  it('of a transient cause are re-driven in bulk, complete, and end resolved', async () => {
    const id = await failTransiently();
    const item = await dlqItemOf(id);
    expect(item).toMatchObject({
      status: 'pending',
      retryable: true,
      priority: 1,
      error: { code: 'processing_failed' },
    });
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/dlq/retry',
      payload: { code: 'processing_failed' },
    });
    expect(response.statusCode).toBe(202);
    expect(response.json().retried).toBeGreaterThanOrEqual(1);
    await waitForDocument(app, id, { statuses: ['completed'] });
    expect((await get(`/api/v1/dlq/${item.id}`)).json().status).toBe('resolved');
  });

  it('re-driven one by one fail again when the input is at fault, counting the attempts', async () => {
    const { id } = (
      await app.inject({ method: 'POST', url: '/api/v1/documents', payload: { content: '\t' } })
    ).json();
    await waitForDocument(app, id, { statuses: ['failed'] });
    const item = await eventually(() => dlqItemOf(id));
    const retry = await app.inject({ method: 'POST', url: `/api/v1/dlq/${item.id}/retry` });
    expect(retry.statusCode).toBe(202);
    const again = await eventually(async () => {
      const current = (await get(`/api/v1/dlq/${item.id}`)).json();
      return current.status === 'pending' && current.attempts === 2 ? current : undefined;
    });
    expect(again.error.code).toBe('empty');
    const notPending = await app.inject({ method: 'POST', url: `/api/v1/dlq/${item.id}/retry` });
    expect([202, 409]).toContain(notPending.statusCode);
  });

  it('are discarded, keeping the row, and cannot be discarded twice', async () => {
    const { id } = (
      await app.inject({ method: 'POST', url: '/api/v1/documents', payload: { content: '  ' } })
    ).json();
    await waitForDocument(app, id, { statuses: ['failed'] });
    const item = await eventually(() => dlqItemOf(id));
    expect((await app.inject({ method: 'DELETE', url: `/api/v1/dlq/${item.id}` })).statusCode).toBe(204);
    expect((await get(`/api/v1/dlq/${item.id}`)).json().status).toBe('discarded');
    const twice = await app.inject({ method: 'DELETE', url: `/api/v1/dlq/${item.id}` });
    expect(twice.statusCode).toBe(409);
    expect((await app.inject({ method: 'DELETE', url: '/api/v1/dlq/999999' })).statusCode).toBe(404);
    const retryDiscarded = await app.inject({ method: 'POST', url: `/api/v1/dlq/${item.id}/retry` });
    expect(retryDiscarded.statusCode).toBe(409);
  });
});

describe('the dlq role', () => {
  it('re-drives dead letters of transient causes until they complete, leaves input errors alone, and gives up after its bound', async () => {
    const transient = await failTransiently();
    const inputError = (
      await app.inject({ method: 'POST', url: '/api/v1/documents', payload: { content: ' ' } })
    ).json().id;
    await waitForDocument(app, inputError, { statuses: ['failed'] });
    // A dead letter that has used up its re-drives already.
    const exhausted = await failTransiently();
    await app.db.query('UPDATE dlq_items SET redrives = 2 WHERE document_id = $1', [exhausted]);

    const redriver = await startWorkerNode({
      config: { ...config, DLQ_INTERVAL_MS: 200, DLQ_BACKOFF_MS: 0, DLQ_MAX_REDRIVES: 2 },
      logger: silentLogger,
      role: 'dlq',
    });
    try {
      await waitForDocument(app, transient, { statuses: ['completed'] });
      const resolved = await eventually(async () => {
        const item = await dlqItemOf(transient);
        return item?.status === 'resolved' ? item : undefined;
      });
      expect(resolved.redrives).toBe(1);
      const gaveUp = await eventually(async () => {
        const item = await dlqItemOf(exhausted);
        return item?.needsHuman ? item : undefined;
      });
      expect(gaveUp).toMatchObject({ status: 'pending', redrives: 2 });
      expect((await dlqItemOf(inputError)).redrives).toBe(0);
      expect((await get(`/api/v1/documents/${exhausted}`)).json().status).toBe('failed');
    } finally {
      await redriver.close();
    }
  });
});
