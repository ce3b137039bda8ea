import type { Pool } from './pool.js';

/** A first request that has not finished in this long is taken to have died with its node. */
const ABANDONED_AFTER_SECONDS = 60;

export type KeyClaim =
  /** `documentIds`: the ids to create: the caller's, or those of an abandoned earlier claim. */
  | { kind: 'claimed'; documentIds: string[] }
  | { kind: 'replay'; statusCode: number; response: unknown }
  | { kind: 'mismatch' }
  | { kind: 'in_progress' };

/**
 * Takes an idempotency key for a request: the first use claims it; a later use gets the stored
 * response, or is told the key belongs to another request or is still being handled. An expired
 * key, or one whose first request was abandoned, is claimed afresh.
 */
export async function claimIdempotencyKey(
  pool: Pool,
  key: { tenantId: string; key: string; requestHash: Buffer; ttlMs: number; documentIds: readonly string[] },
): Promise<KeyClaim> {
  // An abandoned claim of the same request keeps its document ids: its documents may be
  // committed already, and the retry must land on them rather than make new ones.
  const claimed = await pool.query<{ documentIds: string[] }>(
    `INSERT INTO idempotency_keys (tenant_id, key, request_hash, expires_at, document_ids)
     VALUES ($1, $2, $3, now() + make_interval(secs => $4 / 1000.0), $6::uuid[])
     ON CONFLICT (tenant_id, key) DO UPDATE
       SET request_hash = EXCLUDED.request_hash, status_code = NULL, response = NULL, created_at = now(),
           expires_at = EXCLUDED.expires_at,
           document_ids = CASE
             WHEN idempotency_keys.expires_at >= now() AND idempotency_keys.request_hash = EXCLUDED.request_hash
               AND cardinality(idempotency_keys.document_ids) = cardinality(EXCLUDED.document_ids)
             THEN idempotency_keys.document_ids ELSE EXCLUDED.document_ids END
       WHERE idempotency_keys.expires_at < now()
          OR (idempotency_keys.status_code IS NULL
              AND idempotency_keys.created_at < now() - make_interval(secs => $5))
     RETURNING document_ids::text[] AS "documentIds"`,
    [key.tenantId, key.key, key.requestHash, key.ttlMs, ABANDONED_AFTER_SECONDS, key.documentIds],
  );
  const row = claimed.rows[0];
  if (row) return { kind: 'claimed', documentIds: row.documentIds };
  const { rows } = await pool.query<{ requestHash: Buffer; statusCode: number | null; response: unknown }>(
    `SELECT request_hash AS "requestHash", status_code AS "statusCode", response
     FROM idempotency_keys WHERE tenant_id = $1 AND key = $2`,
    [key.tenantId, key.key],
  );
  const existing = rows[0];
  if (!existing) return claimIdempotencyKey(pool, key); // expired and swept between the two statements
  if (!existing.requestHash.equals(key.requestHash)) return { kind: 'mismatch' };
  if (existing.statusCode === null) return { kind: 'in_progress' };
  return { kind: 'replay', statusCode: existing.statusCode, response: existing.response };
}

/** Stores the response the claimed key's request got, for replays. */
export async function completeIdempotencyKey(
  pool: Pool,
  key: { tenantId: string; key: string; statusCode: number; response: unknown },
): Promise<void> {
  await pool.query(
    'UPDATE idempotency_keys SET status_code = $3, response = $4 WHERE tenant_id = $1 AND key = $2',
    [key.tenantId, key.key, key.statusCode, JSON.stringify(key.response)],
  );
}

/** Gives a claimed key back when its request failed, so a retry can run it again. */
export async function releaseIdempotencyKey(
  pool: Pool,
  key: { tenantId: string; key: string },
): Promise<void> {
  await pool.query('DELETE FROM idempotency_keys WHERE tenant_id = $1 AND key = $2 AND status_code IS NULL', [
    key.tenantId,
    key.key,
  ]);
}

/** Deletes up to `limit` expired keys; returns how many. */
export async function deleteExpiredIdempotencyKeys(pool: Pool, limit: number): Promise<number> {
  const { rowCount } = await pool.query(
    `DELETE FROM idempotency_keys WHERE ctid IN (
       SELECT ctid FROM idempotency_keys WHERE expires_at < now() LIMIT $1)`,
    [limit],
  );
  return rowCount ?? 0;
}
