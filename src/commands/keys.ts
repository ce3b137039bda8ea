import { type Config, ConfigError, commaList } from '../config.js';
import type { Logger } from '../logger.js';
import {
  type ApiKeyScope,
  apiKeyScopes,
  createApiKey,
  listApiKeys,
  revokeApiKey,
} from '../store/api-keys.js';
import { createPool, type Pool } from '../store/pool.js';
import { requireServers } from './shared.js';

async function withPool<T>(config: Config, logger: Logger, work: (pool: Pool) => Promise<T>): Promise<T> {
  const { DATABASE_URL } = requireServers(config, 'keys', ['DATABASE_URL']);
  const pool = createPool(
    { connectionString: DATABASE_URL, max: 1, applicationName: 'ingestd-keys' },
    logger,
  );
  try {
    return await work(pool);
  } finally {
    await pool.end();
  }
}

/** "ingest,read" as scopes, or a ConfigError naming the bad one. */
export function parseScopes(list: string): ApiKeyScope[] {
  const scopes = commaList(list);
  const unknown = scopes.filter((scope) => !(apiKeyScopes as readonly string[]).includes(scope));
  if (scopes.length === 0 || unknown.length > 0) {
    throw new ConfigError(`--scopes: expected a comma-separated list of ${apiKeyScopes.join(', ')}`);
  }
  return scopes as ApiKeyScope[];
}

const TENANT_ID = /^[A-Za-z0-9_.-]{1,100}$/;

/** Prints what the key is, then the key alone on the last line, so scripts can `tail -n1`. */
export async function runKeysCreate(
  config: Config,
  logger: Logger,
  options: { tenant: string; scopes: ApiKeyScope[]; name?: string | undefined },
): Promise<void> {
  if (!TENANT_ID.test(options.tenant)) {
    throw new ConfigError('--tenant: 1 to 100 letters, digits, _ . - only');
  }
  const { apiKey, key } = await withPool(config, logger, (pool) =>
    createApiKey(pool, { tenantId: options.tenant, scopes: options.scopes, name: options.name }),
  );
  process.stdout.write(
    `created API key ${apiKey.id} (prefix ${apiKey.prefix}) for tenant "${apiKey.tenantId}" ` +
      `with scopes ${apiKey.scopes.join(',')}; it is shown only now:\n${key}\n`,
  );
}

export async function runKeysList(
  config: Config,
  logger: Logger,
  options: { tenant?: string },
): Promise<void> {
  const keys = await withPool(config, logger, (pool) => listApiKeys(pool, options.tenant));
  const rows = keys.map((key) => [
    key.id,
    key.prefix,
    key.tenantId,
    key.scopes.join(','),
    key.revokedAt ? `revoked ${key.revokedAt.toISOString()}` : 'active',
    key.lastUsedAt?.toISOString() ?? '-',
    key.name ?? '',
  ]);
  const header = ['id', 'prefix', 'tenant', 'scopes', 'state', 'last used', 'name'];
  const widths = header.map((title, i) =>
    Math.max(title.length, ...rows.map((row) => (row[i] ?? '').length)),
  );
  for (const row of [header, ...rows]) {
    process.stdout.write(
      `${row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd()}\n`,
    );
  }
}

export async function runKeysRevoke(config: Config, logger: Logger, idOrPrefix: string): Promise<void> {
  const revoked = await withPool(config, logger, (pool) => revokeApiKey(pool, idOrPrefix));
  if (!revoked) throw new ConfigError(`no active API key with id or prefix ${idOrPrefix}`);
  process.stdout.write(`revoked ${idOrPrefix}; API nodes refuse it within API_KEY_CACHE_MS\n`);
}
