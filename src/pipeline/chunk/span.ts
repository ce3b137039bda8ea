import { maxOverlap } from './settings.js';

/** Where a strategy cuts a chunk: UTF-16 offsets [start, end) into the extracted text. */
export interface ChunkSpan {
  start: number;
  end: number;
  /** The span's own token count in the settings' tokenizer, when the strategy measured it. */
  tokenCount?: number;
}

/** The size of text[start, end) in some unit (characters, tokens). */
export type Measure = (start: number, end: number) => number;

/** Rejects budgets that cannot make progress or would multiply the stored text (see maxOverlap). */
export function checkBudget(size: number, overlap: number): void {
  if (!Number.isInteger(size) || size < 1) throw new RangeError('size must be a positive integer');
  if (!Number.isInteger(overlap) || overlap < 0 || overlap > maxOverlap(size)) {
    throw new RangeError('overlap must be an integer in [0, size / 2]');
  }
}
