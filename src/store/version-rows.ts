import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import { BINARY_COPY_TRAILER, BinaryCopyWriter } from './binary-copy.js';
import type { PoolClient } from './pool.js';

/** A new version's row, as the API stores it: queued, its content raw. */
export interface NewVersionRow {
  documentId: string;
  version: number;
  tenantId: string;
  contentHash: Buffer;
  contentType: string;
  content: Buffer;
  chunking: object;
  requestId: string | null;
  filename: string | null;
}

/** Content from this size goes by copyVersionRow; below it, the copies a parameter costs are small. */
export const COPY_CONTENT_MIN_BYTES = 1024 * 1024;

const COPY_VERSION_ROW = `COPY document_versions (document_id, version, tenant_id, content_hash, content_type, bytes,
                                                   chunking, status, request_id, filename, raw_content)
                          FROM STDIN (FORMAT binary)`;

/**
 * Inserts a version row by a binary COPY, its content written to the socket as it is. As a bind
 * parameter, pg copies a value twice on its way (into the parameters, then into the message), so a
 * 50 MB upload was held three times over in the API at once. COPY has no ON CONFLICT: the caller
 * makes sure the row is new. Runs in the caller's transaction.
 */
export async function copyVersionRow(client: PoolClient, row: NewVersionRow): Promise<void> {
  const head = new BinaryCopyWriter(1024)
    .row(11)
    .uuid(row.documentId)
    .int32(row.version)
    .text(row.tenantId)
    .bytes(row.contentHash)
    .text(row.contentType)
    .int32(row.content.length)
    .jsonb(JSON.stringify(row.chunking))
    .text('queued');
  for (const value of [row.requestId, row.filename]) {
    if (value === null) head.null();
    else head.text(value);
  }
  head.fieldLength(row.content.length); // the last field, raw_content, follows as it is
  await pipeline(
    Readable.from([head.written(), row.content, BINARY_COPY_TRAILER]),
    client.query(copyFrom(COPY_VERSION_ROW)),
  );
}

/**
 * Inserts a new version's row (its document exists): by COPY when its content is large
 * (copyVersionRow), else by one statement. In the caller's transaction.
 */
export async function insertVersionRow(client: PoolClient, row: NewVersionRow): Promise<void> {
  if (row.content.length >= COPY_CONTENT_MIN_BYTES) {
    await copyVersionRow(client, row);
    return;
  }
  await client.query(
    `INSERT INTO document_versions (document_id, version, tenant_id, content_hash, content_type, bytes, raw_content,
                                    chunking, status, request_id, filename)
     VALUES ($1, $2, $3, $4::bytea, $5, octet_length($6::bytea), $6::bytea, $7::jsonb, 'queued', $8, $9)`,
    [
      row.documentId,
      row.version,
      row.tenantId,
      row.contentHash,
      row.contentType,
      row.content,
      JSON.stringify(row.chunking),
      row.requestId,
      row.filename,
    ],
  );
}
