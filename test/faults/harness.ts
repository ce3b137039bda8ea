import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ConnectedConfig } from '../../src/commands/shared.js';
import { stopChild } from '../../src/stack/child-process.js';
import type { Pool } from '../../src/store/pool.js';
import { eventually } from '../helpers/context.js';

const cli = fileURLToPath(new URL('../../dist/src/cli.js', import.meta.url));

/** A worker as operators run it: its own process, from the built command. */
export function spawnWorker(config: ConnectedConfig, env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, [cli, 'worker', '--role', 'processor'], {
    env: {
      ...process.env,
      DATABASE_URL: config.DATABASE_URL,
      REDIS_URL: config.REDIS_URL,
      QUEUE_PREFIX: config.QUEUE_PREFIX,
      WORKER_METRICS_PORT: '0',
      LOG_LEVEL: 'warn',
      WORKER_CONCURRENCY: '4',
      PIPELINE_THREADS: '1',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/** An API node as operators run it, listening on `port`. */
export function spawnApi(
  config: ConnectedConfig,
  port: number,
  env: Record<string, string> = {},
): ChildProcess {
  return spawn(process.execPath, [cli, 'api'], {
    env: {
      ...process.env,
      DATABASE_URL: config.DATABASE_URL,
      REDIS_URL: config.REDIS_URL,
      QUEUE_PREFIX: config.QUEUE_PREFIX,
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

export async function stopWorkers(workers: readonly ChildProcess[]): Promise<void> {
  await Promise.all(workers.map((worker) => stopChild(worker, 'SIGTERM', 20_000)));
}

export interface FaultReport {
  sent: number;
  acknowledged: number;
  completed: number;
  failed: number;
  /** Versions whose stored chunks are not exactly one set (count differs from chunk_count). */
  duplicated: number;
  /** Acknowledged, yet neither completed nor failed with a dead letter. */
  lost: number;
  /** Versions claimed more than once: work a fault interrupted and another delivery finished. */
  reclaimed: number;
}

/** Counts, from Postgres, what became of the acknowledged documents. */
export async function faultReport(
  pool: Pool,
  sent: number,
  acknowledgedIds: readonly string[],
): Promise<FaultReport> {
  const { rows } = await pool.query<{
    completed: number;
    failed: number;
    duplicated: number;
    lost: number;
    reclaimed: number;
  }>(
    `WITH acked AS (SELECT unnest($1::uuid[]) AS id),
     versions AS (
       SELECT v.document_id, v.version, v.status, v.chunk_count, v.attempts,
              (SELECT count(*) FROM chunks c WHERE c.document_id = v.document_id AND c.version = v.version) AS stored,
              EXISTS (SELECT 1 FROM dlq_items d WHERE d.document_id = v.document_id AND d.version = v.version) AS dead
       FROM document_versions v JOIN acked ON acked.id = v.document_id
     )
     SELECT count(*) FILTER (WHERE status = 'completed')::int AS completed,
            count(*) FILTER (WHERE status = 'failed' AND dead)::int AS failed,
            count(*) FILTER (WHERE status = 'completed' AND stored <> chunk_count)::int AS duplicated,
            count(*) FILTER (WHERE attempts > 1)::int AS reclaimed,
            ((SELECT count(*) FROM acked) - count(*) FILTER (WHERE status = 'completed' OR (status = 'failed' AND dead)))::int AS lost
     FROM versions`,
    [acknowledgedIds],
  );
  const counts = rows[0] ?? {
    completed: 0,
    failed: 0,
    duplicated: 0,
    lost: acknowledgedIds.length,
    reclaimed: 0,
  };
  return { sent, acknowledged: acknowledgedIds.length, ...counts };
}

/** Polls faultReport until no acknowledged document is unfinished (lost = 0), then returns the report. */
export async function waitUntilSettled(
  pool: Pool,
  sent: number,
  acknowledgedIds: readonly string[],
  timeoutMs = 120_000,
): Promise<FaultReport> {
  return eventually(
    async () => {
      const report = await faultReport(pool, sent, acknowledgedIds);
      return report.lost === 0 ? report : undefined;
    },
    timeoutMs,
    'every acknowledged document to finish',
  );
}
