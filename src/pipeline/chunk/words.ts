import { countTokens } from '../tokenize.js';
import { finishChunks } from './finish.js';
import type { Chunk } from './settings.js';
import { type ChunkSpan, checkBudget } from './span.js';
import { WHITESPACE } from './whitespace.js';

/** Start and end offsets of every whitespace-separated word of `text`, packed in typed arrays. */
export function findWords(text: string): { starts: Uint32Array; ends: Uint32Array; count: number } {
  // A word needs at least one character plus a separator, so this bounds the count from above.
  const capacity = Math.ceil(text.length / 2) + 1;
  const starts = new Uint32Array(capacity);
  const ends = new Uint32Array(capacity);
  let count = 0;
  // The words of /\S+/g, found by a loop over code units: a few times faster than the regex.
  const whitespace = WHITESPACE; // a local: module bindings may be getters (vite-node, bundlers)
  let previousSpace = 1;
  for (let at = 0; at < text.length; at++) {
    const space = whitespace[text.charCodeAt(at)] as number;
    if (space !== previousSpace) {
      if (space === 0) starts[count] = at;
      else ends[count++] = at;
      previousSpace = space;
    }
  }
  if (previousSpace === 0) ends[count++] = text.length;
  return { starts: starts.subarray(0, count), ends: ends.subarray(0, count), count };
}

/**
 * Cuts `text` into spans of `size` words, each sharing `overlap` words with the one before.
 * Span k starts at word k * (size - overlap); the last span is the first that reaches the last
 * word. A span runs from its first word's start to its last word's end, whitespace inside kept.
 */
export function wordSpans(text: string, size: number, overlap: number): ChunkSpan[] {
  checkBudget(size, overlap);
  const { starts, ends, count } = findWords(text);
  const step = size - overlap;
  const spans: ChunkSpan[] = [];
  for (let first = 0; first < count; first += step) {
    const last = Math.min(first + size, count) - 1;
    spans.push({ start: starts[first] as number, end: ends[last] as number });
    if (last === count - 1) break;
  }
  return spans;
}

/**
 * Splits plain `text` (no headings, no pages) into chunks of `size` words sharing `overlap`,
 * token counts in cl100k_base. chunkText is the entry point for extracted documents.
 */
export function chunkByWords(text: string, size: number, overlap: number): Chunk[] {
  const spans = wordSpans(text, size, overlap);
  return finishChunks({ text, headings: [], pages: [] }, spans, (start, end) =>
    countTokens(text.slice(start, end)),
  );
}
