import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { createLogger } from '../../src/logger.js';
import { installTools } from '../../src/stack/binaries.js';
import { PostgresServer } from '../../src/stack/postgres-server.js';
import { RedisServer } from '../../src/stack/redis-server.js';
import { migrate } from '../../src/store/migrate.js';
import { createPool } from '../../src/store/pool.js';
import { TEMPLATE_DATABASE } from './constants.js';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresPort: number;
    redisUrl: string;
  }
}

/**
 * One private Postgres and one Redis for the whole run, started from the machine's binaries on
 * free ports. The schema is migrated once into a template database that each test file clones.
 */
export default async function setup(project: TestProject) {
  // Processes the tests spawn (API nodes, workers, clusters) inherit this: tests about callers
  // turn authentication on themselves.
  process.env.AUTH_REQUIRED ??= 'false';
  installTools(['postgres', 'redis', 'promtool'], (line) => console.log(line));
  const root = mkdtempSync(path.join(os.tmpdir(), 'ingestd-test-'));
  chmodSync(root, 0o755); // the Postgres server may run as another user (we may be root)
  const postgres = await PostgresServer.start({ dataDir: path.join(root, 'postgres'), durable: false });
  const redis = await RedisServer.start({ dataDir: path.join(root, 'redis'), persistent: false });
  await postgres.createDatabase(TEMPLATE_DATABASE);
  const logger = createLogger({ LOG_LEVEL: 'warn' });
  const pool = createPool(
    { connectionString: postgres.url(TEMPLATE_DATABASE), max: 1, applicationName: 'test-setup' },
    logger,
  );
  await migrate(pool, logger).finally(() => pool.end());

  project.provide('postgresPort', postgres.port);
  project.provide('redisUrl', redis.url);

  return async () => {
    await Promise.allSettled([postgres.stop(), redis.stop()]);
    rmSync(root, { recursive: true, force: true });
  };
}
