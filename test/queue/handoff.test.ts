import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import type { ConnectedConfig } from '../../src/commands/shared.js';
import { Handoff } from '../../src/queue/handoff.js';
import { PROCESSING_QUEUE, type ProcessingJobData } from '../../src/queue/jobs.js';
import { RedisServer } from '../../src/stack/redis-server.js';
import { createTestConfig, newTestDocument, silentLogger } from '../helpers/context.js';
import { queuedDocumentIds } from '../helpers/queued-versions.js';

// This file holds Redis's writes back (CLIENT PAUSE), so it has a Redis of its own.
let redis: RedisServer;
let redisDir: string;
let admin: Redis;
let config: ConnectedConfig;

beforeAll(async () => {
  redisDir = mkdtempSync(path.join(os.tmpdir(), 'ingestd-handoff-'));
  redis = await RedisServer.start({ dataDir: redisDir, persistent: false });
  admin = new Redis(redis.url);
  // No rate limit: its counts also go to Redis, and a node's close waits for them.
  config = await createTestConfig({ REDIS_URL: redis.url, RATE_LIMIT_PER_MINUTE: '0' });
});
afterEach(async () => {
  await resumeWrites();
});
afterAll(async () => {
  admin?.disconnect();
  await redis?.stop();
  rmSync(redisDir, { recursive: true, force: true });
});

/**
 * Holds every client's writes (BullMQ's scripts among them) until resumeWrites(), or 4 s at most:
 * under the queue's 5 s enqueue timeout. Reads still answer.
 */
const pauseWrites = () => admin.call('CLIENT', 'PAUSE', '4000', 'WRITE');
const resumeWrites = () => admin.call('CLIENT', 'UNPAUSE');
const waitingJobs = () => admin.llen(`${config.QUEUE_PREFIX}:${PROCESSING_QUEUE}:wait`);
const post = (app: FastifyInstance, content: string) =>
  app.inject({ method: 'POST', url: '/api/v1/documents', payload: { content } });
const settledWithin = <T>(promise: Promise<T>, ms: number) =>
  Promise.race([promise.then(() => true), new Promise<boolean>((resolve) => setTimeout(resolve, ms, false))]);

/** A node that has served a request, so the next ones find its connections open. */
async function startedApp(): Promise<FastifyInstance> {
  const app = await buildApp({ config });
  await app.ready();
  expect((await post(app, `warm-up ${Math.random()}`)).statusCode).toBe(202);
  await app.handoff.settled();
  return app;
}

async function queuedIn(prefix: string): Promise<Map<string, number>> {
  const queue = new Queue<ProcessingJobData>(PROCESSING_QUEUE, { connection: { url: redis.url }, prefix });
  try {
    return await queuedDocumentIds(queue);
  } finally {
    await queue.close();
  }
}

describe('the handoff from Postgres to the queue', () => {
  it('answers once the document is durable, and enqueues its job behind the answer', async () => {
    const app = await startedApp();
    try {
      const jobsBefore = await waitingJobs();
      await pauseWrites();
      const response = await post(app, 'durable before queued');
      expect(response.statusCode).toBe(202);
      const { id } = response.json();
      const { rows } = await app.db.query('SELECT status FROM document_versions WHERE document_id = $1', [
        id,
      ]);
      expect(rows).toEqual([{ status: 'queued' }]);
      // Answered while Redis held the enqueue back.
      expect(await waitingJobs()).toBe(jobsBefore);
      expect(await settledWithin(app.handoff.settled(), 200)).toBe(false);

      await resumeWrites();
      await app.handoff.settled();
      expect((await queuedIn(config.QUEUE_PREFIX)).get(id)).toBe(1);
    } finally {
      await app.close();
    }
  });

  it('hands the jobs still being enqueued to Redis before a closing node lets its connection go', async () => {
    const app = await startedApp();
    const closing = { done: false };
    try {
      const jobsBefore = await waitingJobs();
      await pauseWrites();
      const responses = await Promise.all(
        ['one', 'two', 'three'].map((name) => post(app, `closing ${name}`)),
      );
      expect(responses.map((response) => response.statusCode)).toEqual([202, 202, 202]);
      expect(await waitingJobs()).toBe(jobsBefore);

      const closed = app.close().then(() => {
        closing.done = true;
      });
      // The close waits for the enqueues Redis is holding back.
      expect(await settledWithin(closed, 300)).toBe(false);
      await resumeWrites();
      await closed;

      const queued = await queuedIn(config.QUEUE_PREFIX);
      expect(responses.map((response) => queued.get(response.json().id))).toEqual([1, 1, 1]);
    } finally {
      if (!closing.done) await app.close();
    }
  });

  it('makes an answer wait for its own enqueue once too many are under way', async () => {
    const app = await startedApp();
    try {
      const handoff = new Handoff(
        { pool: app.db, queue: app.documentQueue, metrics: app.metrics, logger: silentLogger },
        { maxEnqueuesBehind: 1 },
      );
      await pauseWrites();
      const [first] = await handoff.commit([newTestDocument('first behind')]);
      expect(first?.status).toBe('queued');
      // The second is durable too, but two enqueues would be under way: it waits for Redis.
      const second = handoff.commit([newTestDocument('second waits')]);
      expect(await settledWithin(second, 300)).toBe(false);
      await resumeWrites();
      const [outcome] = await second;
      await handoff.settled();
      const queued = await queuedIn(config.QUEUE_PREFIX);
      expect([queued.get(first?.id as string), queued.get(outcome?.id as string)]).toEqual([1, 1]);
    } finally {
      await app.close();
    }
  });
});
