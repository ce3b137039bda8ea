import { countTokens } from '../tokenize.js';
import { type Chunk, maxOverlap } from './settings.js';

const WORD = /\S+/g;

/** Start and end offsets of every whitespace-separated word of `text`, packed in typed arrays. */
export function findWords(text: string): { starts: Uint32Array; ends: Uint32Array; count: number } {
  // A word needs at least one character plus a separator, so this bounds the count from above.
  const capacity = Math.ceil(text.length / 2) + 1;
  const starts = new Uint32Array(capacity);
  const ends = new Uint32Array(capacity);
  let count = 0;
  WORD.lastIndex = 0;
  for (let match = WORD.exec(text); match !== null; match = WORD.exec(text)) {
    starts[count] = match.index;
    ends[count] = match.index + match[0].length;
    count++;
  }
  return { starts: starts.subarray(0, count), ends: ends.subarray(0, count), count };
}

/**
 * Splits `text` into chunks of `size` words, each sharing `overlap` words with the one before.
 * Chunk k starts at word k * (size - overlap); the last chunk is the first that reaches the last
 * word. A chunk's text is the original text from its first word's start to its last word's end,
 * whitespace inside kept as it was.
 */
export function chunkByWords(text: string, size: number, overlap: number): Chunk[] {
  if (!Number.isInteger(size) || size < 1) throw new RangeError('size must be a positive integer');
  if (!Number.isInteger(overlap) || overlap < 0 || overlap > maxOverlap(size)) {
    throw new RangeError('overlap must be an integer in [0, size / 2]');
  }
  const { starts, ends, count } = findWords(text);
  const step = size - overlap;
  const chunks: Chunk[] = [];
  for (let first = 0; first < count; first += step) {
    const last = Math.min(first + size, count) - 1;
    const start = starts[first] as number;
    const end = ends[last] as number;
    const chunkText = text.slice(start, end);
    chunks.push({
      index: chunks.length,
      text: chunkText,
      start,
      end,
      wordCount: last - first + 1,
      tokenCount: countTokens(chunkText),
      pages: [],
      headingPath: [],
    });
    if (last === count - 1) break;
  }
  return chunks;
}
