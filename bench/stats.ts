/** Percentiles of a sample, in the sample's unit. Absent (null) when the sample is empty. */
export interface Summary {
  count: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
}

/**
 * The nearest-rank percentile of ascending `sorted`: the smallest value with at least p% of the
 * sample at or below it. Always an observed value, never an interpolation.
 */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] ?? null;
}

export function summarize(values: readonly number[]): Summary {
  const sorted = values.toSorted((a, b) => a - b);
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? null,
  };
}

/** Events per second over `seconds`; null when the window is empty. */
export function ratePerSecond(events: number, seconds: number): number | null {
  return seconds > 0 ? events / seconds : null;
}
