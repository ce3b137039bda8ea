import { createHash } from 'node:crypto';
import path from 'node:path';
import { type Config, fetchSettings } from '../../../config.js';
import { RequestError } from '../../../errors.js';
import { EXTERNAL_BODY_TYPE, isExternalBody } from '../../../fetch/external-body.js';
import { validateFetchUrl } from '../../../fetch/validate-fetch-url.js';
import { newId } from '../../../ids.js';
import { mediaTypeOf } from '../../../pipeline/detect.js';
import type { NewDocument } from '../../../store/documents.js';
import { resolveChunking } from '../../chunking.js';
import type { NewDocumentBody, UploadFields } from './schemas.js';

export interface IntakeContext {
  tenantId: string;
  requestId: string;
  config: Config;
}

const MAX_FILENAME_LENGTH = 255;

/**
 * A client's filename, kept as metadata only (never used as a path): the last path segment,
 * control characters removed, at most 255 characters; null when nothing is left.
 */
export function sanitizeFilename(name: string | undefined): string | null {
  if (!name) return null;
  const base = path.posix.basename(name.replaceAll('\\', '/'));
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
  const clean = base.replace(/[\u0000-\u001f\u007f]/g, '').trim();
  return clean ? clean.slice(0, MAX_FILENAME_LENGTH) : null;
}

function newDocument(
  content: Buffer,
  contentType: string,
  fields: Pick<NewDocumentBody, 'source' | 'externalId' | 'metadata' | 'chunking'> & {
    filename?: string | undefined;
  },
  context: IntakeContext,
): NewDocument {
  return {
    id: newId(),
    tenantId: context.tenantId,
    source: fields.source,
    externalId: fields.externalId ?? null,
    filename: sanitizeFilename(fields.filename),
    metadata: fields.metadata,
    contentType,
    content,
    contentHash: createHash('sha256').update(content).digest(),
    chunking: resolveChunking(fields.chunking, context.config),
    requestId: context.requestId,
  };
}

/**
 * A JSON document (`content` as a string, or a `url` to fetch) as the row to store, or a
 * RequestError. A URL is checked now for what can be known without the network (scheme, port,
 * credentials, literal addresses) and stored by reference; the worker fetches it.
 */
export function toNewDocument(body: NewDocumentBody, context: IntakeContext): NewDocument {
  if (body.url !== undefined) {
    const check = validateFetchUrl(body.url, fetchSettings(context.config));
    if (!check.ok) throw new RequestError(400, check.problem, `url: ${check.message}`);
    return newDocument(Buffer.from(check.url.href, 'utf8'), EXTERNAL_BODY_TYPE, body, context);
  }
  const content = Buffer.from(body.content ?? '', 'utf8');
  const limit = context.config.MAX_DOCUMENT_BYTES;
  if (content.length > limit) {
    throw new RequestError(
      413,
      'document_too_large',
      `content is ${content.length} bytes; the limit is ${limit}`,
      {
        bytes: content.length,
        limit,
      },
    );
  }
  const document = newDocument(content, mediaTypeOf(body.contentType), body, context);
  // JSON text without NULs is what group commits and group jobs take (see NewDocument.contentText).
  if (body.content !== undefined && !body.content.includes('\u0000')) document.contentText = body.content;
  return document;
}

/** An uploaded file (multipart or raw body) as the row to store, or a RequestError. */
export function toUploadedDocument(
  file: { bytes: Buffer; contentType: string | undefined },
  fields: UploadFields,
  context: IntakeContext,
): NewDocument {
  if (file.bytes.length === 0) throw new RequestError(400, 'empty_document', 'the uploaded file is empty');
  // The declared type is only a hint: the worker decides by the bytes.
  // Kept whole (charset included, e.g. "text/plain; charset=windows-1251") for the extractor.
  const declared = (file.contentType ?? '').trim() || 'application/octet-stream';
  // Reserved for documents sent as {url}: an upload must not pose as one and skip the URL check.
  if (isExternalBody(declared)) {
    throw new RequestError(
      415,
      'unsupported_media_type',
      'message/external-body uploads are not accepted; send {"url": ...} as JSON',
    );
  }
  return newDocument(file.bytes, declared.slice(0, 200), fields, context);
}
