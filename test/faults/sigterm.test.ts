import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import type { ConnectedConfig } from '../../src/commands/shared.js';
import { exited } from '../../src/stack/child-process.js';
import { freePort } from '../../src/stack/ports.js';
import { createTestConfig, eventually, numberedWords } from '../helpers/context.js';
import { spawnApi, spawnWorker, stopWorkers, waitUntilSettled } from './harness.js';

// Fault 6: SIGTERM an API node and a worker under load. The API node answers what it received
// (202, or 503 with Retry-After once draining) and exits 0; the worker lets its jobs finish or hands
// them back and exits 0; nothing stays active, nothing acknowledged is lost.
let app: Awaited<ReturnType<typeof buildApp>>;
let config: ConnectedConfig;
const processes: ChildProcess[] = [];

beforeAll(async () => {
  config = await createTestConfig();
  app = await buildApp({ config }); // for reading state only
  await app.ready();
});
afterAll(async () => {
  await stopWorkers(processes);
  await app?.close();
});

describe('fault: SIGTERM an API node and a worker under load', () => {
  it('answers only 202 or 503 with Retry-After, exits 0, and loses nothing', async () => {
    const port = await freePort();
    const api = spawnApi(config, port, { SHUTDOWN_DRAIN_MS: '1000' });
    const worker = spawnWorker(config);
    const survivor = spawnWorker(config);
    processes.push(api, worker, survivor);
    const base = `http://127.0.0.1:${port}`;
    await eventually(async () =>
      (await fetch(`${base}/health`).catch(() => undefined))?.ok ? true : undefined,
    );

    const ids: string[] = [];
    const statuses = new Map<number, number>();
    let refusedConnections = 0;
    let sent = 0;
    let stop = false;
    const senders = Array.from({ length: 8 }, async (_, sender) => {
      for (let i = 0; !stop; i++) {
        sent++;
        try {
          const response = await fetch(`${base}/api/v1/documents`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ content: `${numberedWords(300)} s${sender}-${i}` }),
          });
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
          if (response.status === 202) ids.push(((await response.json()) as { id: string }).id);
          else if (response.status === 503) expect(response.headers.get('retry-after')).toBeTruthy();
          else await response.body?.cancel();
        } catch {
          refusedConnections++; // the listener has closed: nothing was received, nothing acknowledged
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    });

    await new Promise((resolve) => setTimeout(resolve, 1_500));
    api.kill('SIGTERM');
    worker.kill('SIGTERM');
    await Promise.all([exited(api), exited(worker)]);
    stop = true;
    await Promise.all(senders);

    const report = await waitUntilSettled(app.db, sent, ids);
    const active = (await app.documentQueue.queue.getJobCounts('active')).active;
    console.log(
      `fault sigterm: ${JSON.stringify({ ...report, statuses: Object.fromEntries(statuses), refusedConnections, active })}`,
    );
    expect(api.exitCode).toBe(0);
    expect(worker.exitCode).toBe(0);
    expect([...statuses.keys()].every((status) => status === 202 || status === 503)).toBe(true);
    expect(report).toMatchObject({ duplicated: 0, lost: 0 });
    expect(report.completed).toBe(report.acknowledged);
    expect(report.acknowledged).toBeGreaterThan(50);
    expect(active).toBe(0);
  });
});
