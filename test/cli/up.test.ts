import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exited, stopChild } from '../../src/stack/child-process.js';
import { freePort } from '../../src/stack/ports.js';
import { eventually, numberedWords } from '../helpers/context.js';

// The built command, as a user runs it after `npm install` (npm test builds first).
const cli = fileURLToPath(new URL('../../dist/src/cli.js', import.meta.url));

let dataDir: string;
let port: number;
let child: ChildProcess | undefined;
let output = '';

function startUp(): ChildProcess {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATA_DIR: dataDir,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    // Development mode as users get it: keys required, a development key made and printed.
    AUTH_REQUIRED: 'true',
  };
  delete env.DATABASE_URL;
  delete env.REDIS_URL;
  const started = spawn(process.execPath, [cli, 'up'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  started.stdout?.on('data', (data) => {
    output += data;
  });
  started.stderr?.on('data', (data) => {
    output += data;
  });
  return started;
}

const base = () => `http://127.0.0.1:${port}`;

/** The development key `ingestd up` printed and kept in its data directory. */
const developmentKey = () => readFileSync(path.join(dataDir, 'development-api-key'), 'utf8').trim();

/** fetch of an API path with the development key. */
function api(pathAndQuery: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${base()}${pathAndQuery}`, {
    ...init,
    headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${developmentKey()}` },
  });
}

async function waitUntilReady(): Promise<void> {
  await eventually(
    async () => {
      if (child?.exitCode !== null) throw new Error(`ingestd up exited early:\n${output}`);
      const response = await fetch(`${base()}/ready`).catch(() => undefined);
      return response?.status === 200 ? true : undefined;
    },
    60_000,
    '`ingestd up` to be ready',
  );
}

beforeAll(async () => {
  expect(existsSync(cli), 'dist/src/cli.js exists: run `npm run build` first').toBe(true);
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'ingestd-up-'));
  chmodSync(dataDir, 0o755);
  port = await freePort();
  child = startUp();
  await waitUntilReady();
}, 90_000);

afterAll(async () => {
  if (child) await stopChild(child, 'SIGTERM', 30_000);
  rmSync(dataDir, { recursive: true, force: true });
});

/** Runs `work` over `items` with at most `limit` in flight. */
async function withConcurrency<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await work(items[index] as T);
      }
    }),
  );
  return results;
}

describe('ingestd up', () => {
  it('prints where it listens', () => {
    expect(output).toContain(`ingestd is up at http://127.0.0.1:${port}`);
  });

  it('requires a key, and prints a development key that works', async () => {
    expect(output).toContain(`development API key (tenant default, every scope): ${developmentKey()}`);
    const anonymous = await fetch(`${base()}/api/v1/documents`);
    expect(anonymous.status).toBe(401);
    expect((await api('/api/v1/documents')).status).toBe(200);
  });

  it('completes 200 documents of 1,000 words posted at concurrency 20, each in exactly 3 chunks of at most 500 words', async () => {
    const ids = await withConcurrency(
      Array.from({ length: 200 }, (_, i) => i),
      20,
      async (i) => {
        const response = await api(`/api/v1/documents`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            content: `${numberedWords(999)} doc${i}`,
            chunking: { size: 500, overlap: 50 },
          }),
        });
        expect(response.status).toBe(202);
        return ((await response.json()) as { id: string }).id;
      },
    );
    expect(new Set(ids).size).toBe(200);

    await eventually(
      async () => {
        const response = await api(`/api/v1/documents?status=completed&limit=100`);
        const page = (await response.json()) as { items: unknown[]; nextCursor: string | null };
        return page.items.length === 100 && page.nextCursor ? true : undefined;
      },
      60_000,
      'documents to complete',
    );
    const documents = await withConcurrency(ids, 20, async (id) => {
      const document = (await (await api(`/api/v1/documents/${id}`)).json()) as {
        status: string;
        chunkCount: number;
      };
      if (document.status !== 'completed') {
        await eventually(
          async () => {
            const again = (await (await api(`/api/v1/documents/${id}`)).json()) as {
              status: string;
            };
            return again.status === 'completed' ? true : undefined;
          },
          60_000,
          `document ${id} to complete`,
        );
      }
      const chunks = (await (await api(`/api/v1/documents/${id}/chunks?limit=1000`)).json()) as {
        items: { wordCount: number }[];
      };
      return { ...document, wordCounts: chunks.items.map((chunk) => chunk.wordCount) };
    });
    for (const document of documents) {
      expect(document.wordCounts).toEqual([500, 500, 100]);
    }
  }, 120_000);

  it('stops cleanly on SIGTERM and keeps its data for the next start', async () => {
    const running = child as ChildProcess;
    running.kill('SIGTERM');
    await exited(running);
    expect(running.exitCode).toBe(0);
    expect(output).toContain('shut down cleanly');

    const keyBefore = developmentKey();
    child = startUp();
    await waitUntilReady();
    expect(developmentKey()).toBe(keyBefore);
    const response = await api(`/api/v1/documents?status=completed&limit=100`);
    const page = (await response.json()) as { items: unknown[] };
    expect(page.items).toHaveLength(100);
  }, 90_000);
});
