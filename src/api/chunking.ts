import { z } from 'zod';
import type { Config } from '../config.js';
import { RequestError } from '../errors.js';
import {
  type ChunkingSettings,
  chunkingSettings,
  chunkingStrategies,
  chunkUnits,
  DEFAULT_TOKENIZER,
  tokenizerNames,
} from '../pipeline/chunk/settings.js';

/** Chunking as a client may ask for it: every field optional, filled from config by resolveChunking. */
export const chunkingRequest = z
  .object({
    strategy: z.enum(chunkingStrategies).optional(),
    size: z.number().int().min(1).optional(),
    overlap: z.number().int().min(0).optional(),
    unit: z.enum(chunkUnits).optional(),
    tokenizer: z.enum(tokenizerNames).optional(),
  })
  .strict();
export type ChunkingRequest = z.infer<typeof chunkingRequest>;

/** Default budgets where CHUNK_SIZE (a word count) does not apply. */
const DEFAULT_TOKEN_BUDGET = 512;
const DEFAULT_CHARACTER_BUDGET = 2_000;

/**
 * Complete settings from a partial request: the strategy defaults to CHUNK_STRATEGY, the size to
 * the strategy's default, and a missing overlap scales with the size (CHUNK_OVERLAP/CHUNK_SIZE of
 * it, so `size: 100` alone gets 10). Throws a 400 naming the field when the result is invalid.
 */
export function resolveChunking(request: ChunkingRequest | undefined, config: Config): ChunkingSettings {
  const strategy = request?.strategy ?? config.CHUNK_STRATEGY;
  const unit = request?.unit ?? 'characters';
  const tokenizer = request?.tokenizer ?? DEFAULT_TOKENIZER;
  const defaultSize =
    strategy === 'words'
      ? config.CHUNK_SIZE
      : strategy === 'tokens' || unit === 'tokens'
        ? DEFAULT_TOKEN_BUDGET
        : DEFAULT_CHARACTER_BUDGET;
  const size = request?.size ?? defaultSize;
  const overlap = request?.overlap ?? Math.floor((size * config.CHUNK_OVERLAP) / config.CHUNK_SIZE);
  // Only the fields a strategy has: a stray `unit` on `words` is an error, not silently ignored.
  const candidate =
    strategy === 'words'
      ? { strategy, size, overlap, unit: request?.unit, tokenizer: request?.tokenizer }
      : strategy === 'tokens'
        ? { strategy, size, overlap, tokenizer, unit: request?.unit }
        : { strategy, size, overlap, unit, tokenizer };
  const withoutUnset = Object.fromEntries(
    Object.entries(candidate).filter(([, value]) => value !== undefined),
  );
  const parsed = chunkingSettings.safeParse(withoutUnset);
  if (!parsed.success) {
    const details = parsed.error.issues.map((issue) => ({
      in: 'body',
      path: ['chunking', ...issue.path].join('.'),
      message: issue.message,
    }));
    throw new RequestError(
      400,
      'validation_error',
      `body.${details[0]?.path}: ${details[0]?.message}`,
      details,
    );
  }
  return parsed.data;
}
