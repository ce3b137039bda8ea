/**
 * The reference server of the `reference` scenario: the least durable work a document API can do,
 * to measure ingestd's intake against on the same machine in the same run. Fastify, the body
 * validated by zod (through fastify-type-provider-zod, as ingestd does), the body's text stored by
 * one batched INSERT in the same Postgres (fsync and synchronous commits on), 202 once committed.
 * Concurrent requests are grouped: rows wait up to GROUP_COMMIT_MS (or until GROUP_COMMIT_ROWS
 * are waiting) and are written by one multi-row INSERT, one commit for the group.
 *
 * Run: DATABASE_URL=postgres://... PORT=0 node dist/bench/reference-server.js
 * It prints `listening on <url>` once ready. SIGTERM closes it.
 */
import { pathToFileURL } from 'node:url';
import Fastify, { type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import pg from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';

export const REFERENCE_TABLE = 'bench_reference_documents';

/** What the reference accepts: ingestd's JSON document body, reduced to what the bench sends. */
const documentBody = z
  .object({
    content: z.string().min(1),
    chunking: z
      .object({
        strategy: z.literal('words'),
        size: z.number().int().min(1),
        overlap: z.number().int().min(0),
      })
      .strict()
      .optional(),
  })
  .strict();

export interface GroupCommitOptions {
  /** Longest a row waits for others before its group is written, in ms. Default 2 */
  windowMs?: number;
  /** A group is written at once when this many rows wait. Default 256 */
  maxRows?: number;
}

/**
 * Gathers rows from concurrent requests and writes each group with one INSERT (one round trip,
 * one commit); every add() resolves once its group is durable, or rejects with the group's error.
 */
export class GroupCommit {
  private pending: { id: string; content: string; resolve: () => void; reject: (error: unknown) => void }[] =
    [];
  private timer: NodeJS.Timeout | undefined;
  private readonly windowMs: number;
  private readonly maxRows: number;

  constructor(
    private readonly pool: pg.Pool,
    options: GroupCommitOptions = {},
  ) {
    this.windowMs = options.windowMs ?? 2;
    this.maxRows = options.maxRows ?? 256;
  }

  add(id: string, content: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ id, content, resolve, reject });
      if (this.pending.length >= this.maxRows) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.windowMs);
    });
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const group = this.pending;
    this.pending = [];
    if (group.length === 0) return;
    this.pool
      .query(`INSERT INTO ${REFERENCE_TABLE} (id, content) SELECT * FROM unnest($1::uuid[], $2::text[])`, [
        group.map((row) => row.id),
        group.map((row) => row.content),
      ])
      .then(
        () => {
          for (const row of group) row.resolve();
        },
        (error: unknown) => {
          for (const row of group) row.reject(error);
        },
      );
  }
}

/** The table the reference writes to; made if missing, in the database it is given. */
export async function ensureReferenceTable(pool: pg.Pool): Promise<void> {
  await pool.query(
    `CREATE TABLE IF NOT EXISTS ${REFERENCE_TABLE} (
       id          uuid PRIMARY KEY,
       content     text NOT NULL,
       received_at timestamptz NOT NULL DEFAULT now()
     )`,
  );
}

/** The reference app: POST /api/v1/documents and GET /ready. */
export function buildReferenceServer(pool: pg.Pool, options: GroupCommitOptions = {}): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: 16 * 1024 * 1024 });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  const commits = new GroupCommit(pool, options);
  const api = app.withTypeProvider<ZodTypeProvider>();
  api.post(
    '/api/v1/documents',
    {
      schema: {
        body: documentBody,
        response: { 202: z.object({ id: z.string(), status: z.literal('queued') }) },
      },
    },
    async (request, reply) => {
      const id = uuidv7();
      await commits.add(id, request.body.content);
      return reply.code(202).send({ id, status: 'queued' as const });
    },
  );
  app.get('/ready', async () => ({ status: 'ready' }));
  return app;
}

async function main(): Promise<void> {
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) throw new Error('DATABASE_URL is needed');
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: Number(process.env.PG_POOL_MAX ?? 4),
    application_name: 'bench-reference',
  });
  pool.on('error', (error) => process.stderr.write(`idle postgres client failed: ${error.message}\n`));
  await ensureReferenceTable(pool);
  const app = buildReferenceServer(pool, {
    windowMs: Number(process.env.GROUP_COMMIT_MS ?? 2),
    maxRows: Number(process.env.GROUP_COMMIT_ROWS ?? 256),
  });
  const url = await app.listen({
    host: process.env.HOST ?? '127.0.0.1',
    port: Number(process.env.PORT ?? 0),
  });
  process.stdout.write(`listening on ${url}\n`);
  const stop = () => {
    void app
      .close()
      .then(() => pool.end())
      .finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

// Run as a program (node dist/bench/reference-server.js), not when imported.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`reference server failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  });
}
