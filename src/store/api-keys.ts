import { createHash, randomBytes } from 'node:crypto';
import { newId } from '../ids.js';
import type { Pool } from './pool.js';

export const apiKeyScopes = ['ingest', 'read', 'admin'] as const;
export type ApiKeyScope = (typeof apiKeyScopes)[number];

/** `ingestd_<prefix>_<secret>`: the prefix finds the key, the secret (256 random bits) proves it. */
const KEY_PATTERN = /^ingestd_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

export interface ApiKey {
  id: string;
  prefix: string;
  tenantId: string;
  scopes: ApiKeyScope[];
  name: string | null;
  createdAt: Date;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

export interface StoredApiKey extends ApiKey {
  keyHash: Buffer;
}

export function hashApiKey(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}

/** The prefix of a well-formed key, or undefined: malformed keys never reach the database. */
export function apiKeyPrefix(key: string): string | undefined {
  return KEY_PATTERN.exec(key)?.[1];
}

const columns = `id, prefix, tenant_id AS "tenantId", scopes, name, created_at AS "createdAt",
  revoked_at AS "revokedAt", last_used_at AS "lastUsedAt"`;

/** Makes a key; the returned `key` is the only time the secret exists outside the caller. */
export async function createApiKey(
  pool: Pool,
  options: { tenantId: string; scopes: readonly ApiKeyScope[]; name?: string | undefined },
): Promise<{ apiKey: ApiKey; key: string }> {
  const prefix = randomBytes(6).toString('hex');
  const key = `ingestd_${prefix}_${randomBytes(32).toString('base64url')}`;
  const { rows } = await pool.query<ApiKey>(
    `INSERT INTO api_keys (id, prefix, key_hash, tenant_id, scopes, name)
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${columns}`,
    [newId(), prefix, hashApiKey(key), options.tenantId, [...new Set(options.scopes)], options.name ?? null],
  );
  return { apiKey: rows[0] as ApiKey, key };
}

export async function findApiKeyByPrefix(pool: Pool, prefix: string): Promise<StoredApiKey | undefined> {
  const { rows } = await pool.query<StoredApiKey>(
    `SELECT ${columns}, key_hash AS "keyHash" FROM api_keys WHERE prefix = $1`,
    [prefix],
  );
  return rows[0];
}

export async function listApiKeys(pool: Pool, tenantId?: string): Promise<ApiKey[]> {
  const { rows } = await pool.query<ApiKey>(
    `SELECT ${columns} FROM api_keys WHERE ($1::text IS NULL OR tenant_id = $1) ORDER BY created_at`,
    [tenantId ?? null],
  );
  return rows;
}

/** Revokes a key by id or prefix; false when there is no such key or it was revoked already. */
export async function revokeApiKey(pool: Pool, idOrPrefix: string): Promise<boolean> {
  const { rowCount } = await pool.query(
    `UPDATE api_keys SET revoked_at = now()
     WHERE (id::text = $1 OR prefix = $1) AND revoked_at IS NULL`,
    [idOrPrefix],
  );
  return (rowCount ?? 0) > 0;
}

/** Records use at most about once a minute per key, so authentication stays a read. */
export async function touchApiKey(pool: Pool, id: string): Promise<void> {
  await pool.query(
    `UPDATE api_keys SET last_used_at = now()
     WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`,
    [id],
  );
}
