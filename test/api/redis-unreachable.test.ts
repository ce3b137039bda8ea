import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { freePort } from '../../src/stack/ports.js';
import { createTestConfig } from '../helpers/context.js';

// An API node started while Redis is unreachable: it must start, say so, and still take documents.
let app: Awaited<ReturnType<typeof buildApp>>;

beforeAll(async () => {
  const nobodyListens = await freePort();
  app = await buildApp({
    config: await createTestConfig({
      REDIS_URL: `redis://127.0.0.1:${nobodyListens}`,
      READY_TIMEOUT_MS: '300',
    }),
  });
  await app.ready();
});
afterAll(async () => {
  await app?.close();
});

describe('an API node whose Redis is unreachable', () => {
  it('answers /ready 503 naming Redis', async () => {
    const response = await app.inject({ method: 'GET', url: '/ready' });
    expect(response.statusCode).toBe(503);
    expect(response.json().checks.postgres).toBe('ok');
    expect(response.json().checks.redis).not.toBe('ok');
  });

  it('still commits and acknowledges documents, within a bounded time', async () => {
    const started = Date.now();
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/documents',
      payload: { content: 'durable' },
    });
    expect(response.statusCode).toBe(202);
    expect(Date.now() - started).toBeLessThan(8_000);
    const stored = await app.db.query('SELECT status FROM documents WHERE id = $1', [response.json().id]);
    expect(stored.rows).toEqual([{ status: 'queued' }]);
    // The enqueue behind the answer fails, is counted, and leaves the version to the sweeper.
    await app.handoff.settled();
    const metrics = await app.metrics.registry.getSingleMetricAsString('ingestd_enqueue_failures_total');
    expect(metrics).toMatch(/^ingestd_enqueue_failures_total 1$/m);
  });
});
