import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { PROCESSING_QUEUE } from '../../src/queue/jobs.js';
import { RedisServer } from '../../src/stack/redis-server.js';
import { startWorkerNode, type WorkerNode } from '../../src/worker/worker-node.js';
import { createTestConfig, eventually, silentLogger, waitForDocument } from '../helpers/context.js';

// Stops Redis, so it has a Redis of its own.
let redis: RedisServer;
let redisDir: string;
let app: Awaited<ReturnType<typeof buildApp>>;
let worker: WorkerNode;

beforeAll(async () => {
  redisDir = mkdtempSync(path.join(os.tmpdir(), 'ingestd-sweeper-'));
  redis = await RedisServer.start({ dataDir: redisDir, persistent: false });
  const config = await createTestConfig({
    REDIS_URL: redis.url,
    SWEEP_INTERVAL_MS: '200',
    SWEEP_STALE_AFTER_MS: '500',
  });
  app = await buildApp({ config });
  await app.ready();
  worker = await startWorkerNode({ config, logger: silentLogger, role: 'processor' });
});
afterAll(async () => {
  await worker?.close();
  await app?.close();
  await redis?.stop();
  rmSync(redisDir, { recursive: true, force: true });
});

describe('the sweeper', () => {
  it('enqueues a document accepted while Redis was down once Redis is back, and it completes', async () => {
    await redis.stop();
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/documents',
      payload: { content: 'accepted while the queue was unreachable' },
    });
    expect(response.statusCode).toBe(202);
    const { id } = response.json();
    expect((await app.inject({ method: 'GET', url: `/api/v1/documents/${id}` })).json().status).toBe(
      'queued',
    );

    await redis.restart();
    const document = await waitForDocument(app, id, { statuses: ['completed'], timeoutMs: 20_000 });
    expect(document.chunkCount).toBe(1);
  });
});

describe('the sweeper, for idempotency keys', () => {
  it('deletes keys past their expiry and keeps the others', async () => {
    await app.db.query(
      `INSERT INTO idempotency_keys (tenant_id, key, request_hash, status_code, response, expires_at) VALUES
         ('default', 'old', '\\x01', 202, '{}', now() - interval '1 minute'),
         ('default', 'fresh', '\\x02', 202, '{}', now() + interval '1 hour')`,
    );
    await eventually(async () => {
      const { rows } = await app.db.query('SELECT key FROM idempotency_keys ORDER BY key');
      return rows.length === 1 ? rows : undefined;
    });
    const { rows } = await app.db.query('SELECT key FROM idempotency_keys');
    expect(rows).toEqual([{ key: 'fresh' }]);
  });
});

describe('the sweeper, for a job that failed while its version stayed queued', () => {
  it('removes the dead job and enqueues the version afresh, and it completes', async () => {
    // A job can fail without its version being marked failed (Postgres down at that moment).
    // Make that happen with a stand-in consumer that fails every job and never touches Postgres.
    const config = await createTestConfig({ SWEEP_INTERVAL_MS: '200', SWEEP_STALE_AFTER_MS: '300' });
    const otherApp = await buildApp({ config });
    const connection = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
    const failEverything = new Worker(
      PROCESSING_QUEUE,
      async () => {
        throw new UnrecoverableError('lost while postgres was away');
      },
      { connection, prefix: config.QUEUE_PREFIX },
    );
    let node: WorkerNode | undefined;
    try {
      await otherApp.ready();
      const { id } = (
        await otherApp.inject({
          method: 'POST',
          url: '/api/v1/documents',
          payload: { content: 'second chance' },
        })
      ).json();
      await otherApp.handoff.settled();
      const job = await otherApp.documentQueue.queue.getJob(`${id}-v1`);
      await eventually(
        async () => ((await job?.getState()) === 'failed' ? true : undefined),
        10_000,
        'job to fail',
      );
      await failEverything.close();
      expect((await otherApp.inject({ method: 'GET', url: `/api/v1/documents/${id}` })).json().status).toBe(
        'queued',
      );

      node = await startWorkerNode({ config, logger: silentLogger, role: 'processor' });
      await waitForDocument(otherApp, id, { statuses: ['completed'], timeoutMs: 15_000 });
    } finally {
      await failEverything.close();
      await node?.close();
      await otherApp.close();
      connection.disconnect();
    }
  });
});
