import type { Logger } from '../logger.js';
import type { Pool } from '../store/pool.js';

export interface LeaderLoopOptions {
  pool: Pool;
  logger: Logger;
  /** Any constant shared by every node running this loop: one of them holds it at a time. */
  lockId: number;
  intervalMs: number;
  /** What the loop is, for its log lines. */
  name: string;
  /** One round of work, run only while this node holds the lock. */
  round: () => Promise<void>;
}

/**
 * Runs `round` every `intervalMs` on whichever node takes the Postgres advisory lock first, so
 * any number of workers can run the loop and the work is done once. Rounds never overlap, and a
 * failed round is logged and tried again next time. stop() waits for a round in progress.
 */
export function startLeaderLoop(options: LeaderLoopOptions): { stop(): Promise<void> } {
  const { pool, logger } = options;
  let running: Promise<void> | undefined;

  const roundIfLeader = async () => {
    const client = await pool.connect();
    try {
      const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [
        options.lockId,
      ]);
      if (!rows[0]?.locked) return;
      try {
        await options.round();
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [options.lockId]);
      }
    } finally {
      client.release();
    }
  };

  const timer = setInterval(() => {
    running ??= roundIfLeader()
      .catch((error: unknown) =>
        logger.warn({ err: error, loop: options.name }, 'round failed; will try again'),
      )
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
