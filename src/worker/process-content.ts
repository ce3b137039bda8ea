import { performance } from 'node:perf_hooks';
import { isExternalBody } from '../fetch/external-body.js';
import { type FetchOptions, fetchDocument } from '../fetch/fetch-document.js';
import type { ChunkingSettings } from '../pipeline/chunk/settings.js';
import { charsetOf, detectContentType, opensLikeJson } from '../pipeline/detect.js';
import { InvalidUtf8Error, type StreamDecoding } from '../pipeline/extract/decode.js';
import { defaultExtractLimits } from '../pipeline/extract/types.js';
import { INLINE_MAX_BYTES, type PipelinePool } from '../pipeline/pipeline-pool.js';
import { chunkTextStream } from '../pipeline/stream-text.js';
import { type CompletedVersion, completeStreamedVersion } from '../store/completion.js';
import type { Pool } from '../store/pool.js';
import {
  type ClaimedVersion,
  rawContentStream,
  readRawContent,
  readRawContentStart,
  storeFetchedContent,
  type VersionRef,
} from '../store/versions.js';

/**
 * Streamed text is decoded and chunked this many bytes at a time. A window (this piece's text
 * after the unfinished chunk before it) then usually stays under the pipeline's inline limit of
 * 64 KB and is chunked on this thread: sending 50 MB of windows to a pipeline thread cost ~1.5 s
 * and ~60 MB of peak RSS in that thread's heap (measured with 64 KB-1 MB pieces). Larger pieces
 * also leave larger garbage: strings over 128 KB skip V8's young generation and wait for a full
 * collection (256 KB and 1 MB pieces raised the worker's peak by tens of MB).
 */
const STREAM_PIECE_BYTES = 48 * 1024;

/** What processing a version's content needs (the processor's deps have more). */
export interface ContentDeps {
  pool: Pool;
  /** Threads that run detect -> extract -> chunk off the event loop. */
  pipeline: PipelinePool;
  /** Policy and limits for documents sent by URL. Default: fetchDocument's (public addresses only). */
  fetch?: FetchOptions;
}

interface WholeContent {
  bytes: Buffer;
  contentType: string;
  filename: string | null;
  /**
   * The bytes are the version's raw_content in Postgres. Not so for a fetch that another
   * delivery beat to storing its own (the page may have changed between the two fetches).
   */
  stored: boolean;
}

/** Large plain text, still in Postgres: `size` bytes, read a piece at a time. */
interface StreamedContent {
  size: number;
  contentType: string;
  filename: string | null;
}

/** What a claim and its job give a completion. */
export interface CompletionContext {
  tenantId: string;
  marked: boolean;
  deliveries: number;
  /** performance.now() when processing began. */
  started: number;
}

/** A version processed and stored. */
export interface Processed {
  detectedType: string;
  bytes: number;
  chunkCount: number;
  timings: { extractMs: number; chunkMs: number; storeMs: number };
}

/** A version through the pipeline, its completion to be stored by the caller (see completeVersions). */
export interface ReadyVersion {
  completion: CompletedVersion;
  detectedType: string;
  bytes: number;
  timings: { extractMs: number; chunkMs: number };
}

/**
 * What processContent did: ran the pipeline on content in memory, leaving the completion to the
 * caller (`ready`); or streamed large text through it and stored it as it went (`stored`); or
 * found the version completed by another delivery meanwhile (`skipped`).
 */
export type ContentOutcome =
  | { kind: 'ready'; version: ReadyVersion }
  | { kind: 'stored'; processed: Processed }
  | { kind: 'skipped' };

/**
 * Runs the pipeline on a claimed version. Throws what the pipeline or the store throws
 * (DocumentError for bad input).
 */
export async function processContent(
  deps: ContentDeps,
  ref: VersionRef,
  claimed: ClaimedVersion,
  chunking: ChunkingSettings,
  context: CompletionContext,
): Promise<ContentOutcome> {
  const content = await contentOf(deps, ref, claimed);
  if ('bytes' in content)
    return { kind: 'ready', version: await runPipeline(deps, content, chunking, context) };
  const processed = await processStreamed(deps, ref, content, chunking, context);
  return processed === undefined ? { kind: 'skipped' } : { kind: 'stored', processed };
}

/**
 * The content to process. Content over CLAIM_CONTENT_MAX_BYTES (which its claim did not read)
 * stays in Postgres when it is plain text, to be read a piece at a time; other formats need all
 * their bytes at once.
 */
async function contentOf(
  deps: ContentDeps,
  ref: VersionRef,
  claimed: ClaimedVersion,
): Promise<WholeContent | StreamedContent> {
  const { contentType, filename } = claimed;
  if (claimed.rawContent !== null) {
    return isExternalBody(contentType)
      ? fetchByReference(deps, ref, claimed.rawContent.toString('utf8'))
      : { bytes: claimed.rawContent, contentType, filename, stored: true };
  }
  // Signatures and the text test read the start of a file only (see detectContentType).
  const start = await readRawContentStart(deps.pool, ref, INLINE_MAX_BYTES);
  const type = await detectContentType(start, contentType, filename ?? undefined, defaultExtractLimits).catch(
    () => undefined, // the whole-bytes path reports it, as for any other document
  );
  if (type === 'text/plain' && !opensLikeJson(start.toString('utf8', 0, 1024))) {
    return { size: claimed.bytes, contentType, filename };
  }
  return { bytes: await readRawContent(deps.pool, ref, claimed.bytes), contentType, filename, stored: true };
}

/** `source`'s bytes in pieces of at least `size` (but the last), whatever sizes the socket gave. */
async function* regroup(source: AsyncIterable<Buffer>, size: number): AsyncGenerator<Buffer> {
  let gathered: Buffer[] = [];
  let length = 0;
  for await (const piece of source) {
    gathered.push(piece);
    length += piece.length;
    if (length >= size) {
      yield Buffer.concat(gathered, length);
      gathered = [];
      length = 0;
    }
  }
  if (length > 0) yield Buffer.concat(gathered, length);
}

/** Fetches a document sent by URL and stores its bytes in place of the URL. */
async function fetchByReference(deps: ContentDeps, ref: VersionRef, url: string) {
  const fetched = await fetchDocument(url, deps.fetch);
  const content = {
    bytes: fetched.bytes,
    // The reference type is ours: a server answering with it must not make this a reference again.
    contentType:
      fetched.contentType && !isExternalBody(fetched.contentType)
        ? fetched.contentType.slice(0, 200)
        : 'application/octet-stream',
    filename: fetched.filename ?? null,
  };
  const stored = await storeFetchedContent(deps.pool, ref, { url, ...content });
  return { ...content, stored };
}

/** The pipeline on bytes in memory. */
async function runPipeline(
  deps: ContentDeps,
  content: WholeContent,
  chunking: ChunkingSettings,
  context: CompletionContext,
): Promise<ReadyVersion> {
  const bytes = content.bytes.length;
  // The bytes are not needed here again: moved, not copied, to the thread.
  const { detectedType, extracted, textIsBytes, chunks, timings } = await deps.pipeline.run(
    {
      bytes: content.bytes,
      declaredType: content.contentType,
      filename: content.filename,
      chunking,
      limits: defaultExtractLimits,
    },
    { moveBytes: true },
  );
  const completion: CompletedVersion = {
    tenantId: context.tenantId,
    marked: context.marked,
    deliveries: context.deliveries,
    processingMs: performance.now() - context.started,
    detectedType,
    extracted,
    // The text may stand for raw_content only if these bytes are what raw_content holds.
    textIsRaw: textIsBytes && content.stored,
    chunking,
    chunks,
    extractedAt: new Date(Date.now() - timings.chunkMs),
    chunkedAt: new Date(),
  };
  return { completion, detectedType, bytes, timings };
}

/**
 * Large plain text, piece by piece: each piece is decoded and chunked (a window goes through the
 * pipeline pool like a re-chunk's text, so it runs inline or on a thread by the pool's rule) and
 * written as it comes, in one transaction; see chunkTextStream and completeStreamedVersion. Text
 * that proves not to be UTF-8 after its first piece is read again under the other rules.
 */
async function processStreamed(
  deps: ContentDeps,
  ref: VersionRef,
  content: StreamedContent,
  chunking: ChunkingSettings,
  context: CompletionContext,
): Promise<Processed | undefined> {
  const streamOnce = async (decoding: StreamDecoding): Promise<Processed | undefined> => {
    const timings = { extractMs: 0, chunkMs: 0, storeMs: 0 };
    const startedAt = performance.now();
    async function* windows() {
      const pieces = regroup(rawContentStream(deps.pool, ref, content.size), STREAM_PIECE_BYTES);
      for await (const window of chunkTextStream(pieces, {
        hints: { charset: charsetOf(content.contentType) },
        decoding,
        limits: defaultExtractLimits,
        chunkWindow: async (text) => {
          const { chunks } = await deps.pipeline.run({
            bytes: new Uint8Array(0),
            declaredType: 'text/plain',
            filename: null,
            chunking,
            limits: defaultExtractLimits,
            extracted: { text, headings: [], pages: [] },
          });
          return chunks;
        },
      })) {
        timings.extractMs += window.timings.extractMs;
        timings.chunkMs += window.timings.chunkMs;
        yield window;
      }
    }
    const chunkCount = await completeStreamedVersion(deps.pool, ref, chunking, windows, () => ({
      tenantId: context.tenantId,
      marked: context.marked,
      deliveries: context.deliveries,
      processingMs: performance.now() - context.started,
      detectedType: 'text/plain',
      // The stages ran interleaved, piece by piece: both end now.
      extractedAt: new Date(),
      chunkedAt: new Date(),
    }));
    if (chunkCount === undefined) return undefined;
    // Writing is what remains of the time once decoding and chunking are taken out.
    timings.storeMs = Math.max(0, performance.now() - startedAt - timings.extractMs - timings.chunkMs);
    return { detectedType: 'text/plain', bytes: content.size, chunkCount, timings };
  };
  return oneStreamAtATime(async () => {
    try {
      return await streamOnce({});
    } catch (error) {
      if (error instanceof InvalidUtf8Error) return streamOnce({ invalidUtf8: true });
      throw error;
    }
  });
}

/**
 * Streamed documents run one at a time in a process. Each holds two pooled connections (its
 * transaction, and the COPY it reads from), and its garbage adds up with another's: one at a
 * time, the pool cannot run dry of second connections, and memory stays where it was measured.
 */
let streaming: Promise<unknown> = Promise.resolve();

function oneStreamAtATime<T>(work: () => Promise<T>): Promise<T> {
  const result = streaming.then(work);
  streaming = result.catch(() => undefined);
  return result;
}
