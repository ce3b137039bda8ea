import type { ExtractedText } from '../extract/types.js';
import { headingPathFinder } from './headings.js';
import { pageFinder } from './pages.js';
import type { Measure } from './recursive.js';
import type { Chunk } from './settings.js';
import type { ChunkSpan } from './span.js';
import { countWords } from './word-starts.js';

/**
 * Turns a strategy's spans into chunks; the one place where every strategy's chunks get their
 * text, counts, pages and heading path, so they mean the same thing whatever the strategy.
 *
 * - A span without a word (whitespace only) is dropped: it would embed to noise.
 * - tokenCount is the span's text encoded on its own in the settings' tokenizer: what
 *   `countTokens` measures for text[start, end) (the strategy's own count when it has one).
 * - headingPath is the path at the chunk's start, for every strategy: it costs a binary search,
 *   and gives `words`/`tokens`/`recursive` chunks useful context too. For `structure` the start
 *   is inside the chunk's only section, so it is that section's path.
 */
export function finishChunks(
  document: ExtractedText,
  spans: readonly ChunkSpan[],
  countTokens: Measure,
): Chunk[] {
  const text = document.text;
  const pagesOf = pageFinder(document.pages);
  const headingPathAt = headingPathFinder(document.headings, text.length);
  const chunks: Chunk[] = [];
  for (const { start, end, tokenCount } of spans) {
    const wordCount = countWords(text, start, end);
    if (wordCount === 0) continue;
    chunks.push({
      index: chunks.length,
      text: text.slice(start, end),
      start,
      end,
      wordCount,
      tokenCount: tokenCount ?? countTokens(start, end),
      pages: pagesOf(start, end),
      headingPath: headingPathAt(start),
    });
  }
  return chunks;
}
