import path from 'node:path';
import type { Logger } from '../logger.js';
import { installTools, missingTools, type Tool } from './binaries.js';
import { PostgresServer } from './postgres-server.js';
import { RedisServer } from './redis-server.js';

export const LOCAL_DATABASE = 'ingestd';

export interface LocalStack {
  databaseUrl: string;
  redisUrl: string;
  stop(): Promise<void>;
}

/**
 * Starts a private Postgres and Redis with data under `dataDir`, kept between runs; installs the
 * servers first when they are missing and this machine allows it.
 */
export async function startLocalStack(dataDir: string, logger: Logger): Promise<LocalStack> {
  const needed: Tool[] = ['postgres', 'redis'];
  if (missingTools(needed).length > 0) installTools(needed, (line) => logger.info(line));
  const root = path.resolve(dataDir);
  const postgres = await PostgresServer.start({ dataDir: path.join(root, 'postgres') });
  let redis: RedisServer | undefined;
  try {
    redis = await RedisServer.start({ dataDir: path.join(root, 'redis') });
    await postgres.createDatabase(LOCAL_DATABASE);
  } catch (error) {
    await Promise.allSettled([postgres.stop(), redis?.stop()]);
    throw error;
  }
  const started = redis;
  logger.info(
    { postgresPort: postgres.port, redisPort: redis.port, dataDir: root },
    'local postgres and redis started',
  );
  return {
    databaseUrl: postgres.url(LOCAL_DATABASE),
    redisUrl: started.url,
    async stop() {
      await Promise.allSettled([started.stop(), postgres.stop()]);
    },
  };
}
