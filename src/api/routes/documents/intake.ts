import { createHash } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import type { Config } from '../../../config.js';
import { RequestError } from '../../../errors.js';
import { type ChunkingSettings, chunkingSettings } from '../../../pipeline/chunk/settings.js';
import { mediaTypeOf } from '../../../pipeline/detect.js';
import type { NewDocument } from '../../../store/documents.js';
import type { NewDocumentBody } from './schemas.js';

/**
 * Fills chunking defaults from config, then checks the whole settings object. An overlap left
 * out scales with the size asked for (CHUNK_OVERLAP/CHUNK_SIZE of it), so `size: 100` alone gets 10.
 */
export function resolveChunking(input: NewDocumentBody['chunking'], config: Config): ChunkingSettings {
  const size = input?.size ?? config.CHUNK_SIZE;
  const overlap = input?.overlap ?? Math.floor((size * config.CHUNK_OVERLAP) / config.CHUNK_SIZE);
  const parsed = chunkingSettings.safeParse({ strategy: input?.strategy ?? 'words', size, overlap });
  if (!parsed.success) {
    const details = parsed.error.issues.map((issue) => ({
      in: 'body',
      path: ['chunking', ...issue.path].join('.'),
      message: issue.message,
    }));
    throw new RequestError(
      400,
      'validation_error',
      `body.${details[0]?.path}: ${details[0]?.message}`,
      details,
    );
  }
  return parsed.data;
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
