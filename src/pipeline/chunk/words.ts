import { countTokens } from '../tokenize.js';
import { finishChunks } from './finish.js';
import type { Chunk } from './settings.js';
import { type ChunkSpan, checkBudget } from './span.js';
import { WHITESPACE } from './whitespace.js';

/**
 * Cuts `text` into spans of `size` words, each sharing `overlap` words with the one before.
 * Span k starts at word k * (size - overlap); the last span is the first that reaches the last
 * word. A span runs from its first word's start to its last word's end, whitespace inside kept.
 *
 * One pass over the code units (the words of /\S+/g, a few times faster than the regex), keeping
 * only the spans: a 50 MB text has millions of words, and their offsets would take hundreds of MB.
 */
export function wordSpans(text: string, size: number, overlap: number): ChunkSpan[] {
  checkBudget(size, overlap);
  const step = size - overlap;
  const spans: ChunkSpan[] = [];
  const whitespace = WHITESPACE; // a local: module bindings may be getters (vite-node, bundlers)
  let word = -1; // the word being read
  let closing = 0; // the first span still waiting for its last word
  let previousSpace = 1;
  for (let at = 0; at < text.length; at++) {
    const space = whitespace[text.charCodeAt(at)] as number;
    if (space === previousSpace) continue;
    previousSpace = space;
    if (space === 0) {
      word++;
      if (word % step === 0) spans.push({ start: at, end: -1 });
    } else if (closing * step + size - 1 === word) {
      (spans[closing++] as ChunkSpan).end = at;
    }
  }
  const words = word + 1;
  if (words === 0) return [];
  // The first span that reaches the last word ends there; any after it would only repeat words.
  const last = Math.max(0, Math.ceil((words - size) / step));
  spans.length = last + 1;
  (spans[last] as ChunkSpan).end = previousSpace === 0 ? text.length : lastWordEnd(text);
  return spans;
}

/** One past the last non-whitespace code unit of a text that ends in whitespace. */
function lastWordEnd(text: string): number {
  let at = text.length;
  while (at > 0 && WHITESPACE[text.charCodeAt(at - 1)] === 1) at--;
  return at;
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
