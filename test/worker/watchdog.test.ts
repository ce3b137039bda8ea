import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { startWorkerNode, type WorkerNode } from '../../src/worker/worker-node.js';
import { createTestConfig, silentLogger, waitForDocument } from '../helpers/context.js';

let app: Awaited<ReturnType<typeof buildApp>>;
let worker: WorkerNode;

beforeAll(async () => {
  const config = await createTestConfig({ WATCHDOG_STALL_MS: '600' });
  app = await buildApp({ config });
  await app.ready();
  worker = await startWorkerNode({ config, logger: silentLogger, role: 'processor' });
});
afterAll(async () => {
  await worker?.close();
  await app?.close();
});

describe('the worker watchdog', () => {
  it('replaces a consumer that has gone quiet while jobs wait, and the jobs complete', async () => {
    // A closed consumer takes no jobs, like one that lost its blocking connection after a reconnect
    // and never came back (pausing is not enough: a fetch already under way still takes a job).
    const quiet = worker.consumer?.();
    await quiet?.close();
    const { id } = (
      await app.inject({ method: 'POST', url: '/api/v1/documents', payload: { content: 'wake up' } })
    ).json();
    await waitForDocument(app, id, { statuses: ['completed'], timeoutMs: 10_000 });
    expect(worker.consumer?.()).not.toBe(quiet);
  });
});
