import { type Chunk, type ChunkingSettings, settingsHash } from '../pipeline/chunk/settings.js';
import type { ExtractedText } from '../pipeline/extract/types.js';
import type { TextWindow } from '../pipeline/stream-text.js';
import { BinaryCopyWriter } from './binary-copy.js';
import { chunkArrays, chunkRowsSql } from './chunks.js';
import { copyInWhole } from './copy-in.js';
import { statementPerCount } from './per-count.js';
import { inTransaction, type Pool, type PoolClient } from './pool.js';
import { storable } from './storable.js';
import type { VersionRef } from './versions.js';

/*
 * Completing a version: its extracted text, structure and chunks stored, and the version, its
 * document and any dead letter of it settled, in one transaction.
 */

export interface CompletedVersion {
  tenantId: string;
  /** Whether claimVersion marked it processing; if not, this completion records the attempts. */
  marked: boolean;
  /** Times its job was delivered (attempts, stalls included): its attempts when not marked. */
  deliveries: number;
  /** How long processing took, for started_at when the claim did not record it. */
  processingMs: number;
  detectedType: string;
  extracted: ExtractedText;
  /** The extracted text is the raw content as UTF-8: stored as text_is_raw, not again as text. */
  textIsRaw?: boolean;
  chunking: ChunkingSettings;
  chunks: readonly Chunk[];
  extractedAt: Date;
  chunkedAt: Date;
}

/*
 * The parts of a completion (completeRowsStatement repeats them for a group's rows: keep them
 * alike). Parameters: $1 document, $2 version, $3-$11 the version's columns
 * (see versionValues), $6 its chunk count. `extractedText` is the SQL of the text: $3 but in
 * completeStreamedVersion. $3 is NULL when the text is the raw content (textIsRaw).
 */
const completeVersionRow = (extractedText = '$3') => `UPDATE document_versions
       SET status = 'completed', extracted_text = ${extractedText}, text_is_raw = $3::text IS NULL,
           extracted_structure = $4, detected_type = $5, chunk_count = $6,
           extracted_at = $7, chunked_at = $8, completed_at = now(), updated_at = now(),
           error_code = NULL, error_message = NULL,
           attempts = CASE WHEN $9 THEN attempts ELSE attempts + $11 END,
           started_at = CASE WHEN $9 THEN started_at ELSE now() - make_interval(secs => $10 / 1000.0) END
       WHERE document_id = $1 AND version = $2 AND status <> 'completed'
       RETURNING tenant_id`;
const CHUNK_COLUMNS = `chunks (document_id, version, tenant_id, settings_hash, chunk_index, text, start_offset,
                           end_offset, word_count, token_count, pages, heading_path)`;
const CHUNK_COLUMN_COUNT = 12;
/** Chunks a version has are overwritten by index (see completeVersion). */
const CHUNK_CONFLICT = `ON CONFLICT (document_id, version, chunk_index) DO UPDATE
         SET tenant_id = EXCLUDED.tenant_id, settings_hash = EXCLUDED.settings_hash, text = EXCLUDED.text,
             start_offset = EXCLUDED.start_offset, end_offset = EXCLUDED.end_offset,
             word_count = EXCLUDED.word_count, token_count = EXCLUDED.token_count, pages = EXCLUDED.pages,
             heading_path = EXCLUDED.heading_path`;
/**
 * What follows a version's completion, each step guarded by `when` (that it did complete);
 * `chunkCount` names the parameter holding its number of chunks.
 */
const settleCompletion = (when: string, chunkCount: string) => `surplus_chunks AS (
       DELETE FROM chunks WHERE document_id = $1 AND version = $2 AND chunk_index >= ${chunkCount} AND ${when}
     ), settled_dead_letter AS (
       -- A re-driven dead letter is settled by its version completing.
       UPDATE dlq_items SET status = 'resolved', updated_at = now()
       WHERE document_id = $1 AND version = $2 AND status IN ('pending', 'retrying') AND ${when}
     ), document AS (
       UPDATE documents
       SET current_version = GREATEST(COALESCE(current_version, 0), $2),
           status = CASE WHEN latest_version = $2 THEN 'completed' ELSE status END,
           updated_at = now()
       WHERE id = $1 AND ${when}
     )`;

/** Chunk text, in UTF-16 units, above which a version's chunks are written in several statements. */
const CHUNK_BATCH_CHARS = 2 * 1024 * 1024;

function versionValues(
  ref: VersionRef,
  result: Omit<CompletedVersion, 'chunks' | 'chunking'>,
  chunkCount: number,
): unknown[] {
  const { text, headings, pages } = result.extracted;
  return [
    ref.documentId,
    ref.version,
    result.textIsRaw === true ? null : storable(text),
    JSON.stringify({ headings: headings.map((h) => ({ ...h, title: storable(h.title) })), pages }),
    result.detectedType,
    chunkCount,
    result.extractedAt,
    result.chunkedAt,
    result.marked,
    result.processingMs,
    result.deliveries,
  ];
}

/**
 * Stores a version's text and chunks and marks it completed, atomically. Returns false, writing
 * nothing, when the version was completed meanwhile (a late duplicate delivery): the first
 * completion wins and its chunks stay. Chunks are only written together with `completed`, so a
 * version not yet completed normally has none; should one have some anyway (a status reset by
 * hand), they are overwritten by index and the surplus deleted, so a version never ends with two
 * sets. Usually one statement (one round trip, one commit); a version with more than
 * CHUNK_BATCH_CHARS of chunk text is written by one transaction of several, so no statement
 * holds all of a large document's chunks in one message.
 */
export async function completeVersion(
  pool: Pool,
  ref: VersionRef,
  result: CompletedVersion,
): Promise<boolean> {
  if (chunkCharsOf(result) > CHUNK_BATCH_CHARS) {
    return inTransaction(pool, (client) => completeInBatches(client, ref, result));
  }
  return completeInOneStatement(pool, ref, result);
}

/** Longest a group's transaction waits for a row lock before the caller stores each version alone. */
const GROUP_LOCK_TIMEOUT_MS = 1_000;

/**
 * completeVersion for several versions in one transaction (a group job's): one commit, so one WAL
 * flush waited for, instead of one each. Measured on a private durable Postgres, 5,000 documents
 * of 1,000 words each way, 8 at a time: Postgres 0.53-0.59 -> 0.39-0.46 ms/doc, 2,230-2,450 ->
 * 3,000-3,800 completions a second. All the versions' rows are completed by one statement (which
 * also clears any chunks they had), then all their chunks go by one COPY (copyChunks): against a
 * statement per version, at 1,000 docs/s offered Postgres went from 0.80-0.87 to 0.66-0.69 CPU
 * ms/doc and the worker from 0.77-0.88 to 0.62-0.70 (fewer executor start-ups and round trips). A
 * version with more than CHUNK_BATCH_CHARS of chunk text is written as completeVersion writes it.
 * All or nothing: when it throws, nothing is stored and the caller can store the versions one by
 * one, to learn which of them (if any) is at fault. Returns, in order, whether each version was
 * completed by this call (false: completed meanwhile).
 */
export async function completeVersions(
  pool: Pool,
  versions: readonly { ref: VersionRef; result: CompletedVersion }[],
): Promise<boolean[]> {
  // A row another transaction holds (a second delivery's, a DELETE's) fails the group fast
  // (lockTimeoutMs), rather than holding the rows of the versions before it for a whole
  // statement timeout.
  return inTransaction(
    pool,
    async (client) => {
      const completed: boolean[] = versions.map(() => false);
      const together: { position: number; ref: VersionRef; result: CompletedVersion }[] = [];
      for (const [position, { ref, result }] of versions.entries()) {
        if (chunkCharsOf(result) > CHUNK_BATCH_CHARS) {
          // processVersions never groups one this large (GROUP_STORE_MAX_CHARS is smaller); kept
          // so that any caller gets batches rather than one huge COPY.
          completed[position] = await completeInBatches(client, ref, result);
        } else {
          together.push({ position, ref, result });
        }
      }
      const tenants = await completeRowsClearingChunks(client, together);
      const copied: VersionChunks[] = [];
      for (const [k, { position, ref, result }] of together.entries()) {
        const tenantId = tenants[k];
        if (tenantId === undefined) continue;
        completed[position] = true;
        copied.push({ ref, tenantId, settingsHash: settingsHash(result.chunking), chunks: result.chunks });
      }
      // The COMMIT rides with the COPY: one write and one round trip fewer (inTransaction).
      await copyChunks(client, copied, { thenCommit: true });
      return completed;
    },
    { lockTimeoutMs: GROUP_LOCK_TIMEOUT_MS },
  );
}

/** Values of a version's row in completeRowsStatement's VALUES list, each with its type. */
const ROW_VALUE_TYPES = [
  'uuid',
  'int',
  'text',
  'jsonb',
  'text',
  'int',
  'timestamptz',
  'timestamptz',
  'boolean',
  'float8',
  'int',
] as const;

/**
 * The statement that completes `count` version rows (see completeRowsClearingChunks and
 * statementPerCount). Its parts are completeVersionRow and settleCompletion for many rows at
 * once: a change to one must be made to the other.
 */
const completeRowsStatement = statementPerCount((count) => {
  const width = ROW_VALUE_TYPES.length;
  const rows = Array.from(
    { length: count },
    (_, k) => `(${ROW_VALUE_TYPES.map((type, i) => `$${k * width + i + 1}::${type}`).join(', ')}, ${k})`,
  );
  return `WITH v (document_id, version, extracted_text, extracted_structure, detected_type, chunk_count,
                  extracted_at, chunked_at, marked, processing_ms, deliveries, position) AS (
       VALUES ${rows.join(', ')}
     ), completed AS (
       UPDATE document_versions d
       SET status = 'completed', extracted_text = v.extracted_text, text_is_raw = v.extracted_text IS NULL,
           extracted_structure = v.extracted_structure,
           detected_type = v.detected_type, chunk_count = v.chunk_count, extracted_at = v.extracted_at,
           chunked_at = v.chunked_at, completed_at = now(), updated_at = now(), error_code = NULL, error_message = NULL,
           attempts = CASE WHEN v.marked THEN d.attempts ELSE d.attempts + v.deliveries END,
           started_at = CASE WHEN v.marked THEN d.started_at ELSE now() - make_interval(secs => v.processing_ms / 1000.0) END
       FROM v
       WHERE d.document_id = v.document_id AND d.version = v.version AND d.status <> 'completed'
       RETURNING v.position, d.document_id, d.version, d.tenant_id
     ), surplus_chunks AS (
       DELETE FROM chunks c USING completed WHERE c.document_id = completed.document_id AND c.version = completed.version
     ), settled_dead_letter AS (
       -- A re-driven dead letter is settled by its version completing.
       UPDATE dlq_items q SET status = 'resolved', updated_at = now()
       FROM completed
       WHERE q.document_id = completed.document_id AND q.version = completed.version
         AND q.status IN ('pending', 'retrying')
     ), document AS (
       -- One row per document, should a group ever hold two versions of one.
       UPDATE documents
       SET current_version = GREATEST(COALESCE(current_version, 0), c.version),
           status = CASE WHEN latest_version = c.version THEN 'completed' ELSE status END,
           updated_at = now()
       FROM (SELECT document_id, max(version) AS version FROM completed GROUP BY document_id) c
       WHERE documents.id = c.document_id
     )
     SELECT position, tenant_id FROM completed`;
});

/**
 * Versions' rows completed and their old chunks (if any) deleted, in one statement, with what
 * follows a completion (completeVersion's settleCompletion); their new chunks follow by
 * copyChunks. Returns each version's tenant, in order, or undefined for one completed meanwhile.
 */
async function completeRowsClearingChunks(
  client: PoolClient,
  versions: readonly { ref: VersionRef; result: CompletedVersion }[],
): Promise<(string | undefined)[]> {
  const tenants: (string | undefined)[] = versions.map(() => undefined);
  if (versions.length === 0) return tenants;
  const { rows } = await client.query<{ position: number; tenant_id: string }>({
    name: `complete-version-rows-${versions.length}`,
    text: completeRowsStatement(versions.length),
    values: versions.flatMap(({ ref, result }) => versionValues(ref, result, result.chunks.length)),
  });
  for (const row of rows) tenants[row.position] = row.tenant_id;
  return tenants;
}

/** Chunks of several versions, for copyChunks. */
export interface VersionChunks {
  ref: VersionRef;
  tenantId: string;
  settingsHash: string;
  chunks: readonly Chunk[];
}

/**
 * Writes chunks by one COPY, in the caller's transaction: the chunks of a group's versions whose
 * rows it has completed (and cleared of old chunks). In CSV, measured on the store step of 5,000
 * documents against one INSERT per version: Postgres 0.39-0.40 -> 0.33-0.34 ms/doc, the writer's
 * own CPU 0.107 -> 0.136-0.141. Now in binary format: Postgres parsing CSV was 8% of its CPU at
 * 1,000 docs/s (perf), scanning every character of every chunk for quotes (capacity.md, M14).
 * Sent with its query in one write (copyInWhole). `thenCommit` commits the caller's transaction
 * in the same message when there are rows to copy; without rows nothing is sent.
 */
export async function copyChunks(
  client: PoolClient,
  versions: readonly VersionChunks[],
  options: { thenCommit?: boolean } = {},
): Promise<void> {
  let rows = 0;
  let chars = 0;
  for (const { chunks } of versions) {
    rows += chunks.length;
    for (const chunk of chunks) chars += chunk.text.length;
  }
  if (rows === 0) return;
  // Room for the text in any script (3 bytes a UTF-16 unit at most): the buffer grows only for
  // rows whose other fields take over 256 bytes (many pages, long heading paths).
  const copy = new BinaryCopyWriter(chars * 3 + rows * 256);
  for (const { ref, tenantId, settingsHash: hash, chunks } of versions) {
    for (const chunk of chunks) {
      copy
        .row(CHUNK_COLUMN_COUNT)
        .uuid(ref.documentId)
        .int32(ref.version)
        .text(tenantId)
        .text(hash)
        .int32(chunk.index)
        .text(storable(chunk.text))
        .int32(chunk.start)
        .int32(chunk.end)
        .int32(chunk.wordCount)
        .int32(chunk.tokenCount)
        .int32Array(chunk.pages)
        .jsonb(JSON.stringify(chunk.headingPath.map(storable)));
    }
  }
  const commit = options.thenCommit === true ? '; COMMIT' : '';
  await copyInWhole(client, `COPY ${CHUNK_COLUMNS} FROM STDIN (FORMAT binary)${commit}`, copy.finish());
}

function chunkCharsOf(result: CompletedVersion): number {
  let chars = 0;
  for (const chunk of result.chunks) chars += chunk.text.length;
  return chars;
}

/** The usual completion: one statement, in the caller's transaction or its own. */
async function completeInOneStatement(
  db: Pool | PoolClient,
  ref: VersionRef,
  result: CompletedVersion,
): Promise<boolean> {
  // The UPDATE takes the row lock first: a second delivery waits, then finds it completed.
  const { rows } = await db.query<{ completed: number }>({
    name: 'complete-version',
    text: `WITH completed AS (
       ${completeVersionRow()}
     ), new_chunks AS (
       INSERT INTO ${CHUNK_COLUMNS}
       SELECT $1, $2, completed.tenant_id, $12, i, t, s, e, w, k, p::int[], h::jsonb
       FROM completed, ${chunkRowsSql(13)}
       ${CHUNK_CONFLICT}
     ), ${settleCompletion('EXISTS (SELECT 1 FROM completed)', '$6')}
     SELECT count(*)::int AS completed FROM completed`,
    values: [
      ...versionValues(ref, result, result.chunks.length),
      settingsHash(result.chunking),
      ...chunkArrays(result.chunks),
    ],
  });
  return (rows[0]?.completed ?? 0) > 0;
}

/** Completion for many chunks, in the caller's transaction: the version row first (its lock), then chunks in batches. */
async function completeInBatches(
  client: PoolClient,
  ref: VersionRef,
  result: CompletedVersion,
): Promise<boolean> {
  const values = versionValues(ref, result, result.chunks.length);
  const completed = await client.query<{ tenant_id: string }>(completeVersionRow(), values);
  const tenantId = completed.rows[0]?.tenant_id;
  if (tenantId === undefined) return false;
  await insertChunks(client, { ...ref, tenantId }, settingsHash(result.chunking), result.chunks);
  await client.query(`WITH ${settleCompletion('true', '$3')} SELECT 1`, [
    ref.documentId,
    ref.version,
    result.chunks.length,
  ]);
  return true;
}

/** Writes chunks of a version whose row this transaction has locked, CHUNK_BATCH_CHARS at a time. */
async function insertChunks(
  client: PoolClient,
  version: VersionRef & { tenantId: string },
  hash: string,
  chunks: readonly Chunk[],
): Promise<void> {
  for (let first = 0; first < chunks.length; ) {
    let last = first;
    for (let chars = 0; last < chunks.length && chars < CHUNK_BATCH_CHARS; last++) {
      chars += (chunks[last] as Chunk).text.length;
    }
    await client.query(
      `INSERT INTO ${CHUNK_COLUMNS}
       SELECT $1, $2, $3, $4, i, t, s, e, w, k, p::int[], h::jsonb FROM ${chunkRowsSql(5)}
       ${CHUNK_CONFLICT}`,
      [
        version.documentId,
        version.version,
        version.tenantId,
        hash,
        ...chunkArrays(chunks.slice(first, last)),
      ],
    );
    first = last;
  }
}

/** A streamed version's columns but its text and chunks, known once its last window is written. */
export type StreamedVersion = Omit<CompletedVersion, 'extracted' | 'chunks' | 'chunking'>;

/**
 * completeVersion for a document whose text and chunks arrive window by window (see
 * chunkTextStream), so the worker never holds the whole text. One transaction: the document and
 * version rows are locked first (a second delivery waits at its claim, then finds the version
 * completed; a DELETE of the document waits too, where taking the document's row only at the
 * end could deadlock with it), then `openWindows` is called (its source may take a connection
 * of its own: taken after this one, so jobs waiting for a second connection hold one each at
 * most), chunks are inserted as windows bring them and the text goes to a temporary table on this
 * connection; the last of it travels with the completing UPDATE, which joins the parts in
 * Postgres. `describe` gives the version's columns once the chunks are counted. Returns the
 * chunk count, or undefined, writing nothing, when the version was completed, failed or deleted
 * meanwhile. A window that throws (bad bytes, a limit) rolls everything back.
 */
export async function completeStreamedVersion(
  pool: Pool,
  ref: VersionRef,
  chunking: ChunkingSettings,
  openWindows: () => AsyncIterable<TextWindow>,
  describe: (chunkCount: number) => StreamedVersion,
): Promise<number | undefined> {
  return inTransaction(pool, async (client) => {
    const { rows } = await client.query<{ tenantId: string }>(
      `SELECT v.tenant_id AS "tenantId"
       FROM documents d JOIN document_versions v ON v.document_id = d.id
       WHERE d.id = $1 AND v.version = $2 AND v.status NOT IN ('completed', 'failed')
       FOR NO KEY UPDATE OF d FOR UPDATE OF v`,
      [ref.documentId, ref.version],
    );
    const tenantId = rows[0]?.tenantId;
    if (tenantId === undefined) return undefined;
    // Temporary, so neither WAL-logged nor seen by other connections; emptied at commit.
    await client.query(
      'CREATE TEMPORARY TABLE IF NOT EXISTS ingestd_text_parts (part int PRIMARY KEY, text text NOT NULL) ON COMMIT DELETE ROWS',
    );
    // Text and chunks are written CHUNK_BATCH_CHARS at a time (a window is much smaller), the
    // text left at the end travelling with the completing UPDATE.
    let text: string[] = [];
    let textChars = 0;
    let parts = 0;
    let chunks: Chunk[] = [];
    let chunkChars = 0;
    let chunkCount = 0;
    const hash = settingsHash(chunking);
    for await (const window of openWindows()) {
      text.push(window.text);
      textChars += window.text.length;
      if (textChars >= CHUNK_BATCH_CHARS) {
        await client.query('INSERT INTO ingestd_text_parts (part, text) VALUES ($1, $2)', [
          parts++,
          storable(text.join('')),
        ]);
        text = [];
        textChars = 0;
      }
      for (const chunk of window.chunks) {
        chunks.push(chunk);
        chunkChars += chunk.text.length;
      }
      chunkCount += window.chunks.length;
      if (chunkChars >= CHUNK_BATCH_CHARS) {
        await insertChunks(client, { ...ref, tenantId }, hash, chunks);
        chunks = [];
        chunkChars = 0;
      }
    }
    await insertChunks(client, { ...ref, tenantId }, hash, chunks);
    await client.query(
      completeVersionRow(
        `(SELECT coalesce(string_agg(text, '' ORDER BY part), '') FROM ingestd_text_parts) || $3`,
      ),
      versionValues(
        ref,
        { ...describe(chunkCount), extracted: { text: text.join(''), headings: [], pages: [] } },
        chunkCount,
      ),
    );
    await client.query(`WITH ${settleCompletion('true', '$3')} SELECT 1`, [
      ref.documentId,
      ref.version,
      chunkCount,
    ]);
    return chunkCount;
  });
}
