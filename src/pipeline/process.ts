import { performance } from 'node:perf_hooks';
import { DocumentError } from '../errors.js';
import { type Chunk, type ChunkingSettings, chunkText } from './chunk/index.js';
import { charsetOf, detectContentType, type SupportedContentType } from './detect.js';
import { extractorFor } from './extract/index.js';
import type { ExtractedText, ExtractLimits } from './extract/types.js';

export interface PipelineInput {
  bytes: Uint8Array;
  /** The content type the client declared; the bytes have the last word. */
  declaredType: string;
  filename: string | null;
  chunking: ChunkingSettings;
  limits: ExtractLimits;
  /** Text extracted earlier (a re-chunk): detection and extraction are skipped. */
  extracted?: ExtractedText;
  /** What the bytes are, when the caller has detected it already: detection is skipped. */
  detectedType?: SupportedContentType;
}

export interface ProcessedDocument {
  /** What the bytes turned out to be. */
  detectedType: string;
  extracted: ExtractedText;
  /**
   * The extracted text is the bytes read as UTF-8, exactly (most plain text): the store keeps
   * the bytes only. False for a re-chunk, which extracts nothing.
   */
  textIsBytes: boolean;
  chunks: Chunk[];
  /** Milliseconds spent in each stage, for metrics and stage timestamps. */
  timings: { extractMs: number; chunkMs: number };
}

/**
 * detect -> extract -> chunk, on bytes already in memory. No I/O; throws DocumentError for input
 * it cannot process. Runs inside a pipeline thread (see pipeline-pool.ts); only small plain text
 * and Markdown run on the caller's event loop.
 */
export async function processDocument(input: PipelineInput): Promise<ProcessedDocument> {
  const started = performance.now();
  let detectedType = input.declaredType;
  let extracted = input.extracted;
  let textIsBytes = false;
  if (!extracted) {
    const type =
      input.detectedType ??
      (await detectContentType(input.bytes, input.declaredType, input.filename ?? undefined, input.limits));
    detectedType = type;
    extracted = await extractorFor(type)(input.bytes, input.limits, {
      charset: charsetOf(input.declaredType),
    });
    textIsBytes = isUtf8Of(extracted.text, input.bytes);
  }
  const extractedAt = performance.now();
  refuseRunawayChunking(extracted.text.length, input.chunking);
  const chunks = chunkText(extracted, input.chunking);
  return {
    detectedType,
    extracted,
    textIsBytes,
    chunks,
    timings: { extractMs: extractedAt - started, chunkMs: performance.now() - extractedAt },
  };
}

/** True when `bytes` are `text` encoded as UTF-8 (a few microseconds for a 6 KB text). */
function isUtf8Of(text: string, bytes: Uint8Array): boolean {
  // A UTF-16 unit takes 1 to 3 bytes: out of that range, the lengths cannot match.
  if (bytes.length < text.length || bytes.length > text.length * 3) return false;
  return Buffer.from(text, 'utf8').equals(bytes);
}

/**
 * What a pipeline failure is, wherever it ran: the pipeline does no I/O, so nothing thrown can be
 * cured by retrying, and a library that throws on odd input fails the document as
 * `extraction_failed` instead of sending it round the retry loop.
 */
export function asDocumentError(error: unknown): DocumentError {
  if (error instanceof DocumentError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new DocumentError('extraction_failed', `could not process the document: ${message}`, false);
}

/** More chunks than this from one document means settings far too small for it, or abuse. */
export const MAX_CHUNKS_PER_DOCUMENT = 200_000;

/**
 * Refuses, before chunking, settings that could make more than MAX_CHUNKS_PER_DOCUMENT chunks of
 * this text (tiny chunks over a big document). Worker heap limits are best-effort in Node (a
 * thread that grows one huge array can abort the whole process), so memory is bounded here, by
 * arithmetic, instead. A word takes at least two characters with its separator; a token or a
 * character at least one.
 */
function refuseRunawayChunking(textLength: number, settings: ChunkingSettings): void {
  const step = settings.size - settings.overlap;
  const charactersPerStep = settings.strategy === 'words' ? 2 * step : step;
  const mostChunks = Math.ceil(textLength / charactersPerStep);
  if (mostChunks > MAX_CHUNKS_PER_DOCUMENT) {
    throw new DocumentError(
      'too_large',
      `these settings could cut the ${textLength}-character text into ${mostChunks} chunks, over the limit of ` +
        `${MAX_CHUNKS_PER_DOCUMENT}; use larger chunks`,
      false,
    );
  }
}
