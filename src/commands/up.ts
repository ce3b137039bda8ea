import { startApiNode } from '../api/server.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { Metrics } from '../metrics.js';
import { onShutdownSignals } from '../shutdown.js';
import { type LocalStack, startLocalStack } from '../stack/local-stack.js';
import { migrate } from '../store/migrate.js';
import { createPool } from '../store/pool.js';
import { startWorkerNode } from '../worker/worker-node.js';
import { ensureDevelopmentKey } from './development-key.js';
import type { ConnectedConfig } from './shared.js';

/**
 * Everything in one process for a laptop or a first try: private Postgres and Redis (unless
 * DATABASE_URL / REDIS_URL point elsewhere), migrations, an API node, a processor and a monitor (for GET /api/v1/stats).
 */
export async function runUp(config: Config, logger: Logger): Promise<void> {
  let stack: LocalStack | undefined;
  if (!config.DATABASE_URL || !config.REDIS_URL) stack = await startLocalStack(config.DATA_DIR, logger);
  const connected: ConnectedConfig = {
    ...config,
    DATABASE_URL: config.DATABASE_URL ?? (stack as LocalStack).databaseUrl,
    REDIS_URL: config.REDIS_URL ?? (stack as LocalStack).redisUrl,
  };
  try {
    const pool = createPool(
      { connectionString: connected.DATABASE_URL, max: 1, applicationName: 'ingestd-migrate' },
      logger,
    );
    let developmentKey: string | undefined;
    try {
      await migrate(pool, logger);
      // Only in a private database: a real one gets its keys from `ingestd keys create`.
      if (config.AUTH_REQUIRED && !config.DATABASE_URL) {
        developmentKey = await ensureDevelopmentKey(pool, config.DATA_DIR);
      }
    } finally {
      await pool.end();
    }
    const metrics = new Metrics();
    const worker = await startWorkerNode({ config: connected, logger, role: 'processor', metrics });
    const monitor = await startWorkerNode({ config: connected, logger, role: 'monitor', metrics });
    const api = await startApiNode({ config: connected, logger, metrics });
    onShutdownSignals(logger, config.SHUTDOWN_GRACE_MS, async () => {
      await api.close();
      await worker.close();
      await monitor.close();
      await stack?.stop();
    });
    logger.info({ url: api.url, docs: `${api.url}/docs` }, `ingestd is up at ${api.url} (Ctrl-C stops it)`);
    if (developmentKey) {
      // Development mode only: the key is printed so the first curl works. Production keys
      // come from `ingestd keys create` and are never logged.
      logger.info(
        { keyFile: `${config.DATA_DIR}/development-api-key` },
        `development API key (tenant default, every scope): ${developmentKey}`,
      );
    } else if (config.AUTH_REQUIRED) {
      logger.info('API keys are required: make one with `ingestd keys create --tenant T`');
    } else {
      logger.warn('AUTH_REQUIRED=false: every caller is the default tenant with every scope');
    }
  } catch (error) {
    await stack?.stop();
    throw error;
  }
}
