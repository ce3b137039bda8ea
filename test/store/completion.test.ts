import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChunkingSettings, chunkText } from '../../src/pipeline/chunk/index.js';
import { type CompletedVersion, completeVersion, completeVersions } from '../../src/store/completion.js';
import type { Pool } from '../../src/store/pool.js';
import { type VersionRef, versionTextSql } from '../../src/store/versions.js';
import {
  createTestDatabase,
  createTestPool,
  insertUnqueuedDocument,
  numberedWords,
} from '../helpers/context.js';

let databaseUrl: string;
let pool: Pool;
beforeAll(async () => {
  databaseUrl = await createTestDatabase();
  pool = await createTestPool(databaseUrl);
});
afterAll(async () => {
  await pool?.end();
});

const chunking: ChunkingSettings = { strategy: 'words', size: 500, overlap: 50 };

/** A completion of `text` as plain text, chunked as the worker would. */
function completionOf(text: string): CompletedVersion {
  const extracted = { text, headings: [], pages: [] };
  return {
    tenantId: 'default',
    marked: false,
    deliveries: 1,
    processingMs: 5,
    detectedType: 'text/plain',
    extracted,
    chunking,
    chunks: chunkText(extracted, chunking),
    extractedAt: new Date(),
    chunkedAt: new Date(),
  };
}

const versionOne = (documentId: string): VersionRef => ({ documentId, version: 1 });

/** A second version of a document inserted by hand: latest_version moves to 2. */
async function addSecondVersion(documentId: string): Promise<void> {
  await pool.query(
    `INSERT INTO document_versions (document_id, version, tenant_id, content_hash, content_type, bytes,
                                    raw_content, chunking, status)
     SELECT document_id, 2, tenant_id, content_hash, content_type, bytes, raw_content, chunking, 'queued'
     FROM document_versions WHERE document_id = $1 AND version = 1`,
    [documentId],
  );
  await pool.query('UPDATE documents SET latest_version = 2 WHERE id = $1', [documentId]);
}

async function documentState(id: string) {
  const { rows } = await pool.query(
    'SELECT status, current_version AS current FROM documents WHERE id = $1',
    [id],
  );
  return rows[0];
}

async function chunkIndexes(id: string, version = 1): Promise<number[]> {
  const { rows } = await pool.query<{ i: number }>(
    'SELECT chunk_index AS i FROM chunks WHERE document_id = $1 AND version = $2 ORDER BY chunk_index',
    [id, version],
  );
  return rows.map((row) => row.i);
}

describe('completeVersions', () => {
  it("completes a group's version rows by one statement, with a cached plan for each group size", async () => {
    // One connection, so every group runs on the same prepared statements.
    const single = await createTestPool(databaseUrl, 1);
    const statements: string[] = [];
    const connect = single.connect.bind(single);
    const watched = new WeakSet<object>();
    single.connect = (async () => {
      const client = await connect();
      if (watched.has(client)) return client;
      watched.add(client);
      const query = client.query.bind(client) as (...args: unknown[]) => unknown;
      client.query = ((...args: unknown[]) => {
        const config = args[0] as { name?: string } | string;
        statements.push(
          typeof config === 'string' ? (config.split(/\s/, 1)[0] ?? '') : (config.name ?? 'unnamed'),
        );
        return query(...args);
      }) as typeof client.query;
      return client;
    }) as typeof single.connect;
    try {
      for (let round = 0; round < 6; round++) {
        const ids = await Promise.all([1, 2, 3].map(() => insertUnqueuedDocument(pool, numberedWords(30))));
        statements.length = 0;
        const completed = await completeVersions(
          single,
          ids.map((id) => ({ ref: versionOne(id), result: completionOf(numberedWords(30)) })),
        );
        expect(completed).toEqual([true, true, true]);
        expect(statements.filter((name) => name.startsWith('complete-version-rows'))).toEqual([
          'complete-version-rows-3',
        ]);
      }
      single.connect = connect; // pool.query connects with a callback, which the watcher does not take
      const { rows } = await single.query(
        `SELECT name, generic_plans > 0 AS cached FROM pg_prepared_statements
         WHERE name LIKE 'complete-version-rows-%'`,
      );
      expect(rows).toEqual([{ name: 'complete-version-rows-3', cached: true }]);
    } finally {
      await single.end();
    }
  });

  it('settles each version it completes and leaves one completed meanwhile as it was', async () => {
    const stray = await insertUnqueuedDocument(pool, numberedWords(700));
    const done = await insertUnqueuedDocument(pool, 'completed by another delivery');
    const deadLettered = await insertUnqueuedDocument(pool, numberedWords(20));
    const insertChunk = (documentId: string, index: number) =>
      pool.query(
        `INSERT INTO chunks (document_id, version, tenant_id, settings_hash, chunk_index, text, start_offset,
                             end_offset, word_count, token_count)
         VALUES ($1, 1, 'default', 'x', $2, 'old', 0, 3, 1, 1)`,
        [documentId, index],
      );
    const insertDeadLetter = (documentId: string) =>
      pool.query(
        `INSERT INTO dlq_items (document_id, version, error_code, error_message, payload, status)
         VALUES ($1, 1, 'timeout', 'passing', '{}', 'retrying')`,
        [documentId],
      );
    // Chunks the version should not have (as after a status reset by hand) must go, those under
    // its new count (the COPY would collide with them) and above it.
    await insertChunk(stray, 0);
    await insertChunk(stray, 7);
    // The first completion's chunks, dead letter and document stay as they are.
    await pool.query(
      `UPDATE document_versions SET status = 'completed', chunk_count = 9, extracted_text = 'first'
       WHERE document_id = $1`,
      [done],
    );
    await insertChunk(done, 0);
    await insertChunk(done, 1);
    await insertDeadLetter(done);
    await insertDeadLetter(deadLettered);

    const completed = await completeVersions(pool, [
      { ref: versionOne(stray), result: completionOf(numberedWords(700)) },
      { ref: versionOne(done), result: completionOf('a second completion') },
      { ref: versionOne(deadLettered), result: completionOf(numberedWords(20)) },
    ]);

    expect(completed).toEqual([true, false, true]);
    expect(await chunkIndexes(stray)).toEqual([0, 1]);
    const { rows: versions } = await pool.query(
      `SELECT document_id AS id, status, chunk_count AS chunks, extracted_text AS text, attempts
       FROM document_versions WHERE document_id = ANY($1::uuid[])`,
      [[stray, done, deadLettered]],
    );
    const byId = new Map(versions.map((row) => [row.id, row]));
    expect(byId.get(stray)).toMatchObject({ status: 'completed', chunks: 2, attempts: 1 });
    expect(byId.get(done)).toMatchObject({ status: 'completed', chunks: 9, text: 'first' });
    expect(byId.get(deadLettered)).toMatchObject({ status: 'completed', chunks: 1, text: numberedWords(20) });
    expect(await chunkIndexes(done)).toEqual([0, 1]);
    expect(await documentState(done)).toEqual({ status: 'queued', current: null });
    const { rows: kept } = await pool.query('SELECT status FROM dlq_items WHERE document_id = $1', [done]);
    expect(kept).toEqual([{ status: 'retrying' }]);
    for (const id of [stray, deadLettered])
      expect(await documentState(id)).toEqual({ status: 'completed', current: 1 });
    const { rows: letters } = await pool.query('SELECT status FROM dlq_items WHERE document_id = $1', [
      deadLettered,
    ]);
    expect(letters).toEqual([{ status: 'resolved' }]);
  });

  it('moves a document to the newest of its versions in the group, completed only when that is its latest', async () => {
    const both = await insertUnqueuedDocument(pool, numberedWords(10));
    await addSecondVersion(both);
    const olderOnly = await insertUnqueuedDocument(pool, numberedWords(10));
    await addSecondVersion(olderOnly);

    const completed = await completeVersions(pool, [
      { ref: { documentId: both, version: 2 }, result: completionOf(numberedWords(12)) },
      { ref: versionOne(both), result: completionOf(numberedWords(10)) },
      { ref: versionOne(olderOnly), result: completionOf(numberedWords(10)) },
    ]);

    expect(completed).toEqual([true, true, true]);
    expect(await documentState(both)).toEqual({ status: 'completed', current: 2 });
    expect(await chunkIndexes(both, 2)).toEqual([0]);
    // Version 2 is still to come: the document is not completed, but version 1's chunks are served.
    expect(await documentState(olderOnly)).toEqual({ status: 'queued', current: 1 });
  });
});

describe('a text that is its raw content', () => {
  async function storedText(id: string) {
    const { rows } = await pool.query(
      `SELECT v.text_is_raw AS raw, v.extracted_text AS copy, ${versionTextSql('v')} AS text
       FROM document_versions v WHERE document_id = $1`,
      [id],
    );
    return rows[0];
  }

  it('is stored once, as the raw content, by a group and by a version alone; other text as text', async () => {
    const words = numberedWords(40);
    const [grouped, groupedCopy, alone, aloneCopy] = await Promise.all(
      [1, 2, 3, 4].map(() => insertUnqueuedDocument(pool, words)),
    );
    const raw = { ...completionOf(words), textIsRaw: true };
    // Text that differs from the bytes (as extracted from markup, say) is stored as text.
    const extracted = completionOf(`${words} as extracted`);
    expect(
      await completeVersions(pool, [
        { ref: versionOne(grouped as string), result: raw },
        { ref: versionOne(groupedCopy as string), result: extracted },
      ]),
    ).toEqual([true, true]);
    expect(await completeVersion(pool, versionOne(alone as string), raw)).toBe(true);
    expect(await completeVersion(pool, versionOne(aloneCopy as string), extracted)).toBe(true);
    for (const id of [grouped, alone])
      expect(await storedText(id as string)).toEqual({ raw: true, copy: null, text: words });
    for (const id of [groupedCopy, aloneCopy]) {
      const text = `${words} as extracted`;
      expect(await storedText(id as string)).toEqual({ raw: false, copy: text, text });
    }
  });
});

describe('chunk text', () => {
  /** Rows in the chunks table's TOAST relation. */
  async function toastedChunkRows(): Promise<number> {
    const { rows } = await pool.query<{ toast: string }>(
      `SELECT reltoastrelid::regclass::text AS toast FROM pg_class WHERE oid = 'chunks'::regclass`,
    );
    const counted = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${rows[0]?.toast}`);
    return counted.rows[0]?.n ?? -1;
  }

  /** `count` words of random letters: text that compresses little, as a chunk of ~3.5 KB. */
  function randomWords(count: number, seed: number): string {
    let state = seed;
    const letter = () => {
      state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
      return String.fromCharCode(97 + ((state >>> 16) % 26));
    };
    return Array.from({ length: count }, () => Array.from({ length: 6 }, letter).join('')).join(' ');
  }

  it('stays in its row past the ~2 KB from which Postgres moves values out (TOAST), by a group and alone', async () => {
    const before = await toastedChunkRows();
    const texts = [1, 2, 3].map((seed) => randomWords(500, seed));
    // Pages, a heading path and a tenant each over the 24 bytes from which Postgres would move
    // a value of the default storage out before compressing the text.
    const tenant = 'tenant-0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f';
    const headingPath = ['A chapter heading of well over forty bytes', 'Section'];
    const structured = (text: string): CompletedVersion => {
      const completion = completionOf(text);
      return {
        ...completion,
        chunks: completion.chunks.map((c) => ({ ...c, pages: [1, 2, 3], headingPath })),
      };
    };
    const ids = await Promise.all(texts.map((text) => insertUnqueuedDocument(pool, text, tenant)));
    const [first, second, third] = ids as [string, string, string];
    expect(
      await completeVersions(pool, [
        { ref: versionOne(first), result: structured(texts[0] as string) },
        { ref: versionOne(second), result: structured(texts[1] as string) },
      ]),
    ).toEqual([true, true]);
    expect(await completeVersion(pool, versionOne(third), structured(texts[2] as string))).toBe(true);
    const { rows } = await pool.query<{
      chars: number;
      text: string;
      pages: number[];
      path: string[];
      tenant: string;
    }>(
      `SELECT length(text) AS chars, text, pages, heading_path AS path, tenant_id AS tenant
       FROM chunks WHERE document_id = ANY($1) ORDER BY chunk_index`,
      [ids],
    );
    expect(rows).toHaveLength(3);
    for (const row of rows) {
      expect(row.chars).toBeGreaterThan(3000);
      expect(row).toMatchObject({ pages: [1, 2, 3], path: headingPath, tenant });
    }
    expect(rows.map((row) => row.text).sort()).toEqual([...texts].sort());
    expect(await toastedChunkRows()).toBe(before);
  });

  it('completes a group with no chunk rows, whose transaction then commits without a COPY', async () => {
    const ids = await Promise.all([1, 2].map(() => insertUnqueuedDocument(pool, ' ')));
    const empty = (): CompletedVersion => ({ ...completionOf(''), chunks: [] });
    expect(
      await completeVersions(
        pool,
        ids.map((id) => ({ ref: versionOne(id), result: empty() })),
      ),
    ).toEqual([true, true]);
    const { rows } = await pool.query<{ status: string }>(
      'SELECT status FROM document_versions WHERE document_id = ANY($1)',
      [ids],
    );
    expect(rows.map((row) => row.status)).toEqual(['completed', 'completed']);
  });
});
