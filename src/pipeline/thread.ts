import type { Chunk } from './chunk/settings.js';
import { asDocumentError, type PipelineInput, type ProcessedDocument, processDocument } from './process.js';
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
 * The body of a pipeline thread (piscina loads this file). Errors lose their class in transit,
 * so a failure travels as its code and message (see asDocumentError).
 */
export default async function runPipeline(input: PipelineInput): Promise<ThreadOutcome> {
  try {
    const { chunks, ...rest } = await processDocument(input);
    return { ok: true, result: { ...rest, chunks: chunks.map(({ text: _text, ...chunk }) => chunk) } };
  } catch (error) {
    const { code, message } = asDocumentError(error);
    return { ok: false, code, message };
  }
}
