import type { ExtractedText } from '../extract/types.js';
import { sectionStarts } from './headings.js';
import { type RecursiveBudget, recursiveSpans } from './recursive.js';
import type { ChunkSpan } from './span.js';

/**
 * Heading-aware chunks: each heading opens a section that runs to the next heading of any level
 * (text before the first heading is a section too), and each section is cut like `recursive`
 * with the same budget, on its own, so no chunk straddles two sections and no overlap crosses
 * a section boundary. Small sections stay small chunks: merging them would blur the heading
 * path that is the point of this strategy. Without headings, this is `recursive`.
 */
export function structureSpans(document: ExtractedText, budget: RecursiveBudget): ChunkSpan[] {
  const { text } = document;
  const starts = sectionStarts(document.headings, text.length);
  const spans: ChunkSpan[] = [];
  starts.forEach((start, i) => {
    const end = starts[i + 1] ?? text.length;
    for (const span of recursiveSpans(text, start, end, budget)) spans.push(span);
  });
  return spans;
}
