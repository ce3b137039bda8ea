import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestContext } from '../helpers/context.js';

// No worker here: these tests are about what is accepted and stored.
let ctx: TestContext;

beforeAll(async () => {
  ctx = await createTestApp({ MAX_UPLOAD_BYTES: '4096' });
});
afterAll(async () => {
  await ctx?.close();
});

/** A multipart body as a browser or curl -F would send it. */
async function multipart(parts: Record<string, string | { bytes: Uint8Array; type: string; name: string }>) {
  const form = new FormData();
  for (const [field, value] of Object.entries(parts)) {
    if (typeof value === 'string') form.append(field, value);
    else form.append(field, new Blob([value.bytes], { type: value.type }), value.name);
  }
  const encoded = new Response(form);
  return {
    payload: Buffer.from(await encoded.arrayBuffer()),
    headers: { 'content-type': encoded.headers.get('content-type') as string },
  };
}

async function storedVersion(id: string) {
  const { rows } = await ctx.pool.query(
    `SELECT d.source, d.external_id, d.metadata, v.content_type, v.filename, v.bytes, v.raw_content, v.chunking
     FROM documents d JOIN document_versions v ON v.document_id = d.id WHERE d.id = $1`,
    [id],
  );
  return rows[0];
}

const pdfBytes = Buffer.from('%PDF-1.4\n% not a real pdf, the worker decides\n');

describe('multipart uploads', () => {
  it('stores the file with its fields, keeping only a sanitised filename', async () => {
    const body = await multipart({
      source: 'uploads',
      externalId: 'report-7',
      metadata: JSON.stringify({ team: 'search' }),
      chunking: JSON.stringify({ strategy: 'recursive', size: 800 }),
      file: { bytes: pdfBytes, type: 'application/pdf', name: '../../etc/re\u0007port.pdf' },
    });
    const response = await ctx.app.inject({ method: 'POST', url: '/api/v1/documents', ...body });
    expect(response.statusCode).toBe(202);
    const stored = await storedVersion(response.json().id);
    expect(stored).toMatchObject({
      source: 'uploads',
      external_id: 'report-7',
      metadata: { team: 'search' },
      content_type: 'application/pdf',
      filename: 'report.pdf',
      bytes: pdfBytes.length,
      chunking: {
        strategy: 'recursive',
        size: 800,
        overlap: 80,
        unit: 'characters',
        tokenizer: 'cl100k_base',
      },
    });
    expect(Buffer.compare(stored.raw_content, pdfBytes)).toBe(0);
  });

  it.each([
    ['no file part', { source: 'x' }, 400, 'missing_file'],
    [
      'a file in another part',
      { attachment: { bytes: pdfBytes, type: 'application/pdf', name: 'a.pdf' } },
      400,
      'unexpected_file',
    ],
    [
      'an empty file',
      { file: { bytes: new Uint8Array(0), type: 'text/plain', name: 'empty.txt' } },
      400,
      'empty_document',
    ],
    [
      'metadata that is not JSON',
      { metadata: '{oops', file: { bytes: pdfBytes, type: 'application/pdf', name: 'a.pdf' } },
      400,
      'validation_error',
    ],
    [
      '__proto__ in the metadata field',
      {
        metadata: '{"__proto__":{"admin":true}}',
        file: { bytes: pdfBytes, type: 'application/pdf', name: 'a.pdf' },
      },
      400,
      'validation_error',
    ],
    [
      'a field over 64 KiB',
      {
        metadata: JSON.stringify({ k: 'v'.repeat(70_000) }),
        file: { bytes: pdfBytes, type: 'application/pdf', name: 'a.pdf' },
      },
      400,
      'field_too_large',
    ],
    [
      'an unknown field',
      { colour: 'red', file: { bytes: pdfBytes, type: 'application/pdf', name: 'a.pdf' } },
      400,
      'validation_error',
    ],
    [
      'a file over MAX_UPLOAD_BYTES',
      { file: { bytes: new Uint8Array(5000), type: 'application/octet-stream', name: 'big.bin' } },
      413,
      'payload_too_large',
    ],
  ])('refuses %s', async (_case, parts, status, code) => {
    const before = (await ctx.pool.query('SELECT count(*)::int AS n FROM documents')).rows[0].n;
    const response = await ctx.app.inject({
      method: 'POST',
      url: '/api/v1/documents',
      ...(await multipart(parts)),
    });
    expect(response.statusCode).toBe(status);
    expect(response.json().error.code).toBe(code);
    const after = (await ctx.pool.query('SELECT count(*)::int AS n FROM documents')).rows[0].n;
    expect(after).toBe(before);
  });
});

describe('raw body uploads', () => {
  it('takes the body as the document, its Content-Type as the declared type and fields from the query', async () => {
    const response = await ctx.app.inject({
      method: 'POST',
      url: '/api/v1/documents?source=raw&externalId=r-1&filename=scan.pdf&metadata=%7B%22a%22%3A1%7D',
      headers: { 'content-type': 'application/pdf' },
      payload: pdfBytes,
    });
    expect(response.statusCode).toBe(202);
    expect(await storedVersion(response.json().id)).toMatchObject({
      source: 'raw',
      external_id: 'r-1',
      filename: 'scan.pdf',
      metadata: { a: 1 },
      content_type: 'application/pdf',
    });
  });

  it('refuses a second file', async () => {
    const form = new FormData();
    form.append('file', new Blob([pdfBytes], { type: 'application/pdf' }), 'a.pdf');
    form.append('file', new Blob([pdfBytes], { type: 'application/pdf' }), 'b.pdf');
    const encoded = new Response(form);
    const response = await ctx.app.inject({
      method: 'POST',
      url: '/api/v1/documents',
      headers: { 'content-type': encoded.headers.get('content-type') as string },
      payload: Buffer.from(await encoded.arrayBuffer()),
    });
    expect(response.statusCode).toBe(400);
    expect(['too_many_files', 'unexpected_file']).toContain(response.json().error.code);
  });

  it('keeps the declared charset with the content type, for the extractor', async () => {
    const response = await ctx.app.inject({
      method: 'POST',
      url: '/api/v1/documents',
      headers: { 'content-type': 'text/plain; charset=windows-1251' },
      payload: Buffer.from([0xcf, 0xf0, 0xe8, 0xe2, 0xe5, 0xf2]),
    });
    expect(response.statusCode).toBe(202);
    expect((await storedVersion(response.json().id)).content_type).toBe('text/plain; charset=windows-1251');
  });

  it('accepts text/plain and application/octet-stream bodies as documents', async () => {
    for (const type of ['text/plain; charset=latin1', 'application/octet-stream']) {
      const response = await ctx.app.inject({
        method: 'POST',
        url: '/api/v1/documents',
        headers: { 'content-type': type },
        payload: Buffer.from('caf\xe9', 'latin1'),
      });
      expect(response.statusCode, type).toBe(202);
    }
  });

  it('answers 413 for a body over MAX_UPLOAD_BYTES and 400 for an empty one or a bad query', async () => {
    const big = await ctx.app.inject({
      method: 'POST',
      url: '/api/v1/documents',
      headers: { 'content-type': 'application/pdf' },
      payload: Buffer.alloc(5000),
    });
    expect(big.statusCode).toBe(413);
    expect(big.json().error.code).toBe('payload_too_large');
    const empty = await ctx.app.inject({
      method: 'POST',
      url: '/api/v1/documents',
      headers: { 'content-type': 'application/pdf' },
      payload: Buffer.alloc(0),
    });
    expect(empty.statusCode).toBe(400);
    const badChunking = await ctx.app.inject({
      method: 'POST',
      url: '/api/v1/documents?chunking=%7B%22size%22%3A0%7D',
      headers: { 'content-type': 'application/pdf' },
      payload: pdfBytes,
    });
    expect(badChunking.statusCode).toBe(400);
    expect(badChunking.json().error.details[0].path).toBe('chunking.size');
  });

  it('does not let the batch route accept raw bodies', async () => {
    const response = await ctx.app.inject({
      method: 'POST',
      url: '/api/v1/documents/batch',
      headers: { 'content-type': 'application/pdf' },
      payload: pdfBytes,
    });
    expect(response.statusCode).toBe(415);
  });
});

describe('JSON documents in other text formats', () => {
  it('accepts HTML, CSV and JSON as content, and refuses binary types in JSON', async () => {
    for (const contentType of ['text/html', 'text/csv', 'application/json', 'text/markdown']) {
      const response = await ctx.app.inject({
        method: 'POST',
        url: '/api/v1/documents',
        payload: { content: 'a,b\n1,2', contentType },
      });
      expect(response.statusCode, contentType).toBe(202);
    }
    const pdf = await ctx.app.inject({
      method: 'POST',
      url: '/api/v1/documents',
      payload: { content: 'x', contentType: 'application/pdf' },
    });
    expect(pdf.statusCode).toBe(400);
    expect(pdf.json().error.message).toContain('multipart');
  });
});

describe('large raw uploads', () => {
  let big: TestContext;
  beforeAll(async () => {
    big = await createTestApp({ MAX_UPLOAD_BYTES: String(64 * 1024 * 1024) });
  });
  afterAll(async () => big?.close());

  it('are stored without per-byte work in validation: 20 MB costs about its own size in memory', async () => {
    // Before RawBody, the JSON schema walked a Buffer body's every index: 10 MB took 5 s and 1.5 GB.
    const bytes = Buffer.alloc(20 * 1024 * 1024, 'a');
    global.gc?.();
    const before = process.memoryUsage().rss;
    const response = await big.app.inject({
      method: 'POST',
      url: '/api/v1/documents?source=big',
      headers: { 'content-type': 'text/plain' },
      payload: bytes,
    });
    expect(response.statusCode).toBe(202);
    expect(process.memoryUsage().rss - before).toBeLessThan(400 * 1024 * 1024);
    const { rows } = await big.pool.query('SELECT bytes FROM document_versions WHERE document_id = $1', [
      response.json().id,
    ]);
    expect(rows[0]?.bytes).toBe(bytes.length);
  });
});
