import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import type { ConnectedConfig } from '../../src/commands/shared.js';
import { createTestConfig, numberedWords } from '../helpers/context.js';
import { deflatedZeros, rawZip, storedEntry } from '../pipeline/extract/hostile-zips.js';
import { spawnWorker, stopWorkers, waitUntilSettled } from './harness.js';

// Fault 5: a poison document (a zip bomb posing as DOCX) among 200 good ones: it ends in the
// dead-letter table with its code, while the others keep flowing.
let app: Awaited<ReturnType<typeof buildApp>>;
let config: ConnectedConfig;
const workers: ChildProcess[] = [];

beforeAll(async () => {
  config = await createTestConfig();
  app = await buildApp({ config });
  await app.ready();
  workers.push(spawnWorker(config));
});
afterAll(async () => {
  await stopWorkers(workers);
  await app?.close();
});

describe('fault: a poison document', () => {
  it('is dead-lettered while every other document completes', async () => {
    const bomb = rawZip([
      storedEntry('[Content_Types].xml', '<Types/>'),
      { name: 'word/document.xml', data: deflatedZeros(500), method: 8, declaredSize: 500 * (1 << 20) },
    ]);
    const poison = await app.inject({
      method: 'POST',
      url: '/api/v1/documents?filename=poison.docx',
      headers: { 'content-type': 'application/vnd.openxmlformats-officedocument.wordprocessingml.document' },
      payload: Buffer.from(bomb),
    });
    expect(poison.statusCode).toBe(202);
    const ids: string[] = [poison.json().id];
    for (let batch = 0; batch < 2; batch++) {
      const documents = Array.from({ length: 100 }, (_, i) => ({
        content: `${numberedWords(300)} b${batch}d${i}`,
      }));
      const response = await app.inject({
        method: 'POST',
        url: '/api/v1/documents/batch',
        payload: { documents },
      });
      for (const item of response.json().items) if (item.status === 202) ids.push(item.id);
    }
    const report = await waitUntilSettled(app.db, 201, ids);
    console.log(`fault poison-document: ${JSON.stringify(report)}`);
    expect(report).toMatchObject({ acknowledged: 201, completed: 200, failed: 1, duplicated: 0, lost: 0 });
    const dead = await app.inject({ method: 'GET', url: '/api/v1/dlq?code=too_large' });
    expect(dead.json().items.map((item: { documentId: string }) => item.documentId)).toEqual([
      poison.json().id,
    ]);
  });
});
