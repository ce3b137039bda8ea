import { createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { inject } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import type { ConnectedConfig } from '../../src/commands/shared.js';
import { loadConfig } from '../../src/config.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { insertDocuments, type NewDocument } from '../../src/store/documents.js';
import { createPool, type Pool } from '../../src/store/pool.js';
import { TEMPLATE_DATABASE } from './constants.js';

export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

function adminUrl(database = 'postgres'): string {
  return `postgres://postgres@127.0.0.1:${inject('postgresPort')}/${database}`;
}

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl() });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A fresh, migrated database cloned from the template. Left in place after the run for inspection. */
export async function createTestDatabase(): Promise<string> {
  const name = uniqueName('test');
  await admin((client) => client.query(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE_DATABASE}`));
  return adminUrl(name);
}

/** A quiet pool on `connectionString` (by default a fresh test database), for store-level tests. */
export async function createTestPool(connectionString?: string, max = 2): Promise<Pool> {
  return createPool(
    { connectionString: connectionString ?? (await createTestDatabase()), max, applicationName: 'test' },
    silentLogger,
  );
}

/** An empty database, not migrated: for testing migrations themselves. */
export async function createEmptyDatabase(): Promise<string> {
  const name = uniqueName('empty');
  await admin((client) => client.query(`CREATE DATABASE ${name}`));
  return adminUrl(name);
}

/** Config for one test file: its own database, its own queue prefix, quiet logs. */
export async function createTestConfig(overrides: Record<string, string> = {}): Promise<ConnectedConfig> {
  const config = loadConfig({
    DATABASE_URL: await createTestDatabase(),
    REDIS_URL: inject('redisUrl'),
    QUEUE_PREFIX: uniqueName('q'),
    LOG_LEVEL: 'silent',
    WORKER_METRICS_PORT: '0',
    PORT: '0',
    HOST: '127.0.0.1',
    // Test files run an API and workers in one busy process: event-loop backpressure would turn
    // their POSTs away at random. backpressure.test.ts tests the queue bound instead.
    MAX_EVENT_LOOP_DELAY_MS: '0',
    // Most tests are about documents, not callers; test/api/auth.test.ts and friends turn it on.
    AUTH_REQUIRED: 'false',
    ...overrides,
  });
  return config as ConnectedConfig;
}

export const silentLogger: Logger = createLogger({ LOG_LEVEL: 'silent' });

export interface TestContext {
  config: ConnectedConfig;
  app: FastifyInstance;
  /** A pool of the test's own, for looking at rows directly. */
  pool: Pool;
  close(): Promise<void>;
}

/** An app on its own database and queue prefix, ready for `app.inject`. */
export async function createTestApp(overrides: Record<string, string> = {}): Promise<TestContext> {
  const config = await createTestConfig(overrides);
  const app = await buildApp({ config });
  await app.ready();
  const pool = createPool(
    { connectionString: config.DATABASE_URL, max: 2, applicationName: 'test' },
    silentLogger,
  );
  return {
    config,
    app,
    pool,
    async close() {
      await app.close();
      await pool.end();
    },
  };
}

/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  timeoutMs = 15_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** `count` words: w0 w1 w2 ... so each word's position can be read back from a chunk. */
export function numberedWords(count: number, separator = ' '): string {
  return Array.from({ length: count }, (_, i) => `w${i}`).join(separator);
}

/**
 * Polls GET /api/v1/documents/:id until the document's status is one of `statuses` (by default
 * completed or failed) and returns its body.
 */
export async function waitForDocument(
  app: FastifyInstance,
  id: string,
  {
    statuses = ['completed', 'failed'],
    timeoutMs = 30_000,
  }: { statuses?: string[]; timeoutMs?: number } = {},
  // biome-ignore lint/suspicious/noExplicitAny: a JSON body, read field by field by the tests
): Promise<any> {
  return eventually(
    async () => {
      const body = (await app.inject({ method: 'GET', url: `/api/v1/documents/${id}` })).json();
      return statuses.includes(body.status) ? body : undefined;
    },
    timeoutMs,
    `document ${id} to be ${statuses.join(' or ')}`,
  );
}

/**
 * A document committed without a job (no worker will pick it up on its own): for tests that
 * drive processing by hand or need a version to stay queued. Returns its id.
 */
export async function insertUnqueuedDocument(
  pool: Pool,
  content: string | Buffer,
  tenantId = 'default',
  contentType = 'text/plain',
): Promise<string> {
  const document = newTestDocument(content, { tenantId, contentType });
  await insertDocuments(pool, [document]);
  return document.id;
}

/**
 * A new document as the API would hand it to the store: words chunking 500/50, its hash taken.
 * Text given as a string is not marked as JSON text (contentText) unless `overrides` says so.
 */
export function newTestDocument(content: string | Buffer, overrides: Partial<NewDocument> = {}): NewDocument {
  const bytes = typeof content === 'string' ? Buffer.from(content) : content;
  return {
    id: uuidv7(),
    tenantId: 'default',
    source: 'test',
    externalId: null,
    filename: null,
    metadata: {},
    contentType: 'text/plain',
    content: bytes,
    contentHash: createHash('sha256').update(bytes).digest(),
    chunking: { strategy: 'words', size: 500, overlap: 50 },
    requestId: null,
    ...overrides,
  };
}
