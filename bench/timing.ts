/** Timing helpers of the in-process scenarios (extraction, chunkers), and the pipeline's detect + extract. */
import { performance } from 'node:perf_hooks';
import { charsetOf, detectContentType } from '../src/pipeline/detect.js';
import { defaultExtractLimits, type ExtractedText, extractorFor } from '../src/pipeline/extract/index.js';
import type { Timing } from './extraction-report.js';
import { percentile } from './stats.js';

/** Runs `operation` once untimed, then `runs` times timed; returns the timing and the last result. */
export async function timeRuns<T>(
  runs: number,
  operation: () => T | Promise<T>,
): Promise<{ timing: Timing; result: T }> {
  let started = performance.now();
  let result = await operation();
  const firstMs = performance.now() - started;
  const samples: number[] = [];
  for (let run = 0; run < runs; run++) {
    started = performance.now();
    result = await operation();
    samples.push(performance.now() - started);
  }
  return { timing: timingOf(firstMs, samples), result };
}

export function timingOf(firstMs: number, samples: readonly number[]): Timing {
  const sorted = samples.toSorted((a, b) => a - b);
  return {
    firstMs,
    medianMs: median(sorted),
    minMs: sorted[0] ?? Number.NaN,
    maxMs: sorted.at(-1) ?? Number.NaN,
  };
}

/** The median of ascending `sorted` (the mean of the middle two for an even count). */
export function median(sorted: readonly number[]): number {
  if (sorted.length % 2 === 1) return percentile(sorted, 50) ?? Number.NaN;
  const upper = sorted.length / 2;
  return ((sorted[upper - 1] ?? Number.NaN) + (sorted[upper] ?? Number.NaN)) / 2;
}

/** What processDocument does before chunking: detect from bytes and declared type, then extract. */
export async function detectAndExtract(
  bytes: Uint8Array,
  declared: string,
): Promise<{ type: string; extracted: ExtractedText; detectMs: number }> {
  const started = performance.now();
  const type = await detectContentType(bytes, declared, undefined, defaultExtractLimits);
  const detectMs = performance.now() - started;
  const extracted = await extractorFor(type)(bytes, defaultExtractLimits, { charset: charsetOf(declared) });
  return { type, extracted, detectMs };
}
