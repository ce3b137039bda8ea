import { to as copyTo } from 'pg-copy-streams';
import { type Chunk, type ChunkingSettings, settingsHash } from '../pipeline/chunk/settings.js';
import type { ExtractedText } from '../pipeline/extract/types.js';
import { replaceVersionChunks } from './chunks.js';
import type { DocumentStatus } from './documents.js';
import { statementPerCount } from './per-count.js';
import { inTransaction, type Pool } from './pool.js';

export interface VersionRef {
  documentId: string;
  version: number;
}

/** What a worker needs to process a version. */
export interface ClaimedVersion {
  tenantId: string;
  contentType: string;
  filename: string | null;
  /**
   * The content when it is at most CLAIM_CONTENT_MAX_BYTES; larger content is read with
   * readRawContent or, piece by piece, rawContentStream.
   */
  rawContent: Buffer | null;
  chunking: ChunkingSettings;
  requestId: string | null;
  attempts: number;
  /** How long it waited from being accepted to this claim, by the database's clock. */
  queuedMs: number;
  bytes: number;
  /** Whether the claim marked it `processing` (see claimVersion); completion needs to know. */
  marked: boolean;
}

/**
 * Returns a version's content for processing, or undefined when there is nothing to do: the
 * version is gone (document deleted), completed, or failed for good, which makes a re-delivered
 * job (or the retry of a group job) a no-op. Re-driving a dead letter sets its version queued.
 *
 * A version larger than `markAboveBytes`, or sent by URL, is marked `processing` (attempts and
 * started_at too), so clients and operators see the work under way. A smaller one is only read:
 * it completes within milliseconds, and marking it would cost a transaction, a WAL flush and
 * a new row version in every index of both tables for a state nobody could see (measured: 15%
 * of Postgres' CPU per document). Its start, and its job's deliveries as attempts, are recorded
 * when it completes or fails. Either way, a stranded version is found by the sweeper (queued,
 * or processing, for too long) and a re-delivered job completes it once.
 */
export async function claimVersion(
  pool: Pool,
  ref: VersionRef,
  markAboveBytes: number,
): Promise<ClaimedVersion | undefined> {
  return (await claimVersions(pool, [ref], { markAboveBytes }))[0];
}

/** Marks no version by its size (a version sent by URL is still marked). */
export const MARK_NONE = 0x7fff_ffff;

/**
 * claimVersion for several versions in one statement (a group job's): results in the order of
 * `refs`. Content comes with a version of at most `contentMaxBytes` (default
 * CLAIM_CONTENT_MAX_BYTES). A claim that marks nothing only reads: it takes no row lock.
 */
export async function claimVersions(
  pool: Pool,
  refs: readonly VersionRef[],
  options: { markAboveBytes: number; contentMaxBytes?: number },
): Promise<(ClaimedVersion | undefined)[]> {
  if (refs.length === 0) return [];
  const { rows } = await pool.query<ClaimedVersion & { position: number }>({
    name: `claim-versions-${refs.length}`,
    text: claimStatement(refs.length),
    values: [
      options.markAboveBytes,
      Math.min(options.contentMaxBytes ?? CLAIM_CONTENT_MAX_BYTES, CLAIM_CONTENT_MAX_BYTES),
      ...refs.flatMap((ref) => [ref.documentId, ref.version]),
    ],
  });
  const claimed: (ClaimedVersion | undefined)[] = refs.map(() => undefined);
  for (const { position, ...row } of rows) claimed[position - 1] = row;
  return claimed;
}

/** The claim of `count` versions (see statementPerCount). */
const claimStatement = statementPerCount((count) => {
  const refs = Array.from({ length: count }, (_, k) => `($${2 * k + 3}::uuid, $${2 * k + 4}::int, ${k + 1})`);
  return `WITH refs (document_id, version, position) AS (
       VALUES ${refs.join(', ')}
     ), target AS (
       SELECT r.position, v.document_id, v.version, v.tenant_id, v.content_type, v.filename,
              CASE WHEN v.bytes <= $2 THEN v.raw_content END AS raw_content, v.bytes, v.chunking, v.request_id,
              v.attempts, extract(epoch FROM now() - v.queued_at) * 1000 AS queued_ms,
              v.bytes > $1 OR v.content_type LIKE 'message/external-body%' OR v.source_url IS NOT NULL AS marks
       FROM refs r JOIN document_versions v ON v.document_id = r.document_id AND v.version = r.version
       WHERE v.status NOT IN ('completed', 'failed')
     ), claimed AS (
       UPDATE document_versions v
       SET status = 'processing', attempts = v.attempts + 1, started_at = now(), updated_at = now()
       FROM target t
       WHERE t.marks AND v.document_id = t.document_id AND v.version = t.version
         AND v.status NOT IN ('completed', 'failed')
       RETURNING v.document_id, v.version, v.attempts
     ), document AS (
       UPDATE documents d SET status = 'processing', updated_at = now()
       FROM claimed c
       WHERE d.id = c.document_id AND d.latest_version = c.version AND d.status <> 'processing'
     )
     -- A version to mark that another delivery completed meanwhile is not returned: nothing to do.
     SELECT t.position, t.tenant_id AS "tenantId", t.content_type AS "contentType", t.filename,
            t.raw_content AS "rawContent", t.bytes, t.chunking, t.request_id AS "requestId",
            coalesce(c.attempts, t.attempts + 1) AS attempts, t.queued_ms::float8 AS "queuedMs",
            c.version IS NOT NULL AS marked
     FROM target t LEFT JOIN claimed c ON c.document_id = t.document_id AND c.version = t.version
     WHERE NOT t.marks OR c.version IS NOT NULL`;
});

/**
 * Content larger than this does not come with its claim (in hex text, it costs three times its
 * size in messages and strings): it is read with rawContentStream.
 */
export const CLAIM_CONTENT_MAX_BYTES = 1024 * 1024;

/**
 * A version's raw content of `bytes` bytes, piece by piece as it comes off the socket, for
 * content too large to read whole. `COPY ... TO STDOUT (FORMAT binary)` sends the value as the
 * server reads it and pg-copy-streams passes it on with backpressure, so the content is never
 * held whole here (a bytea result is: twice over in hex text). Slices by `substring` were tried:
 * each decompresses the lz4 value from its start again, quadratic in the size.
 */
export async function* rawContentStream(pool: Pool, ref: VersionRef, bytes: number): AsyncGenerator<Buffer> {
  const client = await pool.connect();
  let finished = false;
  try {
    // COPY takes no parameters: the id is a uuid (checked at the queue's boundary), quoted anyway.
    const stream = client.query(
      copyTo(
        `COPY (SELECT raw_content FROM document_versions
               WHERE document_id = ${client.escapeLiteral(ref.documentId)}::uuid AND version = ${Math.trunc(ref.version)})
         TO STDOUT (FORMAT binary)`,
      ),
    );
    yield* copiedField(stream, bytes);
    finished = true;
  } finally {
    // A copy left half read would leave the connection mid-protocol: close it instead.
    client.release(finished ? undefined : new Error('raw content stream abandoned'));
  }
}

/** PGCOPY's signature, flags and header extension length, then a row's field count and field length. */
const COPY_PREAMBLE_BYTES = 11 + 4 + 4 + 2 + 4;
const COPY_SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

/** The one field of the one row of a binary COPY, which must be `bytes` long. */
async function* copiedField(stream: AsyncIterable<Buffer>, bytes: number): AsyncGenerator<Buffer> {
  const changed = () => new Error('the raw content changed or went while it was read');
  let preamble = Buffer.alloc(0);
  let remaining = bytes;
  for await (const chunk of stream) {
    let piece = chunk;
    if (preamble.length < COPY_PREAMBLE_BYTES) {
      const wanted = COPY_PREAMBLE_BYTES - preamble.length;
      preamble = Buffer.concat([preamble, piece.subarray(0, wanted)]);
      piece = piece.subarray(wanted);
      if (preamble.length < COPY_PREAMBLE_BYTES) continue;
      // No row (the version went) ends the copy where the field count would be; NULL is length -1.
      const valid =
        preamble.subarray(0, COPY_SIGNATURE.length).equals(COPY_SIGNATURE) &&
        preamble.readInt16BE(19) === 1 &&
        preamble.readInt32BE(21) === bytes;
      if (!valid) throw changed();
    }
    if (remaining > 0 && piece.length > 0) {
      const field = piece.subarray(0, remaining);
      remaining -= field.length;
      yield field;
    }
  }
  if (preamble.length < COPY_PREAMBLE_BYTES || remaining > 0) throw changed();
}

/** The first `bytes` bytes of a version's raw content; a compressed value is decompressed only that far. */
export async function readRawContentStart(pool: Pool, ref: VersionRef, bytes: number): Promise<Buffer> {
  const { rows } = await pool.query<{ start: Buffer }>({
    name: 'read-raw-content-start',
    text: `SELECT substring(raw_content FROM 1 FOR $3) AS start
           FROM document_versions WHERE document_id = $1 AND version = $2`,
    values: [ref.documentId, ref.version, bytes],
  });
  const start = rows[0]?.start;
  if (start === undefined) throw new Error('the raw content went while it was read');
  return start;
}

/** A version's raw content of `bytes` bytes, read as a stream into one buffer. */
export async function readRawContent(pool: Pool, ref: VersionRef, bytes: number): Promise<Buffer> {
  const content = Buffer.allocUnsafe(bytes);
  let offset = 0;
  for await (const piece of rawContentStream(pool, ref, bytes)) offset += piece.copy(content, offset);
  return content;
}

export interface VersionFailure {
  code: string;
  message: string;
  stack?: string | undefined;
  /** Whether a later re-drive may succeed (a transient cause), or the input itself is at fault. */
  retryable: boolean;
  attempts: number;
  /** Attempts to add to the version's count: those its claims did not mark (see claimVersion). */
  unmarkedAttempts: number;
  /** How long the failed attempt ran, for started_at when no claim recorded it. */
  processingMs: number;
}

/**
 * Marks a version failed with the error a client will see and writes its dead letter, in one
 * statement (so one transaction). A version failing again updates its existing dead letter. A
 * completed version is left alone.
 */
export async function failVersion(pool: Pool, ref: VersionRef, failure: VersionFailure): Promise<void> {
  await pool.query({
    name: 'fail-version',
    text: `WITH failed AS (
       UPDATE document_versions
       SET status = 'failed', error_code = $3, error_message = $4, attempts = attempts + $8, updated_at = now(),
           started_at = coalesce(started_at, now() - make_interval(secs => $9 / 1000.0))
       WHERE document_id = $1 AND version = $2 AND status <> 'completed'
       RETURNING tenant_id
     ), document AS (
       UPDATE documents SET status = 'failed', updated_at = now()
       WHERE id = $1 AND latest_version = $2 AND EXISTS (SELECT 1 FROM failed)
     )
     INSERT INTO dlq_items (tenant_id, document_id, version, priority, status, error_code, error_message, error_stack,
                            attempts, payload, retryable)
     SELECT tenant_id, $1, $2, CASE WHEN $6 THEN 1 ELSE 0 END, 'pending', $3, $4, $5, $7,
            jsonb_build_object('documentId', $1::uuid, 'version', $2::int), $6
     FROM failed
     ON CONFLICT (document_id, version) DO UPDATE
       SET status = 'pending', error_code = EXCLUDED.error_code, error_message = EXCLUDED.error_message,
           error_stack = EXCLUDED.error_stack, attempts = dlq_items.attempts + EXCLUDED.attempts,
           retryable = EXCLUDED.retryable, last_failed_at = now(), updated_at = now()`,
    values: [
      ref.documentId,
      ref.version,
      failure.code,
      failure.message,
      failure.stack ?? null,
      failure.retryable,
      failure.attempts,
      failure.unmarkedAttempts,
      failure.processingMs,
    ],
  });
}

/** Versions waiting to be processed: the backlog in documents (the queue counts jobs). */
export async function countQueuedVersions(pool: Pool): Promise<number> {
  const { rows } = await pool.query<{ count: number }>(
    // Served by the partial index on queued versions.
    `SELECT count(*)::int AS count FROM document_versions WHERE status = 'queued'`,
  );
  return rows[0]?.count ?? 0;
}

export interface StrandedVersion {
  documentId: string;
  version: number;
  tenantId: string;
  requestId: string | null;
  /** The group job it was enqueued in, if any (see planJobs). */
  groupJobId: string | null;
}

/**
 * Versions queued, or processing, for longer than `olderThanMs`: candidates for a lost job.
 * Two index-backed halves (partial indexes on each status), oldest first.
 */
export async function findStrandedVersions(
  pool: Pool,
  olderThanMs: number,
  limit: number,
): Promise<StrandedVersion[]> {
  const { rows } = await pool.query<StrandedVersion>(
    `(SELECT document_id AS "documentId", version, tenant_id AS "tenantId", request_id AS "requestId",
             queue_job_id AS "groupJobId"
      FROM document_versions
      WHERE status = 'queued' AND created_at < now() - make_interval(secs => $1 / 1000.0)
      ORDER BY created_at LIMIT $2)
     UNION ALL
     (SELECT document_id, version, tenant_id, request_id, queue_job_id
      FROM document_versions
      WHERE status = 'processing' AND updated_at < now() - make_interval(secs => $1 / 1000.0)
      ORDER BY updated_at LIMIT $2)`,
    [olderThanMs, limit],
  );
  return rows;
}

/**
 * Records a re-chunk request on a document's current (completed) version and returns that
 * version, or undefined when the document has no completed version yet.
 */
export async function requestRechunk(
  pool: Pool,
  tenantId: string,
  documentId: string,
  settings: ChunkingSettings,
): Promise<{ version: number } | undefined> {
  const { rows } = await pool.query<{ version: number }>(
    `UPDATE document_versions v
     SET rechunk_settings = $3, updated_at = now()
     FROM documents d
     WHERE d.id = $1 AND d.tenant_id = $2 AND v.document_id = d.id AND v.version = d.current_version
       AND v.status = 'completed'
     RETURNING v.version`,
    [documentId, tenantId, JSON.stringify(settings)],
  );
  return rows[0];
}

export interface RechunkWork {
  tenantId: string;
  extracted: ExtractedText;
  settings: ChunkingSettings;
}

/**
 * The SQL of a completed version's extracted text, `row` naming its document_versions row: the
 * raw content itself when that is the text (text_is_raw, see migration 011).
 */
export const versionTextSql = (row: string) =>
  `CASE WHEN ${row}.text_is_raw THEN convert_from(${row}.raw_content, 'UTF8') ELSE ${row}.extracted_text END`;

/** The stored text and structure of a version with a pending re-chunk, or undefined if none is pending. */
export async function findRechunkWork(pool: Pool, ref: VersionRef): Promise<RechunkWork | undefined> {
  const { rows } = await pool.query<{
    tenantId: string;
    text: string;
    structure: { headings: ExtractedText['headings']; pages: ExtractedText['pages'] } | null;
    settings: ChunkingSettings;
  }>(
    `SELECT tenant_id AS "tenantId", ${versionTextSql('document_versions')} AS text, extracted_structure AS structure,
            rechunk_settings AS settings
     FROM document_versions
     WHERE document_id = $1 AND version = $2 AND status = 'completed' AND rechunk_settings IS NOT NULL`,
    [ref.documentId, ref.version],
  );
  const row = rows[0];
  if (!row) return undefined;
  return {
    tenantId: row.tenantId,
    settings: row.settings,
    extracted: { text: row.text, headings: row.structure?.headings ?? [], pages: row.structure?.pages ?? [] },
  };
}

/**
 * Swaps a version's chunks for the re-chunked ones in one transaction. Returns false, writing
 * nothing, when the request changed meanwhile (a newer re-chunk's job will do its own).
 */
export async function completeRechunk(
  pool: Pool,
  ref: VersionRef & { tenantId: string },
  settings: ChunkingSettings,
  chunks: readonly Chunk[],
): Promise<boolean> {
  return inTransaction(pool, async (client) => {
    const updated = await client.query(
      `UPDATE document_versions
       SET chunking = rechunk_settings, rechunk_settings = NULL, chunk_count = $4, chunked_at = now(), updated_at = now()
       WHERE document_id = $1 AND version = $2 AND status = 'completed' AND rechunk_settings = $3::jsonb`,
      [ref.documentId, ref.version, JSON.stringify(settings), chunks.length],
    );
    if (updated.rowCount === 0) return false;
    await replaceVersionChunks(client, ref, chunks, settingsHash(settings));
    return true;
  });
}

export interface VersionSummary {
  version: number;
  status: DocumentStatus;
  contentHash: string;
  contentType: string;
  detectedType: string | null;
  bytes: number;
  chunkCount: number | null;
  errorCode: string | null;
  createdAt: Date;
  completedAt: Date | null;
}

/** Every version of a document, newest first; empty when the document is not the tenant's. */
export async function listVersions(
  pool: Pool,
  tenantId: string,
  documentId: string,
): Promise<VersionSummary[]> {
  const { rows } = await pool.query<VersionSummary>(
    `SELECT version, status, encode(content_hash, 'hex') AS "contentHash", content_type AS "contentType",
            detected_type AS "detectedType", bytes, chunk_count AS "chunkCount", error_code AS "errorCode",
            created_at AS "createdAt", completed_at AS "completedAt"
     FROM document_versions
     WHERE document_id = $1 AND tenant_id = $2
     ORDER BY version DESC`,
    [documentId, tenantId],
  );
  return rows;
}

/** Drops a re-chunk request that cannot succeed, unless a newer request replaced it meanwhile. */
export async function abandonRechunk(pool: Pool, ref: VersionRef, settings: ChunkingSettings): Promise<void> {
  await pool.query(
    `UPDATE document_versions SET rechunk_settings = NULL, updated_at = now()
     WHERE document_id = $1 AND version = $2 AND rechunk_settings = $3::jsonb`,
    [ref.documentId, ref.version, JSON.stringify(settings)],
  );
}

/** Versions of a tenant still queued or processing: what its queue quota counts. */
export async function countUnfinishedVersions(pool: Pool, tenantId: string): Promise<number> {
  const { rows } = await pool.query<{ count: number }>(
    `SELECT count(*)::int AS count FROM document_versions
     WHERE tenant_id = $1 AND status IN ('queued', 'processing')`,
    [tenantId],
  );
  return rows[0]?.count ?? 0;
}

/**
 * Replaces a by-reference version's URL with the bytes fetched from it, so retries and re-drives
 * process the same bytes without fetching again. The URL is kept in source_url. Only a version
 * still by reference and not completed is touched: a late second delivery's fetch cannot
 * overwrite the bytes a completed version's text came from. Returns whether these bytes are now
 * the version's content (false: another delivery stored its own fetch first).
 */
export async function storeFetchedContent(
  pool: Pool,
  ref: VersionRef,
  fetched: { url: string; bytes: Buffer; contentType: string; filename: string | null },
): Promise<boolean> {
  const { rowCount } = await pool.query(
    `UPDATE document_versions
     SET raw_content = $3::bytea, bytes = octet_length($3::bytea), content_type = $4, source_url = $5,
         filename = coalesce(filename, $6), updated_at = now()
     WHERE document_id = $1 AND version = $2 AND status <> 'completed'
       AND content_type LIKE 'message/external-body%'`,
    [ref.documentId, ref.version, fetched.bytes, fetched.contentType, fetched.url, fetched.filename],
  );
  return (rowCount ?? 0) > 0;
}
