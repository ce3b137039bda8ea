import { countTokens } from '../tokenize.js';
import { finishChunks } from './finish.js';
import type { Chunk } from './settings.js';
import { type ChunkSpan, checkBudget } from './span.js';
import { skipWhitespaceBackward } from './whitespace.js';
import { WordStarts } from './word-starts.js';

/**
 * Cuts `text` into spans of `size` words, each sharing `overlap` words with the one before.
 * Span k starts at word k * (size - overlap); the last span is the first that reaches the last
 * word. A span runs from its first word's start to its last word's end, whitespace inside kept.
 *
 * One pass over the text, keeping only the spans (a 50 MB text has millions of words, and their
 * offsets took hundreds of MB). It stops only where a span starts, or where the word after a
 * span's last one starts; WordStarts skips the words between.
 */
export function wordSpans(text: string, size: number, overlap: number): ChunkSpan[] {
  checkBudget(size, overlap);
  const step = size - overlap;
  const spans: ChunkSpan[] = [];
  const starts = new WordStarts(text);
  let nextStart = 0; // the word whose start opens the next span
  let nextAfter = size; // the word after the last word of the oldest open span
  let closing = 0; // the oldest open span
  for (;;) {
    const word = Math.min(nextStart, nextAfter);
    const at = starts.find(word + 1 - starts.words);
    if (at < 0) break;
    if (word === nextAfter) {
      (spans[closing++] as ChunkSpan).end = skipWhitespaceBackward(text, 0, at);
      nextAfter += step;
    }
    if (word === nextStart) {
      spans.push({ start: at, end: -1 });
      nextStart += step;
    }
  }
  const words = starts.words;
  if (words === 0) return [];
  // The first span that reaches the last word ends there; any after it would only repeat words.
  const last = Math.max(0, Math.ceil((words - size) / step));
  spans.length = last + 1;
  (spans[last] as ChunkSpan).end = skipWhitespaceBackward(text, 0, text.length);
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
