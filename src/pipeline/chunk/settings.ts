import { z } from 'zod';

/** Upper bound on words per chunk: far above any embedding model's window, low enough to bound memory. */
export const MAX_CHUNK_WORDS = 10_000;

/**
 * The largest overlap allowed for a chunk size: half a chunk. More would multiply the stored text
 * (each word stored size/(size-overlap) times) for one small request, without adding context.
 */
export function maxOverlap(size: number): number {
  return Math.floor(size / 2);
}

export const wordsChunkingSettings = z
  .object({
    strategy: z.literal('words'),
    /** Words per chunk. */
    size: z.number().int().min(1).max(MAX_CHUNK_WORDS),
    /** Words shared with the previous chunk; at most half of size. */
    overlap: z.number().int().min(0).max(maxOverlap(MAX_CHUNK_WORDS)),
  })
  .refine((settings) => settings.overlap <= maxOverlap(settings.size), {
    message: 'overlap must be at most half of size',
    path: ['overlap'],
  });

/** How a version is chunked. Stored with the version, so a later re-run chunks the same way. */
export const chunkingSettings = wordsChunkingSettings;
export type ChunkingSettings = z.infer<typeof chunkingSettings>;

/** A chunk as the pipeline makes it; offsets are UTF-16 indexes into the extracted text. */
export interface Chunk {
  index: number;
  text: string;
  start: number;
  end: number;
  wordCount: number;
  tokenCount: number;
}
