import path from 'node:path';
import { pino } from 'pino';
import type { Logger } from '../src/logger.js';
import { startCluster } from '../src/stack/cluster.js';
import type { Cleanup } from './cleanup.js';
import { childrenOf } from './cpu.js';
import { type BenchProcess, benchTempDir, cliPath, createBenchKey, serviceEnvironment } from './stack.js';

export interface ClusterTarget {
  /** nginx, the front door. */
  url: string;
  databaseUrl: string;
  redisUrl: string;
  apiKey: string;
  /** API nodes, processor workers, dlq and monitor (support), nginx's master and workers. */
  processes(): BenchProcess[];
}

export interface ClusterTargetOptions {
  apiNodes: number;
  workers: number;
  /** Jobs each worker runs at once; undefined: ingestd's default for this machine. */
  workerConcurrency: number | undefined;
  /** Called when a node dies on its own. */
  onUnexpectedExit: (reason: string) => void;
}

/**
 * `--target cluster`: `ingestd cluster`'s topology from src/stack/cluster.ts (private durable
 * Postgres and Redis, N API nodes behind nginx, processor workers, a dlq and a monitor worker),
 * in a temp dir, with a key made for the bench.
 */
export async function startClusterTarget(
  options: ClusterTargetOptions,
  cleanup: Cleanup,
): Promise<ClusterTarget> {
  const root = benchTempDir(cleanup);
  const extra: Record<string, string> = {};
  if (options.workerConcurrency !== undefined) extra.WORKER_CONCURRENCY = String(options.workerConcurrency);
  // startCluster spreads process.env under `env`; ours pins AUTH_REQUIRED and LOG_LEVEL as for `up`.
  const env = Object.fromEntries(
    Object.entries(serviceEnvironment(extra)).filter(
      (entry): entry is [string, string] => entry[1] !== undefined,
    ),
  );
  // Warnings to stderr: stdout is the report's.
  const logger: Logger = pino({ level: 'warn', base: { component: 'bench-cluster' } }, pino.destination(2));
  const cluster = await startCluster({
    dataDir: path.join(root, 'cluster'),
    apiNodes: options.apiNodes,
    workers: options.workers,
    env,
    cliPath,
    logger,
    onCrash: (exit) =>
      options.onUnexpectedExit(
        `${exit.node.name} exited unexpectedly (code ${exit.code}, signal ${exit.signal})`,
      ),
  });
  cleanup.add('stop cluster', () => cluster.stop());
  const apiKey = await createBenchKey(cluster.databaseUrl);
  const processes = (): BenchProcess[] => {
    const found: BenchProcess[] = [];
    for (const node of [...cluster.apiNodes, ...cluster.workers]) {
      if (node.pid === undefined) continue;
      const role = node.role === 'api' ? 'api' : node.role === 'processor' ? 'worker' : 'support';
      found.push({ name: node.name, role, pid: node.pid });
    }
    const master = cluster.nginx.pid;
    if (master !== undefined) {
      found.push({ name: 'nginx', role: 'nginx', pid: master });
      for (const pid of childrenOf(master)) found.push({ name: `nginx-${pid}`, role: 'nginx', pid });
    }
    return found;
  };
  return {
    url: cluster.url,
    databaseUrl: cluster.databaseUrl,
    redisUrl: cluster.redisUrl,
    apiKey,
    processes,
  };
}
