import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/store/api-keys.js';
import { createTestApp, type TestContext } from '../helpers/context.js';

describe('the per-tenant queue quota', () => {
  let context: TestContext;
  beforeAll(async () => {
    // No worker runs here: accepted documents stay queued, so they count against the quota.
    context = await createTestApp({ AUTH_REQUIRED: 'true', TENANT_MAX_UNFINISHED: '3' });
  });
  afterAll(async () => context?.close());

  it("refuses a tenant's new work with 429 once it has its limit unfinished; other tenants go on", async () => {
    const greedy = (await createApiKey(context.pool, { tenantId: 'greedy', scopes: ['ingest'] })).key;
    const other = (await createApiKey(context.pool, { tenantId: 'other', scopes: ['ingest'] })).key;
    const post = (key: string, i: number) =>
      context.app.inject({
        method: 'POST',
        url: '/api/v1/documents',
        headers: { authorization: `Bearer ${key}` },
        payload: { content: `document ${i}` },
      });
    for (let i = 0; i < 3; i++) expect((await post(greedy, i)).statusCode).toBe(202);
    // The count is read at most once a second.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const refused = await post(greedy, 3);
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['retry-after']).toBeDefined();
    expect(refused.json().error).toMatchObject({
      code: 'tenant_quota_exceeded',
      details: { unfinished: 3, limit: 3 },
    });
    const batch = await context.app.inject({
      method: 'POST',
      url: '/api/v1/documents/batch',
      headers: { authorization: `Bearer ${greedy}` },
      payload: { documents: [{ content: 'more' }] },
    });
    expect(batch.statusCode).toBe(429);
    expect((await post(other, 0)).statusCode).toBe(202);
  });
});

describe('browser-facing headers', () => {
  let closed: TestContext;
  let open: TestContext;
  beforeAll(async () => {
    closed = await createTestApp();
    open = await createTestApp({ CORS_ORIGINS: 'https://app.example.com, https://admin.example.com' });
  });
  afterAll(async () => {
    await closed?.close();
    await open?.close();
  });

  const preflight = (context: TestContext, origin: string) =>
    context.app.inject({
      method: 'OPTIONS',
      url: '/api/v1/documents',
      headers: { origin, 'access-control-request-method': 'POST' },
    });

  it('CORS is closed by default', async () => {
    const response = await preflight(closed, 'https://app.example.com');
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
    const get = await closed.app.inject({
      method: 'GET',
      url: '/api/v1/documents',
      headers: { origin: 'https://evil.example' },
    });
    expect(get.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('CORS opens to the listed origins only, never with a wildcard', async () => {
    const allowed = await preflight(open, 'https://admin.example.com');
    expect(allowed.statusCode).toBe(204);
    expect(allowed.headers['access-control-allow-origin']).toBe('https://admin.example.com');
    expect(allowed.headers['access-control-allow-headers']).toContain('authorization');
    const refused = await preflight(open, 'https://evil.example');
    expect(refused.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('every answer carries helmet headers, and the API docs still load', async () => {
    const response = await closed.app.inject({ method: 'GET', url: '/api/v1/documents' });
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['strict-transport-security']).toBeDefined();
    expect(response.headers['x-frame-options']).toBe('SAMEORIGIN');
    const docs = await closed.app.inject({ method: 'GET', url: '/docs/' });
    expect(docs.statusCode).toBe(200);
    expect(docs.headers['content-security-policy']).toBeDefined();
  });
});

describe('hostile JSON', () => {
  let context: TestContext;
  beforeAll(async () => {
    context = await createTestApp();
  });
  afterAll(async () => context?.close());

  const postJson = (url: string, body: string) =>
    context.app.inject({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/json' },
      payload: body,
    });

  it('nested a million levels deep is a 400 json_too_deep, not a stack overflow', async () => {
    const deep = `${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}`;
    for (const [url, body] of [
      ['/api/v1/documents', `{"content":"x","metadata":{"a":${deep}}}`],
      ['/api/v1/documents/batch', `{"documents":[${deep}]}`],
    ] as const) {
      const response = await postJson(url, body);
      expect(response.statusCode, url).toBe(400);
      expect(response.json().error.code).toBe('json_too_deep');
    }
    // Nesting inside strings is just text.
    const inString = await postJson('/api/v1/documents', JSON.stringify({ content: '['.repeat(10_000) }));
    expect(inString.statusCode).toBe(202);
  });

  it('with __proto__ or constructor.prototype keys is a 400', async () => {
    for (const body of [
      '{"content":"x","__proto__":{"polluted":true}}',
      '{"content":"x","metadata":{"constructor":{"prototype":{"polluted":true}}}}',
      // The same keys written with escapes.
      '{"content":"x","\\u005f_proto__":{"polluted":true}}',
      '{"content":"x","metadata":{"\\u0063onstructor":{"prototype":{"polluted":true}}}}',
    ]) {
      const response = await postJson('/api/v1/documents', body);
      expect(response.statusCode, body).toBe(400);
      expect(response.json().error.code).toBe('invalid_json');
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // The words themselves in content, or escapes elsewhere, are just text.
    for (const body of ['{"content":"the constructor of __proto__"}', '{"content":"caf\\u00e9 \\u005f"}']) {
      const response = await postJson('/api/v1/documents', body);
      expect(response.statusCode, body).toBe(202);
    }
  });

  it('a hostile X-Request-Id is replaced by our own', async () => {
    const response = await context.app.inject({
      method: 'GET',
      url: '/health',
      headers: { 'x-request-id': 'evil\r\nset-cookie: x'.replace('\r\n', ' ') + 'a'.repeat(300) },
    });
    expect(response.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});
