import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
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

/** PGCOPY's signature, then its flags and header extension length (both 0). */
const COPY_HEADER = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)]);
/** The end of a binary COPY: a field count of -1. */
const COPY_TRAILER = Buffer.from([0xff, 0xff]);

/**
 * Inserts a version row by a binary COPY, its content written to the socket as it is. As a bind
 * parameter, pg copies a value twice on its way (into the parameters, then into the message), so a
 * 50 MB upload was held three times over in the API at once. COPY has no ON CONFLICT: the caller
 * makes sure the row is new. Runs in the caller's transaction.
 */
export async function copyVersionRow(client: PoolClient, row: NewVersionRow): Promise<void> {
  const fields = [
    Buffer.from(row.documentId.replaceAll('-', ''), 'hex'),
    int32(row.version),
    Buffer.from(row.tenantId),
    row.contentHash,
    Buffer.from(row.contentType),
    int32(row.content.length),
    // jsonb's binary form: a version byte (1), then the JSON text.
    Buffer.concat([Buffer.from([1]), Buffer.from(JSON.stringify(row.chunking))]),
    Buffer.from('queued'),
    row.requestId === null ? null : Buffer.from(row.requestId),
    row.filename === null ? null : Buffer.from(row.filename),
  ];
  const count = Buffer.alloc(2);
  count.writeInt16BE(fields.length + 1);
  const head: Buffer[] = [COPY_HEADER, count];
  for (const field of fields) {
    head.push(int32(field === null ? -1 : field.length));
    if (field !== null) head.push(field);
  }
  head.push(int32(row.content.length)); // the last field, raw_content, follows as it is
  await pipeline(
    Readable.from([Buffer.concat(head), row.content, COPY_TRAILER]),
    client.query(copyFrom(COPY_VERSION_ROW)),
  );
}

function int32(value: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeInt32BE(value);
  return bytes;
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
