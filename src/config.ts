import os from 'node:os';
import { z } from 'zod';
import { parseAllowlist } from './fetch/address-policy.js';
import { chunkingStrategies, MAX_CHUNK_WORDS, maxOverlap } from './pipeline/chunk/settings.js';

/** Reads an integer from the environment; empty strings count as unset so defaults apply. */
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const emptyAsUndefined = (value: unknown) => (value === '' ? undefined : value);

/** A comma-separated setting as its items, trimmed, empty ones dropped. */
export function commaList(setting: string): string[] {
  return setting
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

/**
 * Every setting ingestd reads, with its default. Parsed once at start-up; a bad value stops the
 * process with a message naming the variable (see `loadConfig`).
 */
export const configSchema = z.object({
  /** Postgres connection string. Unset: `ingestd up` starts a private Postgres. */
  DATABASE_URL: z.preprocess(emptyAsUndefined, z.url({ protocol: /^postgres(ql)?$/ }).optional()),
  /** Redis connection string. Unset: `ingestd up` starts a private Redis. */
  REDIS_URL: z.preprocess(emptyAsUndefined, z.url({ protocol: /^rediss?$/ }).optional()),
  /** Where `ingestd up` keeps its private Postgres and Redis data. Default ./.ingestd */
  DATA_DIR: z.string().min(1).default('./.ingestd'),
  /** Interface the API listens on. Default 0.0.0.0 */
  HOST: z.string().min(1).default('0.0.0.0'),
  /** API port. Default 8080 */
  PORT: int(0, 65535).default(8080),
  /**
   * An API node's internal port for /metrics (and /health), so scrapes stay off the public port;
   * 0 serves /metrics on PORT. Default 0
   */
  API_METRICS_PORT: int(0, 65535).default(0),
  /** Port of a worker process's /metrics listener; 0 turns it off. Default 9464 */
  WORKER_METRICS_PORT: int(0, 65535).default(9464),
  /** pino level. Default info */
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /**
   * Under load, how long a single-document POST may wait for others to share its commit and
   * group job, in ms (see GroupCommit); 0 turns it off. Default 5
   */
  GROUP_COMMIT_LINGER_MS: int(0, 1000).default(5),
  /** Postgres connections per process. Default 10 */
  PG_POOL_MAX: int(1, 1000).default(10),
  /** Prefix of every Redis key ingestd's queues use; lets several deployments share a Redis. Default ingestd */
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only')
    .default('ingestd'),
  /**
   * Jobs one worker process runs at once. Default: from the machine's cores and memory (4 below
   * 4 GiB, up to 2 per core below 8 GiB, else up to 4 per core; at most 16)
   */
  WORKER_CONCURRENCY: z.preprocess(emptyAsUndefined, int(1, 1000).optional()),
  /** Largest document accepted as JSON `content`, in bytes. Default 10 MiB */
  MAX_DOCUMENT_BYTES: int(1, 1024 ** 3).default(10 * 1024 * 1024),
  /**
   * Largest uploaded file (multipart or raw body), in bytes, at most 256 MiB (a bytea read back as
   * hex text must stay under V8's string limit). Default 100 MiB
   */
  MAX_UPLOAD_BYTES: int(1, 256 * 1024 ** 2).default(100 * 1024 * 1024),
  /** Most documents in one batch request. Default 1000 */
  BATCH_MAX_DOCUMENTS: int(1, 10_000).default(1000),
  /**
   * Largest batch request body, in bytes. Default 50 MiB. At most 256 MiB: a batch's contents go
   * to Postgres in one message, which Postgres refuses over 1 GB, and pg holds them several
   * times over while it builds that message.
   */
  BATCH_MAX_BYTES: int(1, 256 * 1024 ** 2).default(50 * 1024 * 1024),
  /** Chunking strategy when a request names none: words, tokens, recursive or structure. Default words */
  CHUNK_STRATEGY: z.enum(chunkingStrategies).default('words'),
  /** Default words per chunk. Default 500 */
  CHUNK_SIZE: int(1, MAX_CHUNK_WORDS).default(500),
  /** Default words shared by neighbouring chunks, at most half of CHUNK_SIZE. Default 50 */
  CHUNK_OVERLAP: int(0, maxOverlap(MAX_CHUNK_WORDS)).default(50),
  /**
   * Threads that run extraction and chunking, per worker process. Default: the cores but one, which
   * the main thread needs (queue, Postgres, small text documents processed inline). On 2 cores, 1
   * thread completed mixed formats 14% faster than 2, in 67 MB less (bench mixed-formats).
   */
  PIPELINE_THREADS: int(1, 256).default(Math.max(1, os.availableParallelism() - 1)),
  /** Wall-clock limit for extracting and chunking one document, in ms. Default 60000 */
  PIPELINE_TIMEOUT_MS: int(100, 3_600_000).default(60_000),
  /** Heap limit of one pipeline thread, in MB; a document needing more fails as too_large. Default 1024 */
  PIPELINE_HEAP_MB: int(32, 65_536).default(1024),
  /**
   * How long a worker's claim on a job lasts without renewal, in ms; renewed every half of it while
   * the job runs. A worker that stops renewing (killed, frozen) loses its jobs to others. Default 30000
   */
  JOB_LOCK_MS: int(500, 600_000).default(30_000),
  /**
   * How long jobs may wait with none running anywhere and no progress in a worker before that
   * worker replaces its consumer (BullMQ consumers can go quiet after a Redis reconnect), in ms;
   * 0 off. Default 60000
   */
  WATCHDOG_STALL_MS: int(0, 3_600_000).default(60_000),
  /** How often a worker looks for versions left queued without a job (lost enqueue), in ms. Default 30000 */
  SWEEP_INTERVAL_MS: int(100, 3_600_000).default(30_000),
  /** A version queued this long is enqueued again (a no-op if its job exists), in ms. Default 60000 */
  SWEEP_STALE_AFTER_MS: int(0, 86_400_000).default(60_000),
  /** How long an Idempotency-Key's first response is kept for replays, in hours. Default 24 */
  IDEMPOTENCY_TTL_HOURS: int(1, 24 * 30).default(24),
  /** Event loop delay beyond which an API node refuses new documents with 503, in ms; 0 off. Default 1000 */
  MAX_EVENT_LOOP_DELAY_MS: int(0, 60_000).default(1_000),
  /** Heap use beyond which an API node refuses new documents with 503, in MB; 0 off. Default 0 */
  MAX_HEAP_USED_MB: int(0, 65_536).default(0),
  /** Waiting jobs beyond which API nodes refuse new documents with 503; 0 off. Default 100000 */
  QUEUE_MAX_WAITING: int(0, 100_000_000).default(100_000),
  /** How often the dlq role looks for dead letters to re-drive, in ms. Default 30000 */
  DLQ_INTERVAL_MS: int(100, 3_600_000).default(30_000),
  /** Re-drives of one dead letter by the dlq role before it is left for a human. Default 3 */
  DLQ_MAX_REDRIVES: int(0, 100).default(3),
  /** The dlq role's wait before a first re-drive; each next one waits 4x longer, in ms. Default 60000 */
  DLQ_BACKOFF_MS: int(0, 86_400_000).default(60_000),
  /** How often the monitor role writes queue and DLQ gauges and rolls up processing samples, in ms. Default 15000 */
  MONITOR_INTERVAL_MS: int(100, 3_600_000).default(15_000),
  /** Months of `metrics` partitions the monitor keeps made ahead of the current one. Default 3 */
  METRICS_PARTITIONS_AHEAD: int(1, 24).default(3),
  /** Days of `metrics` kept; older monthly partitions are dropped whole. Default 90 */
  METRICS_RETENTION_DAYS: int(1, 3650).default(90),
  /**
   * Whether API calls need a key (Authorization: Bearer). Turn off only for local development:
   * every caller is then the `default` tenant with every scope. Default true
   */
  AUTH_REQUIRED: z.preprocess(emptyAsUndefined, z.stringbool().default(true)),
  /**
   * The tenant whose admin keys may read platform-wide figures (GET /api/v1/stats counts every
   * tenant's documents). Default default
   */
  OPERATOR_TENANT: z.string().min(1).default('default'),
  /** How long an API node trusts a looked-up key before asking Postgres again (a revocation's delay), in ms. Default 10000 */
  API_KEY_CACHE_MS: int(0, 3_600_000).default(10_000),
  /** Requests a minute one API key may make, across all API nodes; 0 turns rate limits off. Default 120000 */
  RATE_LIMIT_PER_MINUTE: int(0, 100_000_000).default(120_000),
  /** Requests a minute per client IP without a valid key (failed auth included). Default 600 */
  RATE_LIMIT_ANONYMOUS_PER_MINUTE: int(1, 100_000_000).default(600),
  /**
   * Addresses or CIDRs of proxies whose X-Forwarded-For is believed (comma-separated), e.g. the
   * nginx in front. Empty: the client is the socket's peer. Default empty
   */
  TRUST_PROXY: z.string().default(''),
  /** Origins allowed to call the API from a browser (comma-separated); empty: CORS closed. Default empty */
  CORS_ORIGINS: z.string().default(''),
  /** Unfinished (queued or processing) versions one tenant may have; beyond it intake answers 429; 0 off. Default 50000 */
  TENANT_MAX_UNFINISHED: int(0, 100_000_000).default(50_000),
  /**
   * Hosts that URL ingestion may fetch although private (comma-separated hostnames, *.suffix,
   * IPs or CIDRs); everything not public is refused otherwise. Default empty
   */
  FETCH_ALLOWLIST: z
    .string()
    .default('')
    .refine((list) => {
      try {
        parseAllowlist(commaList(list));
        return true;
      } catch {
        return false;
      }
    }, 'hostnames, *.suffix wildcards, IPs or CIDRs, comma-separated'),
  /** Ports URL ingestion may connect to (comma-separated). Default 80,443 */
  FETCH_ALLOWED_PORTS: z
    .string()
    .default('80,443')
    .refine(
      (list) =>
        commaList(list).length > 0 &&
        commaList(list).every((port) => /^\d{1,5}$/.test(port) && Number(port) <= 65535),
      {
        message: 'comma-separated port numbers',
      },
    ),
  /** Most bytes a URL document may have after decompression. Default 104857600 (MAX_UPLOAD_BYTES' default) */
  FETCH_MAX_BYTES: int(1, 256 * 1024 ** 2).default(100 * 1024 * 1024),
  /** Most milliseconds one fetch may take, redirects and body included. Default 60000 */
  FETCH_TIMEOUT_MS: int(100, 600_000).default(60_000),
  /** How long /ready waits for Postgres and Redis before calling a check failed, in ms. Default 1000 */
  READY_TIMEOUT_MS: int(10, 60_000).default(1000),
  /**
   * After a shutdown signal, how long /ready answers 503 while still serving, so a load balancer
   * stops sending traffic before the listener closes, in ms. Default 0 (set ~5000 behind a balancer)
   */
  SHUTDOWN_DRAIN_MS: int(0, 600_000).default(0),
  /** How long a graceful shutdown may take before the process exits anyway, in ms. Default 15000 */
  SHUTDOWN_GRACE_MS: int(0, 600_000).default(15_000),
});

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Parses the environment (or any record of strings) into a Config, or throws a ConfigError naming each bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const result = configSchema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  const config = result.data;
  if (config.CHUNK_OVERLAP > maxOverlap(config.CHUNK_SIZE)) {
    throw new ConfigError('invalid configuration:\n  CHUNK_OVERLAP: must be at most half of CHUNK_SIZE');
  }
  return config;
}

/** URL ingestion's policy and limits as fetchDocument and validateFetchUrl take them. */
export function fetchSettings(config: Config) {
  return {
    allow: commaList(config.FETCH_ALLOWLIST),
    allowedPorts: commaList(config.FETCH_ALLOWED_PORTS).map(Number),
    maxBytes: config.FETCH_MAX_BYTES,
    timeoutMs: config.FETCH_TIMEOUT_MS,
  };
}
