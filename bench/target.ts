/**
 * What a scenario runs against: a stack this run starts (`up`: one API and N worker processes;
 * `cluster`: N API nodes behind nginx), or an ingestd already running at --url. Either way the
 * scenario gets an HTTP pool, the caller's headers, a completion tracker and, when the processes
 * are ours to read, what is needed to measure their CPU and memory.
 */
import { Pool as HttpPool } from 'undici';
import type { Cleanup } from './cleanup.js';
import { startClusterTarget } from './cluster-target.js';
import { ApiTracker, type CompletionTracker, DatabaseTracker } from './completion.js';
import { type CpuComponent, postgresComponent, processComponent } from './cpu.js';
import { DOCUMENTS_PATH } from './requests.js';
import { findPostmasterPid, findRedisPid } from './server-processes.js';
import { type BenchProcess, type ProcessRole, startUpTarget, type UpTarget } from './stack.js';

export type TargetKind = 'up' | 'cluster' | 'url';

export interface Target {
  kind: TargetKind;
  /** Where requests go: the API, nginx, or --url. */
  url: string;
  /** Path prefix of the API (the --url's path), '' otherwise. */
  prefix: string;
  http: HttpPool;
  /** Authorization (when there is a key): every request carries these. */
  headers: Record<string, string>;
  tracker: CompletionTracker;
  /** One line for the report: what was started, with which settings. */
  description: string;
  /** Postgres version and durability settings, when the database is ours to read. */
  server: string | null;
  /** The processes this run started (api, workers, dlq/monitor, nginx); empty with --url. */
  processes(): BenchProcess[];
  /** Components whose CPU can be measured; empty with --url. */
  cpuComponents(): CpuComponent[];
  /** Starts the workers if they were held back (up target, reference scenario). */
  startWorkers(): Promise<void>;
  /** The database, for scenarios that read or write it themselves; null with --url. */
  databaseUrl: string | null;
}

export interface TargetOptions {
  kind: TargetKind;
  url?: string | undefined;
  apiKey?: string | undefined;
  apiNodes: number;
  workers: number;
  workerConcurrency: number | undefined;
  /** HTTP connections the load generator may open. */
  connections: number;
  /** Hold the workers back until startWorkers() (up target only). Default false */
  deferWorkers?: boolean;
  onUnexpectedExit: (reason: string) => void;
}

function httpPool(url: string, connections: number, cleanup: Cleanup) {
  const base = new URL(url);
  const prefix = base.pathname.replace(/\/+$/, '');
  const http = new HttpPool(base.origin, {
    connections,
    // Keep connections open between a scenario's phases (a server's keep-alive is shorter anyway).
    keepAliveTimeout: 30_000,
  });
  cleanup.add('close http pool', () => http.close());
  return { prefix, http };
}

function authHeaders(apiKey: string | undefined): Record<string, string> {
  return apiKey ? { authorization: `Bearer ${apiKey}` } : {};
}

/** CPU components: one per process role present, then Postgres and Redis when they run here. */
async function componentsFor(
  processes: () => BenchProcess[],
  databaseUrl: string,
  redisUrl: string,
  excludeBackends: readonly number[],
): Promise<() => CpuComponent[]> {
  const postmaster = await findPostmasterPid(databaseUrl);
  const redis = await findRedisPid(redisUrl);
  const roles: ProcessRole[] = ['api', 'worker', 'support', 'nginx'];
  return () => {
    const components: CpuComponent[] = [];
    for (const role of roles) {
      if (!processes().some((process) => process.role === role)) continue;
      components.push(
        processComponent(role, () =>
          processes().flatMap((process) => (process.role === role ? [process.pid] : [])),
        ),
      );
    }
    if (postmaster !== null) components.push(postgresComponent(postmaster, excludeBackends));
    if (redis !== null) components.push(processComponent('redis', () => [redis]));
    return components;
  };
}

/** Starts (or connects to) the target; its teardown is registered with `cleanup`. */
export async function openTarget(options: TargetOptions, cleanup: Cleanup): Promise<Target> {
  if (options.kind === 'url') {
    if (!options.url) throw new Error('--url is needed for the url target');
    const { prefix, http } = httpPool(options.url, options.connections, cleanup);
    const headers = authHeaders(options.apiKey);
    const ready = await http.request({ method: 'GET', path: `${prefix}/ready` });
    const body = await ready.body.text();
    if (ready.statusCode !== 200) {
      throw new Error(`${options.url}/ready answered ${ready.statusCode}: ${body}`);
    }
    // One authenticated read before the load, so a missing or wrong key is one clear message.
    const probe = await http.request({ method: 'GET', path: `${prefix}${DOCUMENTS_PATH}?limit=1`, headers });
    const answer = await probe.body.text();
    if (probe.statusCode === 401 || probe.statusCode === 403) {
      const hint = options.apiKey
        ? 'the --api-key (or INGESTD_API_KEY) was refused'
        : "no key: pass --api-key (or set INGESTD_API_KEY), with the 'ingest' and 'read' scopes";
      throw new Error(`${options.url} answered ${probe.statusCode} (${hint}): ${answer.slice(0, 200)}`);
    }
    return {
      kind: 'url',
      url: options.url,
      prefix,
      http,
      headers,
      tracker: new ApiTracker(http, `${prefix}${DOCUMENTS_PATH}`, Math.min(options.connections, 32), headers),
      description:
        `${options.url} (--url: an ingestd already running${options.apiKey ? ', with --api-key' : ', no key'}; ` +
        'its processes and database are not ours to read: no CPU, RSS or chunk-row figures)',
      server: null,
      processes: () => [],
      cpuComponents: () => [],
      startWorkers: async () => {},
      databaseUrl: null,
    };
  }

  let started: Omit<UpTarget, 'startWorkers'>;
  let startWorkers = async () => {};
  if (options.kind === 'cluster') {
    started = await startClusterTarget(options, cleanup);
  } else {
    const up = await startUpTarget({ ...options, deferWorkers: options.deferWorkers ?? false }, cleanup);
    started = up;
    startWorkers = up.startWorkers;
  }
  const tracker = await DatabaseTracker.connect(started.databaseUrl);
  cleanup.add('close tracker connection', () => tracker.close());
  const excluded = tracker.backendPid === undefined ? [] : [tracker.backendPid];
  const cpuComponents = await componentsFor(
    started.processes,
    started.databaseUrl,
    started.redisUrl,
    excluded,
  );
  const { prefix, http } = httpPool(started.url, options.connections, cleanup);
  const concurrency =
    options.workerConcurrency === undefined ? "ingestd's default" : String(options.workerConcurrency);
  const shape =
    options.kind === 'cluster'
      ? `ingestd cluster: ${options.apiNodes} api nodes behind nginx, ${options.workers} processor worker(s) ` +
        `+ dlq + monitor, jobs per worker: ${concurrency}`
      : `1 api + ${options.workers} worker process(es), jobs per worker: ${concurrency}`;
  const server = await tracker.describeServer();
  return {
    kind: options.kind,
    url: started.url,
    prefix,
    http,
    headers: authHeaders(started.apiKey),
    tracker,
    description: `private stack started by this run (${shape}); ${server} + redis; auth on, bench key`,
    server,
    processes: started.processes,
    cpuComponents,
    startWorkers,
    databaseUrl: started.databaseUrl,
  };
}
