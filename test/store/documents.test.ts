import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDocumentVersion, insertDocuments, type NewDocument } from '../../src/store/documents.js';
import type { Pool } from '../../src/store/pool.js';
import { COPY_CONTENT_MIN_BYTES } from '../../src/store/version-rows.js';
import { createTestPool, newTestDocument } from '../helpers/context.js';

let pool: Pool;
beforeAll(async () => {
  pool = await createTestPool();
});
afterAll(async () => {
  await pool?.end();
});

function newDocument(content: Buffer, contentText?: string): NewDocument {
  return newTestDocument(content, { contentType: 'application/octet-stream', contentText });
}

describe('insertDocuments', () => {
  it('stores each document of a group with exactly its bytes, whatever they are', async () => {
    const everyByte = Buffer.from(Array.from({ length: 256 }, (_, byte) => byte));
    const text = 'ünïcødé, 中文 and "quotes" \\ backslash\r\n';
    const documents = [
      newDocument(everyByte),
      newDocument(Buffer.from(text), text),
      newDocument(Buffer.alloc(0), ''),
      newDocument(Buffer.from('\\x00 is not a byte here')),
      newDocument(Buffer.concat([everyByte, everyByte])),
    ];
    await insertDocuments(pool, documents);
    const { rows } = await pool.query<{ id: string; raw_content: Buffer; bytes: number }>(
      'SELECT document_id AS id, raw_content, bytes FROM document_versions WHERE document_id = ANY($1::uuid[])',
      [documents.map((d) => d.id)],
    );
    const stored = new Map(rows.map((row) => [row.id, row]));
    for (const document of documents) {
      const row = stored.get(document.id);
      expect(row?.raw_content.equals(document.content)).toBe(true);
      expect(row?.bytes).toBe(document.content.length);
    }
  });

  /** Every column of a version row that the API writes, as stored. */
  const versionRow = async (id: string, version = 1) =>
    (
      await pool.query(
        `SELECT v.tenant_id, v.content_hash, v.content_type, v.bytes, v.raw_content, v.chunking, v.status,
                v.request_id, v.filename, v.queue_job_id, d.latest_version, d.metadata, d.source
         FROM document_versions v JOIN documents d ON d.id = v.document_id
         WHERE v.document_id = $1 AND v.version = $2`,
        [id, version],
      )
    ).rows[0];

  it('stores large contents by COPY, every column as a statement stores it, alone or in a batch', async () => {
    const large = Buffer.alloc(
      COPY_CONTENT_MIN_BYTES + 3,
      Buffer.from(Array.from({ length: 256 }, (_, b) => b)),
    );
    const big = newTestDocument(large, {
      requestId: 'req-1',
      filename: 'ünïcødé.bin',
      metadata: { team: 'search' },
      contentType: 'application/octet-stream',
      chunking: { strategy: 'tokens', size: 100, overlap: 10, tokenizer: 'cl100k_base' },
    });
    const small = newTestDocument(Buffer.from('a small one'), { requestId: null });
    await insertDocuments(pool, [small, big]);
    const stored = await versionRow(big.id);
    expect(stored.raw_content.equals(large)).toBe(true);
    expect(stored).toMatchObject({
      tenant_id: 'default',
      content_type: 'application/octet-stream',
      bytes: large.length,
      chunking: big.chunking,
      status: 'queued',
      request_id: 'req-1',
      filename: 'ünïcødé.bin',
      queue_job_id: null,
      latest_version: 1,
      metadata: { team: 'search' },
      source: 'test',
    });
    expect(stored.content_hash.equals(big.contentHash)).toBe(true);
    expect((await versionRow(small.id)).raw_content.toString()).toBe('a small one');
    // Inserted again (a keyed retry re-sends committed ids): skipped, as a statement skips it.
    await insertDocuments(pool, [big]);
    expect((await versionRow(big.id)).bytes).toBe(large.length);
  });

  it('stores a large new version by COPY', async () => {
    const first = newTestDocument('version one', { externalId: 'large-versions' });
    await addDocumentVersion(pool, first);
    const content = Buffer.alloc(COPY_CONTENT_MIN_BYTES, 'x');
    const second = newTestDocument(content, {
      externalId: 'large-versions',
      requestId: null,
      filename: null,
    });
    expect(await addDocumentVersion(pool, second)).toMatchObject({
      id: first.id,
      version: 2,
      duplicate: false,
    });
    const stored = await versionRow(first.id, 2);
    expect(stored).toMatchObject({
      bytes: content.length,
      latest_version: 2,
      request_id: null,
      filename: null,
    });
    expect(stored.raw_content.equals(content)).toBe(true);
  });
});
