import type { RawOptions } from '../../bench/cli.js';

/** Options as commander hands them over with only its defaults filled in, plus `overrides`. */
export const rawOptions = (overrides: Partial<RawOptions> = {}): RawOptions => ({
  words: 1000,
  size: 500,
  overlap: 50,
  workers: 1,
  apiNodes: 1,
  timeout: 300,
  runs: 5,
  ...overrides,
});
