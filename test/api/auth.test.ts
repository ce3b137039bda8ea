import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loggerOptions } from '../../src/logger.js';
import { type ApiKeyScope, createApiKey, revokeApiKey } from '../../src/store/api-keys.js';
import { createTestApp, insertUnqueuedDocument, type TestContext } from '../helpers/context.js';

let context: TestContext;
const keys: Record<string, string> = {};

async function makeKey(tenantId: string, scopes: ApiKeyScope[]): Promise<string> {
  return (await createApiKey(context.pool, { tenantId, scopes })).key;
}

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

beforeAll(async () => {
  // No cache: a revocation shows at once. Rate limits are tested below, on their own app.
  context = await createTestApp({ AUTH_REQUIRED: 'true', API_KEY_CACHE_MS: '0', RATE_LIMIT_PER_MINUTE: '0' });
  keys.aAll = await makeKey('tenant-a', ['ingest', 'read']);
  keys.aRead = await makeKey('tenant-a', ['read']);
  keys.aIngest = await makeKey('tenant-a', ['ingest']);
  keys.aAdmin = await makeKey('tenant-a', ['admin']);
  keys.bAll = await makeKey('tenant-b', ['ingest', 'read']);
  keys.bAdmin = await makeKey('tenant-b', ['admin']);
});
afterAll(async () => context?.close());

async function postDocument(key: string, content = 'hello tenant'): Promise<string> {
  const response = await context.app.inject({
    method: 'POST',
    url: '/api/v1/documents',
    headers: bearer(key),
    payload: { content },
  });
  expect(response.statusCode).toBe(202);
  return response.json().id;
}

describe('API keys', () => {
  it('are required on /api routes: none, malformed, wrong or revoked answer 401 with WWW-Authenticate', async () => {
    const none = await context.app.inject({ method: 'GET', url: '/api/v1/documents' });
    expect(none.statusCode).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer');
    expect(none.json().error.code).toBe('unauthorized');

    const malformed = await context.app.inject({
      method: 'GET',
      url: '/api/v1/documents',
      headers: bearer('nope'),
    });
    expect(malformed.statusCode).toBe(401);

    // Right prefix, wrong secret.
    const good = keys.aAll as string;
    const forged =
      `${good.slice(0, -4)}AAAA` === good ? `${good.slice(0, -4)}BBBB` : `${good.slice(0, -4)}AAAA`;
    const wrong = await context.app.inject({
      method: 'GET',
      url: '/api/v1/documents',
      headers: bearer(forged),
    });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().error.message).toContain('not valid');

    const revocable = await makeKey('tenant-a', ['read']);
    const ok = await context.app.inject({
      method: 'GET',
      url: '/api/v1/documents',
      headers: bearer(revocable),
    });
    expect(ok.statusCode).toBe(200);
    expect(await revokeApiKey(context.pool, revocable.split('_')[1] as string)).toBe(true);
    const revoked = await context.app.inject({
      method: 'GET',
      url: '/api/v1/documents',
      headers: bearer(revocable),
    });
    expect(revoked.statusCode).toBe(401);
    expect(revoked.json().error.message).toContain('revoked');
  });

  it('are accepted as x-api-key too, but never in the query string', async () => {
    const header = await context.app.inject({
      method: 'GET',
      url: '/api/v1/documents',
      headers: { 'x-api-key': keys.aRead as string },
    });
    expect(header.statusCode).toBe(200);
    const query = await context.app.inject({ method: 'GET', url: `/api/v1/documents?api_key=${keys.aRead}` });
    expect(query.statusCode).toBe(400);
    expect(query.json().error.code).toBe('credentials_in_query');
  });

  it('are not needed for /health, /ready and /metrics', async () => {
    for (const url of ['/health', '/ready', '/metrics']) {
      expect((await context.app.inject({ method: 'GET', url })).statusCode).toBe(200);
    }
  });

  it('need the route scope: 403 naming it otherwise; admin implies every scope', async () => {
    const readOnlyPost = await context.app.inject({
      method: 'POST',
      url: '/api/v1/documents',
      headers: bearer(keys.aRead as string),
      payload: { content: 'x' },
    });
    expect(readOnlyPost.statusCode).toBe(403);
    expect(readOnlyPost.json().error).toMatchObject({ code: 'forbidden', details: { required: 'ingest' } });

    const id = await postDocument(keys.aIngest as string);
    const ingestOnlyGet = await context.app.inject({
      method: 'GET',
      url: `/api/v1/documents/${id}`,
      headers: bearer(keys.aIngest as string),
    });
    expect(ingestOnlyGet.statusCode).toBe(403);

    for (const url of ['/api/v1/dlq', '/api/v1/stats']) {
      const denied = await context.app.inject({ method: 'GET', url, headers: bearer(keys.aAll as string) });
      expect(denied.statusCode).toBe(403);
      expect(denied.json().error.details.required).toBe('admin');
    }
    const dlq = await context.app.inject({
      method: 'GET',
      url: '/api/v1/dlq',
      headers: bearer(keys.aAdmin as string),
    });
    expect(dlq.statusCode).toBe(200);
    // Platform-wide statistics: the operator tenant's admin keys only (OPERATOR_TENANT, default "default").
    const otherTenantStats = await context.app.inject({
      method: 'GET',
      url: '/api/v1/stats',
      headers: bearer(keys.aAdmin as string),
    });
    expect(otherTenantStats.statusCode).toBe(403);
    const operator = await makeKey('default', ['admin']);
    const operatorStats = await context.app.inject({
      method: 'GET',
      url: '/api/v1/stats',
      headers: bearer(operator),
    });
    expect(operatorStats.statusCode).toBe(200);
    const adminGet = await context.app.inject({
      method: 'GET',
      url: `/api/v1/documents/${id}`,
      headers: bearer(keys.aAdmin as string),
    });
    expect(adminGet.statusCode).toBe(200);
  });

  it('an unauthenticated upload is refused before its body is read', async () => {
    const response = await context.app.inject({
      method: 'POST',
      url: '/api/v1/documents',
      headers: { 'content-type': 'application/octet-stream' },
      payload: Buffer.alloc(1024 * 1024, 1),
    });
    expect(response.statusCode).toBe(401);
  });
});

describe('tenants', () => {
  it("see only their own documents: another tenant's ids answer 404 for GET, versions, chunks, rechunk and DELETE", async () => {
    const id = await postDocument(keys.aAll as string, 'tenant a private text');
    const asB = bearer(keys.bAll as string);
    for (const [method, url] of [
      ['GET', `/api/v1/documents/${id}`],
      ['GET', `/api/v1/documents/${id}/versions`],
      ['GET', `/api/v1/documents/${id}/chunks`],
      ['POST', `/api/v1/documents/${id}/rechunk`],
      ['DELETE', `/api/v1/documents/${id}`],
    ] as const) {
      const response = await context.app.inject({
        method,
        url,
        headers: asB,
        ...(method === 'POST' ? { payload: { chunking: { strategy: 'words', size: 100 } } } : {}),
      });
      expect(response.statusCode, `${method} ${url}`).toBe(404);
    }
    const listB = await context.app.inject({
      method: 'GET',
      url: '/api/v1/documents?limit=100',
      headers: asB,
    });
    expect(listB.json().items.map((item: { id: string }) => item.id)).not.toContain(id);
    // Still there for its owner.
    const own = await context.app.inject({
      method: 'GET',
      url: `/api/v1/documents/${id}`,
      headers: bearer(keys.aAll as string),
    });
    expect(own.statusCode).toBe(200);
  });

  it("see only their own dead letters: another tenant's answer 404 to GET, retry and DELETE", async () => {
    const documentId = await insertUnqueuedDocument(context.pool, 'dead letter text', 'tenant-a');
    const { rows } = await context.pool.query<{ id: string }>(
      `INSERT INTO dlq_items (tenant_id, document_id, version, error_code, error_message, payload)
       VALUES ('tenant-a', $1, 1, 'corrupt_file', 'bad', '{}') RETURNING id::text`,
      [documentId],
    );
    const dlqId = rows[0]?.id as string;
    const asB = bearer(keys.bAdmin as string);
    for (const [method, url] of [
      ['GET', `/api/v1/dlq/${dlqId}`],
      ['POST', `/api/v1/dlq/${dlqId}/retry`],
      ['DELETE', `/api/v1/dlq/${dlqId}`],
    ] as const) {
      const response = await context.app.inject({ method, url, headers: asB });
      expect(response.statusCode, `${method} ${url}`).toBe(404);
    }
    const bulk = await context.app.inject({
      method: 'POST',
      url: '/api/v1/dlq/retry',
      headers: asB,
      payload: {},
    });
    expect(bulk.json().retried).toBe(0);
    const own = await context.app.inject({
      method: 'GET',
      url: `/api/v1/dlq/${dlqId}`,
      headers: bearer(keys.aAdmin as string),
    });
    expect(own.statusCode).toBe(200);
  });
});

describe('logs', () => {
  it('redact credentials wherever request headers are logged', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const logger = pino(loggerOptions({ LOG_LEVEL: 'info' }), sink);
    logger.info({
      req: { headers: { authorization: 'Bearer secret-1', 'x-api-key': 'secret-2', cookie: 'c=secret-3' } },
    });
    logger.info({ headers: { authorization: 'Bearer secret-4' }, apiKey: 'secret-5' });
    const output = lines.join('');
    expect(output).toContain('[Redacted]');
    expect(output).not.toMatch(/secret-\d/);
  });
});
