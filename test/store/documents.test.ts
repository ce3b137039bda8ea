import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertDocuments, type NewDocument } from '../../src/store/documents.js';
import { createPool, type Pool } from '../../src/store/pool.js';
import { createTestDatabase, newTestDocument, silentLogger } from '../helpers/context.js';

let pool: Pool;
beforeAll(async () => {
  pool = createPool(
    { connectionString: await createTestDatabase(), max: 2, applicationName: 'test' },
    silentLogger,
  );
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
});
