import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../logger.js';
import { migrate } from '../store/migrate.js';
import { createPool } from '../store/pool.js';
import { workerRoles } from '../worker/worker-node.js';
import { installTools, missingTools, type Tool } from './binaries.js';
import { LOCAL_DATABASE } from './local-stack.js';
import { NginxServer } from './nginx-server.js';
import { type NodeExit, NodeProcess, type NodeRole } from './node-process.js';
import { freePort } from './ports.js';
import { PostgresServer } from './postgres-server.js';
import { RedisServer } from './redis-server.js';

/** True once this build's `ingestd worker` accepts `--role monitor`. */
export const monitorRoleAvailable = (workerRoles as readonly string[]).includes('monitor');

export interface ClusterOptions {
  /** Postgres and Redis data, nginx's files and every node's log live under here. */
  dataDir: string;
  /** API nodes behind nginx. Default 3 */
  apiNodes?: number;
  /** Processor workers. Default 2 */
  workers?: number;
  /** Run one dlq worker. Default true */
  dlq?: boolean;
  /** Run one monitor worker. Default: true when this build has the monitor role */
  monitor?: boolean;
  /** nginx's port on 127.0.0.1. Default: a free one */
  port?: number;
  /** Join this Postgres instead of starting a private one. Default: a private one */
  databaseUrl?: string;
  /** Join this Redis instead of starting a private one. Default: a private one */
  redisUrl?: string;
  /** Extra environment for every node (QUEUE_PREFIX, LOG_LEVEL, ...). Default none */
  env?: Record<string, string>;
  /** Restart a node that exits on its own (a crash), after a second. Default false */
  restartCrashed?: boolean;
  /** The built command nodes run. Default: the cli.js of this build */
  cliPath?: string;
  logger: Logger;
  /** Called when a node exits on its own (not stopped or killed by us). Default none */
  onCrash?: (exit: NodeExit) => void;
}

/** A scrape target: an API node's port or a worker's metrics port. */
export interface MetricsTarget {
  name: string;
  role: NodeRole;
  /** host:port, as Prometheus takes it. */
  address: string;
}

export interface Cluster {
  /** nginx, the front door. */
  url: string;
  databaseUrl: string;
  redisUrl: string;
  nginx: NginxServer;
  /** API nodes in start order (killApiNode and restartApiNode take an index into this). */
  readonly apiNodes: readonly NodeProcess[];
  /** Workers of every role, in start order. */
  readonly workers: readonly NodeProcess[];
  /** Every node's /metrics address (API nodes serve it on their own port). */
  metricsTargets(): MetricsTarget[];
  /** Starts one more processor worker (or another role). */
  addWorker(role?: Exclude<NodeRole, 'api'>): Promise<NodeProcess>;
  /** Starts one more API node and reloads nginx to include it. */
  addApiNode(): Promise<NodeProcess>;
  /** SIGKILL an API node: a crash, as far as nginx and clients can tell. Not restarted on its own. */
  killApiNode(index: number): Promise<void>;
  /** Starts a stopped or killed API node again, on the same port (nginx needs no reload). */
  restartApiNode(index: number): Promise<void>;
  /** Nodes first (SIGTERM, graceful), then nginx, then Redis and Postgres. Safe to call twice. */
  stop(): Promise<void>;
}

/** Nodes get this long past their own SHUTDOWN_GRACE_MS (15 s by default) before SIGKILL. */
const NODE_STOP_GRACE_MS = 20_000;
/** A node that dies this many times in a row, each within CRASH_WINDOW_MS of starting, is left down. */
const MAX_QUICK_CRASHES = 5;
const CRASH_WINDOW_MS = 10_000;

/**
 * The production topology on one machine with the installed binaries: Postgres and Redis
 * (private ones unless URLs are given), migrations, N API nodes behind nginx (configured from the
 * repo's nginx.conf), processor workers, a dlq and a monitor worker, each node its own process.
 */
export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const { logger } = options;
  const dataDir = path.resolve(options.dataDir);
  const cliPath = options.cliPath ?? fileURLToPath(new URL('../cli.js', import.meta.url));
  if (!existsSync(cliPath) || !cliPath.endsWith('.js')) {
    throw new Error(`the built command is needed at ${cliPath}: run \`npm run build\` first`);
  }
  const ownServers = !options.databaseUrl || !options.redisUrl;
  const needed: Tool[] = ['nginx', ...(ownServers ? (['postgres', 'redis'] as const) : [])];
  if (missingTools(needed).length > 0) installTools(needed, (line) => logger.info(line));

  const apiNodes: NodeProcess[] = [];
  const workers: NodeProcess[] = [];
  let postgres: PostgresServer | undefined;
  let redis: RedisServer | undefined;
  let nginx: NginxServer | undefined;
  let stopping = false;
  /** Nodes first, together (each finishes its requests and jobs), then nginx, then what they use. */
  const stopAll = async () => {
    stopping = true;
    const steps: (() => Promise<unknown>)[][] = [
      [...apiNodes, ...workers].map((node) => () => node.stop(NODE_STOP_GRACE_MS)),
      [async () => nginx?.stop()],
      [async () => redis?.stop(), async () => postgres?.stop()],
    ];
    // Every step runs even if an earlier one failed.
    for (const step of steps) {
      for (const result of await Promise.allSettled(step.map((stop) => stop()))) {
        if (result.status === 'rejected') logger.warn({ err: result.reason }, 'cluster stop step failed');
      }
    }
  };
  const quickCrashes = new Map<NodeProcess, number>();

  const onExit = (exit: NodeExit) => {
    const { node, code, signal, expected } = exit;
    if (expected || stopping) {
      logger.info({ node: node.name, code, signal }, `${node.name} exited`);
      return;
    }
    logger.error({ node: node.name, code, signal, log: node.logFile }, `${node.name} exited unexpectedly`);
    options.onCrash?.(exit);
    if (!options.restartCrashed) return;
    const crashes = exit.ranMs < CRASH_WINDOW_MS ? (quickCrashes.get(node) ?? 0) + 1 : 0;
    quickCrashes.set(node, crashes);
    if (crashes >= MAX_QUICK_CRASHES) {
      logger.error({ node: node.name, crashes }, `${node.name} keeps crashing: left down`);
      return;
    }
    setTimeout(() => {
      if (stopping) return;
      node.start().then(
        () => logger.info({ node: node.name, pid: node.pid }, `${node.name} restarted`),
        (error: unknown) => logger.error({ err: error }, `${node.name} could not be restarted`),
      );
    }, 1_000);
  };

  try {
    let databaseUrl = options.databaseUrl;
    let redisUrl = options.redisUrl;
    if (!databaseUrl) {
      postgres = await PostgresServer.start({ dataDir: path.join(dataDir, 'postgres'), detached: true });
      await postgres.createDatabase(LOCAL_DATABASE);
      databaseUrl = postgres.url(LOCAL_DATABASE);
      logger.info({ port: postgres.port, dataDir: postgres.dataDir }, 'postgres started');
    }
    if (!redisUrl) {
      redis = await RedisServer.start({ dataDir: path.join(dataDir, 'redis'), detached: true });
      redisUrl = redis.url;
      logger.info({ port: redis.port }, 'redis started');
    }
    const pool = createPool(
      { connectionString: databaseUrl, max: 1, applicationName: 'ingestd-migrate' },
      logger,
    );
    await migrate(pool, logger).finally(() => pool.end());

    const env: NodeJS.ProcessEnv = {
      // nginx on loopback is the only proxy in front: its X-Forwarded-For names the client.
      TRUST_PROXY: '127.0.0.1',
      ...process.env,
      ...options.env,
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl,
      // Nodes are reached through nginx or scraped on loopback only.
      HOST: '127.0.0.1',
    };
    const counts = new Map<NodeRole, number>();
    const newNode = async (role: NodeRole): Promise<NodeProcess> => {
      const count = (counts.get(role) ?? 0) + 1;
      counts.set(role, count);
      // dlq and monitor usually run alone: plain names unless there are several.
      const single = role === 'dlq' || role === 'monitor';
      const name = single && count === 1 ? role : `${role}-${count}`;
      const node = new NodeProcess({
        name,
        role,
        cliPath,
        env,
        port: await freePort(),
        logFile: path.join(dataDir, 'logs', `${name}.log`),
        detached: true,
        onExit,
      });
      (role === 'api' ? apiNodes : workers).push(node);
      await node.start();
      logger.info({ node: node.name, pid: node.pid, port: node.port }, `${node.name} started`);
      return node;
    };

    const apiCount = options.apiNodes ?? 3;
    await Promise.all(Array.from({ length: apiCount }, () => newNode('api')));
    const front = await NginxServer.start({
      runDir: path.join(dataDir, 'nginx'),
      upstreamPorts: apiNodes.map((node) => node.port),
      ...(options.port ? { port: options.port } : {}),
      detached: true,
    });
    nginx = front;
    logger.info({ url: front.url, config: front.configFile }, 'nginx started');
    const roles: NodeRole[] = [
      ...Array.from({ length: options.workers ?? 2 }, (): NodeRole => 'processor'),
      ...((options.dlq ?? true) ? (['dlq'] as const) : []),
      ...((options.monitor ?? monitorRoleAvailable) ? (['monitor'] as const) : []),
    ];
    await Promise.all(roles.map((role) => newNode(role)));

    const apiNode = (index: number): NodeProcess => {
      const node = apiNodes[index];
      if (!node) throw new RangeError(`no API node ${index} (there are ${apiNodes.length})`);
      return node;
    };
    let stopped: Promise<void> | undefined;
    return {
      url: front.url,
      databaseUrl,
      redisUrl,
      nginx: front,
      apiNodes,
      workers,
      metricsTargets: () =>
        [...apiNodes, ...workers].map((node) => ({
          name: node.name,
          role: node.role,
          address: `127.0.0.1:${node.port}`,
        })),
      addWorker: (role = 'processor') => newNode(role),
      async addApiNode() {
        const node = await newNode('api');
        await front.reload(apiNodes.map((each) => each.port));
        return node;
      },
      killApiNode: (index) => apiNode(index).kill('SIGKILL'),
      restartApiNode: (index) => apiNode(index).start(),
      stop() {
        stopped ??= stopAll();
        return stopped;
      },
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
