import type { Logger } from '../logger.js';
import { toProcessVersionPayload } from '../queue/jobs.js';
import type { DocumentQueue } from '../queue/producer.js';
import { redriveDueDeadLetters } from '../store/dlq.js';
import type { Pool } from '../store/pool.js';
import { startLeaderLoop } from './leader-loop.js';

export interface RedriverOptions {
  pool: Pool;
  queue: DocumentQueue;
  logger: Logger;
  /** How often to look for dead letters due, in ms. */
  intervalMs: number;
  /** Re-drives of one dead letter before it is left for a human. */
  maxRedrives: number;
  /** Wait before the first re-drive; each next one waits 4 times longer, in ms. */
  backoffMs: number;
}

const REDRIVER_LOCK_ID = 7_244_193_003;
const BATCH = 500;

/**
 * The `dlq` role: dead letters of transient causes (the version failed after its retries, but
 * the input is not at fault) are re-driven by priority with a growing backoff; after
 * `maxRedrives` they are marked as needing a human and left alone. Input errors are never
 * re-driven automatically. One node re-drives at a time.
 */
export function startDeadLetterRedriver(options: RedriverOptions): { stop(): Promise<void> } {
  const { pool, queue, logger } = options;
  return startLeaderLoop({
    pool,
    logger,
    lockId: REDRIVER_LOCK_ID,
    intervalMs: options.intervalMs,
    name: 'dead-letter re-driver',
    round: async () => {
      const { payloads, gaveUp } = await redriveDueDeadLetters(pool, {
        maxRedrives: options.maxRedrives,
        backoffMs: options.backoffMs,
        limit: BATCH,
      });
      if (payloads.length > 0) await queue.reviveJobs(payloads.map(toProcessVersionPayload));
      if (payloads.length > 0 || gaveUp > 0) {
        logger.info({ redriven: payloads.length, leftForHumans: gaveUp }, 'dead letters re-driven');
      }
    },
  });
}
