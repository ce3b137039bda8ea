import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { startWorkerNode, type WorkerNode } from '../../src/worker/worker-node.js';
import { readFixture } from '../fixtures/read-fixture.js';
import {
  createTestConfig,
  eventually,
  insertUnqueuedDocument,
  silentLogger,
  waitForDocument,
} from '../helpers/context.js';
import { deflatedZeros, rawZip, storedEntry } from '../pipeline/extract/hostile-zips.js';

// Real files of every format, and hostile ones, through the whole service: upload, worker
// threads, stored text and chunks. Bad files must fail with their code while the rest complete.
let app: Awaited<ReturnType<typeof buildApp>>;
let worker: WorkerNode;

beforeAll(async () => {
  const config = await createTestConfig({ PIPELINE_THREADS: '2', WORKER_CONCURRENCY: '4' });
  app = await buildApp({ config });
  await app.ready();
  worker = await startWorkerNode({ config, logger: silentLogger, role: 'processor' });
});
afterAll(async () => {
  await worker?.close();
  await app?.close();
});

const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const PPTX = 'application/vnd.openxmlformats-officedocument.presentationml.presentation';
const ODT = 'application/vnd.oasis.opendocument.text';

/** Uploads as multipart, as browsers and `ingestd push` do (a raw application/json body is an API request). */
async function upload(
  bytes: Uint8Array,
  contentType: string,
  filename: string,
  chunking?: object,
): Promise<string> {
  const form = new FormData();
  if (chunking) form.append('chunking', JSON.stringify(chunking));
  form.append('file', new Blob([bytes], { type: contentType }), filename);
  const encoded = new Response(form);
  const response = await app.inject({
    method: 'POST',
    url: '/api/v1/documents',
    headers: { 'content-type': encoded.headers.get('content-type') as string },
    payload: Buffer.from(await encoded.arrayBuffer()),
  });
  expect(response.statusCode, `${filename}: ${response.body}`).toBe(202);
  return response.json().id;
}

const settled = (id: string) => waitForDocument(app, id);

async function chunksOf(id: string) {
  return (await app.inject({ method: 'GET', url: `/api/v1/documents/${id}/chunks?limit=1000` })).json().items;
}

/** A DOCX whose document part inflates to 500 MiB of zeros: about 500 KB on the wire. */
function zipBomb(): Uint8Array {
  return rawZip([
    storedEntry('[Content_Types].xml', '<Types/>'),
    { name: 'word/document.xml', data: deflatedZeros(500), method: 8, declaredSize: 500 * (1 << 20) },
  ]);
}

const fixtures: [file: string, declared: string, detected: string, mustContain: string][] = [
  ['report.pdf', 'application/pdf', 'application/pdf', 'The first page explains the goal.'],
  ['report.docx', DOCX, DOCX, 'Sales grew in every region.'],
  ['sales.xlsx', 'application/octet-stream', XLSX, 'Region: North; Units: 120'],
  ['deck.pptx', 'application/octet-stream', PPTX, 'Ingestion for everyone'],
  ['minutes.odt', 'application/octet-stream', ODT, 'Present: Ada, Grace and Alan.'],
  ['page.html', 'text/html', 'text/html', 'A classic dish, served hot with salt.'],
  ['guide.md', 'text/markdown', 'text/markdown', 'Read this first.'],
  ['people.csv', 'text/csv', 'text/csv', 'name: Ada Lovelace; city: London'],
  ['order.json', 'application/json', 'application/json', 'order.customer.name: Ada'],
  ['latin1.txt', 'text/plain', 'text/plain', 'Grüße aus Köln'],
  ['utf16le.txt', 'text/plain', 'text/plain', 'Kraków'],
];

describe('documents of every format', () => {
  it('complete with the detected type, extracted text and chunks', async () => {
    const ids = await Promise.all(
      fixtures.map(([file, declared]) =>
        upload(readFixture(file), declared, file, { strategy: 'structure' }),
      ),
    );
    for (const [i, [file, , detected, mustContain]] of fixtures.entries()) {
      const document = await settled(ids[i] as string);
      expect(document, file).toMatchObject({ status: 'completed', detectedType: detected, filename: file });
      const chunks = await chunksOf(ids[i] as string);
      expect(chunks.length, file).toBeGreaterThan(0);
      expect(chunks.map((c: { text: string }) => c.text).join(' '), file).toContain(mustContain);
    }
  });

  it('keeps page numbers of PDFs and heading paths of structured formats on the chunks', async () => {
    const pdf = await upload(readFixture('report.pdf'), 'application/pdf', 'report.pdf', {
      strategy: 'structure',
    });
    const md = await upload(readFixture('guide.md'), 'text/markdown', 'guide.md', { strategy: 'structure' });
    await settled(pdf);
    await settled(md);
    const pdfPages = (await chunksOf(pdf)).flatMap((c: { pages: number[] }) => c.pages);
    expect(new Set(pdfPages)).toEqual(new Set([1, 2]));
    const paths = (await chunksOf(md)).map((c: { headingPath: string[] }) => c.headingPath);
    expect(paths.some((path: string[]) => path.length >= 2)).toBe(true);
  });
});

describe('hostile documents', () => {
  it('each fail with a precise code while good documents keep completing and /ready stays 200', async () => {
    const pdf = Buffer.from(readFixture('report.pdf'));
    const random = (size: number) =>
      Buffer.from(Array.from({ length: size }, (_, i) => (i * 7919 + 13) % 256));
    const hostile: [name: string, bytes: Uint8Array, declared: string, codes: string[]][] = [
      ['truncated.pdf', pdf.subarray(0, Math.floor(pdf.length / 2)), 'application/pdf', ['corrupt']],
      [
        'garbage.pdf',
        Buffer.concat([Buffer.from('%PDF-1.7\n'), random(64 * 1024)]),
        'application/pdf',
        ['corrupt'],
      ],
      ['not-a-zip.docx', random(4096), DOCX, ['corrupt', 'unsupported_type']],
      ['bomb.docx', zipBomb(), DOCX, ['too_large']],
      [
        'deep.json',
        Buffer.from(`${'['.repeat(100_000)}${']'.repeat(100_000)}`),
        'application/json',
        ['too_large'],
      ],
      ['binary.txt', random(8192), 'text/plain', ['unsupported_type']],
    ];
    const hostileIds = await Promise.all(
      hostile.map(([name, bytes, declared]) => upload(bytes, declared, name)),
    );
    const nested = `<html><body>${'<div>'.repeat(50_000)}deep text${'</div>'.repeat(50_000)}</body></html>`;
    const goodIds = await Promise.all([
      upload(Buffer.from(nested), 'text/html', 'nested.html'),
      upload(Buffer.from('valid é'), 'text/plain', 'good.txt'),
      // Text with a broken byte sequence inside is still text: decoded, not refused.
      upload(
        Buffer.concat([
          Buffer.from('Mostly fine text, then a broken sequence '),
          Buffer.from([0xc3, 0x28, 0xff]),
          Buffer.from(' and more words after it.'),
        ]),
        'text/plain',
        'invalid-utf8.txt',
      ),
      upload(readFixture('report.docx'), DOCX, 'report.docx'),
      // Too short for any guesser: only the declared charset can read it right.
      upload(iconv.encode('Привет, мир', 'windows-1251'), 'text/plain; charset=windows-1251', 'cyrillic.txt'),
    ]);

    for (const [i, [name, , , codes]] of hostile.entries()) {
      const document = await settled(hostileIds[i] as string);
      expect(document.status, name).toBe('failed');
      expect(codes, `${name}: ${JSON.stringify(document.error)}`).toContain(document.error.code);
    }
    for (const id of goodIds) {
      const document = await settled(id);
      expect(document.status, `${document.filename}: ${JSON.stringify(document.error)}`).toBe('completed');
    }
    expect((await chunksOf(goodIds[0] as string))[0].text).toContain('deep text');
    expect((await chunksOf(goodIds[4] as string))[0].text).toBe('Привет, мир');
    expect((await app.inject({ method: 'GET', url: '/ready' })).statusCode).toBe(200);

    // Permanent failures are not retried.
    const { rows } = await app.db.query(
      'SELECT attempts FROM document_versions WHERE document_id = ANY($1)',
      [hostileIds],
    );
    expect(rows.every((row) => row.attempts === 1)).toBe(true);
  }, 90_000);
});

/** Resolves once the version's pending re-chunk is done (its request cleared). */
function rechunked(id: string) {
  return eventually(async () => {
    const { rows } = await app.db.query(
      'SELECT rechunk_settings FROM document_versions WHERE document_id = $1',
      [id],
    );
    return rows[0].rechunk_settings === null ? true : undefined;
  });
}

describe('re-chunking', () => {
  it('re-chunks plain text from its raw content, which is its only stored copy', async () => {
    const text = 'Grüße aus Köln, 中文 und mehr Wörter.\n'.repeat(40);
    const id = await upload(Buffer.from(text), 'text/plain', 'greetings.txt', {
      strategy: 'words',
      size: 50,
    });
    await settled(id);
    const stored = await app.db.query(
      'SELECT text_is_raw, extracted_text IS NULL AS no_copy FROM document_versions WHERE document_id = $1',
      [id],
    );
    expect(stored.rows[0]).toEqual({ text_is_raw: true, no_copy: true });
    const response = await app.inject({
      method: 'POST',
      url: `/api/v1/documents/${id}/rechunk`,
      payload: { chunking: { strategy: 'words', size: 7, overlap: 2 } },
    });
    expect(response.statusCode).toBe(202);
    await rechunked(id);
    const after: { text: string; start: number; end: number; wordCount: number }[] = await chunksOf(id);
    expect(after.length).toBeGreaterThan(40);
    for (const chunk of after) expect(chunk.text).toBe(text.slice(chunk.start, chunk.end));
    expect(after.slice(0, -1).every((chunk) => chunk.wordCount === 7)).toBe(true);
  });

  it('replaces a completed version’s chunks from its stored text, without extracting again', async () => {
    const id = await upload(readFixture('guide.md'), 'text/markdown', 'guide.md', {
      strategy: 'words',
      size: 20,
    });
    await settled(id);
    const before = await chunksOf(id);
    const extractedBefore = (
      await app.db.query('SELECT extracted_at FROM document_versions WHERE document_id = $1', [id])
    ).rows[0].extracted_at;
    const response = await app.inject({
      method: 'POST',
      url: `/api/v1/documents/${id}/rechunk`,
      payload: { chunking: { strategy: 'structure', size: 400 } },
    });
    expect(response.statusCode).toBe(202);
    expect(response.json()).toMatchObject({
      id,
      version: 1,
      status: 'rechunking',
      chunking: { strategy: 'structure' },
    });
    await rechunked(id);
    const after = await chunksOf(id);
    expect(after.map((c: { text: string }) => c.text)).not.toEqual(
      before.map((c: { text: string }) => c.text),
    );
    const { rows } = await app.db.query(
      `SELECT v.chunking, v.rechunk_settings, array_agg(DISTINCT c.settings_hash) AS hashes
       FROM document_versions v JOIN chunks c USING (document_id, version) WHERE v.document_id = $1
       GROUP BY v.chunking, v.rechunk_settings`,
      [id],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ chunking: { strategy: 'structure', size: 400 }, rechunk_settings: null });
    expect(rows[0].hashes).toHaveLength(1);
    const extractedAfter = (
      await app.db.query('SELECT extracted_at FROM document_versions WHERE document_id = $1', [id])
    ).rows[0].extracted_at;
    expect(extractedAfter).toEqual(extractedBefore);
  });

  it('answers 409 before a document has completed and 404 for an unknown one', async () => {
    const unknown = await app.inject({
      method: 'POST',
      url: '/api/v1/documents/01900000-0000-7000-8000-000000000000/rechunk',
      payload: { chunking: { size: 10 } },
    });
    expect(unknown.statusCode).toBe(404);
    // Stored without a job, so the running worker cannot complete it under the test.
    const id = await insertUnqueuedDocument(app.db, 'not processed yet');
    const early = await app.inject({
      method: 'POST',
      url: `/api/v1/documents/${id}/rechunk`,
      payload: { chunking: { size: 10 } },
    });
    expect(early.statusCode).toBe(409);
    expect(early.json().error.code).toBe('not_ready');
  });
});

describe('POST /api/v1/chunk-preview', () => {
  it('returns the chunks of a text without storing anything', async () => {
    const before = (await app.db.query('SELECT count(*)::int AS n FROM documents')).rows[0].n;
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/chunk-preview',
      payload: {
        text: '# A\n\nalpha beta gamma\n\n## B\n\ndelta epsilon',
        contentType: 'text/markdown',
        chunking: { strategy: 'structure', size: 100 },
      },
    });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.chunking).toMatchObject({ strategy: 'structure', size: 100, unit: 'characters' });
    expect(body.chunks.map((c: { headingPath: string[] }) => c.headingPath)).toEqual([['A'], ['A', 'B']]);
    expect((await app.db.query('SELECT count(*)::int AS n FROM documents')).rows[0].n).toBe(before);
  });

  it('answers 400 for bad settings, 413 for a text over 1 MiB and 422 for a text without words', async () => {
    const bad = await app.inject({
      method: 'POST',
      url: '/api/v1/chunk-preview',
      payload: { text: 'x', chunking: { strategy: 'tokens', size: 10, overlap: 9 } },
    });
    expect(bad.statusCode).toBe(400);
    const big = await app.inject({
      method: 'POST',
      url: '/api/v1/chunk-preview',
      payload: { text: 'x'.repeat(1_100_000) },
    });
    expect(big.statusCode).toBe(413);
    const empty = await app.inject({
      method: 'POST',
      url: '/api/v1/chunk-preview',
      payload: { text: ' \n ' },
    });
    expect(empty.statusCode).toBe(422);
    expect(empty.json().error.code).toBe('empty');
  });
});
