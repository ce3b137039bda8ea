import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestContext } from '../helpers/context.js';

let ctx: TestContext;

beforeAll(async () => {
  ctx = await createTestApp();
});
afterAll(async () => {
  await ctx?.close();
});

const post = (payload: object, key?: string, url = '/api/v1/documents') =>
  ctx.app.inject({ method: 'POST', url, payload, headers: key ? { 'idempotency-key': key } : {} });
const documentCount = async () =>
  (await ctx.pool.query('SELECT count(*)::int AS n FROM documents')).rows[0].n;

describe('Idempotency-Key', () => {
  it('answers a retry of the same request with the first response, creating nothing new', async () => {
    const first = await post({ content: 'pay once' }, 'key-1');
    expect(first.statusCode).toBe(202);
    const before = await documentCount();
    const retry = await post({ content: 'pay once' }, 'key-1');
    expect(retry.statusCode).toBe(202);
    expect(retry.json()).toEqual(first.json());
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.headers.location).toBe(first.headers.location);
    expect(await documentCount()).toBe(before);
  });

  it('answers 409 when the key comes back with a different request', async () => {
    await post({ content: 'original' }, 'key-2');
    const other = await post({ content: 'something else' }, 'key-2');
    expect(other.statusCode).toBe(409);
    expect(other.json().error.code).toBe('idempotency_key_reused');
  });

  it('keeps keys apart from each other and from requests without one', async () => {
    const a = await post({ content: 'same text' }, 'key-3a');
    const b = await post({ content: 'same text' }, 'key-3b');
    const none = await post({ content: 'same text' });
    expect(new Set([a.json().id, b.json().id, none.json().id]).size).toBe(3);
  });

  it('answers 409 with Retry-After while the first request with the key is still running', async () => {
    // The same request under another key gives its fingerprint; key-4 then looks mid-request.
    await post({ content: 'slow one' }, 'key-4-probe');
    await ctx.pool.query(
      `INSERT INTO idempotency_keys (tenant_id, key, request_hash, expires_at)
       SELECT tenant_id, 'key-4', request_hash, now() + interval '1 hour' FROM idempotency_keys WHERE key = 'key-4-probe'`,
    );
    const response = await post({ content: 'slow one' }, 'key-4');
    expect(response.statusCode).toBe(409);
    expect(response.json().error.code).toBe('idempotency_key_in_progress');
    expect(response.headers['retry-after']).toBe('1');
  });

  it('does not keep a key whose request failed, so a corrected retry goes through', async () => {
    const bad = await post({ content: 'x', chunking: { size: 0 } }, 'key-5');
    expect(bad.statusCode).toBe(400);
    const good = await post({ content: 'x' }, 'key-5');
    expect(good.statusCode).toBe(202);
  });

  it('claims a key again once it has expired', async () => {
    const first = await post({ content: 'expires' }, 'key-6');
    await ctx.pool.query(
      `UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE key = 'key-6'`,
    );
    const later = await post({ content: 'expires' }, 'key-6');
    expect(later.statusCode).toBe(202);
    expect(later.json().id).not.toBe(first.json().id);
    expect(later.headers['idempotent-replayed']).toBeUndefined();
  });

  it('works for batches, and refuses a malformed key', async () => {
    const payload = { documents: [{ content: 'one' }, { content: '' }] };
    const first = await post(payload, 'batch-1', '/api/v1/documents/batch');
    const retry = await post(payload, 'batch-1', '/api/v1/documents/batch');
    expect(first.statusCode).toBe(207);
    expect(retry.json()).toEqual(first.json());
    const malformed = await post({ content: 'x' }, 'has space');
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().error.code).toBe('invalid_idempotency_key');
  });

  it('a retry after the first node died between its commit and its answer lands on the same documents', async () => {
    // The dead node's state: documents committed, the key still "in progress" past the lease.
    const first = await post({ content: 'committed, never answered' }, 'key-crash');
    await post(
      { documents: [{ content: 'batch one' }, { content: 'batch two' }] },
      'key-crash-batch',
      '/api/v1/documents/batch',
    );
    await ctx.pool.query(
      `UPDATE idempotency_keys SET status_code = NULL, response = NULL, created_at = now() - interval '10 minutes'
       WHERE key IN ('key-crash', 'key-crash-batch')`,
    );
    const before = await documentCount();

    const retry = await post({ content: 'committed, never answered' }, 'key-crash');
    expect(retry.statusCode).toBe(202);
    expect(retry.json().id).toBe(first.json().id);
    const batchRetry = await post(
      { documents: [{ content: 'batch one' }, { content: 'batch two' }] },
      'key-crash-batch',
      '/api/v1/documents/batch',
    );
    expect(batchRetry.statusCode).toBe(207);
    expect(batchRetry.json().accepted).toBe(2);
    expect(await documentCount()).toBe(before);
    // And the key now answers with the stored response.
    const replay = await post({ content: 'committed, never answered' }, 'key-crash');
    expect(replay.headers['idempotent-replayed']).toBe('true');
  });
});
