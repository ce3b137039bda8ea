import type { ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import type { ConnectedConfig } from '../../src/commands/shared.js';
import { PostgresServer } from '../../src/stack/postgres-server.js';
import { migrate } from '../../src/store/migrate.js';
import { createPool } from '../../src/store/pool.js';
import { createTestConfig, numberedWords, silentLogger } from '../helpers/context.js';
import { spawnWorker, stopWorkers, waitUntilSettled } from './harness.js';

// Fault 4: Postgres stopped for 8 s under load, then started again. Nothing is acknowledged
// without a commit, so while it is down POSTs answer 503 with Retry-After (never 500), the
// API and workers stay up, and every acknowledged document completes afterwards: jobs whose
// database work failed are retried, and the sweeper re-enqueues whatever ran out of retries.
let app: Awaited<ReturnType<typeof buildApp>>;
let config: ConnectedConfig;
let postgres: PostgresServer;
let root: string;
const workers: ChildProcess[] = [];
const recovery = { SWEEP_INTERVAL_MS: '1000', SWEEP_STALE_AFTER_MS: '3000', WATCHDOG_STALL_MS: '5000' };
const outageMs = 8_000;

beforeAll(async () => {
  root = mkdtempSync(path.join(os.tmpdir(), 'ingestd-pg-restart-'));
  chmodSync(root, 0o755); // the server may run as the postgres user
  postgres = await PostgresServer.start({ dataDir: path.join(root, 'postgres') });
  await postgres.createDatabase('faults');
  const pool = createPool(
    { connectionString: postgres.url('faults'), max: 1, applicationName: 'test-migrate' },
    silentLogger,
  );
  await migrate(pool, silentLogger).finally(() => pool.end());
  config = await createTestConfig({ DATABASE_URL: postgres.url('faults'), READY_TIMEOUT_MS: '300' });
  app = await buildApp({ config });
  await app.ready();
  workers.push(spawnWorker(config, recovery), spawnWorker(config, recovery));
});
afterAll(async () => {
  await stopWorkers(workers);
  await app?.close();
  await postgres?.stop();
  rmSync(root, { recursive: true, force: true });
});

interface Tally {
  sent: number;
  ids: string[];
  statuses: Map<number, number>;
  missingRetryAfter: number;
}

async function postOne(tally: Tally, content: string): Promise<void> {
  tally.sent++;
  const response = await app.inject({ method: 'POST', url: '/api/v1/documents', payload: { content } });
  tally.statuses.set(response.statusCode, (tally.statuses.get(response.statusCode) ?? 0) + 1);
  if (response.statusCode === 202) tally.ids.push(response.json().id);
  if (response.statusCode === 503 && !response.headers['retry-after']) tally.missingRetryAfter++;
}

/** Posts documents `concurrency` at a time, at most one per client every 10 ms, until `until` says stop. */
async function load(tally: Tally, tag: string, concurrency: number, until: () => boolean): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (!until()) {
        await postOne(tally, `${numberedWords(500)} ${tag}-${next++}`);
        await sleep(10);
      }
    }),
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('fault: Postgres restarted under load', () => {
  it('answers 503 with Retry-After while it is down and completes every acknowledged document', async () => {
    const tally: Tally = { sent: 0, ids: [], statuses: new Map(), missingRetryAfter: 0 };
    let stopping = false;
    // Steady load throughout: before, during and after the outage.
    const traffic = load(tally, 'doc', 4, () => stopping);
    while (tally.ids.length < 150) await sleep(20);

    await postgres.stop();
    const downSince = Date.now();
    let readyWhileDown = 0;
    while (Date.now() - downSince < outageMs) {
      readyWhileDown = (await app.inject({ method: 'GET', url: '/ready' })).statusCode;
      await sleep(250);
    }
    expect(readyWhileDown).toBe(503);
    await postgres.restart();
    const ackedBeforeRestart = tally.ids.length;
    // Keep the load going until 150 more documents are acknowledged after the restart.
    while (tally.ids.length < ackedBeforeRestart + 150) await sleep(20);
    stopping = true;
    await traffic;

    const report = await waitUntilSettled(app.db, tally.sent, tally.ids);
    const statuses = Object.fromEntries(tally.statuses);
    console.log(`fault postgres-restart: ${JSON.stringify({ ...report, statuses })}`);
    // Workers survived: both still running.
    expect(workers.every((worker) => worker.exitCode === null)).toBe(true);
    // Only 202 and 503; every 503 says when to retry.
    expect(Object.keys(statuses).sort()).toEqual(['202', '503']);
    expect(tally.missingRetryAfter).toBe(0);
    expect(report.acknowledged).toBeGreaterThanOrEqual(300);
    expect(report).toMatchObject({ completed: report.acknowledged, duplicated: 0, lost: 0 });
    expect((await app.inject({ method: 'GET', url: '/ready' })).statusCode).toBe(200);
  });
});
