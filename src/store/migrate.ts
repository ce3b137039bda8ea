import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../logger.js';
import type { Pool } from './pool.js';

/** migrations/ at the package root: the nearest one above this module, from src/ or dist/src/. */
export const migrationsDir = findUp(path.dirname(fileURLToPath(import.meta.url)), 'migrations');

function findUp(from: string, name: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, name);
    if (existsSync(path.join(dir, 'package.json')) && existsSync(candidate)) return candidate;
    if (dir === path.dirname(dir)) throw new Error(`no ${name}/ directory above ${from}`);
  }
}

/** Any constant works; it only has to be the same for every node so they queue behind each other. */
const MIGRATION_LOCK_ID = 7_244_193_001;

/** Months of metrics partitions kept made ahead, counting the current one. */
const METRICS_MONTHS_AHEAD = 4;

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export async function readMigrations(dir = migrationsDir): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((file) => /^\d+_[\w-]+\.sql$/.test(file)).sort();
  const versions = files.map((file) => Number.parseInt(file, 10));
  const repeated = versions.find((version, i) => versions.indexOf(version) !== i);
  if (repeated !== undefined) throw new Error(`two migrations are numbered ${repeated} in ${dir}`);
  return Promise.all(
    files.map(async (file) => ({
      version: Number.parseInt(file, 10),
      name: path.basename(file, '.sql'),
      sql: await readFile(path.join(dir, file), 'utf8'),
    })),
  );
}

/**
 * Applies the migrations not yet applied, each in its own transaction, holding an advisory lock
 * so that many nodes starting at once apply each migration exactly once. Returns the names applied.
 */
export async function migrate(pool: Pool, logger: Logger, dir = migrationsDir): Promise<string[]> {
  const migrations = await readMigrations(dir);
  const client = await pool.connect();
  const applied: string[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations');
    const done = new Set(rows.map((row) => row.version));
    for (const migration of migrations) {
      if (done.has(migration.version)) continue;
      try {
        await client.query('BEGIN');
        await client.query(migration.sql);
        await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
          migration.version,
          migration.name,
        ]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw new Error(`migration ${migration.name} failed: ${(error as Error).message}`, { cause: error });
      }
      applied.push(migration.name);
      logger.info({ migration: migration.name }, 'migration applied');
    }
    await client.query('SELECT ensure_metrics_partitions(current_date, $1)', [METRICS_MONTHS_AHEAD]);
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]).catch(() => {});
    client.release();
  }
  return applied;
}
