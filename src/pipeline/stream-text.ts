import { performance } from 'node:perf_hooks';
import type { Chunk } from './chunk/settings.js';
import {
  ENCODING_SAMPLE_BYTES,
  InvalidUtf8Error,
  type StreamDecoding,
  TextStreamDecoder,
} from './extract/decode.js';
import { emptyDocument, textTooLong, tooLarge } from './extract/failures.js';
import type { ExtractHints, ExtractLimits } from './extract/types.js';
import { asDocumentError, MAX_CHUNKS_PER_DOCUMENT } from './process.js';

/** What one piece of a streamed document adds: its text, and the chunks now complete. */
export interface TextWindow {
  /** The extracted text this piece adds; the document's text is these parts, in order. */
  text: string;
  /** Chunks with offsets into the whole text and indices counted over the whole document. */
  chunks: Chunk[];
  /** Milliseconds this window spent decoding and chunking. */
  timings: { extractMs: number; chunkMs: number };
}

export interface TextStreamOptions {
  hints?: ExtractHints;
  /** See TextStreamDecoder. */
  decoding?: StreamDecoding;
  limits: ExtractLimits;
  /** Chunks one window of text (offsets relative to it), as the pipeline would the whole text. */
  chunkWindow: (text: string) => Promise<Chunk[]>;
}

/**
 * Plain text arriving in pieces, decoded and chunked window by window so that no more than a
 * piece or two of it is held at a time (a 50 MB document no longer costs a process several
 * copies of itself). Each window is the text not yet chunked plus the next piece's. Chunks that
 * end before its last word are final; the window's tail, from the first chunk that reaches its
 * last word (a word the next piece may continue), goes round again at the head of the next
 * window. Chunkers step from a chunk's start, so restarting there gives the `words` strategy
 * exactly the chunks of the whole text; `tokens` and `recursive` restart from a boundary they
 * chose themselves, so their chunks follow the same rules but a seam may fall elsewhere.
 *
 * Fails as decodeText and chunkText would on the whole text: `unsupported_type`, `empty`,
 * `too_large`; and with InvalidUtf8Error when the text turns out not to be UTF-8 after its first
 * piece was (see TextStreamDecoder): the caller starts again with `decoding.invalidUtf8`.
 */
export async function* chunkTextStream(
  pieces: AsyncIterable<Uint8Array>,
  options: TextStreamOptions,
): AsyncGenerator<TextWindow> {
  const { limits, chunkWindow } = options;
  // The decoder chooses the encoding from its first piece, decodeText from the first 64 KB of
  // the whole: with a smaller first piece they could choose differently (a few NULs that look
  // like UTF-16 in 8 bytes but not in 1).
  const iterator = withFirstPieceOf(pieces, ENCODING_SAMPLE_BYTES)[Symbol.asyncIterator]();
  let decoder: TextStreamDecoder | undefined;
  let tail = '';
  let tailStart = 0; // where the tail begins in the whole text
  let textLength = 0;
  let chunkCount = 0;
  let hasWords = false;
  try {
    for (let current = await iterator.next(); !current.done; ) {
      const next = await iterator.next();
      const last = next.done === true;
      const decodeStarted = performance.now();
      decoder ??= new TextStreamDecoder(current.value, options.hints, options.decoding);
      const text = decode(decoder, current.value, last);
      const chunkStarted = performance.now();
      textLength += text.length;
      if (textLength > limits.maxTextChars) throw textTooLong(limits.maxTextChars);
      hasWords ||= text.trim().length > 0;
      const window = tail + text;
      const chunks = await chunkWindow(window);
      let open = last ? chunks.length : firstOpenChunk(window, chunks);
      let keepFrom = chunks[open]?.start ?? window.length;
      // A tail this long is a run without a seam (no whitespace for megabytes): carried on, it
      // would be chunked again with every piece, in quadratic time. It is cut here instead.
      if (window.length - keepFrom > MAX_TAIL_CHARS) {
        open = chunks.length;
        keepFrom = window.length;
      }
      if (chunkCount + open > MAX_CHUNKS_PER_DOCUMENT) {
        throw tooLarge(`the document makes more than ${MAX_CHUNKS_PER_DOCUMENT} chunks; use larger chunks`);
      }
      const done = chunks.slice(0, open).map((chunk) => ({
        ...chunk,
        index: chunkCount++,
        start: chunk.start + tailStart,
        end: chunk.end + tailStart,
      }));
      tail = window.slice(keepFrom);
      tailStart += keepFrom;
      const timings = { extractMs: chunkStarted - decodeStarted, chunkMs: performance.now() - chunkStarted };
      yield { text, chunks: done, timings };
      current = next;
    }
  } finally {
    // Stopped early (a failure here or in the consumer): the source may hold a connection.
    await iterator.return?.(undefined);
  }
  if (!hasWords) throw emptyDocument();
}

/** decoder.write, failing as the pipeline does (see asDocumentError) but for a second pass's signal. */
function decode(decoder: TextStreamDecoder, bytes: Uint8Array, last: boolean): string {
  try {
    return decoder.write(bytes, last);
  } catch (error) {
    throw error instanceof InvalidUtf8Error ? error : asDocumentError(error);
  }
}

/**
 * Text carried from one window to the next, at most: above any chunk of 10,000 words of prose or
 * 200,000 characters, so in practice only a run without whitespace reaches it. Such a run is cut
 * where it passes this length, and each window is chunked in time linear in this bound.
 */
export const MAX_TAIL_CHARS = 256 * 1024;

/**
 * The first chunk that reaches the window's last word: it, and any after it, may change once
 * the next piece's text follows. Chunks cover every word, so the last chunk always does.
 */
function firstOpenChunk(window: string, chunks: readonly Chunk[]): number {
  const lastWordEnd = window.trimEnd().length;
  let open = chunks.length;
  while (open > 0 && (chunks[open - 1] as Chunk).end >= lastWordEnd) open--;
  return open;
}

/** The pieces, the first ones joined until they hold `bytes` (or all there are). */
async function* withFirstPieceOf(
  pieces: AsyncIterable<Uint8Array>,
  bytes: number,
): AsyncGenerator<Uint8Array> {
  const head: Uint8Array[] = [];
  let size = 0;
  let started = false;
  for await (const piece of pieces) {
    if (started) {
      yield piece;
      continue;
    }
    head.push(piece);
    size += piece.length;
    if (size >= bytes) {
      started = true;
      yield joined(head.splice(0)); // the head need not outlive its window
    }
  }
  if (!started && head.length > 0) yield joined(head);
}

function joined(pieces: Uint8Array[]): Uint8Array {
  return pieces.length === 1 ? (pieces[0] as Uint8Array) : Buffer.concat(pieces);
}
