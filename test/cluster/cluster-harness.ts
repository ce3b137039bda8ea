import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { documentText } from '../../bench/documents.js';
import type { ConnectedConfig } from '../../src/commands/shared.js';
import { installTools, type Tool } from '../../src/stack/binaries.js';
import { type Cluster, type ClusterOptions, startCluster } from '../../src/stack/cluster.js';
import type { NodeExit } from '../../src/stack/node-process.js';
import { createApiKey } from '../../src/store/api-keys.js';
import { createPool, type Pool } from '../../src/store/pool.js';
import { createTestConfig, silentLogger } from '../helpers/context.js';

/** The built command, as operators run it (`npm run test:faults` builds first). */
export const cli = fileURLToPath(new URL('../../dist/src/cli.js', import.meta.url));

export interface TestCluster {
  cluster: Cluster;
  config: ConnectedConfig;
  /** For reading rows directly. */
  pool: Pool;
  /** An API key's Authorization header (tenant default, ingest and read). */
  headers: Record<string, string>;
  dataDir: string;
  /** Nodes that exited on their own (a deliberate kill is not one). */
  crashes: NodeExit[];
  /** Stops everything; the data directory (nginx's access log, every node's log) is kept if `keepData`. */
  close(keepData: boolean): Promise<void>;
}

/**
 * A native cluster on the test run's Postgres and Redis, with its own database and queue prefix,
 * so it needs no initdb of its own. Whatever started is stopped again if the start fails.
 */
export async function startTestCluster(
  options: Omit<ClusterOptions, 'dataDir' | 'logger' | 'cliPath'>,
  tools: readonly Tool[] = ['nginx'],
): Promise<TestCluster> {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`npm run build\` first`);
  installTools(tools, (line) => console.log(line));
  const config = await createTestConfig();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ingestd-cluster-'));
  chmodSync(dataDir, 0o755); // nginx's workers run as nobody when we are root
  const crashes: NodeExit[] = [];
  const cluster = await startCluster({
    ...options,
    dataDir,
    databaseUrl: config.DATABASE_URL,
    redisUrl: config.REDIS_URL,
    cliPath: cli,
    logger: silentLogger,
    env: {
      QUEUE_PREFIX: config.QUEUE_PREFIX,
      LOG_LEVEL: 'warn',
      // As shipped (the test run's global setup turns it off for everyone else).
      AUTH_REQUIRED: 'true',
      ...options.env,
    },
    onCrash: (exit) => crashes.push(exit),
  });
  const pool = createPool(
    { connectionString: config.DATABASE_URL, max: 2, applicationName: 'test' },
    silentLogger,
  );
  // Auth stays on, as shipped: requests carry a key, through nginx like any client's.
  const { key } = await createApiKey(pool, { tenantId: 'default', scopes: ['ingest', 'read'], name: 'test' });
  return {
    cluster,
    config,
    pool,
    headers: { authorization: `Bearer ${key}` },
    dataDir,
    crashes,
    async close(keepData) {
      await Promise.allSettled([cluster.stop(), pool.end()]);
      if (keepData) console.log(`cluster data kept for inspection: ${dataDir}`);
      else rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** One line of nginx's access log (the shipped `ingestd_json` format), the fields the tests read. */
export interface AccessLogEntry {
  method: string;
  uri: string;
  status: number;
  /** "127.0.0.1:4001", or "127.0.0.1:4001, 127.0.0.1:4002" when nginx tried a second node. */
  upstream_addr: string;
  upstream_status: string;
}

/** The access log's entries, from byte `fromByte` on (a size taken earlier marks "since then"). */
export function readAccessLog(file: string, fromByte = 0): AccessLogEntry[] {
  if (!existsSync(file)) return [];
  return readFileSync(file)
    .subarray(fromByte)
    .toString('utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as AccessLogEntry);
}

export interface IntakeOutcome {
  /** POST requests made, retries included. */
  requests: number;
  /** Document id per document index, once acknowledged (202, or 200 for a retry the first try had stored). */
  ids: Map<number, string>;
  /** Answers by status code, every attempt counted. */
  statuses: Map<number, number>;
  /** Requests that got no HTTP answer at all (connection refused or reset at nginx). */
  networkErrors: number;
}

export interface IntakeOptions {
  url: string;
  /** Sent with every request (the API key). */
  headers: Record<string, string>;
  documents: number;
  concurrency: number;
  /** `source` of every document; each has externalId doc-<index>, so a retry is recognised, not stored twice. */
  source: string;
  /** Called after each acknowledgement with the number acknowledged so far. */
  onAcknowledged?: (acknowledged: number) => void;
  /** Number of requests in flight right now, for the caller to sample. */
  inFlight?: { count: number };
}

/** Statuses after which the same document is sent again: nothing was stored, or we cannot tell. */
const RETRIED_STATUSES = new Set([502, 503, 504]);
const MAX_ATTEMPTS = 30;

/**
 * Sends `documents` JSON documents (200 to 500 words each) through `url` with bounded
 * concurrency, retrying each on 502/503/504 and network errors until it is acknowledged. A retry
 * of a document the first attempt did store gets 200 with the same id (deduplicated by externalId).
 */
export async function sendDocuments(options: IntakeOptions): Promise<IntakeOutcome> {
  const outcome: IntakeOutcome = { requests: 0, ids: new Map(), statuses: new Map(), networkErrors: 0 };
  const inFlight = options.inFlight ?? { count: 0 };
  let next = 0;
  const sendOne = async (index: number): Promise<void> => {
    const body = JSON.stringify({
      content: documentText(options.source, index, 200 + ((index * 37) % 301)),
      source: options.source,
      externalId: `doc-${index}`,
    });
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      outcome.requests++;
      inFlight.count++;
      let status: number | undefined;
      let id: string | undefined;
      try {
        const response = await fetch(`${options.url}/api/v1/documents`, {
          method: 'POST',
          headers: { ...options.headers, 'content-type': 'application/json' },
          body,
        });
        status = response.status;
        if (status === 200 || status === 202) id = ((await response.json()) as { id: string }).id;
        else await response.body?.cancel();
      } catch {
        outcome.networkErrors++;
      } finally {
        inFlight.count--;
      }
      if (status !== undefined) outcome.statuses.set(status, (outcome.statuses.get(status) ?? 0) + 1);
      if (id) {
        outcome.ids.set(index, id);
        options.onAcknowledged?.(outcome.ids.size);
        return;
      }
      if (status !== undefined && !RETRIED_STATUSES.has(status)) return; // a 4xx: the test reports it
      // Retry-After says seconds; a test has no reason to wait that long for a node to return.
      await new Promise((resolve) => setTimeout(resolve, 100 * Math.min(attempt, 5)));
    }
  };
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (next < options.documents) await sendOne(next++);
    }),
  );
  return outcome;
}
