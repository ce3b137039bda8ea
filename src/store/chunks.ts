import type { Chunk } from '../pipeline/chunk/settings.js';
import type { Pool, PoolClient } from './pool.js';
import { storable } from './storable.js';

/**
 * The chunk columns as arrays for `unnest`, in the order CHUNK_ROWS_SQL reads them. unnest
 * flattens nested arrays, so each chunk's pages travel as an int[] literal and its heading path
 * as JSON text.
 */
export function chunkArrays(chunks: readonly Chunk[]): unknown[] {
  return [
    chunks.map((c) => c.index),
    chunks.map((c) => storable(c.text)),
    chunks.map((c) => c.start),
    chunks.map((c) => c.end),
    chunks.map((c) => c.wordCount),
    chunks.map((c) => c.tokenCount),
    chunks.map((c) => `{${c.pages.join(',')}}`),
    chunks.map((c) => JSON.stringify(c.headingPath.map(storable))),
  ];
}

/** Chunk rows from chunkArrays() passed as parameters $n .. $n+7. */
export function chunkRowsSql(n: number): string {
  const p = (offset: number) => `$${n + offset}`;
  return `unnest(${p(0)}::int[], ${p(1)}::text[], ${p(2)}::int[], ${p(3)}::int[], ${p(4)}::int[], ${p(5)}::int[],
                 ${p(6)}::text[], ${p(7)}::text[]) AS c(i, t, s, e, w, k, p, h)`;
}

/**
 * Makes `chunks` the only chunks of a version, inside the caller's transaction: old rows are
 * deleted and the new ones written by one multi-row INSERT over arrays.
 */
export async function replaceVersionChunks(
  client: PoolClient,
  ref: { documentId: string; version: number; tenantId: string },
  chunks: readonly Chunk[],
  settingsHash: string,
): Promise<void> {
  // A re-chunk replaces a completed version's chunks.
  await client.query({
    name: 'delete-version-chunks',
    text: 'DELETE FROM chunks WHERE document_id = $1 AND version = $2',
    values: [ref.documentId, ref.version],
  });
  if (chunks.length === 0) return;
  await client.query({
    name: 'insert-version-chunks',
    text: `INSERT INTO chunks (document_id, version, tenant_id, settings_hash, chunk_index, text, start_offset, end_offset,
                         word_count, token_count, pages, heading_path)
     SELECT $1, $2, $3, $4, i, t, s, e, w, k, p::int[], h::jsonb FROM ${chunkRowsSql(5)}`,
    values: [ref.documentId, ref.version, ref.tenantId, settingsHash, ...chunkArrays(chunks)],
  });
}

/** One page of a version's chunks in index order, starting after `afterIndex`. */
export async function listVersionChunks(
  pool: Pool,
  query: { tenantId: string; documentId: string; version: number; afterIndex: number; limit: number },
): Promise<Chunk[]> {
  const { rows } = await pool.query<Chunk>(
    `SELECT chunk_index AS index, text, start_offset AS start, end_offset AS "end",
            word_count AS "wordCount", token_count AS "tokenCount", pages, heading_path AS "headingPath"
     FROM chunks
     WHERE document_id = $1 AND version = $2 AND tenant_id = $3 AND chunk_index > $4
     ORDER BY chunk_index
     LIMIT $5`,
    [query.documentId, query.version, query.tenantId, query.afterIndex, query.limit],
  );
  return rows;
}
