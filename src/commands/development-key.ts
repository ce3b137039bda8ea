import { timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { apiKeyPrefix, createApiKey, findApiKeyByPrefix, hashApiKey } from '../store/api-keys.js';
import type { Pool } from '../store/pool.js';

/**
 * The key `ingestd up` prints: tenant `default`, every scope, kept in DATA_DIR (mode 0600) and
 * reused across restarts while it is still valid, so a developer's shell keeps working.
 */
export async function ensureDevelopmentKey(pool: Pool, dataDir: string): Promise<string> {
  const file = path.join(dataDir, 'development-api-key');
  if (existsSync(file)) {
    const key = readFileSync(file, 'utf8').trim();
    const prefix = apiKeyPrefix(key);
    const stored = prefix ? await findApiKeyByPrefix(pool, prefix) : undefined;
    if (stored && !stored.revokedAt && timingSafeEqual(hashApiKey(key), stored.keyHash)) return key;
  }
  const { key } = await createApiKey(pool, {
    tenantId: 'default',
    scopes: ['ingest', 'read', 'admin'],
    name: 'development (ingestd up)',
  });
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return key;
}
