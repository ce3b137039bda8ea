import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { stopChild } from '../src/stack/child-process.js';
import { LOCAL_DATABASE } from '../src/stack/local-stack.js';
import { nodeFlags } from '../src/stack/node-process.js';
import { freePort, waitForPort } from '../src/stack/ports.js';
import { PostgresServer } from '../src/stack/postgres-server.js';
import { RedisServer } from '../src/stack/redis-server.js';
import { apiKeyScopes, createApiKey } from '../src/store/api-keys.js';
import type { Cleanup } from './cleanup.js';

/** The built CLI next to this file: dist/bench/ -> dist/src/cli.js */
export const cliPath = fileURLToPath(new URL('../src/cli.js', import.meta.url));

/** How long api and worker get to shut down gracefully before SIGKILL. */
const STOP_GRACE_MS = 10_000;
const START_TIMEOUT_MS = 30_000;

/** What a process is, for the CPU and memory figures. */
export type ProcessRole = 'api' | 'worker' | 'support' | 'nginx';

export interface BenchProcess {
  name: string;
  role: ProcessRole;
  pid: number;
}

export interface ServiceProcess extends BenchProcess {
  child: ChildProcess;
}

/** The tenant of the key the bench makes for itself. */
export const BENCH_TENANT = 'bench';

/**
 * The environment every ingestd process the bench starts runs with: the caller's, as shipped
 * otherwise, but with authentication on whatever the caller's shell says (rate limits stay at
 * their default unless RATE_LIMIT_PER_MINUTE is set, which the report shows).
 */
export function serviceEnvironment(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...process.env, LOG_LEVEL: 'warn', ...extra, AUTH_REQUIRED: 'true' };
}

/**
 * Extra node flags for the api and worker processes, from BENCH_NODE_ARGS (space-separated), e.g.
 * `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile them: NODE_OPTIONS refuses --cpu-prof.
 */
function serviceNodeArgs(): string[] {
  return (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
}

/** A key with every scope, made directly in the database (as `ingestd keys create` does). */
export async function createBenchKey(databaseUrl: string): Promise<string> {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: 1,
    application_name: 'ingestd-bench-setup',
  });
  pool.on('error', () => {});
  try {
    const { key } = await createApiKey(pool, { tenantId: BENCH_TENANT, scopes: apiKeyScopes, name: 'bench' });
    return key;
  } finally {
    await pool.end();
  }
}

export interface UpTarget {
  url: string;
  databaseUrl: string;
  redisUrl: string;
  apiKey: string;
  /** The api process, then each worker once started. */
  processes(): BenchProcess[];
  /** Starts the worker processes, if `deferWorkers` held them back; a no-op otherwise. */
  startWorkers(): Promise<void>;
}

export interface UpTargetOptions {
  /** Processor worker processes. */
  workers: number;
  /** Jobs each worker runs at once; undefined: ingestd's default for this machine. */
  workerConcurrency: number | undefined;
  /** Start the workers only when startWorkers() is called (the reference scenario). Default false */
  deferWorkers?: boolean;
  /** Called when api or a worker exits before the benchmark stops it. */
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

/** A private temp dir the Postgres server (which runs as `postgres` when we are root) can enter. */
export function benchTempDir(cleanup: Cleanup): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'ingestd-bench-'));
  cleanup.add('remove temp dir', () => rmSync(root, { recursive: true, force: true }));
  chmodSync(root, 0o755);
  return root;
}

/** A private durable Postgres (fsync and synchronous_commit on, as shipped) with ingestd's schema. */
export async function startBenchPostgres(root: string, cleanup: Cleanup): Promise<PostgresServer> {
  const postgres = await PostgresServer.start({ dataDir: path.join(root, 'postgres'), durable: true });
  cleanup.add('stop postgres', () => postgres.stop());
  await postgres.createDatabase(LOCAL_DATABASE);
  return postgres;
}

/**
 * `--target up`: a private durable Postgres and Redis in a temp dir, the schema migrated, a key
 * made, and one API process and `workers` worker processes from the built CLI. Each process is
 * its own, so its CPU and memory can be read apart. Every piece registers its teardown with
 * `cleanup` as soon as it exists, so a failure halfway leaves nothing behind.
 */
export async function startUpTarget(options: UpTargetOptions, cleanup: Cleanup): Promise<UpTarget> {
  if (!existsSync(cliPath)) throw new Error(`${cliPath} not found: run \`npm run build\` first`);
  const root = benchTempDir(cleanup);
  const postgres = await startBenchPostgres(root, cleanup);
  const redis = await RedisServer.start({ dataDir: path.join(root, 'redis') });
  cleanup.add('stop redis', () => redis.stop());

  const databaseUrl = postgres.url(LOCAL_DATABASE);
  const env = serviceEnvironment({ DATABASE_URL: databaseUrl, REDIS_URL: redis.url, HOST: '127.0.0.1' });
  await runMigrations(env);
  const apiKey = await createBenchKey(databaseUrl);

  const services: ServiceProcess[] = [];
  const startService = (name: string, role: ProcessRole, args: string[], extraEnv: NodeJS.ProcessEnv) => {
    // Own process group: a Ctrl-C reaches only us, and we stop the services in order.
    // Worker processes start with the flags ingestd gives them (BENCH_NODE_ARGS after, so they win).
    const flags = role === 'worker' ? nodeFlags('processor') : nodeFlags('api');
    const child = spawn(process.execPath, [...flags, ...serviceNodeArgs(), cliPath, ...args], {
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
    const service = { name, role, pid: child.pid, child };
    services.push(service);
    return service;
  };
  const isAlive = (child: ChildProcess) => () => child.exitCode === null && child.signalCode === null;

  const apiPort = await freePort();
  const api = startService('api', 'api', ['api'], { PORT: String(apiPort) });
  const url = `http://127.0.0.1:${apiPort}`;
  const apiReady = waitForPort(apiPort, START_TIMEOUT_MS, isAlive(api.child)).then(() =>
    waitUntilReady(url, START_TIMEOUT_MS, isAlive(api.child)),
  );

  let workersStarted: Promise<void> | undefined;
  const startWorkers = () => {
    workersStarted ??= (async () => {
      const ready: Promise<void>[] = [];
      for (let index = 1; index <= options.workers; index++) {
        const metricsPort = await freePort();
        const args = ['worker', '--role', 'processor'];
        if (options.workerConcurrency !== undefined)
          args.push('--concurrency', String(options.workerConcurrency));
        const worker = startService(options.workers === 1 ? 'worker' : `worker-${index}`, 'worker', args, {
          WORKER_METRICS_PORT: String(metricsPort),
        });
        // The worker opens its metrics listener after its BullMQ worker exists: a readiness signal.
        ready.push(waitForPort(metricsPort, START_TIMEOUT_MS, isAlive(worker.child)));
      }
      await Promise.all(ready);
    })();
    return workersStarted;
  };
  await Promise.all([apiReady, options.deferWorkers ? Promise.resolve() : startWorkers()]);
  return {
    url,
    databaseUrl,
    redisUrl: redis.url,
    apiKey,
    processes: () => services.map(({ name, role, pid }) => ({ name, role, pid })),
    startWorkers,
  };
}
