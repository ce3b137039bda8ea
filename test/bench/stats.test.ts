import { describe, expect, it } from 'vitest';
import { percentile, ratePerSecond, summarize } from '../../bench/stats.js';

describe('percentile', () => {
  it('is the nearest rank: always an observed value', () => {
    const sorted = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(percentile(sorted, 50)).toBe(5);
    expect(percentile(sorted, 95)).toBe(10);
    expect(percentile(sorted, 99)).toBe(10);
    expect(percentile(sorted, 10)).toBe(1);
    expect(percentile(sorted, 0)).toBe(1);
  });

  it('is null for an empty sample', () => {
    expect(percentile([], 50)).toBeNull();
  });

  it('p99 of 100 values is the 99th', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(sorted, 99)).toBe(99);
    expect(percentile(sorted, 95)).toBe(95);
  });
});

describe('summarize', () => {
  it('sorts before ranking and keeps the maximum', () => {
    expect(summarize([30, 10, 20])).toEqual({ count: 3, p50: 20, p95: 30, p99: 30, max: 30 });
  });

  it('has nulls for no values', () => {
    expect(summarize([])).toEqual({ count: 0, p50: null, p95: null, p99: null, max: null });
  });
});

describe('ratePerSecond', () => {
  it('divides, and is null over an empty window', () => {
    expect(ratePerSecond(100, 2)).toBe(50);
    expect(ratePerSecond(100, 0)).toBeNull();
  });
});
