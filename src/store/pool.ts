import pg from 'pg';
import type { Logger } from '../logger.js';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

/** Options every ingestd Postgres pool shares. */
export interface PoolOptions {
  connectionString: string;
  /** Most connections held at once. */
  max: number;
  /** Name shown in pg_stat_activity, so an operator can tell api from worker connections. */
  applicationName: string;
  /** Longest a statement may run before Postgres cancels it, in ms. Default 30000 */
  statementTimeoutMs?: number;
}

/**
 * A pg pool whose client errors are logged instead of crashing the process: a Postgres restart
 * must cost failed queries, never the node. pg-pool listens for errors on idle clients only; a
 * client checked out between two statements (inside a transaction, say) emits its connection's
 * error with no listener, which throws. So every client gets a listener of its own when it
 * connects; the next query on it fails, its caller handles that, and pg-pool discards it.
 *
 * The statements run once or more per document (insert, claim, complete, fail, samples) are
 * named, so each connection parses them once and Postgres settles on a generic plan: planning
 * the completion CTE cost more than running it. (Behind PgBouncer, use its prepared-statement
 * support, 1.21+, or session pooling.)
 */
export function createPool(options: PoolOptions, logger: Logger): Pool {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max,
    application_name: options.applicationName,
    connectionTimeoutMillis: 5_000,
    // A statement stuck on a lock must fail (and be retried) rather than hold a connection forever.
    statement_timeout: options.statementTimeoutMs ?? 30_000,
    idleTimeoutMillis: 30_000,
  });
  pool.on('error', (error) => logger.warn({ err: error }, 'idle postgres client failed'));
  pool.on('connect', (client) => {
    client.on('error', (error) => logger.debug({ err: error }, 'postgres connection failed'));
  });
  return pool;
}

/**
 * Runs `work` in one transaction on one client, rolling back if it throws. `lockTimeoutMs` bounds
 * every wait for a lock in it (set with BEGIN, in the same round trip). Work whose last statement
 * ends with `; COMMIT` saves the round trip of a COMMIT of its own: the transaction is then over.
 */
export async function inTransaction<T>(
  pool: Pool,
  work: (client: PoolClient) => Promise<T>,
  options: { lockTimeoutMs?: number } = {},
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query(
      options.lockTimeoutMs === undefined
        ? 'BEGIN'
        : `BEGIN; SET LOCAL lock_timeout = ${Math.max(1, Math.round(options.lockTimeoutMs))}`,
    );
    const result = await work(client);
    // 'I': the work's last statement ended the transaction (copyInWhole resolves only at the
    // server's ReadyForQuery, which sets the status).
    if (client.getTransactionStatus() !== 'I') {
      // pg settles a failed statement before the status says so; a COMMIT of a failed
      // transaction answers ROLLBACK, without an error: the work would be lost in silence.
      const committed = await client.query('COMMIT');
      if (committed.command === 'ROLLBACK') {
        throw new Error('the transaction failed but its work did not throw; it was rolled back');
      }
    }
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}
