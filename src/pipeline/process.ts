import { performance } from 'node:perf_hooks';
import { type Chunk, type ChunkingSettings, chunkText } from './chunk/index.js';
import { detectContentType } from './detect.js';
import { extractText } from './extract/text.js';

export interface ProcessedDocument {
  text: string;
  chunks: Chunk[];
  /** Milliseconds spent in each stage, for metrics and stage timestamps. */
  timings: { extractMs: number; chunkMs: number };
}

/** detect -> extract -> chunk, on bytes already in memory. Pure: no I/O, throws DocumentError on bad input. */
export function processDocument(
  bytes: Uint8Array,
  contentType: string,
  chunking: ChunkingSettings,
): ProcessedDocument {
  const started = performance.now();
  detectContentType(contentType);
  const text = extractText(bytes);
  const extracted = performance.now();
  const chunks = chunkText({ text, headings: [], pages: [] }, chunking);
  const chunked = performance.now();
  return { text, chunks, timings: { extractMs: extracted - started, chunkMs: chunked - extracted } };
}
