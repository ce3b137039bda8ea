import type { Worker } from 'bullmq';
import { type Config, fetchSettings } from '../config.js';
import type { Logger } from '../logger.js';
import { Metrics } from '../metrics.js';
import { listenForScrapes } from '../metrics-listener.js';
import { PipelinePool } from '../pipeline/pipeline-pool.js';
import { createRedis } from '../queue/connection.js';
import { DocumentQueue } from '../queue/producer.js';
import { createPool } from '../store/pool.js';
import { defaultWorkerConcurrency, machineResources } from './concurrency.js';
import { startDeadLetterRedriver } from './dead-letter-redriver.js';
import { startMonitor } from './monitor.js';
import { ProcessingSampleWriter } from './processing-samples.js';
import { createProcessorWorker } from './processor.js';
import { startSweeper } from './sweeper.js';
import { startWatchdog } from './watchdog.js';

export const workerRoles = ['processor', 'dlq', 'monitor'] as const;
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
  /** The processor role's BullMQ consumer of the moment (the watchdog may replace it). */
  consumer?: () => Worker;
  /** Port of this process's /metrics listener, when it has one. */
  metricsPort?: number;
}

/**
 * Runs one worker process of the given role. The metrics listener is bound first, so a port
 * clash fails the start before any job is taken; whatever was opened is closed on failure.
 */
export async function startWorkerNode(options: WorkerNodeOptions): Promise<WorkerNode> {
  const { config, role } = options;
  const logger = options.logger.child({ role });
  const metrics = options.metrics ?? new Metrics();
  const cleanups: (() => Promise<unknown>)[] = [];
  // Every step runs even if an earlier one fails, so nothing is left open; last opened, first closed.
  const closeAll = async () => {
    for (const cleanup of cleanups.reverse()) {
      await cleanup().catch((error: unknown) => logger.warn({ err: error }, 'worker close step failed'));
    }
  };

  let consumer: (() => Worker) | undefined;
  let concurrency: number | undefined;
  try {
    let metricsPort: number | undefined;
    if (!options.metrics && config.WORKER_METRICS_PORT !== 0) {
      const server = await listenForScrapes(metrics, config.HOST, config.WORKER_METRICS_PORT);
      cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
      const address = server.address();
      metricsPort = typeof address === 'object' && address ? address.port : undefined;
    }
    const pool = createPool(
      {
        connectionString: config.DATABASE_URL,
        max: config.PG_POOL_MAX,
        applicationName: `ingestd-${role}`,
        statementTimeoutMs: 120_000,
      },
      logger,
    );
    cleanups.push(() => pool.end());
    const redis = createRedis(config.REDIS_URL, 'worker', logger);
    cleanups.push(async () => redis.disconnect());
    const queue = new DocumentQueue(redis, config.QUEUE_PREFIX, logger);
    cleanups.push(() => queue.close());
    if (!options.metrics) metrics.watchQueue(() => queue.snapshot());

    if (role === 'dlq') {
      const redriver = startDeadLetterRedriver({
        pool,
        queue,
        logger,
        intervalMs: config.DLQ_INTERVAL_MS,
        maxRedrives: config.DLQ_MAX_REDRIVES,
        backoffMs: config.DLQ_BACKOFF_MS,
      });
      cleanups.push(() => redriver.stop());
    } else if (role === 'monitor') {
      const monitor = startMonitor({
        pool,
        queue,
        metrics,
        logger,
        intervalMs: config.MONITOR_INTERVAL_MS,
        partitionsAhead: config.METRICS_PARTITIONS_AHEAD,
        retentionDays: config.METRICS_RETENTION_DAYS,
      });
      cleanups.push(() => monitor.stop());
    } else {
      const workerConcurrency = config.WORKER_CONCURRENCY ?? defaultWorkerConcurrency(machineResources());
      concurrency = workerConcurrency;
      metrics.workerConcurrency.set(concurrency);
      const pipeline = new PipelinePool({
        threads: config.PIPELINE_THREADS,
        timeoutMs: config.PIPELINE_TIMEOUT_MS,
        heapMb: config.PIPELINE_HEAP_MB,
      });
      cleanups.push(() => pipeline.close());
      const sweeper = startSweeper({
        pool,
        queue,
        logger,
        intervalMs: config.SWEEP_INTERVAL_MS,
        staleAfterMs: config.SWEEP_STALE_AFTER_MS,
      });
      cleanups.push(() => sweeper.stop());
      const samples = new ProcessingSampleWriter({ pool, logger });
      cleanups.push(() => samples.close());
      const createConsumer = () => {
        const consumer = createProcessorWorker({
          connection: redis,
          prefix: config.QUEUE_PREFIX,
          concurrency: workerConcurrency,
          lockDurationMs: config.JOB_LOCK_MS,
          handOff: (versions) => queue.enqueueRetries(versions),
          pool,
          pipeline,
          metrics,
          logger,
          samples,
          fetch: fetchSettings(config),
        });
        for (const event of ['active', 'completed', 'failed'] as const) {
          consumer.on(event, () => {
            lastProgressAt = Date.now();
          });
        }
        return consumer;
      };
      let lastProgressAt = Date.now();
      let worker = createConsumer();
      consumer = () => worker;
      if (config.WATCHDOG_STALL_MS > 0) {
        const watchdog = startWatchdog({
          queue,
          logger,
          stallMs: config.WATCHDOG_STALL_MS,
          lastProgressAt: () => lastProgressAt,
          restartConsumer: async () => {
            const quiet = worker;
            worker = createConsumer();
            lastProgressAt = Date.now();
            await quiet.close(true);
          },
        });
        cleanups.push(() => watchdog.stop());
      }
      // Closed first: active jobs finish while the pool and Redis are still open.
      cleanups.push(() => worker.close());
    }
    logger.info(
      {
        concurrency,
        concurrencyFrom: config.WORKER_CONCURRENCY ? 'WORKER_CONCURRENCY' : 'machine',
        metricsPort,
      },
      'worker started',
    );

    let closing: Promise<void> | undefined;
    return {
      close: () => {
        closing ??= closeAll();
        return closing;
      },
      ...(metricsPort ? { metricsPort } : {}),
      ...(consumer ? { consumer } : {}),
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
