/** The requests each scenario sends, and how their answers are read. */
import { randomBytes } from 'node:crypto';
import { documentText } from './documents.js';
import type { Fixture } from './fixtures.js';
import { type BenchRequest, type RequestOutcome, refusedOutcome } from './load.js';

export const DOCUMENTS_PATH = '/api/v1/documents';

export interface Chunking {
  strategy: 'words';
  size: number;
  overlap: number;
}

/** What every request needs: where to send it, the caller's headers, the run's id and document shape. */
export interface RequestContext {
  /** Path prefix of the API (empty, or the --url's path). */
  prefix: string;
  /** Authorization and any other header every request carries. */
  headers: Record<string, string>;
  /** Makes every document of this run distinct from other runs' against the same server. */
  runId: string;
  words: number;
  chunking: Chunking;
}

/** Reads a single-document answer: 202 with an id. */
function readAccepted(status: number, text: string): RequestOutcome {
  if (status !== 202) return refusedOutcome(status, text, 1);
  const id = (JSON.parse(text) as { id?: unknown }).id;
  if (typeof id !== 'string')
    return { accepted: [], errors: [{ kind: '202 without an id', count: 1, sample: text }] };
  return { accepted: [id], errors: [] };
}

/** One plain-text document as JSON, POST /api/v1/documents. */
export function singleDocumentRequest(context: RequestContext, index: number): BenchRequest {
  return {
    path: `${context.prefix}${DOCUMENTS_PATH}`,
    headers: { ...context.headers, 'content-type': 'application/json' },
    body: JSON.stringify({
      content: documentText(context.runId, index, context.words),
      chunking: context.chunking,
    }),
    documents: 1,
    read: readAccepted,
  };
}

interface BatchAnswer {
  items?: { status?: number; id?: string; error?: { code?: string; message?: string } }[];
}

/** Reads a 207 batch answer: each item accepted (202) or refused on its own. */
function readBatch(documents: number) {
  return (status: number, text: string): RequestOutcome => {
    if (status !== 207) return refusedOutcome(status, text, documents);
    const items = (JSON.parse(text) as BatchAnswer).items ?? [];
    const outcome: RequestOutcome = { accepted: [], errors: [] };
    for (const item of items) {
      if (item.status === 202 && typeof item.id === 'string') outcome.accepted.push(item.id);
      else {
        outcome.errors.push({
          kind: `batch item ${item.status ?? '?'}${item.error?.code ? ` ${item.error.code}` : ''}`,
          count: 1,
          sample: item.error?.message ?? JSON.stringify(item),
        });
      }
    }
    const missing = documents - items.length;
    if (missing > 0) outcome.errors.push({ kind: '207 without an item', count: missing, sample: text });
    return outcome;
  };
}

/** `size` plain-text documents in one POST /api/v1/documents/batch; request `index` holds documents index*size... */
export function batchRequest(context: RequestContext, index: number, size: number): BenchRequest {
  const documents = Array.from({ length: size }, (_, i) => ({
    content: documentText(context.runId, index * size + i, context.words),
    chunking: context.chunking,
  }));
  return {
    path: `${context.prefix}${DOCUMENTS_PATH}/batch`,
    headers: { ...context.headers, 'content-type': 'application/json' },
    body: JSON.stringify({ documents }),
    documents: size,
    read: readBatch(size),
  };
}

/** A multipart/form-data body with one part named "file". */
export function multipartBody(file: Fixture, boundary: string): Buffer {
  const head =
    `--${boundary}\r\n` +
    `Content-Disposition: form-data; name="file"; filename="${file.name}"\r\n` +
    `Content-Type: ${file.contentType}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head), file.bytes, Buffer.from(`\r\n--${boundary}--\r\n`)]);
}

/**
 * A fixture file as an upload: multipart when the fixture asks for it (JSON, whose raw body
 * would be read as a JSON document request) or for every other request, else the raw body with
 * its own Content-Type, so both ways in are exercised.
 */
export function uploadRequest(context: RequestContext, index: number, file: Fixture): BenchRequest {
  const path = `${context.prefix}${DOCUMENTS_PATH}?filename=${encodeURIComponent(file.name)}`;
  if (file.multipartOnly || index % 2 === 1) {
    const boundary = `bench${randomBytes(12).toString('hex')}`;
    return {
      path: `${context.prefix}${DOCUMENTS_PATH}`,
      headers: { ...context.headers, 'content-type': `multipart/form-data; boundary=${boundary}` },
      body: multipartBody(file, boundary),
      documents: 1,
      read: readAccepted,
    };
  }
  return {
    path,
    headers: { ...context.headers, 'content-type': file.contentType },
    body: file.bytes,
    documents: 1,
    read: readAccepted,
  };
}

/**
 * A plain-text document of at least `megabytes` MB (2^20 bytes) as a raw upload: the words of
 * documentText, document after document. A JSON `content` is capped lower (MAX_DOCUMENT_BYTES);
 * an upload may be as large as MAX_UPLOAD_BYTES.
 */
export function largeTextUpload(context: RequestContext, megabytes: number): BenchRequest {
  const target = megabytes * 1024 ** 2;
  const parts: string[] = [];
  let length = 0;
  for (let part = 0; length < target; part++) {
    const text = documentText(`${context.runId}-large`, part, 10_000);
    parts.push(text);
    length += Buffer.byteLength(text) + 1;
  }
  return {
    path: `${context.prefix}${DOCUMENTS_PATH}?filename=large.txt`,
    headers: { ...context.headers, 'content-type': 'text/plain; charset=utf-8' },
    body: Buffer.from(parts.join('\n')),
    documents: 1,
    read: readAccepted,
  };
}
