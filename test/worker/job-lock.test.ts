import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleFormats } from '../../bench/sample-documents.js';
import { buildApp } from '../../src/api/app.js';
import { startWorkerNode, type WorkerNode } from '../../src/worker/worker-node.js';
import { createTestConfig, silentLogger, waitForDocument } from '../helpers/context.js';

// A document that takes seconds to extract, with job locks of 0.6 s and a second worker ready
// to take any job whose lock lapses: the lock must keep renewing while the thread works. A PDF of
// many pages is slow in pdf.js yet small in bytes, so this process's event loop (shared by the
// API and both workers here) stays free.
let app: Awaited<ReturnType<typeof buildApp>>;
const workers: WorkerNode[] = [];

beforeAll(async () => {
  const config = await createTestConfig({
    JOB_LOCK_MS: '600',
    MAX_DOCUMENT_BYTES: String(64 * 1024 * 1024),
    PIPELINE_THREADS: '1',
  });
  app = await buildApp({ config });
  await app.ready();
  for (let i = 0; i < 2; i++)
    workers.push(await startWorkerNode({ config, logger: silentLogger, role: 'processor' }));
});
afterAll(async () => {
  await Promise.all(workers.map((worker) => worker.close()));
  await app?.close();
});

describe('the job lock during a long extraction', () => {
  it('keeps renewing: the job is never taken for stalled and runs exactly once', async () => {
    const pdf = sampleFormats.find((format) => format.label === 'PDF');
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/documents?filename=long.pdf',
      headers: { 'content-type': 'application/pdf' },
      payload: Buffer.from(pdf?.build(600, 1) ?? []),
    });
    expect(response.statusCode).toBe(202);
    const { id } = response.json();
    const started = Date.now();
    await waitForDocument(app, id, { statuses: ['completed'], timeoutMs: 60_000 });
    // It took several lock durations, yet it was claimed once and its job never stalled.
    expect(Date.now() - started).toBeGreaterThan(1_500); // a lapsed lock would have been seen by then
    const { rows } = await app.db.query('SELECT attempts FROM document_versions WHERE document_id = $1', [
      id,
    ]);
    expect(rows[0].attempts).toBe(1);
    const job = await app.documentQueue.queue.getJob(`${id}-v1`);
    expect(job?.stalledCounter ?? 0).toBe(0);
    expect(job?.attemptsMade).toBe(1);
  }, 90_000);
});
