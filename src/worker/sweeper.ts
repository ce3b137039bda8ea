import type { Logger } from '../logger.js';
import type { DocumentQueue } from '../queue/producer.js';
import type { Pool } from '../store/pool.js';
import { findStaleQueuedVersions } from '../store/versions.js';

export interface SweeperOptions {
  pool: Pool;
  queue: DocumentQueue;
  logger: Logger;
  /** How often to look, in ms. */
  intervalMs: number;
  /** A version queued longer than this without a job is enqueued again, in ms. */
  staleAfterMs: number;
}

/**
 * Closes the gap of the durable handoff: a version committed while Redis refused the enqueue
 * stays queued in Postgres, and this puts its job back. Re-adding a job that still exists is a
 * no-op (deterministic job ids), so running it on every worker is safe.
 */
export function startSweeper(options: SweeperOptions): { stop(): void } {
  const { pool, queue, logger } = options;
  let running = false;
  const sweep = async () => {
    if (running) return;
    running = true;
    try {
      const stale = await findStaleQueuedVersions(pool, options.staleAfterMs, 1_000);
      if (stale.length > 0) {
        await queue.enqueue(stale);
        logger.info({ versions: stale.length }, 're-enqueued versions left queued');
      }
    } catch (error) {
      logger.warn({ err: error }, 'sweep failed; will try again');
    } finally {
      running = false;
    }
  };
  const timer = setInterval(sweep, options.intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
