import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { v7 as uuidv7 } from 'uuid';
import type { Config } from '../../../config.js';
import { RequestError } from '../../../errors.js';
import type { ChunkingSettings } from '../../../pipeline/chunk/settings.js';
import { mediaTypeOf } from '../../../pipeline/detect.js';
import { insertDocuments, type NewDocument } from '../../../store/documents.js';
import type { NewDocumentBody } from './schemas.js';

/** Fills chunking defaults from config and checks what the schema alone cannot (overlap < size). */
export function resolveChunking(input: NewDocumentBody['chunking'], config: Config): ChunkingSettings {
  const size = input?.size ?? config.CHUNK_SIZE;
  const overlap = input?.overlap ?? Math.min(config.CHUNK_OVERLAP, size - 1);
  if (overlap >= size) {
    throw new RequestError(400, 'validation_error', 'body.chunking.overlap: must be smaller than size', [
      { in: 'body', path: 'chunking.overlap', message: 'must be smaller than size' },
    ]);
  }
  return { strategy: 'words', size, overlap };
}

/** Turns a validated request body into the row to store, or throws a RequestError. */
export function toNewDocument(
  body: NewDocumentBody,
  context: { tenantId: string; requestId: string; config: Config },
): NewDocument {
  const content = Buffer.from(body.content, 'utf8');
  if (content.length > context.config.MAX_DOCUMENT_BYTES) {
    throw new RequestError(
      413,
      'document_too_large',
      `content is ${content.length} bytes; the limit is ${context.config.MAX_DOCUMENT_BYTES}`,
      { bytes: content.length, limit: context.config.MAX_DOCUMENT_BYTES },
    );
  }
  return {
    id: uuidv7(),
    tenantId: context.tenantId,
    source: body.source,
    externalId: body.externalId ?? null,
    metadata: body.metadata,
    contentType: mediaTypeOf(body.contentType),
    content,
    contentHash: createHash('sha256').update(content).digest(),
    chunking: resolveChunking(body.chunking, context.config),
    requestId: context.requestId,
  };
}

/**
 * Commits the documents, then enqueues their jobs. The client's 202 depends only on the commit:
 * if Redis refuses the enqueue, the versions stay queued in Postgres and are enqueued again later.
 */
export async function acceptDocuments(
  app: FastifyInstance,
  documents: readonly NewDocument[],
): Promise<void> {
  await insertDocuments(app.db, documents);
  app.metrics.documentsAccepted.inc(documents.length);
  try {
    await app.documentQueue.enqueue(
      documents.map((d) => ({
        documentId: d.id,
        version: 1,
        tenantId: d.tenantId,
        ...(d.requestId ? { requestId: d.requestId } : {}),
      })),
    );
  } catch (error) {
    app.log.warn(
      { err: error, documents: documents.length },
      'enqueue failed after commit; versions stay queued',
    );
  }
}
