import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installTools } from '../../src/stack/binaries.js';
import { exited, stopChild } from '../../src/stack/child-process.js';
import { type NodeRole, nodeFlags } from '../../src/stack/node-process.js';
import { eventually } from '../helpers/context.js';
import { isAlive } from '../helpers/processes.js';
import { cli } from './cluster-harness.js';

// `ingestd cluster` as an operator runs it: its own Postgres and Redis under DATA_DIR, nginx in
// front of two API nodes, a worker; a crashed node is reported and restarted (--restart); SIGTERM
// stops every process it started and exits 0.
interface LogLine {
  msg: string;
  node?: string;
  pid?: number;
  port?: number;
  url?: string;
}

let dataDir: string;
let child: ChildProcess | undefined;
const lines: LogLine[] = [];
let output = '';
let passed = false;

const find = (test: (line: LogLine) => boolean) => lines.find(test);
const waitForLine = (what: string, test: (line: LogLine) => boolean, timeoutMs = 60_000) =>
  eventually(
    async () => {
      if (child?.exitCode !== null) throw new Error(`ingestd cluster exited early:\n${output}`);
      return find(test);
    },
    timeoutMs,
    what,
  );

async function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

beforeAll(() => {
  expect(existsSync(cli), 'dist/src/cli.js exists: run `npm run build` first').toBe(true);
  installTools(['postgres', 'redis', 'nginx'], (line) => console.log(line));
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'ingestd-cluster-cli-'));
  chmodSync(dataDir, 0o755); // Postgres and nginx's workers run as other users when we are root
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATA_DIR: dataDir,
    LOG_LEVEL: 'info',
    AUTH_REQUIRED: 'true', // as shipped (the test run's global setup turns it off)
  };
  delete env.DATABASE_URL;
  delete env.REDIS_URL;
  child = spawn(process.execPath, [cli, 'cluster', '--api', '2', '--workers', '1', '--no-dlq', '--restart'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let pending = '';
  child.stdout?.setEncoding('utf8').on('data', (text: string) => {
    output += text;
    pending += text;
    const complete = pending.split('\n');
    pending = complete.pop() ?? '';
    for (const line of complete) {
      try {
        lines.push(JSON.parse(line) as LogLine);
      } catch {
        // not a log line
      }
    }
  });
  child.stderr?.setEncoding('utf8').on('data', (text: string) => {
    output += text;
  });
});

afterAll(async () => {
  if (child) await stopChild(child, 'SIGTERM', 90_000);
  if (passed) rmSync(dataDir, { recursive: true, force: true });
  else console.log(`ingestd cluster output:\n${output}\ndata kept in ${dataDir}`);
}, 120_000);

describe('ingestd cluster', () => {
  it('runs the topology, restarts a crashed node, and stops everything on SIGTERM', async () => {
    const up = await waitForLine('the cluster to be up', (line) =>
      line.msg.includes('ingestd cluster is up at'),
    );
    const url = up.url as string;
    const nodes = lines.filter((line) => line.msg.includes('metrics on port'));
    expect(nodes.map((line) => line.node).sort()).toEqual(['api-1', 'api-2', 'monitor', 'processor-1']);
    // Each node runs with the Node flags of its role (the worker heap limit; none for the API).
    for (const node of nodes) {
      const argv = readFileSync(`/proc/${node.pid}/cmdline`, 'utf8').split('\0');
      const role = (node.node as string).replace(/-\d+$/, '') as NodeRole;
      const nodeArgs = argv.slice(
        1,
        argv.findIndex((arg) => arg.endsWith('cli.js')),
      );
      expect(nodeArgs, node.node as string).toEqual(nodeFlags(role));
    }
    const redisPort = find((line) => line.msg === 'redis started')?.port as number;
    const postgresPort = find((line) => line.msg === 'postgres started')?.port as number;
    // Auth is on, as shipped: the command prints a development key, as `ingestd up` does.
    const keyLine = await waitForLine('the development key', (line) =>
      line.msg.includes('development API key'),
    );
    const headers = { authorization: `Bearer ${keyLine.msg.split(': ').at(-1)}` };
    expect((await fetch(`${url}/api/v1/documents`)).status).toBe(401);

    const accepted = await fetch(`${url}/api/v1/documents`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ content: 'one small document for the native cluster' }),
    });
    expect(accepted.status).toBe(202);
    const { id } = (await accepted.json()) as { id: string };
    await eventually(
      async () => {
        const body = (await (await fetch(`${url}/api/v1/documents/${id}`, { headers })).json()) as {
          status: string;
        };
        return body.status === 'completed' ? true : undefined;
      },
      30_000,
      'the document to complete',
    );

    // A worker dies: reported, then started again on its metrics port.
    const worker = nodes.find((line) => line.node === 'processor-1') as LogLine;
    process.kill(worker.pid as number, 'SIGKILL');
    await waitForLine('the crash report', (line) => line.msg === 'processor-1 exited unexpectedly');
    const restarted = await waitForLine(
      'the restart',
      (line) => line.msg === 'processor-1 restarted',
      40_000,
    );
    expect(restarted.pid).not.toBe(worker.pid);
    expect(await isListening(worker.port as number)).toBe(true);

    const pids = [...nodes.map((line) => line.pid as number), restarted.pid as number];
    const nginxPort = Number(new URL(url).port);
    (child as ChildProcess).kill('SIGTERM');
    await exited(child as ChildProcess);
    expect((child as ChildProcess).exitCode).toBe(0);
    expect(pids.filter(isAlive)).toEqual([]);
    for (const port of [nginxPort, redisPort, postgresPort]) expect(await isListening(port)).toBe(false);
    expect(output).toContain('shut down cleanly');
    passed = true;
  }, 150_000);
});
