import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { RedisServer } from '../../src/stack/redis-server.js';
import { createTestConfig, eventually } from '../helpers/context.js';

// This file stops and starts Redis, so it has a Redis of its own.
let redis: RedisServer;
let redisDir: string;
let app: Awaited<ReturnType<typeof buildApp>>;

beforeAll(async () => {
  redisDir = mkdtempSync(path.join(os.tmpdir(), 'ingestd-ready-'));
  redis = await RedisServer.start({ dataDir: redisDir, persistent: false });
  app = await buildApp({ config: await createTestConfig({ REDIS_URL: redis.url, READY_TIMEOUT_MS: '500' }) });
  await app.ready();
});
afterAll(async () => {
  await app?.close();
  await redis?.stop();
  rmSync(redisDir, { recursive: true, force: true });
});

const ready = () => app.inject({ method: 'GET', url: '/ready' });

describe('GET /health and /ready', () => {
  it('answers /health without touching any dependency', async () => {
    const response = await app.inject({ method: 'GET', url: '/health' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok' });
  });

  it('is ready while Postgres and Redis answer', async () => {
    const response = await eventually(async () => {
      const r = await ready();
      return r.statusCode === 200 ? r : undefined;
    });
    expect(response.json()).toEqual({ status: 'ready', checks: { postgres: 'ok', redis: 'ok' } });
  });

  it('turns 503 naming Redis while Redis is stopped, /health stays 200, and recovers when it is back', async () => {
    await redis.stop();
    const down = await ready();
    expect(down.statusCode).toBe(503);
    expect(down.json()).toMatchObject({ status: 'unavailable', checks: { postgres: 'ok' } });
    expect(down.json().checks.redis).not.toBe('ok');
    expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);

    // Documents are still accepted: they are durable in Postgres and the sweeper enqueues them later.
    const accepted = await app.inject({
      method: 'POST',
      url: '/api/v1/documents',
      payload: { content: 'while redis is down' },
    });
    expect(accepted.statusCode).toBe(202);

    await redis.restart();
    const up = await eventually(
      async () => {
        const r = await ready();
        return r.statusCode === 200 ? r : undefined;
      },
      15_000,
      '/ready to recover',
    );
    expect(up.json().checks).toEqual({ postgres: 'ok', redis: 'ok' });
  });

  it('turns 503 once shutdown begins', async () => {
    app.readiness.shuttingDown = true;
    try {
      const response = await ready();
      expect(response.statusCode).toBe(503);
      expect(response.json().checks).toEqual({ shutdown: 'in progress' });
    } finally {
      app.readiness.shuttingDown = false;
    }
  });
});
