import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROCESSING_QUEUE } from '../../src/queue/jobs.js';
import { createTestApp, numberedWords, type TestContext } from '../helpers/context.js';
import { queuedDocumentIds } from '../helpers/queued-versions.js';

// No worker runs in this file: documents stay queued, which is what the contract tests want.
let ctx: TestContext;

beforeAll(async () => {
  ctx = await createTestApp({
    MAX_DOCUMENT_BYTES: '2000',
    BATCH_MAX_DOCUMENTS: '5',
    BATCH_MAX_BYTES: '20000',
  });
});
afterAll(async () => {
  await ctx?.close();
});

async function post(body: unknown, headers: Record<string, string> = {}) {
  return ctx.app.inject({ method: 'POST', url: '/api/v1/documents', payload: body as object, headers });
}

describe('POST /api/v1/documents', () => {
  it('commits the document before answering 202 with its id, version and a Location', async () => {
    const response = await post({ content: 'hello world', metadata: { lang: 'en' }, externalId: 'doc-1' });
    expect(response.statusCode).toBe(202);
    const body = response.json();
    expect(body).toEqual({ id: expect.any(String), version: 1, status: 'queued', duplicate: false });
    expect(response.headers.location).toBe(`/api/v1/documents/${body.id}`);

    const { rows } = await ctx.pool.query(
      `SELECT d.status, d.external_id, d.metadata, v.raw_content, v.content_type, v.chunking, v.bytes
       FROM documents d JOIN document_versions v ON v.document_id = d.id WHERE d.id = $1`,
      [body.id],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      status: 'queued',
      external_id: 'doc-1',
      metadata: { lang: 'en' },
      content_type: 'text/plain',
      chunking: { strategy: 'words', size: 500, overlap: 50 },
      bytes: 11,
    });
    expect(rows[0].raw_content.toString('utf8')).toBe('hello world');
  });

  it('enqueues a job that carries ids only, never the content', async () => {
    const response = await post({ content: 'secret text that must stay out of redis' });
    const { id } = response.json();
    await ctx.app.handoff.settled();
    const job = await ctx.app.documentQueue.queue.getJob(`${id}-v1`);
    expect(job?.data).toEqual({
      documentId: id,
      version: 1,
      tenantId: 'default',
      requestId: expect.any(String),
    });
    expect(JSON.stringify(job?.data)).not.toContain('secret');
    expect(job?.queueName).toBe(PROCESSING_QUEUE);
  });

  it('echoes a well-formed X-Request-Id and replaces a hostile one', async () => {
    const kept = await post({ content: 'x' }, { 'x-request-id': 'client-req-123' });
    expect(kept.headers['x-request-id']).toBe('client-req-123');
    const replaced = await post({ content: 'x' }, { 'x-request-id': 'bad id\twith <stuff>' });
    expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it.each([
    ['missing content', {}, 'content'],
    ['empty content', { content: '' }, 'content'],
    ['content of the wrong type', { content: 42 }, 'content'],
    ['an unsupported content type', { content: 'x', contentType: 'application/pdf' }, 'contentType'],

    ['chunk size 0', { content: 'x', chunking: { size: 0 } }, 'chunking.size'],
    ['an unknown strategy', { content: 'x', chunking: { strategy: 'sentences' } }, 'chunking.strategy'],
    ['overlap over half the size', { content: 'x', chunking: { size: 10, overlap: 6 } }, 'chunking.overlap'],
    ['metadata that is not an object', { content: 'x', metadata: [1, 2] }, 'metadata'],
    ['a NUL character in source', { content: 'x', source: 'a\u0000b' }, 'source'],
    ['a NUL character in externalId', { content: 'x', externalId: 'a\u0000' }, 'externalId'],
    ['a NUL character in a metadata value', { content: 'x', metadata: { k: ['ok', 'a\u0000'] } }, 'metadata'],
    ['a lone surrogate in metadata', { content: 'x', metadata: { k: '\ud800' } }, 'metadata'],
    ['metadata over 16 KiB', { content: 'x', metadata: { k: 'v'.repeat(17 * 1024) } }, 'metadata'],
    [
      'metadata nested too deep',
      { content: 'x', metadata: { a: { b: { c: { d: { e: { f: { g: { h: { i: 1 } } } } } } } } } },
      'metadata',
    ],
  ])('answers 400 validation_error naming the field for %s', async (_case, body, path) => {
    const response = await post(body);
    expect(response.statusCode).toBe(400);
    const { error } = response.json();
    expect(error.code).toBe('validation_error');
    expect(error.message).toEqual(expect.any(String));
    expect(error.details).toEqual(expect.arrayContaining([expect.objectContaining({ path })]));
  });

  it('names an unknown field in the message', async () => {
    const response = await post({ content: 'x', colour: 'red' });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.message).toContain('colour');
  });

  it('scales a missing overlap with the size asked for', async () => {
    const { id } = (await post({ content: 'x', chunking: { size: 100 } })).json();
    const { rows } = await ctx.pool.query('SELECT chunking FROM document_versions WHERE document_id = $1', [
      id,
    ]);
    expect(rows[0].chunking).toEqual({ strategy: 'words', size: 100, overlap: 10 });
  });

  it('answers 400 invalid_json for a malformed body', async () => {
    const response = await ctx.app.inject({
      method: 'POST',
      url: '/api/v1/documents',
      headers: { 'content-type': 'application/json' },
      payload: '{"content": ',
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe('invalid_json');
  });

  it.each([
    ['__proto__', '{"content":"poison-1","__proto__":{"polluted":true}}'],
    ['constructor.prototype', '{"content":"poison-2","constructor":{"prototype":{"polluted":true}}}'],
  ])('refuses %s in the body with 400 and stores nothing', async (_case, payload) => {
    const response = await ctx.app.inject({
      method: 'POST',
      url: '/api/v1/documents',
      headers: { 'content-type': 'application/json' },
      payload,
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe('invalid_json');
    const { rows } = await ctx.pool.query(
      `SELECT 1 FROM document_versions WHERE raw_content IN ('poison-1'::bytea, 'poison-2'::bytea)`,
    );
    expect(rows).toEqual([]);
  });

  it('answers 413 with the limit for content over MAX_DOCUMENT_BYTES and stores nothing', async () => {
    const before = await ctx.pool.query('SELECT count(*)::int AS n FROM documents');
    const response = await post({ content: 'é'.repeat(1001) }); // 2,002 bytes of UTF-8
    expect(response.statusCode).toBe(413);
    expect(response.json().error).toMatchObject({
      code: 'document_too_large',
      details: { bytes: 2002, limit: 2000 },
    });
    const after = await ctx.pool.query('SELECT count(*)::int AS n FROM documents');
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });
});

describe('POST /api/v1/documents/batch', () => {
  it('answers 207 with one result per item; bad items do not sink the good ones', async () => {
    const response = await ctx.app.inject({
      method: 'POST',
      url: '/api/v1/documents/batch',
      payload: {
        documents: [
          { content: 'first' },
          { content: '' },
          { content: 'third', source: 'crawler' },
          'not an object',
        ],
      },
    });
    expect(response.statusCode).toBe(207);
    const body = response.json();
    expect(body.accepted).toBe(2);
    expect(body.rejected).toBe(2);
    expect(body.items.map((item: { status: number }) => item.status)).toEqual([202, 400, 202, 400]);
    expect(body.items[1].error).toMatchObject({ code: 'validation_error' });
    const ids = [body.items[0].id, body.items[2].id];
    const { rows } = await ctx.pool.query('SELECT id, source FROM documents WHERE id = ANY($1) ORDER BY id', [
      ids,
    ]);
    expect(rows.map((row) => row.source)).toEqual(['api', 'crawler']);
    // One job for the two: a group job, as the batch was one commit (enqueued behind the answer).
    await ctx.app.handoff.settled();
    const queued = await queuedDocumentIds(ctx.app.documentQueue.queue);
    expect(ids.map((id) => queued.get(id))).toEqual([1, 1]);
    const groups = await ctx.app.documentQueue.queue.getJobs(['waiting']);
    expect(groups.some((job) => job.id?.startsWith(`${ids[0]}-v1-group-`))).toBe(true);
  });

  it('gives an item over MAX_DOCUMENT_BYTES or with bad text its own error, not the batch', async () => {
    const response = await ctx.app.inject({
      method: 'POST',
      url: '/api/v1/documents/batch',
      payload: {
        documents: [
          { content: 'x'.repeat(2001) },
          { content: 'x', externalId: 'a\u0000' },
          { content: 'ok' },
        ],
      },
    });
    expect(response.statusCode).toBe(207);
    const { items } = response.json();
    expect(items.map((item: { status: number }) => item.status)).toEqual([413, 400, 202]);
    expect(items[0].error.code).toBe('document_too_large');
  });

  it('answers 413 payload_too_large for a body over BATCH_MAX_BYTES', async () => {
    const response = await ctx.app.inject({
      method: 'POST',
      url: '/api/v1/documents/batch',
      payload: { documents: Array.from({ length: 5 }, () => ({ content: 'y'.repeat(5000) })) },
    });
    expect(response.statusCode).toBe(413);
    expect(response.json().error.code).toBe('payload_too_large');
  });

  it('answers 400 for more documents than BATCH_MAX_DOCUMENTS, or none', async () => {
    const tooMany = await ctx.app.inject({
      method: 'POST',
      url: '/api/v1/documents/batch',
      payload: { documents: Array.from({ length: 6 }, () => ({ content: 'x' })) },
    });
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.json().error.details[0].path).toBe('documents');
    const none = await ctx.app.inject({
      method: 'POST',
      url: '/api/v1/documents/batch',
      payload: { documents: [] },
    });
    expect(none.statusCode).toBe(400);
  });
});

describe('GET /api/v1/documents/:id', () => {
  it('shows a queued document with its stages', async () => {
    const { id } = (await post({ content: numberedWords(10), source: 'tests', externalId: 'e-1' })).json();
    const response = await ctx.app.inject({ method: 'GET', url: `/api/v1/documents/${id}` });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      id,
      status: 'queued',
      version: 1,
      currentVersion: null,
      source: 'tests',
      externalId: 'e-1',
      contentType: 'text/plain',
      bytes: numberedWords(10).length,
      chunkCount: null,
      metadata: {},
      error: null,
      stages: { queuedAt: expect.any(String), startedAt: null, completedAt: null },
    });
  });

  it('answers 404 not_found for an unknown id and 400 for a malformed one', async () => {
    const missing = await ctx.app.inject({
      method: 'GET',
      url: '/api/v1/documents/01900000-0000-7000-8000-000000000000',
    });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('not_found');
    const malformed = await ctx.app.inject({ method: 'GET', url: '/api/v1/documents/not-a-uuid' });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().error.code).toBe('validation_error');
  });

  it('gives an empty chunk page while the document is not yet processed', async () => {
    const { id } = (await post({ content: 'pending words' })).json();
    const response = await ctx.app.inject({ method: 'GET', url: `/api/v1/documents/${id}/chunks` });
    expect(response.json()).toEqual({ version: null, items: [], nextCursor: null });
  });

  it('answers 404 for chunks of a version that does not exist and 400 for a bad chunk cursor', async () => {
    const { id } = (await post({ content: 'some words' })).json();
    const noVersion = await ctx.app.inject({
      method: 'GET',
      url: `/api/v1/documents/${id}/chunks?version=2`,
    });
    expect(noVersion.statusCode).toBe(404);
    expect(noVersion.json().error).toMatchObject({
      code: 'not_found',
      message: expect.stringContaining('version 2'),
    });
    const badCursor = await ctx.app.inject({
      method: 'GET',
      url: `/api/v1/documents/${id}/chunks?cursor=nope`,
    });
    expect(badCursor.statusCode).toBe(400);
    expect(badCursor.json().error.code).toBe('invalid_cursor');
  });
});

describe('GET /api/v1/documents', () => {
  it('pages through documents newest first, filtered by source, with a null cursor at the end', async () => {
    const source = 'paging';
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await post({ content: `doc ${i}`, source })).json().id);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `source=${source}&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const response = await ctx.app.inject({ method: 'GET', url: `/api/v1/documents?${query}` });
      expect(response.statusCode).toBe(200);
      const body: { items: { id: string }[]; nextCursor: string | null } = response.json();
      seen.push(...body.items.map((item) => item.id));
      cursor = body.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual([...ids].reverse());
  });

  it('filters by status and rejects a bad status, limit or cursor', async () => {
    const completed = await ctx.app.inject({ method: 'GET', url: '/api/v1/documents?status=completed' });
    expect(completed.json().items).toEqual([]);
    for (const query of ['status=done', 'limit=0', 'limit=101', 'cursor=garbage']) {
      const response = await ctx.app.inject({ method: 'GET', url: `/api/v1/documents?${query}` });
      expect(response.statusCode, query).toBe(400);
    }
    const badCursor = await ctx.app.inject({ method: 'GET', url: '/api/v1/documents?cursor=garbage' });
    expect(badCursor.json().error.code).toBe('invalid_cursor');
  });
});

describe('errors', () => {
  it('answers unknown routes with the JSON error body', async () => {
    const response = await ctx.app.inject({ method: 'GET', url: '/api/v1/nothing-here?x=1' });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({
      error: { code: 'not_found', message: 'no route for GET /api/v1/nothing-here', details: null },
    });
  });
});
