import type { Chunk, ChunkingSettings } from './settings.js';
import { chunkByWords } from './words.js';

export type { Chunk, ChunkingSettings } from './settings.js';

/** Chunks extracted text with the strategy the settings name. */
export function chunkText(text: string, settings: ChunkingSettings): Chunk[] {
  switch (settings.strategy) {
    case 'words':
      return chunkByWords(text, settings.size, settings.overlap);
  }
}
