import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, eventually, type TestContext } from '../helpers/context.js';

// No worker: jobs pile up in the queue until the bound is passed.
let ctx: TestContext;

beforeAll(async () => {
  ctx = await createTestApp({ QUEUE_MAX_WAITING: '2' });
});
afterAll(async () => {
  await ctx?.close();
});

describe('backpressure', () => {
  it('refuses new documents with 503 and Retry-After once too many jobs wait, while reads and probes answer', async () => {
    for (let i = 0; i < 3; i++) {
      const response = await ctx.app.inject({
        method: 'POST',
        url: '/api/v1/documents',
        payload: { content: `d${i}` },
      });
      expect(response.statusCode).toBe(202);
    }
    const refused = await eventually(async () => {
      const response = await ctx.app.inject({
        method: 'POST',
        url: '/api/v1/documents',
        payload: { content: 'more' },
      });
      return response.statusCode === 503 ? response : undefined;
    }, 5_000);
    expect(refused.headers['retry-after']).toBe('5');
    expect(refused.json().error.code).toBe('overloaded');
    expect(refused.json().error.message).toMatch(/\d+ jobs waiting/);
    const again = await ctx.app.inject({
      method: 'POST',
      url: '/api/v1/documents',
      payload: { content: 'refused' },
    });
    expect(again.statusCode).toBe(503);
    for (const url of ['/health', '/ready', '/metrics', '/api/v1/documents']) {
      expect((await ctx.app.inject({ method: 'GET', url })).statusCode, url).toBe(200);
    }
    const stored = await ctx.pool.query(
      `SELECT count(*)::int AS n FROM document_versions WHERE raw_content = 'refused'`,
    );
    expect(stored.rows[0].n).toBe(0);
  });
});
