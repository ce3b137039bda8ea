import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { stopChild } from '../src/stack/child-process.js';
import { LOCAL_DATABASE } from '../src/stack/local-stack.js';
import { freePort, waitForPort } from '../src/stack/ports.js';
import { PostgresServer } from '../src/stack/postgres-server.js';
import { RedisServer } from '../src/stack/redis-server.js';
import type { Cleanup } from './cleanup.js';

/** The built CLI next to this file: dist/bench/ -> dist/src/cli.js */
const cliPath = fileURLToPath(new URL('../src/cli.js', import.meta.url));

/** How long api and worker get to shut down gracefully before SIGKILL. */
const STOP_GRACE_MS = 10_000;
const START_TIMEOUT_MS = 30_000;

export interface ServiceProcess {
  name: 'api' | 'worker';
  pid: number;
  child: ChildProcess;
}

export interface LocalTarget {
  url: string;
  databaseUrl: string;
  services: ServiceProcess[];
}

export interface LocalTargetOptions {
  workerConcurrency: number;
  /** Called when api or worker exits before the benchmark stops it. */
  onUnexpectedExit: (reason: string) => void;
}

/** Copies a child's output to our stderr, each line prefixed with its name, keeping stdout for the report. */
function forwardOutput(name: string, child: ChildProcess): void {
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    createInterface({ input: stream }).on('line', (line) => process.stderr.write(`[${name}] ${line}\n`));
  }
}

/** Runs `ingestd migrate` to completion; throws with its output if it fails. */
async function runMigrations(env: NodeJS.ProcessEnv): Promise<void> {
  const child = spawn(process.execPath, [cliPath, 'migrate'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (data: Buffer) => (output += data.toString()));
  child.stderr.on('data', (data: Buffer) => (output += data.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (code !== 0) throw new Error(`ingestd migrate exited with ${code}:\n${output}`);
}

/** Polls GET /ready until it answers 200. */
async function waitUntilReady(url: string, timeoutMs: number, isAlive: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  for (;;) {
    try {
      const response = await fetch(`${url}/ready`);
      if (response.status === 200) return;
      last = `${response.status} ${await response.text()}`;
    } catch (error) {
      last = (error as Error).message;
    }
    if (!isAlive()) throw new Error(`api exited before it was ready (last /ready: ${last})`);
    if (Date.now() > deadline) throw new Error(`api not ready within ${timeoutMs} ms (last /ready: ${last})`);
    await sleep(100);
  }
}

/**
 * A private Postgres (durable: fsync and synchronous_commit stay on) and Redis in a temp dir, the
 * schema migrated, and one API and one worker process from the built CLI. Every piece registers its
 * own teardown with `cleanup` as soon as it exists, so a failure halfway leaves nothing behind.
 */
export async function startLocalTarget(options: LocalTargetOptions, cleanup: Cleanup): Promise<LocalTarget> {
  if (!existsSync(cliPath)) throw new Error(`${cliPath} not found: run \`npm run build\` first`);
  const root = mkdtempSync(path.join(os.tmpdir(), 'ingestd-bench-'));
  cleanup.add('remove temp dir', () => rmSync(root, { recursive: true, force: true }));
  // mkdtemp makes the dir 0700; as root, Postgres runs as the postgres user and must get through it.
  chmodSync(root, 0o755);

  const postgres = await PostgresServer.start({ dataDir: path.join(root, 'postgres'), durable: true });
  cleanup.add('stop postgres', () => postgres.stop());
  const redis = await RedisServer.start({ dataDir: path.join(root, 'redis') });
  cleanup.add('stop redis', () => redis.stop());
  await postgres.createDatabase(LOCAL_DATABASE);

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: postgres.url(LOCAL_DATABASE),
    REDIS_URL: redis.url,
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
  };
  await runMigrations(env);

  const startService = (name: ServiceProcess['name'], args: string[], extraEnv: NodeJS.ProcessEnv) => {
    // Own process group: a Ctrl-C reaches only us, and we stop the services in order.
    const child = spawn(process.execPath, [cliPath, ...args], {
      env: { ...env, ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    forwardOutput(name, child);
    let stopping = false;
    child.once('error', (error) => options.onUnexpectedExit(`${name} could not run: ${error.message}`));
    child.once('exit', (code, signal) => {
      if (!stopping) options.onUnexpectedExit(`${name} exited unexpectedly (code ${code}, signal ${signal})`);
    });
    cleanup.add(`stop ${name}`, () => {
      stopping = true;
      return stopChild(child, 'SIGTERM', STOP_GRACE_MS);
    });
    if (child.pid === undefined) throw new Error(`could not start the ${name} process`);
    return { name, pid: child.pid, child };
  };

  const apiPort = await freePort();
  const api = startService('api', ['api'], { PORT: String(apiPort) });
  const workerMetricsPort = await freePort();
  const worker = startService('worker', ['worker', '--concurrency', String(options.workerConcurrency)], {
    WORKER_METRICS_PORT: String(workerMetricsPort),
  });
  const isAlive = (child: ChildProcess) => () => child.exitCode === null && child.signalCode === null;
  const url = `http://127.0.0.1:${apiPort}`;
  await Promise.all([
    waitForPort(apiPort, START_TIMEOUT_MS, isAlive(api.child)).then(() =>
      waitUntilReady(url, START_TIMEOUT_MS, isAlive(api.child)),
    ),
    // The worker opens its metrics listener after its BullMQ worker exists: a readiness signal.
    waitForPort(workerMetricsPort, START_TIMEOUT_MS, isAlive(worker.child)),
  ]);
  return { url, databaseUrl: postgres.url(LOCAL_DATABASE), services: [api, worker] };
}
