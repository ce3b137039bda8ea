import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiNode, startApiNode } from '../../src/api/server.js';
import { startWorkerNode, type WorkerNode } from '../../src/worker/worker-node.js';
import { createTestConfig, silentLogger } from '../helpers/context.js';

const cli = fileURLToPath(new URL('../../dist/src/cli.js', import.meta.url));
const fixtures = fileURLToPath(new URL('../fixtures/files', import.meta.url));

let api: ApiNode;
let worker: WorkerNode;
let folder: string;

beforeAll(async () => {
  const config = await createTestConfig();
  api = await startApiNode({ config, logger: silentLogger });
  worker = await startWorkerNode({ config, logger: silentLogger, role: 'processor' });
  // A tree of real files, one broken PDF among them, and a sub-folder.
  folder = mkdtempSync(path.join(os.tmpdir(), 'ingestd-push-'));
  cpSync(fixtures, path.join(folder, 'docs'), { recursive: true });
  rmSync(path.join(folder, 'docs', 'encrypted.pdf'));
  rmSync(path.join(folder, 'docs', '.gitattributes'), { force: true });
  mkdirSync(path.join(folder, 'docs', 'broken'));
  writeFileSync(path.join(folder, 'docs', 'broken', 'half.pdf'), '%PDF-1.7\n1 0 obj << /Type /Catalog');
});
afterAll(async () => {
  await worker?.close();
  await api?.close();
  rmSync(folder, { recursive: true, force: true });
});

function push(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, 'push', ...args, '--url', api.url], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (data) => {
      stdout += data;
    });
    child.stderr.on('data', (data) => {
      stderr += data;
    });
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('ingestd push', () => {
  it('uploads a folder tree, waits, and reports each outcome; a failed file makes the exit non-zero', async () => {
    const { code, stdout } = await push(path.join(folder, 'docs'), '--concurrency', '3');
    expect(stdout).toMatch(/12 files/);
    expect(stdout).toMatch(/completed\s+11/);
    expect(stdout).toMatch(/failed\s+1/);
    expect(stdout).toMatch(/failed\s+corrupt\s+broken\/half\.pdf/);
    expect(code).toBe(1);

    const { rows } = await api.app.db.query(
      `SELECT external_id, source FROM documents WHERE external_id = 'broken/half.pdf' OR external_id = 'order.json'`,
    );
    expect(rows.map((row) => row.external_id).sort()).toEqual(['broken/half.pdf', 'order.json']);
    expect(rows.every((row) => row.source === 'push')).toBe(true);
  }, 120_000);

  it('returns once uploaded with --no-wait, exiting 0', async () => {
    const { code, stdout } = await push(
      path.join(folder, 'docs', 'guide.md'),
      '--no-wait',
      '--source',
      'quick',
    );
    expect(stdout).toMatch(/1 files/);
    expect(stdout).toMatch(/queued \(not waited for\)\s+1/);
    expect(code).toBe(0);
  });

  it('exits 2 with a message for a path that does not exist', async () => {
    const { code, stderr } = await push(path.join(folder, 'nope'));
    expect(code).toBe(2);
    expect(stderr).toContain('nope');
  });
});
