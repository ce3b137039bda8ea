import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import type { ConnectedConfig } from '../../src/commands/shared.js';
import { createTestConfig, eventually, numberedWords } from '../helpers/context.js';
import { faultReport, spawnWorker, stopWorkers, waitUntilSettled } from './harness.js';

// Fault 2, the zombie: a worker frozen (SIGSTOP) past its job locks while it holds jobs, then
// thawed (SIGCONT). Its jobs go to the other worker meanwhile; its late writes must neither add a
// second set of chunks nor overwrite the finished ones.
let app: Awaited<ReturnType<typeof buildApp>>;
let config: ConnectedConfig;
const workers: ChildProcess[] = [];
const shortLocks = { JOB_LOCK_MS: '1500', SWEEP_INTERVAL_MS: '1000', SWEEP_STALE_AFTER_MS: '5000' };

beforeAll(async () => {
  config = await createTestConfig();
  app = await buildApp({ config });
  await app.ready();
  workers.push(spawnWorker(config, shortLocks), spawnWorker(config, shortLocks));
});
afterAll(async () => {
  for (const worker of workers) worker.kill('SIGCONT');
  await stopWorkers(workers);
  await app?.close();
});

describe('fault: a frozen worker comes back (kill -STOP, then kill -CONT)', () => {
  it('doubles nothing and loses nothing', async () => {
    const sent = 400;
    const ids: string[] = [];
    for (let batch = 0; batch < sent / 100; batch++) {
      const documents = Array.from({ length: 100 }, (_, i) => ({
        content: `${numberedWords(999)} z${batch}d${i}`,
      }));
      const response = await app.inject({
        method: 'POST',
        url: '/api/v1/documents/batch',
        payload: { documents },
      });
      for (const item of response.json().items) if (item.status === 202) ids.push(item.id);
    }
    await eventually(
      async () => {
        const { rows } = await app.db.query(
          `SELECT count(*)::int AS n FROM documents WHERE status = 'completed'`,
        );
        return rows[0].n >= 50 ? true : undefined;
      },
      60_000,
      '50 completions',
    );
    const zombie = workers[0] as ChildProcess;
    zombie.kill('SIGSTOP');
    await new Promise((resolve) => setTimeout(resolve, 5_000)); // more than three lock durations
    zombie.kill('SIGCONT');

    const report = await waitUntilSettled(app.db, sent, ids);
    // Give the thawed worker time to attempt its late writes before counting chunks again.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const settled = await faultReport(app.db, sent, ids);
    console.log(`fault zombie-worker: ${JSON.stringify(settled)}`);
    expect(report.lost).toBe(0);
    expect(settled).toMatchObject({ sent, acknowledged: sent, completed: sent, duplicated: 0, lost: 0 });
    const { rows } = await app.db.query(
      `SELECT count(*)::int AS n FROM (
         SELECT document_id, version FROM chunks WHERE document_id = ANY($1) GROUP BY 1, 2 HAVING count(*) <> 3
       ) odd`,
      [ids],
    );
    expect(rows[0].n).toBe(0);
  });
});
