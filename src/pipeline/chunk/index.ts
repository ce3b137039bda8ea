import type { ExtractedText } from '../extract/types.js';
import { countTokens, TokenizedText } from '../tokenize.js';
import { finishChunks } from './finish.js';
import { measureCharacters, type RecursiveBudget, recursiveSpans } from './recursive.js';
import { type Chunk, type ChunkingSettings, tokenizerOf } from './settings.js';
import type { ChunkSpan, Measure } from './span.js';
import { structureSpans } from './structure.js';
import { tokenSpans } from './tokens.js';
import { wordSpans } from './words.js';

export type { Chunk, ChunkingSettings } from './settings.js';

/**
 * Chunks extracted text with the strategy the settings name. Pure: no I/O, same input, same
 * chunks. When tokens shape the cuts (the `tokens` strategy, a `tokens` unit), the text is
 * tokenized once and every token measure, chunk counts included, comes from that one pass.
 * Otherwise each chunk's text is counted on its own: about as fast (a chunk's pieces are cached
 * counts), without holding the whole document's tokenization in memory.
 */
export function chunkText(document: ExtractedText, settings: ChunkingSettings): Chunk[] {
  const { text } = document;
  const tokenizer = tokenizerOf(settings);
  const tokenShaped = settings.strategy === 'tokens' || ('unit' in settings && settings.unit === 'tokens');
  const tokens = tokenShaped
    ? new TokenizedText(text, tokenizer, { boundaries: settings.strategy === 'tokens' })
    : null;
  const countRange: Measure = tokens
    ? (start, end) => tokens.count(start, end)
    : (start, end) => countTokens(text.slice(start, end), tokenizer);
  let spans: ChunkSpan[];
  switch (settings.strategy) {
    case 'words':
      spans = wordSpans(text, settings.size, settings.overlap);
      break;
    case 'tokens':
      spans = tokenSpans(tokens as TokenizedText, settings.size, settings.overlap);
      break;
    case 'recursive':
      spans = recursiveSpans(text, 0, text.length, budgetOf(settings, countRange));
      break;
    case 'structure':
      spans = structureSpans(document, budgetOf(settings, countRange));
      break;
  }
  return finishChunks(document, spans, countRange);
}

function budgetOf(
  settings: Extract<ChunkingSettings, { strategy: 'recursive' | 'structure' }>,
  countRange: Measure,
): RecursiveBudget {
  return {
    size: settings.size,
    overlap: settings.overlap,
    measure: settings.unit === 'tokens' ? countRange : measureCharacters,
  };
}
