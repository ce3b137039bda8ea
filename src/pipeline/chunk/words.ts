import { countTokens } from '../tokenize.js';
import { finishChunks } from './finish.js';
import type { Chunk } from './settings.js';
import { type ChunkSpan, checkBudget } from './span.js';
import { skipWhitespaceBackward, WHITESPACE } from './whitespace.js';

/**
 * Cuts `text` into spans of `size` words, each sharing `overlap` words with the one before.
 * Span k starts at word k * (size - overlap); the last span is the first that reaches the last
 * word. A span runs from its first word's start to its last word's end, whitespace inside kept.
 *
 * One pass over the code units, keeping only the spans (a 50 MB text has millions of words, and
 * their offsets took hundreds of MB). Words are counted without a branch (the words of /\S+/g,
 * starting where whitespace ends) in an inner loop that leaves only where a span starts, or where
 * the word after a span's last one starts: with its state in locals, that loop ran 1.45x faster
 * than one loop testing both (bench chunkers, 5 MB of prose: 345 -> 495 MB/s).
 */
export function wordSpans(text: string, size: number, overlap: number): ChunkSpan[] {
  checkBudget(size, overlap);
  const step = size - overlap;
  const spans: ChunkSpan[] = [];
  const whitespace = WHITESPACE; // a local: module bindings may be getters (vite-node, bundlers)
  const length = text.length;
  let words = 0; // words started so far: the word at hand is words - 1
  let previousSpace = 1;
  let nextStart = 0; // the word whose start opens the next span
  let nextAfter = size; // the word after the last word of the oldest open span
  let closing = 0; // the oldest open span
  let event = 1; // the value of `words` at which the next of those two words starts
  for (let at = 0; at < length; at++) {
    let counted = words;
    let space = previousSpace;
    for (; at < length; at++) {
      const next = whitespace[text.charCodeAt(at)] as number;
      counted += space & (next ^ 1);
      space = next;
      if (counted === event) break;
    }
    words = counted;
    previousSpace = space;
    if (at === length) break;
    const word = words - 1;
    if (word === nextAfter) {
      (spans[closing++] as ChunkSpan).end = skipWhitespaceBackward(text, 0, at);
      nextAfter += step;
    }
    if (word === nextStart) {
      spans.push({ start: at, end: -1 });
      nextStart += step;
    }
    event = Math.min(nextStart, nextAfter) + 1;
  }
  if (words === 0) return [];
  // The first span that reaches the last word ends there; any after it would only repeat words.
  const last = Math.max(0, Math.ceil((words - size) / step));
  spans.length = last + 1;
  (spans[last] as ChunkSpan).end = skipWhitespaceBackward(text, 0, length);
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
