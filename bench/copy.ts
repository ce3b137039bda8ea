/**
 * `npm run bench -- copy`: chunk rows written through ingestd's own insert path (copyChunks,
 * as a worker stores a group job's versions: one COPY of a group's chunks in its transaction, as
 * many at once as a worker runs) beside a
 * plain COPY of the same rows into a scratch table shaped like `chunks` (LIKE chunks INCLUDING ALL:
 * same columns, primary key and defaults; no foreign key), in a private durable Postgres. Halves
 * run ingestd, COPY, COPY, ingestd, so drift in the machine's load weighs on both alike.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { pino } from 'pino';
import { v7 as uuidv7 } from 'uuid';
import { chunkText } from '../src/pipeline/chunk/index.js';
import { type Chunk, type ChunkingSettings, settingsHash } from '../src/pipeline/chunk/settings.js';
import { GROUP_JOB_MAX_VERSIONS } from '../src/queue/jobs.js';
import { copyChunks } from '../src/store/completion.js';
import { insertDocuments, type NewDocument } from '../src/store/documents.js';
import { migrate } from '../src/store/migrate.js';
import { inTransaction } from '../src/store/pool.js';
import type { Cleanup } from './cleanup.js';
import { CpuMeter, postgresComponent } from './cpu.js';
import { documentText } from './documents.js';
import { formatFigure, formatNumber, formatRatio } from './format.js';
import { findPostmasterPid } from './server-processes.js';
import { benchTempDir, startBenchPostgres } from './stack.js';
import { check, ISSUE7, type Row } from './targets.js';

export interface CopySettings {
  /** Documents whose chunks are written (each side writes all of them, half at a time). */
  docs: number;
  words: number;
  chunkSize: number;
  chunkOverlap: number;
  /** Documents written at once through ingestd's path (a worker's concurrency). */
  concurrency: number;
}

export interface CopySide {
  method: 'ingestd' | 'copy';
  rows: number;
  seconds: number;
  rowsPerSec: number | null;
  /** Chunk text written a second, in MB (2^20 bytes of UTF-8). */
  mbPerSec: number | null;
  /** CPU per 1,000 rows: Postgres, and this process (building and sending the rows). */
  postgresCpuMsPer1000Rows: number | null;
  clientCpuMsPer1000Rows: number | null;
}

export interface CopyMeasurement {
  scenario: 'copy';
  settings: CopySettings;
  server: string;
  ingestd: CopySide;
  copy: CopySide;
  /** ingestd rows/s / COPY rows/s. */
  ratio: number | null;
  /** Rows found in each table afterwards (a check that both wrote everything). */
  stored: { ingestd: number; copy: number };
}

const SCRATCH_TABLE = 'bench_copy_chunks';
const COLUMNS =
  'document_id, version, tenant_id, settings_hash, chunk_index, text, start_offset, end_offset, ' +
  'word_count, token_count, pages, heading_path';
const TENANT = 'bench';

/** A value in COPY's text format: backslash, newline, carriage return and tab escaped. */
export function copyTextField(value: string): string {
  return value.replace(/[\\\n\r\t]/g, (character) => {
    switch (character) {
      case '\\':
        return '\\\\';
      case '\n':
        return '\\n';
      case '\r':
        return '\\r';
      default:
        return '\\t';
    }
  });
}

/** One chunk as a line of COPY text, columns in COLUMNS' order. */
export function copyLine(documentId: string, version: number, hash: string, chunk: Chunk): string {
  return `${[
    documentId,
    String(version),
    TENANT,
    hash,
    String(chunk.index),
    copyTextField(chunk.text),
    String(chunk.start),
    String(chunk.end),
    String(chunk.wordCount),
    String(chunk.tokenCount),
    `{${chunk.pages.join(',')}}`,
    copyTextField(JSON.stringify(chunk.headingPath)),
  ].join('\t')}\n`;
}

interface PreparedDocument {
  id: string;
  chunks: Chunk[];
}

/** Documents with their first versions stored (the chunks' foreign key needs them), and their chunks. */
async function prepareDocuments(pool: pg.Pool, settings: CopySettings, chunking: ChunkingSettings) {
  const prepared: PreparedDocument[] = [];
  const pending: NewDocument[] = [];
  for (let index = 0; index < settings.docs; index++) {
    const text = documentText('copy', index, settings.words);
    const id = uuidv7();
    prepared.push({ id, chunks: chunkText({ text, headings: [], pages: [] }, chunking) });
    pending.push({
      id,
      tenantId: TENANT,
      source: 'bench-copy',
      externalId: null,
      filename: null,
      metadata: {},
      contentType: 'text/plain',
      content: Buffer.from(text),
      contentHash: Buffer.alloc(32, index % 256),
      chunking,
      requestId: null,
    });
    if (pending.length === 200 || index === settings.docs - 1) await insertDocuments(pool, pending.splice(0));
  }
  return prepared;
}

interface Pass {
  rows: number;
  bytes: number;
  seconds: number;
  postgresMs: number;
  clientMs: number;
}

/**
 * Writes the documents' chunks through copyChunks, GROUP_JOB_MAX_VERSIONS documents a
 * transaction committed with the COPY (as a worker stores a group job's versions), `concurrency`
 * transactions at once.
 */
async function writeThroughIngestd(
  pool: pg.Pool,
  documents: readonly PreparedDocument[],
  hash: string,
  concurrency: number,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    for (let first = next; first < documents.length; first = next) {
      next += GROUP_JOB_MAX_VERSIONS;
      const group = documents.slice(first, first + GROUP_JOB_MAX_VERSIONS);
      await inTransaction(pool, (client) =>
        copyChunks(
          client,
          group.map((document) => ({
            ref: { documentId: document.id, version: 1 },
            tenantId: TENANT,
            settingsHash: hash,
            chunks: document.chunks,
          })),
          { thenCommit: true },
        ),
      );
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
}

/** Writes every chunk of `documents` with one COPY (one statement, one commit). */
async function writeByCopy(
  pool: pg.Pool,
  documents: readonly PreparedDocument[],
  hash: string,
): Promise<void> {
  const client = await pool.connect();
  try {
    const stream = client.query(copyFrom(`COPY ${SCRATCH_TABLE} (${COLUMNS}) FROM STDIN`));
    async function* lines() {
      let buffered = '';
      for (const document of documents) {
        for (const chunk of document.chunks) {
          buffered += copyLine(document.id, 1, hash, chunk);
          if (buffered.length >= 64 * 1024) {
            yield buffered;
            buffered = '';
          }
        }
      }
      if (buffered) yield buffered;
    }
    await pipeline(Readable.from(lines()), stream);
  } finally {
    client.release();
  }
}

function side(method: CopySide['method'], passes: readonly Pass[]): CopySide {
  const rows = passes.reduce((sum, pass) => sum + pass.rows, 0);
  const bytes = passes.reduce((sum, pass) => sum + pass.bytes, 0);
  const seconds = passes.reduce((sum, pass) => sum + pass.seconds, 0);
  const per1000 = (ms: number) => (rows > 0 ? (ms / rows) * 1000 : null);
  return {
    method,
    rows,
    seconds,
    rowsPerSec: seconds > 0 ? rows / seconds : null,
    mbPerSec: seconds > 0 ? bytes / 1024 ** 2 / seconds : null,
    postgresCpuMsPer1000Rows: per1000(passes.reduce((sum, pass) => sum + pass.postgresMs, 0)),
    clientCpuMsPer1000Rows: per1000(passes.reduce((sum, pass) => sum + pass.clientMs, 0)),
  };
}

/** Runs the scenario in a private durable Postgres of its own. */
export async function runCopy(settings: CopySettings, cleanup: Cleanup): Promise<CopyMeasurement> {
  process.stderr.write('bench: starting a private durable postgres...\n');
  const postgres = await startBenchPostgres(benchTempDir(cleanup), cleanup);
  const databaseUrl = postgres.url('ingestd');
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: settings.concurrency,
    application_name: 'ingestd-bench-copy',
  });
  // pg-pool's end() resolves before its sockets close: a server stopping meanwhile must not crash us.
  pool.on('error', () => {});
  cleanup.add('close copy pool', () => pool.end());
  await migrate(pool, pino({ level: 'warn' }, pino.destination(2)));
  await pool.query(`CREATE TABLE ${SCRATCH_TABLE} (LIKE chunks INCLUDING ALL)`);
  const { rows: versionRows } = await pool.query<{ version: string }>(
    `SELECT split_part(current_setting('server_version'), ' ', 1) AS version`,
  );
  const postmaster = await findPostmasterPid(databaseUrl);

  const chunking: ChunkingSettings = {
    strategy: 'words',
    size: settings.chunkSize,
    overlap: settings.chunkOverlap,
  };
  const hash = settingsHash(chunking);
  process.stderr.write(`bench: preparing ${settings.docs} documents and their chunks (not timed)...\n`);
  const documents = await prepareDocuments(pool, settings, chunking);
  const half = Math.ceil(documents.length / 2);
  const halves = [documents.slice(0, half), documents.slice(half)] as const;

  const pass = async (method: CopySide['method'], part: readonly PreparedDocument[]): Promise<Pass> => {
    const meter = new CpuMeter(postmaster === null ? [] : [postgresComponent(postmaster)]);
    const rows = part.reduce((sum, document) => sum + document.chunks.length, 0);
    const bytes = part.reduce(
      (sum, document) =>
        sum + document.chunks.reduce((total, chunk) => total + Buffer.byteLength(chunk.text), 0),
      0,
    );
    process.stderr.write(`bench: ${method}: ${rows} rows of ${part.length} documents\n`);
    meter.start();
    const started = performance.now();
    if (method === 'ingestd') await writeThroughIngestd(pool, part, hash, settings.concurrency);
    else await writeByCopy(pool, part, hash);
    const seconds = (performance.now() - started) / 1000;
    const cpu = meter.stop();
    return { rows, bytes, seconds, postgresMs: cpu.components.postgres ?? 0, clientMs: cpu.loadGeneratorMs };
  };
  const passes: { method: CopySide['method']; pass: Pass }[] = [];
  for (const [method, part] of [
    ['ingestd', halves[0]],
    ['copy', halves[0]],
    ['copy', halves[1]],
    ['ingestd', halves[1]],
  ] as const) {
    passes.push({ method, pass: await pass(method, part) });
  }
  const ingestd = side(
    'ingestd',
    passes.filter((each) => each.method === 'ingestd').map((each) => each.pass),
  );
  const copy = side(
    'copy',
    passes.filter((each) => each.method === 'copy').map((each) => each.pass),
  );
  const { rows: counts } = await pool.query<{ ingestd: number; copy: number }>(
    `SELECT (SELECT count(*)::int FROM chunks WHERE tenant_id = $1) AS ingestd,
            (SELECT count(*)::int FROM ${SCRATCH_TABLE}) AS copy`,
    [TENANT],
  );
  return {
    scenario: 'copy',
    settings,
    server: `postgres ${versionRows[0]?.version ?? '?'} (durable: fsync and synchronous_commit on)`,
    ingestd,
    copy,
    ratio: ingestd.rowsPerSec !== null && copy.rowsPerSec ? ingestd.rowsPerSec / copy.rowsPerSec : null,
    stored: counts[0] ?? { ingestd: 0, copy: 0 },
  };
}

function describeSide(side: CopySide): string {
  return (
    `${formatFigure(side.rowsPerSec)} rows/s, ${formatFigure(side.mbPerSec)} MB/s of text ` +
    `(${formatNumber(side.rows)} rows in ${formatFigure(side.seconds)} s); CPU per 1,000 rows: ` +
    `postgres ${formatFigure(side.postgresCpuMsPer1000Rows)} ms, bench ${formatFigure(side.clientCpuMsPer1000Rows)} ms`
  );
}

export function copyProblems(result: CopyMeasurement): string[] {
  const problems: string[] = [];
  if (result.stored.ingestd !== result.ingestd.rows) {
    problems.push(`chunks holds ${result.stored.ingestd} rows, ${result.ingestd.rows} were written`);
  }
  if (result.stored.copy !== result.copy.rows) {
    problems.push(`${SCRATCH_TABLE} holds ${result.stored.copy} rows, ${result.copy.rows} were copied`);
  }
  return problems;
}

export function copyRows(result: CopyMeasurement): Row[] {
  const { settings } = result;
  return [
    {
      figure: 'rows',
      measured:
        `chunks of ${formatNumber(settings.docs)} documents of ${formatNumber(settings.words)} words ` +
        `(words ${settings.chunkSize}/${settings.chunkOverlap}); halves: ingestd, COPY, COPY, ingestd`,
    },
    {
      figure: `ingestd copyChunks, ${GROUP_JOB_MAX_VERSIONS} documents a transaction (${settings.concurrency} at once)`,
      measured: describeSide(result.ingestd),
    },
    { figure: 'plain COPY, one statement', measured: describeSide(result.copy) },
    {
      figure: 'ingestd / COPY (rows/s)',
      measured: formatRatio(result.ratio),
      issue: check(
        'issue 7',
        `>= ${formatRatio(ISSUE7.copyRatio)}`,
        result.ratio === null ? false : result.ratio >= ISSUE7.copyRatio,
      ),
    },
  ];
}
