import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchSettings } from '../../src/config.js';
import { EXTERNAL_BODY_TYPE } from '../../src/fetch/external-body.js';
import { PipelinePool } from '../../src/pipeline/pipeline-pool.js';
import { claimVersion, MARK_NONE } from '../../src/store/versions.js';
import { processContent } from '../../src/worker/process-content.js';
import { startWorkerNode, type WorkerNode } from '../../src/worker/worker-node.js';
import {
  createTestApp,
  insertUnqueuedDocument,
  numberedWords,
  silentLogger,
  type TestContext,
  waitForDocument,
} from '../helpers/context.js';

const PLAIN_PAGE = 'the page as it is now';
const chunking = { strategy: 'words', size: 500, overlap: 50 } as const;

// A local "intranet" server, opened to URL ingestion by FETCH_ALLOWLIST and FETCH_ALLOWED_PORTS.
let server: http.Server;
let port: number;
let context: TestContext;
let worker: WorkerNode;

beforeAll(async () => {
  server = http.createServer((request, response) => {
    if (request.url === '/plain.txt') {
      response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      response.end(PLAIN_PAGE);
    } else if (request.url === '/guide.md') {
      response.writeHead(200, { 'content-type': 'text/markdown; charset=utf-8' });
      response.end(`# Guide\n\n${numberedWords(600)}\n`);
    } else if (request.url === '/to-loopback') {
      // 127.0.0.2 is loopback and not on the allowlist: the redirect must be refused.
      response.writeHead(302, { location: `http://127.0.0.2:${port}/guide.md` });
      response.end();
    } else {
      response.writeHead(404).end('missing');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  context = await createTestApp({ FETCH_ALLOWLIST: '127.0.0.1', FETCH_ALLOWED_PORTS: `80,443,${port}` });
  worker = await startWorkerNode({ config: context.config, logger: silentLogger, role: 'processor' });
});
afterAll(async () => {
  await worker?.close();
  await context?.close();
  await new Promise((resolve) => server?.close(resolve));
});

const post = (payload: Record<string, unknown>) =>
  context.app.inject({ method: 'POST', url: '/api/v1/documents', payload });

describe('documents sent by URL', () => {
  it('are stored by reference, fetched by a worker and processed like an upload', async () => {
    const url = `http://127.0.0.1:${port}/guide.md`;
    const accepted = await post({ url, chunking: { strategy: 'structure', size: 4000 } });
    expect(accepted.statusCode).toBe(202);
    const document = await waitForDocument(context.app, accepted.json().id);
    expect(document).toMatchObject({
      status: 'completed',
      sourceUrl: url,
      contentType: 'text/markdown; charset=utf-8',
      filename: 'guide.md',
      detectedType: 'text/markdown',
    });
    const chunks = (
      await context.app.inject({ method: 'GET', url: `/api/v1/documents/${accepted.json().id}/chunks` })
    ).json();
    expect(chunks.items[0].headingPath).toEqual(['Guide']);
    expect(chunks.items.map((chunk: { text: string }) => chunk.text).join(' ')).toContain('w599');
  });

  it('are not marked as their stored text when another delivery stored its own fetch first', async () => {
    const url = `http://127.0.0.1:${port}/plain.txt`;
    const id = await insertUnqueuedDocument(context.pool, url, 'default', EXTERNAL_BODY_TYPE);
    const ref = { documentId: id, version: 1 };
    const claimed = await claimVersion(context.pool, ref, MARK_NONE);
    // Meanwhile another delivery fetched the page (as it was then) and stored it.
    await context.pool.query(
      `UPDATE document_versions SET raw_content = $2, content_type = 'text/plain', source_url = $3
       WHERE document_id = $1`,
      [id, Buffer.from('the page as it was'), url],
    );
    const pipeline = new PipelinePool({ threads: 1, timeoutMs: 20_000, heapMb: 256 });
    try {
      const deps = { pool: context.pool, pipeline, fetch: fetchSettings(context.config) };
      const outcome = await processContent(deps, ref, claimed as NonNullable<typeof claimed>, chunking, {
        tenantId: 'default',
        marked: false,
        deliveries: 1,
        started: performance.now(),
      });
      if (outcome.kind !== 'ready') throw new Error(`expected a ready version, got ${outcome.kind}`);
      // This delivery's text is the page as it is now, not raw_content: it must be stored as text.
      expect(outcome.version.completion.extracted.text).toBe(PLAIN_PAGE);
      expect(outcome.version.completion.textIsRaw).toBe(false);
    } finally {
      await pipeline.close();
    }
  });

  it('fail for good, with the reason, when the server answers 404 or redirects to a refused address', async () => {
    for (const [path, code] of [
      ['/nothing-here', 'fetch_failed'],
      ['/to-loopback', 'fetch_forbidden'],
    ] as const) {
      const accepted = await post({ url: `http://127.0.0.1:${port}${path}` });
      expect(accepted.statusCode).toBe(202);
      const document = await waitForDocument(context.app, accepted.json().id);
      expect(document).toMatchObject({ status: 'failed', error: { code } });
    }
    const dead = (
      await context.app.inject({ method: 'GET', url: '/api/v1/dlq?code=fetch_forbidden' })
    ).json();
    expect(dead.items).toHaveLength(1);
  });

  it('are refused at once, with 400 naming the problem, when the URL can be judged without the network', async () => {
    for (const [url, code] of [
      ['http://127.0.0.2/x', 'forbidden_address'],
      ['http://2130706434/', 'forbidden_address'], // 127.0.0.2 in decimal
      ['http://169.254.169.254/latest/meta-data/', 'forbidden_address'],
      ['http://[::ffff:a00:1]/', 'forbidden_address'], // 10.0.0.1, IPv4-mapped
      ['file:///etc/passwd', 'scheme_not_allowed'],
      ['http://user:pass@example.com/', 'credentials_in_url'],
      ['http://example.com:22/', 'port_not_allowed'],
      ['not a url', 'invalid_url'],
    ] as const) {
      const response = await post({ url });
      expect(response.statusCode, url).toBe(400);
      expect(response.json().error.code, url).toBe(code);
    }
    const both = await post({ url: 'https://example.com/', content: 'text' });
    expect(both.statusCode).toBe(400);
    expect(both.json().error.message).toContain('exactly one of content and url');
  });

  it('cannot be forged by an upload declaring message/external-body', async () => {
    const response = await context.app.inject({
      method: 'POST',
      url: '/api/v1/documents',
      headers: { 'content-type': 'message/external-body; access-type=URL' },
      payload: 'http://127.0.0.1/',
    });
    expect(response.statusCode).toBe(415);
  });
});
