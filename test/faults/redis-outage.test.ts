import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import type { ConnectedConfig } from '../../src/commands/shared.js';
import { RedisServer } from '../../src/stack/redis-server.js';
import { createTestConfig, numberedWords } from '../helpers/context.js';
import { spawnWorker, stopWorkers, waitUntilSettled } from './harness.js';

// Fault 3: Redis stopped for 15 s under load, then started again. The API keeps acknowledging
// (documents are durable in Postgres), /ready says 503 meanwhile, and every acknowledged document
// completes afterwards: jobs that were in Redis come back with its append-only file, and the
// sweeper enqueues the versions whose enqueue failed.
let app: Awaited<ReturnType<typeof buildApp>>;
let config: ConnectedConfig;
let redis: RedisServer;
let redisDir: string;
const workers: ChildProcess[] = [];
const recovery = { SWEEP_INTERVAL_MS: '1000', SWEEP_STALE_AFTER_MS: '3000', WATCHDOG_STALL_MS: '5000' };

beforeAll(async () => {
  redisDir = mkdtempSync(path.join(os.tmpdir(), 'ingestd-outage-'));
  redis = await RedisServer.start({ dataDir: redisDir, persistent: true });
  config = await createTestConfig({ REDIS_URL: redis.url, READY_TIMEOUT_MS: '300' });
  app = await buildApp({ config });
  await app.ready();
  workers.push(spawnWorker(config, recovery), spawnWorker(config, recovery));
});
afterAll(async () => {
  await stopWorkers(workers);
  await app?.close();
  await redis?.stop();
  rmSync(redisDir, { recursive: true, force: true });
});

async function postBatch(tag: string, ids: string[]): Promise<number> {
  const documents = Array.from({ length: 50 }, (_, i) => ({ content: `${numberedWords(500)} ${tag}-${i}` }));
  const response = await app.inject({
    method: 'POST',
    url: '/api/v1/documents/batch',
    payload: { documents },
  });
  if (response.statusCode !== 207) return 0;
  let acked = 0;
  for (const item of response.json().items) {
    if (item.status === 202) {
      ids.push(item.id);
      acked++;
    }
  }
  return acked;
}

describe('fault: Redis down for 15 s under load', () => {
  it('keeps acknowledging, says 503 on /ready, and completes every acknowledged document afterwards', async () => {
    const ids: string[] = [];
    let sent = 0;
    for (let batch = 0; batch < 2; batch++, sent += 50) await postBatch(`before${batch}`, ids);

    await redis.stop();
    const downSince = Date.now();
    let readyWhileDown = 0;
    for (let batch = 0; Date.now() - downSince < 15_000; batch++) {
      if (batch < 4) {
        sent += 50;
        await postBatch(`during${batch}`, ids);
      }
      readyWhileDown = (await app.inject({ method: 'GET', url: '/ready' })).statusCode;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(readyWhileDown).toBe(503);
    await redis.restart();
    for (let batch = 0; batch < 2; batch++, sent += 50) await postBatch(`after${batch}`, ids);

    const report = await waitUntilSettled(app.db, sent, ids);
    console.log(`fault redis-outage: ${JSON.stringify(report)}`);
    expect(report).toMatchObject({ sent: 400, acknowledged: 400, completed: 400, duplicated: 0, lost: 0 });
    expect((await app.inject({ method: 'GET', url: '/ready' })).statusCode).toBe(200);
  });
});
