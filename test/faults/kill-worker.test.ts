import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import type { ConnectedConfig } from '../../src/commands/shared.js';
import { createTestConfig, eventually, numberedWords } from '../helpers/context.js';
import { faultReport, spawnWorker, stopWorkers, waitUntilSettled } from './harness.js';

// Fault 1: a worker is killed with SIGKILL in the middle of 500 documents; a second worker and
// the restarted one must finish every acknowledged document, each with exactly one set of chunks.
// The victim works alone until the kill, so it surely holds jobs then: with two workers from the
// start, they sometimes finished all 500 before the kill landed, and nothing was interrupted.
let app: Awaited<ReturnType<typeof buildApp>>;
let config: ConnectedConfig;
const workers: ChildProcess[] = [];
const fastRecovery = { JOB_LOCK_MS: '2000', SWEEP_INTERVAL_MS: '1000', SWEEP_STALE_AFTER_MS: '5000' };

beforeAll(async () => {
  config = await createTestConfig();
  app = await buildApp({ config });
  await app.ready();
});
afterAll(async () => {
  await stopWorkers(workers);
  await app?.close();
});

describe('fault: kill -9 a worker mid-run', () => {
  it('loses nothing and doubles nothing', async () => {
    workers.push(spawnWorker(config, fastRecovery));
    const sent = 500;
    const ids: string[] = [];
    for (let batch = 0; batch < sent / 100; batch++) {
      const documents = Array.from({ length: 100 }, (_, i) => ({
        content: `${numberedWords(999)} b${batch}d${i}`,
      }));
      const response = await app.inject({
        method: 'POST',
        url: '/api/v1/documents/batch',
        payload: { documents },
      });
      for (const item of response.json().items) if (item.status === 202) ids.push(item.id);
    }
    const completedCount = async () =>
      (await app.db.query(`SELECT count(*)::int AS n FROM documents WHERE status = 'completed'`)).rows[0]
        .n as number;
    await eventually(
      async () => ((await completedCount()) >= 100 ? true : undefined),
      60_000,
      '100 completions',
    );

    const victim = workers[0] as ChildProcess;
    victim.kill('SIGKILL');
    await new Promise((resolve) => victim.once('exit', resolve));
    expect(await completedCount()).toBeLessThan(sent);
    workers.push(spawnWorker(config, fastRecovery), spawnWorker(config, fastRecovery));

    await waitUntilSettled(app.db, sent, ids);
    const report = await faultReport(app.db, sent, ids);
    console.log(`fault kill-9-worker: ${JSON.stringify(report)}`);
    expect(report).toMatchObject({ sent: 500, acknowledged: 500, completed: 500, duplicated: 0, lost: 0 });
    // The kill did interrupt work in flight, which other deliveries then finished.
    expect(report.reclaimed).toBeGreaterThan(0);
  }, 180_000);
});
