import path from 'node:path';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { onShutdownSignals } from '../shutdown.js';
import { startCluster } from '../stack/cluster.js';
import { createPool } from '../store/pool.js';
import { ensureDevelopmentKey } from './development-key.js';

export interface ClusterCommandOptions {
  /** API nodes behind nginx. */
  apiNodes: number;
  /** Processor workers. */
  workers: number;
  /** nginx's port; a free one when unset. */
  port?: number | undefined;
  dlq: boolean;
  /** Unset: run one when this build has the monitor role. */
  monitor?: boolean | undefined;
  /** Restart nodes that crash. */
  restart: boolean;
}

/** Past the nodes' own grace period: nginx, Redis and Postgres still have to stop after them. */
const EXTRA_STOP_GRACE_MS = 45_000;

/**
 * `ingestd cluster`: the production topology natively (nginx, N API nodes, workers, dlq and
 * monitor, Postgres and Redis), each node its own process. Data under DATA_DIR/cluster, apart
 * from `ingestd up`'s. Ctrl-C or SIGTERM stops nodes first, then nginx, then Redis and Postgres.
 * Children run in their own process groups so that order holds (a terminal's Ctrl-C reaches only
 * this process); the price is that a SIGKILLed `ingestd cluster` leaves them running.
 */
export async function runCluster(
  config: Config,
  logger: Logger,
  options: ClusterCommandOptions,
): Promise<void> {
  const dataDir = path.join(config.DATA_DIR, 'cluster');
  const cluster = await startCluster({
    dataDir,
    apiNodes: options.apiNodes,
    workers: options.workers,
    port: options.port,
    dlq: options.dlq,
    monitor: options.monitor,
    databaseUrl: config.DATABASE_URL,
    redisUrl: config.REDIS_URL,
    restartCrashed: options.restart,
    logger,
  });
  onShutdownSignals(logger, config.SHUTDOWN_GRACE_MS + EXTRA_STOP_GRACE_MS, () => cluster.stop());
  let developmentKey: string | undefined;
  // Only in a private database: a real one gets its keys from `ingestd keys create`.
  if (config.AUTH_REQUIRED && !config.DATABASE_URL) {
    const pool = createPool(
      { connectionString: cluster.databaseUrl, max: 1, applicationName: 'ingestd-cluster' },
      logger,
    );
    try {
      developmentKey = await ensureDevelopmentKey(pool, dataDir);
    } catch (error) {
      await cluster.stop();
      throw error;
    } finally {
      await pool.end();
    }
  }
  for (const node of [...cluster.apiNodes, ...cluster.workers]) {
    logger.info(
      {
        node: node.name,
        pid: node.pid,
        port: node.port,
        metrics: `http://127.0.0.1:${node.port}/metrics`,
        log: node.logFile,
      },
      `${node.name}: pid ${node.pid}, metrics on port ${node.port}`,
    );
  }
  logger.info(
    { url: cluster.url, nginxConfig: cluster.nginx.configFile, accessLog: cluster.nginx.accessLog },
    `ingestd cluster is up at ${cluster.url} (Ctrl-C stops it)`,
  );
  if (developmentKey) {
    // As `ingestd up` does: development only, so the first curl works; real keys are never logged.
    logger.info(
      { keyFile: path.join(dataDir, 'development-api-key') },
      `development API key (tenant default, every scope): ${developmentKey}`,
    );
  } else {
    logger.warn('AUTH_REQUIRED=false: every caller is the default tenant with every scope');
  }
}
