import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createTestConfig, eventually } from '../helpers/context.js';
import { isAlive } from '../helpers/processes.js';

const cli = fileURLToPath(new URL('../../dist/src/cli.js', import.meta.url));

describe('a node started with an IPC channel (as ingestd cluster starts them)', () => {
  it('shuts down by itself when its parent is SIGKILLed', async () => {
    const config = await createTestConfig();
    // A parent that starts a worker the way the cluster does, prints its pid, then waits.
    const parentScript = `
      const { spawn } = require('node:child_process');
      const child = spawn(process.execPath, [${JSON.stringify(cli)}, 'worker'], {
        stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
        env: { ...process.env, DATABASE_URL: ${JSON.stringify(config.DATABASE_URL)},
               REDIS_URL: ${JSON.stringify(config.REDIS_URL)}, QUEUE_PREFIX: ${JSON.stringify(config.QUEUE_PREFIX)},
               WORKER_METRICS_PORT: '0', LOG_LEVEL: 'silent' },
      });
      child.on('message', () => {});
      console.log(child.pid);
      setInterval(() => {}, 1000);
    `;
    const parent = spawn(process.execPath, ['-e', parentScript], { stdio: ['ignore', 'pipe', 'inherit'] });
    const workerPid = await new Promise<number>((resolve) =>
      parent.stdout.once('data', (data: Buffer) => resolve(Number(String(data).trim()))),
    );
    expect(isAlive(workerPid)).toBe(true);
    // Give the worker time to start before its parent disappears.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    parent.kill('SIGKILL');
    await eventually(
      async () => (isAlive(workerPid) ? undefined : true),
      30_000,
      'the orphaned worker to exit',
    );
  }, 60_000);
});
