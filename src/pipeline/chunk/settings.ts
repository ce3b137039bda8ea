import { createHash } from 'node:crypto';
import { z } from 'zod';

/** Tokenizers a chunk's token count (and the `tokens` strategy's budget) can be measured in. */
export const tokenizerNames = ['cl100k_base', 'o200k_base'] as const;
export type TokenizerName = (typeof tokenizerNames)[number];
export const DEFAULT_TOKENIZER: TokenizerName = 'cl100k_base';

export const chunkingStrategies = ['words', 'tokens', 'recursive', 'structure'] as const;
export type ChunkingStrategy = (typeof chunkingStrategies)[number];

/** Budgets are measured in words, tokens or characters, depending on the strategy. */
export const chunkUnits = ['characters', 'tokens'] as const;

/** Upper bounds per unit: far above any embedding model's window, low enough to bound memory. */
export const MAX_CHUNK_WORDS = 10_000;
export const MAX_CHUNK_TOKENS = 32_768;
export const MAX_CHUNK_CHARACTERS = 200_000;

/**
 * The largest overlap allowed for a chunk size: half a chunk. More would multiply the stored text
 * (each word stored size/(size-overlap) times) for one small request, without adding context.
 */
export function maxOverlap(size: number): number {
  return Math.floor(size / 2);
}

const budget = (max: number) => ({
  size: z.number().int().min(1).max(max),
  overlap: z.number().int().min(0).max(maxOverlap(max)),
});

/** `size` words per chunk, `overlap` words shared with the previous one. */
const words = z.object({ strategy: z.literal('words'), ...budget(MAX_CHUNK_WORDS) }).strict();

/** `size` tokens of `tokenizer` per chunk, `overlap` tokens shared; cuts fall between tokens. */
const tokens = z
  .object({
    strategy: z.literal('tokens'),
    ...budget(MAX_CHUNK_TOKENS),
    tokenizer: z.enum(tokenizerNames),
  })
  .strict();

/**
 * Split at paragraphs, then lines, sentences, words (LangChain's RecursiveCharacterTextSplitter),
 * merging pieces up to `size` characters or tokens, with `overlap` carried into the next chunk.
 */
const recursive = z
  .object({
    strategy: z.literal('recursive'),
    ...budget(MAX_CHUNK_CHARACTERS),
    unit: z.enum(chunkUnits),
    tokenizer: z.enum(tokenizerNames),
  })
  .strict();

/** Like `recursive`, but a chunk never straddles two sections, and records its heading path. */
const structure = z
  .object({
    strategy: z.literal('structure'),
    ...budget(MAX_CHUNK_CHARACTERS),
    unit: z.enum(chunkUnits),
    tokenizer: z.enum(tokenizerNames),
  })
  .strict();

/** How a version is chunked: complete (defaults filled in), stored with the version and its chunks. */
export const chunkingSettings = z
  .discriminatedUnion('strategy', [words, tokens, recursive, structure])
  .superRefine((settings, ctx) => {
    const unitMax =
      settings.strategy === 'words' ? MAX_CHUNK_WORDS : tokenBudgeted(settings) ? MAX_CHUNK_TOKENS : null;
    if (unitMax !== null && settings.size > unitMax) {
      ctx.addIssue({ code: 'custom', path: ['size'], message: `must be at most ${unitMax}` });
    }
    if (settings.overlap > maxOverlap(settings.size)) {
      ctx.addIssue({ code: 'custom', path: ['overlap'], message: 'must be at most half of size' });
    }
  });
export type ChunkingSettings = z.infer<typeof chunkingSettings>;

function tokenBudgeted(settings: ChunkingSettings): boolean {
  return settings.strategy === 'tokens' || ('unit' in settings && settings.unit === 'tokens');
}

/** The tokenizer a version's token counts are measured in. */
export function tokenizerOf(settings: ChunkingSettings): TokenizerName {
  return 'tokenizer' in settings ? settings.tokenizer : DEFAULT_TOKENIZER;
}

/** A short, stable hash of the settings (key order does not matter), stored with every chunk. */
export function settingsHash(settings: ChunkingSettings): string {
  const canonical = JSON.stringify(
    Object.fromEntries(Object.entries(settings).sort(([a], [b]) => a.localeCompare(b))),
  );
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}

/** A chunk as the pipeline makes it; offsets are UTF-16 indexes into the extracted text. */
export interface Chunk {
  index: number;
  text: string;
  start: number;
  end: number;
  wordCount: number;
  /** Tokens of the version's tokenizer (see tokenizerOf). */
  tokenCount: number;
  /** 1-based pages the chunk spans, for paged formats; empty otherwise. */
  pages: number[];
  /** Titles of the sections enclosing the chunk, outermost first; empty when the text has none. */
  headingPath: string[];
}
