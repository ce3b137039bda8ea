import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import type { Logger } from '../../src/logger.js';
import { Metrics } from '../../src/metrics.js';
import { chunkText } from '../../src/pipeline/chunk/index.js';
import { decodeText } from '../../src/pipeline/extract/decode.js';
import { INLINE_MAX_BYTES, PipelinePool } from '../../src/pipeline/pipeline-pool.js';
import { createPool, type Pool } from '../../src/store/pool.js';
import {
  CLAIM_CONTENT_MAX_BYTES,
  claimVersion,
  claimVersions,
  MARK_NONE,
  readRawContent,
  versionTextSql,
} from '../../src/store/versions.js';
import { processVersion, processVersions } from '../../src/worker/processor.js';
import { startWorkerNode, type WorkerNode } from '../../src/worker/worker-node.js';
import {
  createTestConfig,
  insertUnqueuedDocument,
  numberedWords,
  silentLogger,
  waitForDocument,
} from '../helpers/context.js';

/** Log lines the worker writes, parsed, so tests can look for a request id in them. */
const logLines: Record<string, unknown>[] = [];
const capture = new Writable({
  write(chunk, _encoding, done) {
    for (const line of String(chunk).split('\n').filter(Boolean)) logLines.push(JSON.parse(line));
    done();
  },
});
const workerLogger = pino({ level: 'debug' }, capture) as unknown as Logger;

let app: Awaited<ReturnType<typeof buildApp>>;
let worker: WorkerNode;
let pool: Pool;
let pipeline: PipelinePool;
let databaseUrl: string;

beforeAll(async () => {
  const config = await createTestConfig();
  databaseUrl = config.DATABASE_URL;
  app = await buildApp({ config });
  await app.ready();
  worker = await startWorkerNode({ config, logger: workerLogger, role: 'processor', metrics: new Metrics() });
  pool = createPool({ connectionString: config.DATABASE_URL, max: 4, applicationName: 'test' }, silentLogger);
  pipeline = new PipelinePool({ threads: 2, timeoutMs: 10_000, heapMb: 256 });
});
afterAll(async () => {
  await worker?.close();
  await app?.close();
  await pool?.end();
  await pipeline?.close();
});

async function submit(body: object, headers: Record<string, string> = {}): Promise<string> {
  const response = await app.inject({ method: 'POST', url: '/api/v1/documents', payload: body, headers });
  expect(response.statusCode).toBe(202);
  return response.json().id;
}

const settled = (id: string) => waitForDocument(app, id);

async function chunkRows(id: string) {
  const { rows } = await pool.query(
    'SELECT chunk_index, word_count, text FROM chunks WHERE document_id = $1 ORDER BY version, chunk_index',
    [id],
  );
  return rows;
}

const insertUnqueued = (content: string) => insertUnqueuedDocument(pool, content);
/** A chunk at `index` of version 1 that no completion wrote. */
async function insertStrayChunk(documentId: string, index: number) {
  await pool.query(
    `INSERT INTO chunks (document_id, version, tenant_id, settings_hash, chunk_index, text, start_offset,
                         end_offset, word_count, token_count)
     VALUES ($1, 1, 'default', 'x', $2, 'stray', 0, 5, 1, 1)`,
    [documentId, index],
  );
}

/** Every pooled connection back in the pool, and no COPY of raw content left running. */
async function expectNoConnectionLeft() {
  expect(pool.totalCount - pool.idleCount).toBe(0);
  const copies = await pool.query(
    `SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE 'COPY (SELECT raw_content%' AND state <> 'idle'`,
  );
  expect(copies.rows[0].n).toBe(0);
}

/** A version of `bytes` as they are (not UTF-8 text), queued without a job. */
const insertUnqueuedBytes = (bytes: Buffer, contentType: string) =>
  insertUnqueuedDocument(pool, bytes, 'default', contentType);

const deps = () => ({ pool, pipeline, metrics: new Metrics(), logger: silentLogger });
const firstAttempt = { number: 1, isLast: false };

/**
 * Runs `work` with a pool whose statements time out after 200 ms while another connection holds
 * the lock that `lock` takes, in a transaction rolled back afterwards.
 */
async function whileLocked<T>(
  lock: string,
  params: unknown[],
  work: (faultyPool: Pool) => Promise<T>,
): Promise<T> {
  const locker = await pool.connect();
  const faultyPool = createPool(
    { connectionString: databaseUrl, max: 2, applicationName: 'test', statementTimeoutMs: 200 },
    silentLogger,
  );
  try {
    await locker.query('BEGIN');
    await locker.query(lock, params);
    return await work(faultyPool);
  } finally {
    await locker.query('ROLLBACK');
    locker.release();
    await faultyPool.end();
  }
}

describe('processing a document', () => {
  it('takes a posted document to completed with chunks of 500 words overlapping by 50', async () => {
    const id = await submit({ content: numberedWords(1000) });
    const document = await settled(id);
    expect(document).toMatchObject({ status: 'completed', chunkCount: 3, currentVersion: 1, error: null });
    for (const stage of ['startedAt', 'extractedAt', 'chunkedAt', 'completedAt']) {
      expect(document.stages[stage], stage).toEqual(expect.any(String));
    }

    const page1 = (await app.inject({ method: 'GET', url: `/api/v1/documents/${id}/chunks?limit=2` })).json();
    expect(page1.items).toHaveLength(2);
    expect(page1.nextCursor).toEqual(expect.any(String));
    const page2 = (
      await app.inject({
        method: 'GET',
        url: `/api/v1/documents/${id}/chunks?limit=2&cursor=${page1.nextCursor}`,
      })
    ).json();
    expect(page2.nextCursor).toBeNull();
    const chunks = [...page1.items, ...page2.items];
    expect(chunks.map((c) => c.index)).toEqual([0, 1, 2]);
    expect(chunks.map((c) => c.text.split(' ')[0])).toEqual(['w0', 'w450', 'w900']);
    expect(chunks.map((c) => c.wordCount)).toEqual([500, 500, 100]);
    expect(chunks.every((c) => c.tokenCount > c.wordCount)).toBe(true);

    // Plain UTF-8 text is its own extracted text: stored once, as the raw content.
    const { rows } = await pool.query(
      `SELECT v.extracted_text IS NULL AS no_copy, v.text_is_raw, ${versionTextSql('v')} AS text
       FROM document_versions v WHERE document_id = $1`,
      [id],
    );
    expect(rows[0]).toMatchObject({ no_copy: true, text_is_raw: true });
    for (const chunk of chunks) expect(rows[0].text.slice(chunk.start, chunk.end)).toBe(chunk.text);
  });

  it('processes Markdown with its headings kept in the text', async () => {
    const id = await submit({
      content: '# Title\n\nSome text.\n\n## Part\n\nMore.',
      contentType: 'text/markdown',
    });
    expect(await settled(id)).toMatchObject({
      status: 'completed',
      contentType: 'text/markdown',
      chunkCount: 1,
    });
    expect((await chunkRows(id))[0].text).toBe('# Title\n\nSome text.\n\n## Part\n\nMore.');
  });

  it('fails a document without text at once, with its code, and does not retry it', async () => {
    const id = await submit({ content: ' \n\t ' });
    const document = await settled(id);
    expect(document).toMatchObject({ status: 'failed', error: { code: 'empty' }, chunkCount: null });
    const { rows } = await pool.query('SELECT attempts FROM document_versions WHERE document_id = $1', [id]);
    expect(rows[0].attempts).toBe(1);
    const job = await app.documentQueue.queue.getJob(`${id}-v1`);
    expect(await job?.getState()).toBe('failed');
    expect(job?.attemptsMade).toBe(1);
  });

  it("carries the creating request's id into the worker's log lines", async () => {
    const id = await submit({ content: 'traceable words' }, { 'x-request-id': 'trace-me-42' });
    await settled(id);
    const lines = logLines.filter((line) => line.documentId === id);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((line) => line.requestId === 'trace-me-42')).toBe(true);
  });
});

describe('a transient failure while storing', () => {
  /** Storing a version times out while the chunks table is locked: a real, retryable fault. */
  const withChunksLocked = <T>(work: (faultyPool: Pool) => Promise<T>) =>
    whileLocked('LOCK TABLE chunks IN ACCESS EXCLUSIVE MODE', [], work);

  async function versionRow(id: string) {
    const { rows } = await pool.query(
      'SELECT status, attempts, error_code FROM document_versions WHERE document_id = $1',
      [id],
    );
    return rows[0];
  }

  it('is thrown for a retry, leaving the version unfailed, until the last attempt marks it failed', async () => {
    const id = await insertUnqueued(numberedWords(20));
    const ref = { documentId: id, version: 1, tenantId: 'default' };
    await withChunksLocked(async (faultyPool) => {
      const faulty = { pool: faultyPool, pipeline, metrics: new Metrics(), logger: silentLogger };
      await expect(processVersion(faulty, ref, { number: 1, isLast: false })).rejects.toMatchObject({
        code: '57014',
      });
      // Small, so never marked processing (see claimVersion): still queued, no attempt recorded yet.
      expect(await versionRow(id)).toEqual({ status: 'queued', attempts: 0, error_code: null });
      await expect(processVersion(faulty, ref, { number: 2, isLast: true })).rejects.toThrow();
    });
    expect(await versionRow(id)).toEqual({ status: 'failed', attempts: 2, error_code: 'processing_failed' });
    expect(await chunkRows(id)).toEqual([]);
  });
});

describe('a group job', () => {
  /** Storing this version times out while its row is held: a real, passing fault. */
  const withVersionHeld = <T>(documentId: string, work: (faultyPool: Pool) => Promise<T>) =>
    whileLocked('SELECT 1 FROM document_versions WHERE document_id = $1 FOR UPDATE', [documentId], work);

  it('processes each version of a batch, failing a bad one alone with its code', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/documents/batch',
      payload: {
        documents: [{ content: numberedWords(600) }, { content: ' \n ' }, { content: 'short text' }],
      },
    });
    expect(response.statusCode).toBe(207);
    expect(response.json().accepted).toBe(3);
    const ids: string[] = response.json().items.map((item: { id: string }) => item.id);
    const documents = await Promise.all(ids.map(settled));
    expect(documents.map((d) => d.status)).toEqual(['completed', 'failed', 'completed']);
    expect(documents[1].error.code).toBe('empty');
    expect((await chunkRows(ids[0] as string)).length).toBe(2);
  });

  /** Each version's status, error code and completion time, in the order of `ids`. */
  const outcomesOf = async (ids: string[]) => {
    const { rows } = await pool.query(
      `SELECT document_id AS id, status, error_code AS code, completed_at AS "completedAt", chunk_count AS chunks
       FROM document_versions WHERE document_id = ANY($1::uuid[])`,
      [ids],
    );
    const byId = new Map(rows.map((row) => [row.id, row]));
    return ids.map((id) => byId.get(id));
  };
  const noHandOff = async (versions: unknown[]) => {
    throw new Error(`unexpected hand-off of ${versions.length}`);
  };
  /** Version 1 of each document as one group job, first delivery, nothing expected to be handed off. */
  const processGroup = (ids: string[], groupDeps = deps()) =>
    processVersions(
      groupDeps,
      ids.map((documentId) => ({ documentId, version: 1, tenantId: 'default' })),
      { attemptsMade: 0, attemptsStarted: 1 },
      noHandOff,
    );

  it("stores a group's versions in one transaction: they share its start as their completion time", async () => {
    const ids = [
      await insertUnqueued(numberedWords(1000)),
      await insertUnqueued(numberedWords(20)),
      await insertUnqueued(numberedWords(600)),
    ];
    expect(await processGroup(ids)).toBe('completed');
    const outcomes = await outcomesOf(ids);
    expect(outcomes.map((o) => [o.status, o.chunks])).toEqual([
      ['completed', 3],
      ['completed', 1],
      ['completed', 2],
    ]);
    // now() is the transaction's start: one transaction, one completed_at.
    expect(new Set(outcomes.map((o) => o.completedAt.getTime())).size).toBe(1);
    expect((await chunkRows(ids[0] as string)).map((c) => c.word_count)).toEqual([500, 500, 100]);
  });

  it("writes a group's chunks exactly as a version stored alone writes them, whatever the characters", async () => {
    const markdown =
      '# He said "hi", then \\ left\n\ntab\there, comma, "quoted" and a\r\nCRLF line; ünïcødé 中文 😀\n\n' +
      `## Second, "nested" \\N\n\n${numberedWords(700)}`;
    const plain = `quotes "" and "\\" backslashes \\\\ commas,,, tabs\t\t CR\r alone \\. ${numberedWords(600)}`;
    const insertBoth = async () => [
      await insertUnqueuedBytes(Buffer.from(markdown), 'text/markdown'),
      await insertUnqueued(plain),
    ];
    const alone = await insertBoth();
    const grouped = await insertBoth();
    // Chunks a version should not have (as after a status reset by hand) must go.
    await insertStrayChunk(grouped[1] as string, 0);
    await insertStrayChunk(grouped[1] as string, 50);
    for (const documentId of alone) {
      expect(
        await processVersion(deps(), { documentId, version: 1, tenantId: 'default' }, firstAttempt),
      ).toBe('completed');
    }
    await processGroup(grouped);
    // Stored together (not one by one after a failed group): one transaction, one completed_at.
    const completedAt = (await outcomesOf(grouped)).map((o) => o.completedAt.getTime());
    expect(completedAt[1]).toBe(completedAt[0]);
    const rowsOf = async (id: string) =>
      (
        await pool.query(
          `SELECT chunk_index, text, start_offset, end_offset, word_count, token_count, pages, heading_path,
                  settings_hash, tenant_id
           FROM chunks WHERE document_id = $1 ORDER BY chunk_index`,
          [id],
        )
      ).rows;
    for (const [index, id] of grouped.entries()) {
      const expected = await rowsOf(alone[index] as string);
      expect(expected.length).toBeGreaterThan(1);
      expect(await rowsOf(id)).toEqual(expected);
    }
    const headed = await rowsOf(grouped[0] as string);
    expect(headed[0].heading_path).toEqual(['He said "hi", then \\ left']);
    expect(headed[0].text).toContain('tab\there, comma, "quoted"');
  });

  it('holds at most about a million characters of results for one transaction, storing the rest in another', async () => {
    // ~340,000 characters of text each, ~720,000 with their chunks: two cannot share a transaction.
    const ids = [
      await insertUnqueued(numberedWords(100)),
      await insertUnqueued(numberedWords(50_000)),
      await insertUnqueued(numberedWords(50_000)),
    ];
    await processGroup(ids);
    const outcomes = await outcomesOf(ids);
    expect(outcomes.map((o) => o.status)).toEqual(['completed', 'completed', 'completed']);
    const [small, first, second] = outcomes.map((o) => o.completedAt.getTime());
    expect(small).toBe(first);
    expect(second).not.toBe(first);
  });

  it('stores each version alone when their shared transaction fails: one the database refuses fails alone', async () => {
    // A real refusal by Postgres (a data exception, SQLSTATE 22023) of one version's chunks.
    await pool.query(`CREATE FUNCTION refuse_marked_chunk() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.text LIKE '%refuse-this-chunk%' THEN
          RAISE EXCEPTION 'chunk refused' USING ERRCODE = 'invalid_parameter_value';
        END IF;
        RETURN NEW;
      END $$`);
    await pool.query(
      'CREATE TRIGGER refuse_marked_chunk BEFORE INSERT ON chunks FOR EACH ROW EXECUTE FUNCTION refuse_marked_chunk()',
    );
    try {
      const ids = [
        await insertUnqueued(numberedWords(30)),
        await insertUnqueued(`${numberedWords(30)} refuse-this-chunk`),
        await insertUnqueued(numberedWords(40)),
      ];
      expect(await processGroup(ids)).toBe('completed');
      const outcomes = await outcomesOf(ids);
      expect(outcomes.map((o) => [o.status, o.code])).toEqual([
        ['completed', null],
        ['failed', 'invalid_content'],
        ['completed', null],
      ]);
      // Stored one by one: each in its own transaction.
      expect(outcomes[0].completedAt.getTime()).not.toBe(outcomes[2].completedAt.getTime());
      expect(await chunkRows(ids[1] as string)).toEqual([]);
    } finally {
      await pool.query('DROP TRIGGER refuse_marked_chunk ON chunks');
      await pool.query('DROP FUNCTION refuse_marked_chunk()');
    }
  });

  it('gives up waiting for a locked row after a second and stores each version alone', async () => {
    const ids = [
      await insertUnqueued(numberedWords(30)),
      await insertUnqueued(numberedWords(40)),
      await insertUnqueued(numberedWords(50)),
    ];
    // Another transaction holds the second version's row for 2.5 s, then lets go.
    const locker = await pool.connect();
    await locker.query('BEGIN');
    await locker.query('SELECT 1 FROM document_versions WHERE document_id = $1 FOR UPDATE', [ids[1]]);
    const released = new Promise<void>((resolve) =>
      setTimeout(async () => {
        await locker.query('ROLLBACK');
        locker.release();
        resolve();
      }, 2_500),
    );
    // While the row is still held, the first version must already be stored (alone).
    const whileHeld = new Promise((resolve) =>
      setTimeout(async () => resolve((await outcomesOf([ids[0] as string]))[0].status), 2_000),
    );
    try {
      await processGroup(ids);
    } finally {
      await released;
    }
    expect(await whileHeld).toBe('completed');
    const outcomes = await outcomesOf(ids);
    expect(outcomes.map((o) => o.status)).toEqual(['completed', 'completed', 'completed']);
  });

  /** `pool`, but counting its claims by the number of versions each asked for, and failing those listed. */
  const countingClaims = (fail: (versions: number) => boolean) => {
    const claims: number[] = [];
    const query = ((config: unknown, values?: unknown) => {
      const named = config as { name?: string; values?: unknown[] };
      if (named?.name?.startsWith('claim-versions')) {
        const versions = ((named.values?.length ?? 2) - 2) / 2;
        claims.push(versions);
        if (fail(versions))
          return Promise.reject(Object.assign(new Error('connection reset'), { code: 'ECONNRESET' }));
      }
      return (pool.query as (config: unknown, values?: unknown) => Promise<unknown>)(config, values);
    }) as Pool['query'];
    const counting = new Proxy(pool, {
      get(target, property) {
        if (property === 'query') return query;
        const value = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    return { claims, pool: counting };
  };

  it("reads a group's versions by one statement", async () => {
    const ids = [await insertUnqueued(numberedWords(30)), await insertUnqueued(numberedWords(40))];
    const counted = countingClaims(() => false);
    expect(await processGroup(ids, { ...deps(), pool: counted.pool })).toBe('completed');
    expect(counted.claims).toEqual([2]);
    expect((await outcomesOf(ids)).map((o) => o.status)).toEqual(['completed', 'completed']);
  });

  it("claims a group's large version alone, marking it, when its turn comes", async () => {
    const ids = [await insertUnqueued(numberedWords(30)), await insertUnqueued(numberedWords(20_000))];
    const counted = countingClaims(() => false);
    expect(await processGroup(ids, { ...deps(), pool: counted.pool })).toBe('completed');
    expect(counted.claims).toEqual([2, 1]);
    const { rows } = await pool.query(
      'SELECT attempts FROM document_versions WHERE document_id = ANY($1::uuid[]) ORDER BY bytes',
      [ids],
    );
    // The small one's attempt is recorded at completion; the large one's by its marking claim.
    expect(rows.map((row) => row.attempts)).toEqual([1, 1]);
    expect((await outcomesOf(ids)).map((o) => o.status)).toEqual(['completed', 'completed']);
  });

  it("reads a group's versions without waiting for a row another transaction holds", async () => {
    const ids = [await insertUnqueued(numberedWords(30)), await insertUnqueued(numberedWords(20_000))];
    const refs = ids.map((documentId) => ({ documentId, version: 1 }));
    // Statements time out after 200 ms on the faulty pool: a read that waited for the lock would fail.
    // The large one is held: a claim that marked it would wait for it.
    const reads = await withVersionHeld(ids[1] as string, (faultyPool) =>
      claimVersions(faultyPool, refs, { markAboveBytes: MARK_NONE, contentMaxBytes: INLINE_MAX_BYTES }),
    );
    expect(reads.map((read) => read && [read.marked, read.rawContent === null])).toEqual([
      [false, false],
      [false, true],
    ]);
  });

  it('claims each version alone when the group read fails, and still completes them', async () => {
    const ids = [await insertUnqueued(numberedWords(30)), await insertUnqueued(numberedWords(40))];
    const counted = countingClaims((versions) => versions > 1);
    expect(await processGroup(ids, { ...deps(), pool: counted.pool })).toBe('completed');
    expect(counted.claims).toEqual([2, 1, 1]);
    expect((await outcomesOf(ids)).map((o) => o.status)).toEqual(['completed', 'completed']);
  });

  it('records a version streamed inside a group like any other', async () => {
    const line = 'streamed words in a group\n';
    const large = line.repeat(Math.ceil((CLAIM_CONTENT_MAX_BYTES + 1000) / line.length));
    // Two streamed versions: the second comes after something has completed.
    const ids = [
      await insertUnqueued(large),
      await insertUnqueued(numberedWords(40)),
      await insertUnqueued(`${large} the second`),
    ];
    const metrics = new Metrics();
    await processGroup(ids, { ...deps(), metrics });
    expect((await outcomesOf(ids)).map((o) => o.status)).toEqual(['completed', 'completed', 'completed']);
    const completed = await metrics.documentsCompleted.get();
    expect(completed.values[0]?.value).toBe(3);
  });

  it('hands a version that fails for a passing reason to a job of its own and completes the others', async () => {
    const ids = [
      await insertUnqueued(numberedWords(30)),
      await insertUnqueued(numberedWords(40)),
      await insertUnqueued(numberedWords(50)),
    ];
    const versions = ids.map((documentId) => ({ documentId, version: 1, tenantId: 'default' }));
    const handedOff: string[][] = [];
    // The second version's row is held, so its completion times out.
    const outcome = await withVersionHeld(ids[1] as string, (faultyPool) =>
      processVersions(
        { ...deps(), pool: faultyPool },
        versions,
        { attemptsMade: 0, attemptsStarted: 1 },
        async (retry) => {
          handedOff.push(retry.map((v) => v.documentId));
        },
      ),
    );
    expect(outcome).toBe('completed');
    expect(handedOff).toEqual([[ids[1]]]);
    const { rows } = await pool.query(
      'SELECT document_id AS id, status FROM document_versions WHERE document_id = ANY($1::uuid[])',
      [ids],
    );
    const status = new Map(rows.map((row) => [row.id, row.status]));
    expect(ids.map((id) => status.get(id))).toEqual(['completed', 'queued', 'completed']);
  });

  it('fails when the hand-off fails, so the group is retried; the retry skips what completed or failed', async () => {
    const ids = [
      await insertUnqueued(numberedWords(20)),
      await insertUnqueued(numberedWords(30)),
      await insertUnqueued('   '),
    ];
    const versions = ids.map((documentId) => ({ documentId, version: 1, tenantId: 'default' }));
    const rowsOf = async () => {
      const { rows } = await pool.query(
        `SELECT v.document_id AS id, v.status, v.error_code AS code, v.completed_at AS "completedAt",
                (SELECT attempts FROM dlq_items d WHERE d.document_id = v.document_id) AS "deadAttempts"
         FROM document_versions v WHERE v.document_id = ANY($1::uuid[])`,
        [ids],
      );
      const byId = new Map(rows.map((row) => [row.id, row]));
      return ids.map((id) => byId.get(id));
    };
    const refused = async () => {
      throw new Error('redis is away');
    };
    // The second one's row is held: it fails for a passing reason and cannot be handed off.
    await withVersionHeld(ids[1] as string, async (faultyPool) => {
      const delivery = { attemptsMade: 0, attemptsStarted: 1 };
      await expect(
        processVersions({ ...deps(), pool: faultyPool }, versions, delivery, refused),
      ).rejects.toThrow('redis is away');
    });
    const first = await rowsOf();
    expect(first.map((row) => [row.status, row.code])).toEqual([
      ['completed', null],
      ['queued', null],
      ['failed', 'empty'],
    ]);

    const handedOff: string[] = [];
    const retried = await processVersions(
      deps(),
      versions,
      { attemptsMade: 1, attemptsStarted: 2 },
      async (r) => {
        handedOff.push(...r.map((v) => v.documentId));
      },
    );
    expect(retried).toBe('completed');
    expect(handedOff).toEqual([]);
    const second = await rowsOf();
    expect(second.map((row) => [row.status, row.code])).toEqual([
      ['completed', null],
      ['completed', null],
      ['failed', 'empty'],
    ]);
    // Neither the completed nor the failed one ran again.
    expect(second[0].completedAt).toEqual(first[0].completedAt);
    expect(second[2].deadAttempts).toBe(first[2].deadAttempts);
  });
});

describe('what a claim records', () => {
  /** A version and its document as a claim that marked them leaves them, and as one that did not. */
  const MARKED = { version: 'processing', document: 'processing', attempts: 1, started: true };
  const UNMARKED = { version: 'queued', document: 'queued', attempts: 0, started: false };

  const states = async (id: string) =>
    (
      await pool.query(
        `SELECT v.status AS version, d.status AS document, v.attempts, v.started_at IS NOT NULL AS started
         FROM document_versions v JOIN documents d ON d.id = v.document_id WHERE v.document_id = $1`,
        [id],
      )
    ).rows[0];

  it('marks a version processing only when a thread will take it, larger than the inline limit', async () => {
    const small = await insertUnqueued(numberedWords(1000));
    expect(await claimVersion(pool, { documentId: small, version: 1 }, INLINE_MAX_BYTES)).toMatchObject({
      marked: false,
    });
    expect(await states(small)).toEqual(UNMARKED);

    const large = await insertUnqueued(numberedWords(20_000));
    expect(numberedWords(20_000).length).toBeGreaterThan(INLINE_MAX_BYTES);
    expect(await claimVersion(pool, { documentId: large, version: 1 }, INLINE_MAX_BYTES)).toMatchObject({
      marked: true,
      attempts: 1,
    });
    expect(await states(large)).toEqual(MARKED);
  });

  it('claims several versions by one statement, in the order asked, marking only the large ones', async () => {
    const small = await insertUnqueued(numberedWords(1000));
    const large = await insertUnqueued(numberedWords(20_000));
    const done = await insertUnqueued('already done');
    await pool.query(`UPDATE document_versions SET status = 'completed' WHERE document_id = $1`, [done]);
    const missing = '0190a8b2-0000-7000-8000-000000000000';
    const claims = await claimVersions(
      pool,
      [large, missing, small, done].map((documentId) => ({ documentId, version: 1 })),
      { markAboveBytes: INLINE_MAX_BYTES },
    );
    expect(claims.map((claim) => claim && [claim.bytes, claim.marked, claim.attempts])).toEqual([
      [numberedWords(20_000).length, true, 1],
      undefined,
      [numberedWords(1000).length, false, 1],
      undefined,
    ]);
    expect(claims[2]?.rawContent?.toString()).toBe(numberedWords(1000));
    expect(await states(large)).toEqual(MARKED);
    expect(await states(small)).toEqual(UNMARKED);
  });

  it('keeps a cached plan for its claims rather than planning each anew', async () => {
    // One connection, so every claim runs on the same prepared statement.
    const single = createPool(
      { connectionString: databaseUrl, max: 1, applicationName: 'test' },
      silentLogger,
    );
    try {
      const ids = await Promise.all([1, 2, 3].map(() => insertUnqueued(numberedWords(10))));
      for (let round = 0; round < 10; round++) {
        const refs = ids.map((documentId) => ({ documentId, version: 1 }));
        await claimVersions(single, refs, { markAboveBytes: INLINE_MAX_BYTES });
        await claimVersion(
          single,
          refs[round % 3] as { documentId: string; version: number },
          INLINE_MAX_BYTES,
        );
      }
      const { rows } = await single.query(
        `SELECT name, generic_plans > 0 AS cached FROM pg_prepared_statements
         WHERE name LIKE 'claim-versions-%' ORDER BY name`,
      );
      expect(rows).toEqual([
        { name: 'claim-versions-1', cached: true },
        { name: 'claim-versions-3', cached: true },
      ]);
    } finally {
      await single.end();
    }
  });

  it('reads content too large for its claim whole and exact, as a stream', async () => {
    // 9 MB of multi-byte text: socket reads end inside characters.
    const content = 'ünïcødé wörds 中文 '.repeat((9 * 1024 * 1024) / 26);
    const id = await insertUnqueued(content);
    const ref = { documentId: id, version: 1 };
    const claimed = await claimVersion(pool, ref, INLINE_MAX_BYTES);
    expect(claimed?.bytes).toBeGreaterThan(8 * 1024 * 1024);
    // Too large to come with the claim: read on demand.
    expect(claimed?.rawContent).toBeNull();
    expect((await readRawContent(pool, ref, claimed?.bytes ?? 0)).equals(Buffer.from(content))).toBe(true);
  });

  it('streams plain text too large for its claim: the same text and chunks as the whole', async () => {
    // 2 MB of multi-byte text with CRLF line ends: pieces cut characters and pairs.
    const line = 'ünïcødé wörds 中文 and plain words\r\n';
    const content = line.repeat(Math.ceil((2 * CLAIM_CONTENT_MAX_BYTES + 1000) / Buffer.byteLength(line)));
    const id = await insertUnqueued(content);
    const ref = { documentId: id, version: 1, tenantId: 'default' };
    // A stray chunk past the end (as after a status reset by hand) must not survive.
    await insertStrayChunk(id, 90_000);
    expect(await processVersion(deps(), ref, firstAttempt)).toBe('completed');
    const expected = decodeText(Buffer.from(content)).text;
    const { rows } = await pool.query(
      `SELECT status, chunk_count, extracted_text = $2 AS same_text, detected_type
       FROM document_versions WHERE document_id = $1`,
      [id, expected],
    );
    const wholeChunks = chunkText(
      { text: expected, headings: [], pages: [] },
      { strategy: 'words', size: 500, overlap: 50 },
    );
    expect(rows[0]).toEqual({
      status: 'completed',
      chunk_count: wholeChunks.length,
      same_text: true,
      detected_type: 'text/plain',
    });
    const stored = await pool.query(
      `SELECT chunk_index AS index, text, start_offset AS start, end_offset AS "end", word_count AS "wordCount",
              token_count AS "tokenCount"
       FROM chunks WHERE document_id = $1 ORDER BY chunk_index`,
      [id],
    );
    expect(stored.rows).toEqual(
      wholeChunks.map(({ index, text, start, end, wordCount, tokenCount }) => ({
        index,
        text,
        start,
        end,
        wordCount,
        tokenCount,
      })),
    );
    // A second delivery finds it completed.
    expect(await processVersion(deps(), ref, firstAttempt)).toBe('skipped');
  });

  it('fails a streamed document whose later pieces are not text, keeping none of its chunks', async () => {
    // Over a claim's worth of words (so streamed), then a quarter as many control characters.
    const content =
      'plain words '.repeat(CLAIM_CONTENT_MAX_BYTES / 12 + 1000) +
      '\u0001'.repeat(CLAIM_CONTENT_MAX_BYTES / 4);
    const id = await insertUnqueued(content);
    const ref = { documentId: id, version: 1, tenantId: 'default' };
    await expect(processVersion(deps(), ref, firstAttempt)).rejects.toThrow(/unsupported_type/);
    const { rows } = await pool.query(
      `SELECT v.status, v.error_code, v.extracted_text IS NULL AS no_text,
              (SELECT count(*)::int FROM chunks c WHERE c.document_id = v.document_id) AS chunks
       FROM document_versions v WHERE document_id = $1`,
      [id],
    );
    expect(rows[0]).toEqual({ status: 'failed', error_code: 'unsupported_type', no_text: true, chunks: 0 });
    await expectNoConnectionLeft();
  });

  it('reads large text again when it is not UTF-8 after its first piece, and large JSON whole', async () => {
    // ASCII for over a megabyte, then windows-1252 in the middle: valid UTF-8 at first only, so
    // the first pass stops halfway through its stream.
    const ascii = Buffer.from('plain ascii words '.repeat(CLAIM_CONTENT_MAX_BYTES / 18 + 1000));
    const legacy = Buffer.concat([
      ascii,
      Buffer.from([0x43, 0x61, 0x66, 0xe9, 0x20, 0x93, 0x71, 0x94]), // Café “q” in windows-1252
      ascii,
    ]);
    const legacyId = await insertUnqueuedBytes(legacy, 'text/plain');
    // JSON over a claim's worth, declared as bytes: only its whole says JSON.
    const json = JSON.stringify(Array.from({ length: 30_000 }, (_, n) => ({ n, text: `item number ${n}` })));
    const jsonId = await insertUnqueuedBytes(Buffer.from(json), 'application/octet-stream');
    for (const id of [legacyId, jsonId]) {
      expect(
        await processVersion(deps(), { documentId: id, version: 1, tenantId: 'default' }, firstAttempt),
      ).toBe('completed');
    }
    const { rows } = await pool.query(
      `SELECT document_id, detected_type, substr(extracted_text, $2, 8) AS ending
       FROM document_versions WHERE document_id = ANY($1::uuid[])`,
      [[legacyId, jsonId], ascii.length + 1],
    );
    const byId = new Map(rows.map((row) => [row.document_id, row]));
    expect(byId.get(legacyId)).toMatchObject({ detected_type: 'text/plain', ending: 'Café “q”' });
    expect(byId.get(jsonId)).toMatchObject({ detected_type: 'application/json' });
    await expectNoConnectionLeft();
  });

  it("records an unmarked version's start, and its job's deliveries as attempts, when it completes", async () => {
    const id = await insertUnqueued(numberedWords(1000));
    const ref = { documentId: id, version: 1, tenantId: 'default' };
    // Delivered three times: twice to a worker that died before finishing, then here.
    expect(await processVersion(deps(), ref, { number: 1, isLast: false, deliveries: 3 })).toBe('completed');
    expect(await states(id)).toEqual({
      version: 'completed',
      document: 'completed',
      attempts: 3,
      started: true,
    });
  });

  it('writes the chunks of a large version in several statements, replacing any it had', async () => {
    // 400,000 words: ~3.2 million characters of chunk text, over the one-statement limit. As
    // Markdown, so processed whole: large plain text is streamed (tested above).
    const id = await insertUnqueuedDocument(pool, numberedWords(400_000), 'default', 'text/markdown');
    const ref = { documentId: id, version: 1, tenantId: 'default' };
    const summary = async () =>
      (
        await pool.query(
          `SELECT count(*)::int AS chunks, min(chunk_index) AS first, max(chunk_index) AS last,
                  sum(word_count)::int AS words, bool_and(c.text = substr(${versionTextSql('v')}, start_offset + 1,
                    end_offset - start_offset)) AS exact
           FROM chunks c JOIN document_versions v USING (document_id, version) WHERE document_id = $1`,
          [id],
        )
      ).rows[0];
    expect(await processVersion(deps(), ref, firstAttempt)).toBe('completed');
    const expected = { chunks: 889, first: 0, last: 888, words: 400_000 + 888 * 50, exact: true };
    expect(await summary()).toEqual(expected);

    // As if a crash had lost the completion, with a stray chunk past the end: run again.
    await pool.query(`UPDATE document_versions SET status = 'queued' WHERE document_id = $1`, [id]);
    await insertStrayChunk(id, 5000);
    expect(await processVersion(deps(), ref, firstAttempt)).toBe('completed');
    expect(await summary()).toEqual(expected);
    expect(await processVersion(deps(), ref, firstAttempt)).toBe('skipped');
  });

  it('counts a marked version one attempt a claim, whatever the deliveries', async () => {
    const id = await insertUnqueued(numberedWords(20_000));
    const ref = { documentId: id, version: 1, tenantId: 'default' };
    expect(await processVersion(deps(), ref, { number: 1, isLast: false, deliveries: 3 })).toBe('completed');
    expect(await states(id)).toMatchObject({ version: 'completed', attempts: 1, started: true });
  });
});

describe('processing the same version more than once', () => {
  it('skips a version that is already completed and keeps its one set of chunks', async () => {
    const id = await submit({ content: numberedWords(1000) });
    await settled(id);
    const before = await chunkRows(id);
    const outcome = await processVersion(
      deps(),
      { documentId: id, version: 1, tenantId: 'default' },
      firstAttempt,
    );
    expect(outcome).toBe('skipped');
    expect(await chunkRows(id)).toEqual(before);
  });

  it('replaces rather than adds chunks when a version is run again from the start', async () => {
    const id = await insertUnqueued(numberedWords(1000));
    const ref = { documentId: id, version: 1, tenantId: 'default' };
    expect(await processVersion(deps(), ref, firstAttempt)).toBe('completed');
    // As if a crash had lost the completion: the version is queued again and re-delivered.
    await pool.query(`UPDATE document_versions SET status = 'queued' WHERE document_id = $1`, [id]);
    expect(await processVersion(deps(), ref, firstAttempt)).toBe('completed');
    const rows = await chunkRows(id);
    expect(rows.map((row) => row.chunk_index)).toEqual([0, 1, 2]);
  });

  it('lets exactly one of two concurrent deliveries store chunks', async () => {
    const id = await insertUnqueued(numberedWords(1000));
    const ref = { documentId: id, version: 1, tenantId: 'default' };
    const outcomes = await Promise.all([
      processVersion(deps(), ref, firstAttempt),
      processVersion(deps(), ref, firstAttempt),
    ]);
    expect(outcomes.sort()).toEqual(['completed', 'skipped']);
    expect((await chunkRows(id)).map((row) => row.chunk_index)).toEqual([0, 1, 2]);
  });
});
