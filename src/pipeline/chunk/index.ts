import type { ExtractedText } from '../extract/types.js';
import type { Chunk, ChunkingSettings } from './settings.js';
import { chunkByWords } from './words.js';

export type { Chunk, ChunkingSettings } from './settings.js';

/** Chunks extracted text with the strategy the settings name. */
export function chunkText(document: ExtractedText, settings: ChunkingSettings): Chunk[] {
  switch (settings.strategy) {
    case 'words':
      return chunkByWords(document.text, settings.size, settings.overlap);
    default:
      throw new Error(`chunking strategy ${settings.strategy} is not built yet`);
  }
}
