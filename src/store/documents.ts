import type { ChunkingSettings } from '../pipeline/chunk/settings.js';
import { inTransaction, type Pool, type PoolClient } from './pool.js';
import { COPY_CONTENT_MIN_BYTES, copyVersionRow, insertVersionRow } from './version-rows.js';

/** A pool or a client inside a transaction. */
type Queryable = Pool | PoolClient;

export type DocumentStatus = 'queued' | 'processing' | 'completed' | 'failed';

/** A document to create, with its first version. Ids are made by the caller (UUIDv7). */
export interface NewDocument {
  id: string;
  tenantId: string;
  source: string;
  externalId: string | null;
  /** The client's filename, sanitised: metadata only. */
  filename: string | null;
  metadata: Record<string, unknown>;
  contentType: string;
  content: Buffer;
  /**
   * `content` as the string it was encoded from, when it came as JSON text without NULs: such
   * documents (when small) are committed in groups and processed in group jobs.
   */
  contentText?: string | undefined;
  contentHash: Buffer;
  chunking: ChunkingSettings;
  requestId: string | null;
}

/** A document as the API shows it: the document row joined with its latest version. */
export interface DocumentView {
  id: string;
  tenantId: string;
  status: DocumentStatus;
  version: number;
  currentVersion: number | null;
  source: string;
  externalId: string | null;
  contentType: string;
  detectedType: string | null;
  filename: string | null;
  /** Where a document sent by URL comes from. */
  sourceUrl: string | null;
  bytes: number;
  chunkCount: number | null;
  metadata: Record<string, unknown>;
  errorCode: string | null;
  errorMessage: string | null;
  queuedAt: Date;
  startedAt: Date | null;
  extractedAt: Date | null;
  chunkedAt: Date | null;
  completedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * Creates documents and their first versions in one statement (one round trip, one commit for a
 * whole batch). Returns once the rows are durable. Contents travel in binary, one after another in
 * a single bytea parameter that Postgres cuts with substring: inside an array pg would send bytes
 * as hex text, twice the size, and text as an escaped array literal that Postgres parses
 * character by character (groups of 16 documents of 1,000 words: Postgres 136-160 -> 112-119
 * us/doc, 9,100-9,900 -> 11,200-12,500 docs/s). An id that exists already is skipped: a keyed
 * retry re-sends the ids of a run whose node died after committing them (see
 * claimIdempotencyKey). A content of 1 MB or more goes by COPY instead (copyVersionRow), in one
 * transaction with the statement for the rest.
 */
export async function insertDocuments(
  pool: Queryable,
  documents: readonly NewDocument[],
  /** The group job each document's version will travel in (see planJobs); none: its own. */
  groupJobIds?: ReadonlyMap<string, string>,
): Promise<void> {
  const large = documents.filter((d) => d.content.length >= COPY_CONTENT_MIN_BYTES);
  if (large.length === 0) return insertByStatement(pool, documents, groupJobIds);
  // COPY writes no queue_job_id: a version in a group job without it would get a second job.
  if (large.some((d) => groupJobIds?.has(d.id))) throw new Error('a document of 1 MB or more in a group job');
  // Large contents go by COPY (copyVersionRow), in one transaction with the rest.
  const insertAll = async (client: PoolClient) => {
    await insertByStatement(
      client,
      documents.filter((d) => d.content.length < COPY_CONTENT_MIN_BYTES),
      groupJobIds,
    );
    for (const document of large) await insertByCopy(client, document);
  };
  await (isClient(pool) ? insertAll(pool) : inTransaction(pool, insertAll));
}

/** A client is already in the caller's transaction (addDocumentVersion's). */
function isClient(db: Queryable): db is PoolClient {
  return typeof (db as PoolClient).release === 'function';
}

/** A new document whose version's content goes by COPY; skipped when it exists, as by insertByStatement. */
async function insertByCopy(client: PoolClient, document: NewDocument): Promise<void> {
  const { rowCount } = await client.query(
    `INSERT INTO documents (id, tenant_id, source, external_id, status, latest_version, content_hash, metadata)
     VALUES ($1, $2, $3, $4, 'queued', 1, $5::bytea, $6::jsonb)
     ON CONFLICT (id) DO NOTHING`,
    [
      document.id,
      document.tenantId,
      document.source,
      document.externalId,
      document.contentHash,
      JSON.stringify(document.metadata),
    ],
  );
  if (rowCount === 0) {
    const { rowCount: versions } = await client.query(
      'SELECT 1 FROM document_versions WHERE document_id = $1 AND version = 1',
      [document.id],
    );
    if (versions !== 0) return;
  }
  await copyVersionRow(client, { ...document, documentId: document.id, version: 1 });
}

async function insertByStatement(
  pool: Queryable,
  documents: readonly NewDocument[],
  groupJobIds?: ReadonlyMap<string, string>,
): Promise<void> {
  const [only] = documents;
  if (!only) return;
  if (documents.length === 1) {
    await pool.query({
      name: 'insert-document',
      text: `WITH new_document AS (
         INSERT INTO documents (id, tenant_id, source, external_id, status, latest_version, content_hash, metadata)
         VALUES ($1, $2, $3, $4, 'queued', 1, $8::bytea, $5::jsonb)
         ON CONFLICT (id) DO NOTHING
       )
       INSERT INTO document_versions (document_id, version, tenant_id, content_hash, content_type, bytes, raw_content,
                                      chunking, status, request_id, filename)
       VALUES ($1, 1, $2, $8::bytea, $6, octet_length($7::bytea), $7::bytea, $9::jsonb, 'queued', $10, $11)
       ON CONFLICT (document_id, version) DO NOTHING`,
      values: [
        only.id,
        only.tenantId,
        only.source,
        only.externalId,
        JSON.stringify(only.metadata),
        only.contentType,
        only.content,
        only.contentHash,
        JSON.stringify(only.chunking),
        only.requestId,
        only.filename,
      ],
    });
    return;
  }
  const starts: number[] = [];
  let offset = 0;
  for (const d of documents) {
    starts.push(offset);
    offset += d.content.length;
  }
  await pool.query({
    name: 'insert-documents',
    text: `WITH input AS (
       SELECT id, tenant_id, source, external_id, metadata, content_type,
              substring($7::bytea FROM content_start + 1 FOR content_length) AS raw_content, content_hash,
              chunking, request_id, filename, queue_job_id
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                   $8::int[], $9::int[], $10::bytea[], $11::text[], $12::text[], $13::text[], $14::text[])
         AS t(id, tenant_id, source, external_id, metadata, content_type, content_start, content_length,
              content_hash, chunking, request_id, filename, queue_job_id)
     ), new_documents AS (
       INSERT INTO documents (id, tenant_id, source, external_id, status, latest_version, content_hash, metadata)
       SELECT id, tenant_id, source, external_id, 'queued', 1, content_hash, metadata::jsonb FROM input
       ON CONFLICT (id) DO NOTHING
     )
     INSERT INTO document_versions
       (document_id, version, tenant_id, content_hash, content_type, bytes, raw_content, chunking, status, request_id,
        filename, queue_job_id)
     SELECT id, 1, tenant_id, content_hash, content_type, octet_length(raw_content), raw_content, chunking::jsonb,
            'queued', request_id, filename, queue_job_id
     FROM input
     ON CONFLICT (document_id, version) DO NOTHING`,
    values: [
      documents.map((d) => d.id),
      documents.map((d) => d.tenantId),
      documents.map((d) => d.source),
      documents.map((d) => d.externalId),
      documents.map((d) => JSON.stringify(d.metadata)),
      documents.map((d) => d.contentType),
      Buffer.concat(
        documents.map((d) => d.content),
        offset,
      ),
      starts,
      documents.map((d) => d.content.length),
      documents.map((d) => d.contentHash),
      documents.map((d) => JSON.stringify(d.chunking)),
      documents.map((d) => d.requestId),
      documents.map((d) => d.filename),
      documents.map((d) => groupJobIds?.get(d.id) ?? null),
    ],
  });
}

const documentViewColumns = `
  d.id, d.tenant_id AS "tenantId", v.status, v.version, d.current_version AS "currentVersion",
  d.source, d.external_id AS "externalId", v.content_type AS "contentType", v.detected_type AS "detectedType",
  v.filename, v.bytes,
  coalesce(v.source_url, CASE WHEN v.content_type LIKE 'message/external-body%'
                              THEN convert_from(v.raw_content, 'UTF8') END) AS "sourceUrl",
  v.chunk_count AS "chunkCount", d.metadata, v.error_code AS "errorCode", v.error_message AS "errorMessage",
  v.queued_at AS "queuedAt", v.started_at AS "startedAt", v.extracted_at AS "extractedAt",
  v.chunked_at AS "chunkedAt", v.completed_at AS "completedAt", d.created_at AS "createdAt", d.updated_at AS "updatedAt"`;

/** A document with its latest version, or with version `version` when given. */
export async function findDocument(
  pool: Pool,
  tenantId: string,
  id: string,
  version?: number,
): Promise<DocumentView | undefined> {
  const { rows } = await pool.query<DocumentView>(
    `SELECT ${documentViewColumns}
     FROM documents d JOIN document_versions v ON v.document_id = d.id AND v.version = COALESCE($3, d.latest_version)
     WHERE d.id = $1 AND d.tenant_id = $2`,
    [id, tenantId, version ?? null],
  );
  return rows[0];
}

/** What sending a document with an externalId did. */
export interface VersionOutcome {
  id: string;
  version: number;
  /** True when the content equals the latest version's: nothing new was stored or queued. */
  duplicate: boolean;
  status: DocumentStatus;
}

/**
 * Stores a document identified by (tenant, source, externalId): a new document the first time,
 * a new version when the content changed, nothing when it is the same as the latest version.
 * The previous version's chunks stay the current ones until the new version completes.
 */
export async function addDocumentVersion(pool: Pool, document: NewDocument): Promise<VersionOutcome> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await inTransaction(pool, async (client) => {
        const { rows } = await client.query<{
          id: string;
          latestVersion: number;
          contentHash: Buffer;
          status: DocumentStatus;
        }>(
          `SELECT id, latest_version AS "latestVersion", content_hash AS "contentHash", status
           FROM documents WHERE tenant_id = $1 AND source = $2 AND external_id = $3
           FOR UPDATE`,
          [document.tenantId, document.source, document.externalId],
        );
        const existing = rows[0];
        if (!existing) {
          await insertDocuments(client, [document]);
          return { id: document.id, version: 1, duplicate: false, status: 'queued' as const };
        }
        if (existing.contentHash.equals(document.contentHash)) {
          return {
            id: existing.id,
            version: existing.latestVersion,
            duplicate: true,
            status: existing.status,
          };
        }
        const version = existing.latestVersion + 1;
        await insertVersionRow(client, { ...document, documentId: existing.id, version });
        await client.query(
          `UPDATE documents SET latest_version = $2, content_hash = $3, metadata = $4::jsonb, status = 'queued',
                                updated_at = now()
           WHERE id = $1`,
          [existing.id, version, document.contentHash, JSON.stringify(document.metadata)],
        );
        return { id: existing.id, version, duplicate: false, status: 'queued' as const };
      });
    } catch (error) {
      // Two first sends of one externalId at once: the loser finds the winner's row next time.
      const uniqueViolation = (error as { code?: string }).code === '23505';
      if (!uniqueViolation || attempt >= 3) throw error;
    }
  }
}

export interface DocumentFilter {
  tenantId: string;
  status?: DocumentStatus | undefined;
  source?: string | undefined;
  /** Only documents created before this one (ids are time-ordered UUIDv7). */
  beforeId?: string | undefined;
  limit: number;
}

/** Newest first, keyset-paginated on the time-ordered id. */
export async function listDocuments(pool: Pool, filter: DocumentFilter): Promise<DocumentView[]> {
  const { rows } = await pool.query<DocumentView>(
    `SELECT ${documentViewColumns}
     FROM documents d JOIN document_versions v ON v.document_id = d.id AND v.version = d.latest_version
     WHERE d.tenant_id = $1
       AND ($2::text IS NULL OR d.status = $2)
       AND ($3::text IS NULL OR d.source = $3)
       AND ($4::uuid IS NULL OR d.id < $4)
     ORDER BY d.id DESC
     LIMIT $5`,
    [filter.tenantId, filter.status ?? null, filter.source ?? null, filter.beforeId ?? null, filter.limit],
  );
  return rows;
}

/**
 * Deletes a document with its versions and chunks (cascading keys). Returns the versions it had,
 * so their jobs can be cancelled, or undefined when the document is not the tenant's.
 */
export async function deleteDocument(
  pool: Pool,
  tenantId: string,
  id: string,
): Promise<number[] | undefined> {
  const { rows } = await pool.query<{ latestVersion: number }>(
    'DELETE FROM documents WHERE id = $1 AND tenant_id = $2 RETURNING latest_version AS "latestVersion"',
    [id, tenantId],
  );
  const deleted = rows[0];
  if (!deleted) return undefined;
  return Array.from({ length: deleted.latestVersion }, (_, i) => i + 1);
}
