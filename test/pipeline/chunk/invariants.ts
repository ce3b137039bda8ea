import { expect } from 'vitest';
import type { Chunk, ChunkingSettings } from '../../../src/pipeline/chunk/settings.js';
import type { ExtractedText } from '../../../src/pipeline/extract/types.js';
import {
  isCharacterBoundary,
  referenceHeadingPath,
  referencePages,
  referenceTokens,
  wordsOf,
} from './oracles.js';

/**
 * What every chunk of every strategy promises: indexes 0..n-1, text at its offsets, counts
 * re-measured, pages and heading path as the oracles say, starts and ends strictly increasing,
 * every non-whitespace character inside some chunk.
 */
export function expectChunkInvariants(document: ExtractedText, settings: ChunkingSettings, chunks: Chunk[]) {
  const { text } = document;
  const tokenizer = 'tokenizer' in settings ? settings.tokenizer : 'cl100k_base';
  const covered = new Int32Array(text.length + 1);
  chunks.forEach((chunk, k) => {
    expect(chunk.index).toBe(k);
    expect(chunk.start).toBeGreaterThanOrEqual(0);
    expect(chunk.end).toBeLessThanOrEqual(text.length);
    expect(chunk.text).toBe(text.slice(chunk.start, chunk.end));
    expect(chunk.wordCount).toBe(wordsOf(chunk.text).length);
    expect(chunk.wordCount).toBeGreaterThan(0);
    expect(chunk.tokenCount).toBe(referenceTokens(chunk.text, tokenizer));
    expect(chunk.pages).toEqual(referencePages(document, chunk.start, chunk.end));
    expect(chunk.headingPath).toEqual(referenceHeadingPath(document, chunk.start));
    expect(isCharacterBoundary(text, chunk.start) && isCharacterBoundary(text, chunk.end)).toBe(true);
    const previous = chunks[k - 1];
    if (previous) {
      expect(chunk.start).toBeGreaterThan(previous.start);
      expect(chunk.end).toBeGreaterThan(previous.end);
    }
    // Mark coverage with a difference array: +1 at start, -1 at end.
    covered[chunk.start] = (covered[chunk.start] as number) + 1;
    covered[chunk.end] = (covered[chunk.end] as number) - 1;
  });
  let depth = 0;
  const uncovered: number[] = [];
  for (let at = 0; at < text.length; at++) {
    depth += covered[at] as number;
    if (depth <= 0 && /\S/.test(text.charAt(at))) uncovered.push(at);
  }
  expect(uncovered).toEqual([]);
}
