import type { Chunk, ChunkingSettings } from '../pipeline/chunk/settings.js';
import { replaceVersionChunks } from './chunks.js';
import { inTransaction, type Pool } from './pool.js';

export interface VersionRef {
  documentId: string;
  version: number;
}

/** What a worker needs to process a version. */
export interface ClaimedVersion {
  tenantId: string;
  contentType: string;
  rawContent: Buffer;
  chunking: ChunkingSettings;
  requestId: string | null;
  attempts: number;
}

/**
 * Marks a version processing and returns its content, or undefined when there is nothing to do:
 * the version is gone (document deleted) or already completed, which makes a re-delivered job a no-op.
 */
export async function claimVersion(pool: Pool, ref: VersionRef): Promise<ClaimedVersion | undefined> {
  const { rows } = await pool.query<ClaimedVersion>(
    `WITH claimed AS (
       UPDATE document_versions
       SET status = 'processing', attempts = attempts + 1, started_at = now(), updated_at = now()
       WHERE document_id = $1 AND version = $2 AND status <> 'completed'
       RETURNING tenant_id, content_type, raw_content, chunking, request_id, attempts
     ), document AS (
       UPDATE documents SET status = 'processing', updated_at = now()
       WHERE id = $1 AND latest_version = $2 AND status <> 'processing' AND EXISTS (SELECT 1 FROM claimed)
     )
     SELECT tenant_id AS "tenantId", content_type AS "contentType", raw_content AS "rawContent",
            chunking, request_id AS "requestId", attempts
     FROM claimed`,
    [ref.documentId, ref.version],
  );
  return rows[0];
}

export interface CompletedVersion {
  tenantId: string;
  text: string;
  chunks: readonly Chunk[];
  extractedAt: Date;
  chunkedAt: Date;
}

/**
 * Stores a version's text and chunks and marks it completed, all in one transaction. Returns
 * false, writing nothing, when the version was completed meanwhile (a late duplicate delivery):
 * the first completion wins and its chunks stay.
 */
export async function completeVersion(
  pool: Pool,
  ref: VersionRef,
  result: CompletedVersion,
): Promise<boolean> {
  return inTransaction(pool, async (client) => {
    // Taking the row lock first serialises two deliveries of the same version.
    const updated = await client.query(
      `UPDATE document_versions
       SET status = 'completed', extracted_text = $3, chunk_count = $4, extracted_at = $5, chunked_at = $6,
           completed_at = now(), updated_at = now(), error_code = NULL, error_message = NULL
       WHERE document_id = $1 AND version = $2 AND status <> 'completed'`,
      [ref.documentId, ref.version, result.text, result.chunks.length, result.extractedAt, result.chunkedAt],
    );
    if (updated.rowCount === 0) return false;
    await replaceVersionChunks(client, { ...ref, tenantId: result.tenantId }, result.chunks);
    await client.query(
      `UPDATE documents
       SET current_version = GREATEST(COALESCE(current_version, 0), $2),
           status = CASE WHEN latest_version = $2 THEN 'completed' ELSE status END,
           updated_at = now()
       WHERE id = $1`,
      [ref.documentId, ref.version],
    );
    return true;
  });
}

/** Marks a version failed with the error a client will see; a completed version is left alone. */
export async function failVersion(
  pool: Pool,
  ref: VersionRef,
  error: { code: string; message: string },
): Promise<void> {
  await pool.query(
    `WITH failed AS (
       UPDATE document_versions
       SET status = 'failed', error_code = $3, error_message = $4, updated_at = now()
       WHERE document_id = $1 AND version = $2 AND status <> 'completed'
       RETURNING 1
     )
     UPDATE documents SET status = 'failed', updated_at = now()
     WHERE id = $1 AND latest_version = $2 AND EXISTS (SELECT 1 FROM failed)`,
    [ref.documentId, ref.version, error.code, error.message],
  );
}

/**
 * Versions queued, or processing, for longer than `olderThanMs`: candidates for a lost job.
 * Two index-backed halves (partial indexes on each status), oldest first.
 */
export async function findStrandedVersions(
  pool: Pool,
  olderThanMs: number,
  limit: number,
): Promise<{ documentId: string; version: number; tenantId: string; requestId: string | null }[]> {
  const { rows } = await pool.query<{
    documentId: string;
    version: number;
    tenantId: string;
    requestId: string | null;
  }>(
    `(SELECT document_id AS "documentId", version, tenant_id AS "tenantId", request_id AS "requestId"
      FROM document_versions
      WHERE status = 'queued' AND created_at < now() - make_interval(secs => $1 / 1000.0)
      ORDER BY created_at LIMIT $2)
     UNION ALL
     (SELECT document_id, version, tenant_id, request_id
      FROM document_versions
      WHERE status = 'processing' AND updated_at < now() - make_interval(secs => $1 / 1000.0)
      ORDER BY updated_at LIMIT $2)`,
    [olderThanMs, limit],
  );
  return rows;
}
