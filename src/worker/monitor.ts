import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { DocumentQueue } from '../queue/producer.js';
import { countDlqItems } from '../store/dlq.js';
import {
  dropExpiredMetricsPartitions,
  ensureMetricsPartitions,
  type Gauge,
  insertGauges,
  monitorGauges,
  PROCESSING_SAMPLE,
  rollUpProcessingMinutes,
} from '../store/metrics.js';
import type { Pool } from '../store/pool.js';
import { countQueuedVersions } from '../store/versions.js';
import { startLeaderLoop } from './leader-loop.js';

export interface MonitorOptions {
  pool: Pool;
  queue: DocumentQueue;
  metrics: Metrics;
  logger: Logger;
  /** How often gauges are written and samples rolled up, in ms. */
  intervalMs: number;
  /** Months of partitions kept made ahead. */
  partitionsAhead: number;
  /** Days of metrics kept. */
  retentionDays: number;
  /** How often partitions are made and dropped, in ms. Default one hour */
  upkeepIntervalMs?: number;
  /**
   * How old a minute must be before it is rolled up, in ms: processors flush samples every
   * second, so this covers a slow flush. Default 30000
   */
  rollupLagMs?: number;
}

const MONITOR_LOCK_ID = 7_244_193_004;

/**
 * The monitor role, one active at a time (advisory-lock leader): keeps `metrics` partitioned
 * ahead and within its retention, writes queue, DLQ and throughput gauges, and rolls processing
 * samples up per minute for GET /api/v1/stats. Each round's steps are idempotent, so a round
 * repeated by a new leader after a failover writes nothing twice.
 */
export function startMonitor(options: MonitorOptions): { stop(): Promise<void> } {
  const { pool, queue, metrics, logger } = options;
  const upkeepIntervalMs = options.upkeepIntervalMs ?? 3_600_000;
  let lastUpkeep = 0;

  const upkeep = async () => {
    const made = await ensureMetricsPartitions(pool, options.partitionsAhead);
    const dropped = await dropExpiredMetricsPartitions(pool, options.retentionDays);
    if (made > 0 || dropped > 0) logger.info({ made, dropped }, 'metrics partitions kept up');
    lastUpkeep = Date.now();
  };

  const writeGauges = async () => {
    const [snapshot, dlq, completed, versionsQueued] = await Promise.all([
      queue.snapshot(),
      countDlqItems(pool),
      pool.query<{ count: number }>(
        `SELECT count(*)::int AS count FROM metrics
         WHERE name = $1 AND ts > now() - interval '1 minute' AND tags->>'outcome' = 'completed'`,
        [PROCESSING_SAMPLE],
      ),
      countQueuedVersions(pool),
    ]);
    metrics.versionsQueued.set(versionsQueued);
    for (const [status, count] of Object.entries(dlq.byStatus)) metrics.dlqItems.set({ status }, count);
    metrics.dlqNeedsHuman.set(dlq.needsHuman);
    const gauges: Gauge[] = [
      {
        name: monitorGauges.queueWaiting,
        value: (snapshot.counts.waiting ?? 0) + (snapshot.counts.prioritized ?? 0),
      },
      { name: monitorGauges.queueActive, value: snapshot.counts.active ?? 0 },
      { name: monitorGauges.queueDelayed, value: snapshot.counts.delayed ?? 0 },
      { name: monitorGauges.queueOldestWaitingSeconds, value: snapshot.oldestWaitingAgeSeconds },
      { name: monitorGauges.dlqPending, value: dlq.byStatus.pending },
      { name: monitorGauges.dlqRetrying, value: dlq.byStatus.retrying },
      { name: monitorGauges.dlqNeedsHuman, value: dlq.needsHuman },
      { name: monitorGauges.completedLastMinute, value: completed.rows[0]?.count ?? 0 },
      { name: monitorGauges.versionsQueued, value: versionsQueued },
    ];
    await insertGauges(pool, gauges);
  };

  return startLeaderLoop({
    pool,
    logger,
    lockId: MONITOR_LOCK_ID,
    intervalMs: options.intervalMs,
    name: 'monitor',
    round: async () => {
      if (Date.now() - lastUpkeep >= upkeepIntervalMs) await upkeep();
      await writeGauges();
      const minutes = await rollUpProcessingMinutes(pool, options.rollupLagMs ?? 30_000);
      if (minutes > 0) logger.debug({ minutes }, 'processing samples rolled up');
    },
  });
}
