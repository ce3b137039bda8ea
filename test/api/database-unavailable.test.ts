import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { freePort } from '../../src/stack/ports.js';
import { createTestConfig } from '../helpers/context.js';

// Postgres unreachable: clients must be told to retry (503), never shown a 500.
let app: Awaited<ReturnType<typeof buildApp>>;

beforeAll(async () => {
  const nobodyListens = await freePort();
  const config = await createTestConfig();
  app = await buildApp({
    config: {
      ...config,
      DATABASE_URL: `postgres://postgres@127.0.0.1:${nobodyListens}/none`,
      READY_TIMEOUT_MS: 500,
    },
  });
  await app.ready();
});
afterAll(async () => {
  await app?.close();
});

describe('an API node whose Postgres is unreachable', () => {
  it('answers reads and writes with 503 unavailable and Retry-After', async () => {
    for (const request of [
      { method: 'GET' as const, url: '/api/v1/documents/01900000-0000-7000-8000-000000000000' },
      { method: 'POST' as const, url: '/api/v1/documents', payload: { content: 'x' } },
    ]) {
      const response = await app.inject(request);
      expect(response.statusCode, request.method).toBe(503);
      expect(response.headers['retry-after']).toBe('5');
      expect(response.json().error).toMatchObject({ code: 'unavailable', details: null });
      expect(response.body).not.toMatch(/ECONNREFUSED|127\.0\.0\.1/);
    }
  });

  it('answers /ready 503 naming Postgres', async () => {
    const response = await app.inject({ method: 'GET', url: '/ready' });
    expect(response.statusCode).toBe(503);
    expect(response.json().checks.postgres).not.toBe('ok');
  });
});
