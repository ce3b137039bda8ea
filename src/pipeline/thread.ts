import { DocumentError } from '../errors.js';
import type { Chunk } from './chunk/settings.js';
import { type PipelineInput, type ProcessedDocument, processDocument } from './process.js';
import { countTokens } from './tokenize.js';

// The tokenizer builds its tables on first use (~100 ms): do it while the thread starts, not
// inside the first document's time limit.
countTokens('warm up');

/**
 * A processed document as it crosses back from a thread: chunks without their text, which the
 * caller slices from the extracted text again. Cloning both would copy the text twice (a 50 MB
 * document's chunks are another 55 MB, in the message and again on arrival).
 */
export type ThreadResult = Omit<ProcessedDocument, 'chunks'> & { chunks: Omit<Chunk, 'text'>[] };

/** What crosses back from a pipeline thread: errors lose their class in transit, so they travel as data. */
export type ThreadOutcome = { ok: true; result: ThreadResult } | { ok: false; code: string; message: string };

/**
 * The body of a pipeline thread (piscina loads this file). The pipeline does no I/O, so nothing
 * thrown here can be cured by retrying: a library that throws on odd input fails the document
 * as `extraction_failed` instead of sending it round the retry loop.
 */
export default async function runPipeline(input: PipelineInput): Promise<ThreadOutcome> {
  try {
    const { chunks, ...rest } = await processDocument(input);
    return { ok: true, result: { ...rest, chunks: chunks.map(({ text: _text, ...chunk }) => chunk) } };
  } catch (error) {
    if (error instanceof DocumentError) return { ok: false, code: error.code, message: error.message };
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, code: 'extraction_failed', message: `could not process the document: ${message}` };
  }
}
