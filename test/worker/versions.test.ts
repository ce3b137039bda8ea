import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { startWorkerNode, type WorkerNode } from '../../src/worker/worker-node.js';
import { createTestConfig, eventually, silentLogger, waitForDocument } from '../helpers/context.js';

// Documents identified by (source, externalId): duplicates, versions and their history.
let app: Awaited<ReturnType<typeof buildApp>>;
let config: Awaited<ReturnType<typeof createTestConfig>>;
let worker: WorkerNode | undefined;

beforeAll(async () => {
  config = await createTestConfig();
  app = await buildApp({ config });
  await app.ready();
});
afterAll(async () => {
  await worker?.close();
  await app?.close();
});

const post = (payload: object) => app.inject({ method: 'POST', url: '/api/v1/documents', payload });
const get = (url: string) => app.inject({ method: 'GET', url });
/** Waiting jobs, once the jobs of the documents answered so far are enqueued. */
const jobCount = async () => {
  await app.handoff.settled();
  return (await app.documentQueue.queue.getJobCounts('waiting')).waiting;
};

describe('sending a document again under its externalId', () => {
  it('with the same content answers 200 duplicate with the existing version, storing and queueing nothing', async () => {
    const first = await post({ content: 'same words', source: 'wiki', externalId: 'page-1' });
    expect(first.statusCode).toBe(202);
    const jobsBefore = await jobCount();
    const again = await post({ content: 'same words', source: 'wiki', externalId: 'page-1' });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual({ id: first.json().id, version: 1, status: 'queued', duplicate: true });
    expect(again.headers.location).toBe(`/api/v1/documents/${first.json().id}`);
    expect(await jobCount()).toBe(jobsBefore);
    const { rows } = await app.db.query(
      'SELECT count(*)::int AS n FROM document_versions WHERE document_id = $1',
      [first.json().id],
    );
    expect(rows[0].n).toBe(1);
  });

  it('under another source is another document', async () => {
    const a = await post({ content: 'shared id', source: 'wiki', externalId: 'shared' });
    const b = await post({ content: 'shared id', source: 'crm', externalId: 'shared' });
    expect(a.json().id).not.toBe(b.json().id);
    expect(b.statusCode).toBe(202);
  });

  it('sent many times at once makes exactly one document', async () => {
    const responses = await Promise.all(
      Array.from({ length: 6 }, () => post({ content: 'raced', source: 'race', externalId: 'one' })),
    );
    const ids = new Set(responses.map((response) => response.json().id));
    expect(ids.size).toBe(1);
    expect(responses.map((response) => response.statusCode).sort()).toEqual([200, 200, 200, 200, 200, 202]);
  });

  it('in a batch gives duplicates status 200 and duplicate: true', async () => {
    await post({ content: 'batched', source: 'batch', externalId: 'b-1' });
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/documents/batch',
      payload: {
        documents: [
          { content: 'batched', source: 'batch', externalId: 'b-1' },
          { content: 'new one', source: 'batch', externalId: 'b-2' },
        ],
      },
    });
    expect(response.json().items).toMatchObject([
      { index: 0, status: 200, duplicate: true, version: 1 },
      { index: 1, status: 202, version: 1 },
    ]);
  });
});

describe('a changed document', () => {
  it('becomes a new version; the old chunks stay current until it completes, then the swap is atomic', async () => {
    const v1 = (await post({ content: 'first edition words', source: 'docs', externalId: 'guide' })).json();
    worker = await startWorkerNode({ config, logger: silentLogger, role: 'processor' });
    await waitForDocument(app, v1.id, { statuses: ['completed'] });
    await worker.close();
    worker = undefined;

    const v2 = await post({
      content: 'second edition, rewritten words',
      source: 'docs',
      externalId: 'guide',
    });
    expect(v2.statusCode).toBe(202);
    expect(v2.json()).toMatchObject({ id: v1.id, version: 2, status: 'queued', duplicate: false });

    // Not processed yet: the document shows version 2 queued, and still serves version 1's chunks.
    const pending = (await get(`/api/v1/documents/${v1.id}`)).json();
    expect(pending).toMatchObject({ version: 2, status: 'queued', currentVersion: 1 });
    const servedBefore = (await get(`/api/v1/documents/${v1.id}/chunks`)).json();
    expect(servedBefore.version).toBe(1);
    expect(servedBefore.items[0].text).toBe('first edition words');

    worker = await startWorkerNode({ config, logger: silentLogger, role: 'processor' });
    await waitForDocument(app, v1.id, { statuses: ['completed'] });
    const servedAfter = (await get(`/api/v1/documents/${v1.id}/chunks`)).json();
    expect(servedAfter.version).toBe(2);
    expect(servedAfter.items[0].text).toBe('second edition, rewritten words');
    // History stays readable.
    expect((await get(`/api/v1/documents/${v1.id}/chunks?version=1`)).json().items[0].text).toBe(
      'first edition words',
    );
    expect((await get(`/api/v1/documents/${v1.id}?version=1`)).json()).toMatchObject({
      version: 1,
      status: 'completed',
    });

    const versions = (await get(`/api/v1/documents/${v1.id}/versions`)).json().items;
    expect(versions.map((v: { version: number; status: string }) => [v.version, v.status])).toEqual([
      [2, 'completed'],
      [1, 'completed'],
    ]);
    expect(versions[0].contentHash).toMatch(/^[0-9a-f]{64}$/);
    expect(versions[0].contentHash).not.toBe(versions[1].contentHash);
  });

  it('answers 404 for a version that does not exist and for the versions of an unknown document', async () => {
    const { id } = (await post({ content: 'only one', source: 'docs', externalId: 'single' })).json();
    const missing = await get(`/api/v1/documents/${id}?version=9`);
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.message).toContain('version 9');
    expect((await get('/api/v1/documents/01900000-0000-7000-8000-000000000000/versions')).statusCode).toBe(
      404,
    );
  });
});

describe('DELETE /api/v1/documents/:id', () => {
  it('removes the document, its versions and chunks, cancels its waiting job, and a later GET is 404', async () => {
    await worker?.close();
    worker = undefined;
    const { id } = (await post({ content: 'to be deleted', source: 'docs', externalId: 'gone' })).json();
    await app.handoff.settled();
    expect(await app.documentQueue.queue.getJob(`${id}-v1`)).toBeDefined();

    const response = await app.inject({ method: 'DELETE', url: `/api/v1/documents/${id}` });
    expect(response.statusCode).toBe(204);
    expect(response.body).toBe('');
    expect((await get(`/api/v1/documents/${id}`)).statusCode).toBe(404);
    expect((await get(`/api/v1/documents/${id}/chunks`)).statusCode).toBe(404);
    expect(await app.documentQueue.queue.getJob(`${id}-v1`)).toBeUndefined();
    const { rows } = await app.db.query(
      `SELECT (SELECT count(*) FROM document_versions WHERE document_id = $1)::int AS versions,
              (SELECT count(*) FROM chunks WHERE document_id = $1)::int AS chunks`,
      [id],
    );
    expect(rows[0]).toEqual({ versions: 0, chunks: 0 });
    // The externalId is free again: sending it now makes a new document.
    const again = await post({ content: 'to be deleted', source: 'docs', externalId: 'gone' });
    expect(again.statusCode).toBe(202);
    expect(again.json().id).not.toBe(id);
  });

  it('answers 404 for an unknown document, and a second delete is 404', async () => {
    const { id } = (await post({ content: 'delete twice' })).json();
    expect((await app.inject({ method: 'DELETE', url: `/api/v1/documents/${id}` })).statusCode).toBe(204);
    expect((await app.inject({ method: 'DELETE', url: `/api/v1/documents/${id}` })).statusCode).toBe(404);
  });

  it('leaves a job that was already running with nothing to do', async () => {
    const { id } = (await post({ content: 'deleted while running' })).json();
    await app.db.query('DELETE FROM documents WHERE id = $1', [id]);
    worker = await startWorkerNode({ config, logger: silentLogger, role: 'processor' });
    const outcome = await eventually(async () => {
      const job = await app.documentQueue.queue.getJob(`${id}-v1`);
      return (await job?.getState()) === 'completed' ? job?.returnvalue : undefined;
    });
    expect(outcome).toBe('skipped');
  });
});
