import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RATE_LIMIT_FLUSH_MS } from '../../src/api/plugins/batched-rate-limit-store.js';
import { createApiKey } from '../../src/store/api-keys.js';
import { createTestApp, type TestContext, uniqueName } from '../helpers/context.js';

describe('rate limits', () => {
  let context: TestContext;
  let proxied: TestContext;
  beforeAll(async () => {
    const limits = {
      AUTH_REQUIRED: 'true',
      RATE_LIMIT_PER_MINUTE: '5',
      RATE_LIMIT_ANONYMOUS_PER_MINUTE: '3',
    };
    context = await createTestApp(limits);
    proxied = await createTestApp({ ...limits, TRUST_PROXY: '127.0.0.1' });
  });
  afterAll(async () => {
    await context?.close();
    await proxied?.close();
  });

  const get = (app: TestContext['app'], headers: Record<string, string>, remoteAddress = '127.0.0.1') =>
    app.inject({ method: 'GET', url: '/api/v1/documents', headers, remoteAddress });

  it('gives each key its own budget per minute; past it, 429 with Retry-After', async () => {
    const first = (await createApiKey(context.pool, { tenantId: 't1', scopes: ['read'] })).key;
    const second = (await createApiKey(context.pool, { tenantId: 't1', scopes: ['read'] })).key;
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++)
      statuses.push((await get(context.app, { authorization: `Bearer ${first}` })).statusCode);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    const limited = await get(context.app, { authorization: `Bearer ${first}` });
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.json().error).toMatchObject({ code: 'rate_limited', details: { limit: 5 } });
    // Another key is not affected.
    expect((await get(context.app, { authorization: `Bearer ${second}` })).statusCode).toBe(200);
    // Probes never are.
    for (let i = 0; i < 10; i++) {
      expect((await context.app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
    }
  });

  it('limits callers without a valid key per IP, and a forged X-Forwarded-For does not reset it', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const response = await get(
        context.app,
        { authorization: 'Bearer wrong', 'x-forwarded-for': `203.0.113.${i}` },
        '198.51.100.7',
      );
      statuses.push(response.statusCode);
    }
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
  });

  it('believes X-Forwarded-For only from TRUST_PROXY addresses', async () => {
    // Through the trusted proxy (127.0.0.1), two clients have separate budgets.
    for (const client of ['203.0.113.10', '203.0.113.11']) {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) {
        statuses.push((await get(proxied.app, { 'x-forwarded-for': client })).statusCode);
      }
      expect(statuses).toEqual([401, 401, 401, 429]);
    }
    // From anyone else the header is ignored: the socket's address is the client.
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      statuses.push(
        (await get(proxied.app, { 'x-forwarded-for': `203.0.113.${20 + i}` }, '198.51.100.9')).statusCode,
      );
    }
    expect(statuses).toEqual([401, 401, 401, 429]);
  });

  it('looks up made-up keys in Postgres only up to the per-IP budget; a real key from elsewhere still works', async () => {
    const db = context.app.db;
    const query = db.query.bind(db);
    let lookups = 0;
    db.query = ((...args: Parameters<typeof query>) => {
      if (JSON.stringify(args[0]).includes('FROM api_keys')) lookups++;
      return query(...args);
    }) as typeof db.query;
    const madeUp = () => `ingestd_${randomBytes(6).toString('hex')}_${'A'.repeat(43)}`;
    const real = (await createApiKey(context.pool, { tenantId: 't3', scopes: ['read'] })).key;
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) {
        statuses.push(
          (await get(context.app, { authorization: `Bearer ${madeUp()}` }, '198.51.100.30')).statusCode,
        );
      }
      expect(statuses).toEqual([401, 401, 401, 429, 429, 429, 429, 429]);
      expect(lookups).toBe(3);
      // A real key not yet cached is not looked up from that address either: 429, not a false 401.
      const throttled = await get(context.app, { authorization: `Bearer ${real}` }, '198.51.100.30');
      expect(throttled.statusCode).toBe(429);
      expect(Number(throttled.headers['retry-after'])).toBeGreaterThan(0);
      expect(lookups).toBe(3);
      // Another address is unaffected.
      expect((await get(context.app, { authorization: `Bearer ${real}` }, '198.51.100.31')).statusCode).toBe(
        200,
      );
      expect(lookups).toBe(4);
    } finally {
      db.query = query;
    }
  });
});

describe('rate limits without authentication (development)', () => {
  let context: TestContext;
  beforeAll(async () => {
    context = await createTestApp({
      AUTH_REQUIRED: 'false',
      RATE_LIMIT_PER_MINUTE: '8',
      RATE_LIMIT_ANONYMOUS_PER_MINUTE: '2',
    });
  });
  afterAll(async () => context?.close());

  it('give every client IP the per-key budget, not the anonymous one', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 9; i++) {
      statuses.push((await context.app.inject({ method: 'GET', url: '/api/v1/documents' })).statusCode);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 429]);
  });
});

describe('rate limits across API nodes', () => {
  let first: TestContext;
  let second: TestContext;
  beforeAll(async () => {
    // Two nodes of one deployment: the same Redis and key prefix, so one budget per caller.
    const shared = { AUTH_REQUIRED: 'false', RATE_LIMIT_PER_MINUTE: '5', QUEUE_PREFIX: uniqueName('shared') };
    first = await createTestApp(shared);
    second = await createTestApp(shared);
  });
  afterAll(async () => {
    await first?.close();
    await second?.close();
  });

  const get = (context: TestContext) =>
    context.app.inject({ method: 'GET', url: '/api/v1/documents', remoteAddress: '198.51.100.40' });

  it("count each other's requests once a node has added its own to the shared count", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await get(first)).statusCode);
    // Within a flush interval the shared count has them.
    await new Promise((resolve) => setTimeout(resolve, RATE_LIMIT_FLUSH_MS * 4));
    for (let i = 0; i < 3; i++) statuses.push((await get(second)).statusCode);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    // The first node learns of the second's requests with its next flush, which its next request
    // starts: that one is judged on the count it had (the bounded overshoot), the next is not.
    await get(first);
    await new Promise((resolve) => setTimeout(resolve, RATE_LIMIT_FLUSH_MS * 4));
    expect((await get(first)).statusCode).toBe(429);
  });
});
