import http from 'node:http';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { Metrics } from '../metrics.js';
import { createRedis } from '../queue/connection.js';
import { DocumentQueue } from '../queue/producer.js';
import { createPool } from '../store/pool.js';
import { createProcessorWorker } from './processor.js';
import { startSweeper } from './sweeper.js';

export const workerRoles = ['processor'] as const;
export type WorkerRole = (typeof workerRoles)[number];

export interface WorkerNodeOptions {
  config: Config & { DATABASE_URL: string; REDIS_URL: string };
  logger: Logger;
  role: WorkerRole;
  /** Shared with an in-process API node (`ingestd up`); then no metrics listener of its own is opened. */
  metrics?: Metrics;
}

export interface WorkerNode {
  /** Lets active jobs finish, then closes the queue connections and the pool. Safe to call twice. */
  close(): Promise<void>;
  /** Port of this process's /metrics listener, when it has one. */
  metricsPort?: number;
}

/** Runs one worker process of the given role. */
export async function startWorkerNode(options: WorkerNodeOptions): Promise<WorkerNode> {
  const { config, role } = options;
  const logger = options.logger.child({ role });
  const metrics = options.metrics ?? new Metrics();
  const pool = createPool(
    { connectionString: config.DATABASE_URL, max: config.PG_POOL_MAX, applicationName: `ingestd-${role}` },
    logger,
  );
  const workerRedis = createRedis(config.REDIS_URL, 'worker', logger);
  const queue = new DocumentQueue(workerRedis, config.QUEUE_PREFIX);
  const worker = createProcessorWorker({
    connection: workerRedis,
    prefix: config.QUEUE_PREFIX,
    concurrency: config.WORKER_CONCURRENCY,
    pool,
    metrics,
    logger,
  });
  const sweeper = startSweeper({
    pool,
    queue,
    logger,
    intervalMs: config.SWEEP_INTERVAL_MS,
    staleAfterMs: config.SWEEP_STALE_AFTER_MS,
  });

  let metricsServer: http.Server | undefined;
  if (!options.metrics && config.WORKER_METRICS_PORT !== 0) {
    metrics.watchQueue(() => queue.snapshot());
    metricsServer = await listenForScrapes(metrics, config.HOST, config.WORKER_METRICS_PORT);
  }
  const address = metricsServer?.address();
  logger.info({ concurrency: config.WORKER_CONCURRENCY }, 'worker started');

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      sweeper.stop();
      const steps = [
        () => worker.close(),
        () => queue.close(),
        () => pool.end(),
        async () => workerRedis.disconnect(),
        () =>
          new Promise<void>((resolve) => (metricsServer ? metricsServer.close(() => resolve()) : resolve())),
      ];
      // Every step runs even if an earlier one fails, so nothing is left open.
      for (const step of steps) {
        await step().catch((error: unknown) => logger.warn({ err: error }, 'worker close step failed'));
      }
    })();
    return closing;
  };
  return {
    close,
    ...(typeof address === 'object' && address ? { metricsPort: address.port } : {}),
  };
}

/** A minimal listener for Prometheus and liveness probes of a worker process. */
async function listenForScrapes(metrics: Metrics, host: string, port: number): Promise<http.Server> {
  const server = http.createServer(async (request, response) => {
    if (request.url === '/metrics') {
      const body = await metrics.registry.metrics();
      response.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body);
    } else if (request.url === '/health') {
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    } else {
      response.writeHead(404, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          error: { code: 'not_found', message: 'only /metrics and /health here', details: null },
        }),
      );
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
