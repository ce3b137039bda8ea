import type { Logger } from '../logger.js';
import type { DocumentQueue } from '../queue/producer.js';
import { deleteExpiredIdempotencyKeys } from '../store/idempotency.js';
import type { Pool } from '../store/pool.js';
import { findStrandedVersions } from '../store/versions.js';
import { startLeaderLoop } from './leader-loop.js';

export interface SweeperOptions {
  pool: Pool;
  queue: DocumentQueue;
  logger: Logger;
  /** How often to look, in ms. */
  intervalMs: number;
  /** A version queued or processing this long without a live job is enqueued again, in ms. */
  staleAfterMs: number;
}

const SWEEPER_LOCK_ID = 7_244_193_002;
const BATCH = 1_000;

/**
 * Closes the gaps of the durable handoff. A version can be left without a live job when Redis
 * refused its enqueue, when its job failed while Postgres was down (so the version could not be
 * marked failed), or when a stalled job was given up. For each version queued or processing for
 * longer than `staleAfterMs`, its job is looked up (its own, and the group job it was enqueued
 * in): missing, failed or completed means it is enqueued afresh; waiting, delayed or active jobs
 * are left alone. Expired idempotency keys are deleted on the same round. One node sweeps at a
 * time.
 */
export function startSweeper(options: SweeperOptions): { stop(): Promise<void> } {
  const { pool, queue, logger } = options;
  return startLeaderLoop({
    pool,
    logger,
    lockId: SWEEPER_LOCK_ID,
    intervalMs: options.intervalMs,
    name: 'sweeper',
    round: async () => {
      const stranded = await findStrandedVersions(pool, options.staleAfterMs, BATCH);
      const revived = await queue.reviveJobs(stranded);
      if (revived > 0) logger.info({ versions: revived }, 'enqueued again versions left without a live job');
      const expiredKeys = await deleteExpiredIdempotencyKeys(pool, BATCH);
      if (expiredKeys > 0) logger.debug({ keys: expiredKeys }, 'deleted expired idempotency keys');
    },
  });
}
