import type { Logger } from '../logger.js';
import { toProcessVersionPayload } from '../queue/jobs.js';
import type { DocumentQueue } from '../queue/producer.js';
import { redriveDueDeadLetters } from '../store/dlq.js';
import type { Pool } from '../store/pool.js';

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

/** One node re-drives at a time; any constant shared by all nodes works. */
const REDRIVER_LOCK_ID = 7_244_193_003;
const BATCH = 500;

/**
 * The `dlq` role: dead letters of transient causes (the version failed after its retries, but
 * the input is not at fault) are re-driven by priority with a growing backoff; after
 * `maxRedrives` they are marked as needing a human and left alone. Input errors are never
 * re-driven automatically.
 */
export function startDeadLetterRedriver(options: RedriverOptions): { stop(): Promise<void> } {
  const { pool, queue, logger } = options;
  let running: Promise<void> | undefined;

  const round = async () => {
    const client = await pool.connect();
    try {
      const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [
        REDRIVER_LOCK_ID,
      ]);
      if (!rows[0]?.locked) return;
      try {
        const { payloads, gaveUp } = await redriveDueDeadLetters(pool, {
          maxRedrives: options.maxRedrives,
          backoffMs: options.backoffMs,
          limit: BATCH,
        });
        if (payloads.length > 0) await queue.reviveJobs(payloads.map(toProcessVersionPayload));
        if (payloads.length > 0 || gaveUp > 0) {
          logger.info({ redriven: payloads.length, leftForHumans: gaveUp }, 'dead letters re-driven');
        }
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [REDRIVER_LOCK_ID]);
      }
    } finally {
      client.release();
    }
  };

  const timer = setInterval(() => {
    running ??= round()
      .catch((error: unknown) => logger.warn({ err: error }, 'dead-letter round failed; will try again'))
      .finally(() => {
        running = undefined;
      });
  }, options.intervalMs);
  timer.unref();

  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
