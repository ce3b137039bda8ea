import type { Chunk } from '../pipeline/chunk/settings.js';
import type { Pool, PoolClient } from './pool.js';

/**
 * Makes `chunks` the only chunks of a version, inside the caller's transaction: old rows are
 * deleted and the new ones written by one multi-row INSERT over arrays.
 */
export async function replaceVersionChunks(
  client: PoolClient,
  ref: { documentId: string; version: number; tenantId: string },
  chunks: readonly Chunk[],
): Promise<void> {
  await client.query('DELETE FROM chunks WHERE document_id = $1 AND version = $2', [
    ref.documentId,
    ref.version,
  ]);
  if (chunks.length === 0) return;
  await client.query(
    `INSERT INTO chunks (document_id, version, tenant_id, chunk_index, text, start_offset, end_offset, word_count, token_count)
     SELECT $1, $2, $3, * FROM unnest($4::int[], $5::text[], $6::int[], $7::int[], $8::int[], $9::int[])`,
    [
      ref.documentId,
      ref.version,
      ref.tenantId,
      chunks.map((c) => c.index),
      chunks.map((c) => c.text),
      chunks.map((c) => c.start),
      chunks.map((c) => c.end),
      chunks.map((c) => c.wordCount),
      chunks.map((c) => c.tokenCount),
    ],
  );
}

/** One page of a version's chunks in index order, starting after `afterIndex`. */
export async function listVersionChunks(
  pool: Pool,
  query: { tenantId: string; documentId: string; version: number; afterIndex: number; limit: number },
): Promise<Chunk[]> {
  const { rows } = await pool.query<Chunk>(
    `SELECT chunk_index AS index, text, start_offset AS start, end_offset AS "end",
            word_count AS "wordCount", token_count AS "tokenCount"
     FROM chunks
     WHERE document_id = $1 AND version = $2 AND tenant_id = $3 AND chunk_index > $4
     ORDER BY chunk_index
     LIMIT $5`,
    [query.documentId, query.version, query.tenantId, query.afterIndex, query.limit],
  );
  return rows;
}
