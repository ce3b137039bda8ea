import { describe, expect, it } from 'vitest';
import { median, splitEvenly } from '../../bench/reference.js';

describe('the reference scenario', () => {
  it("splits each server's documents over its rounds, every document sent once", () => {
    expect(splitEvenly(16_000, 8)).toEqual(Array.from({ length: 8 }, () => 2_000));
    expect(splitEvenly(10, 4)).toEqual([3, 3, 2, 2]);
    expect(splitEvenly(3, 8)).toEqual([1, 1, 1, 0, 0, 0, 0, 0]);
  });

  it("takes the median of the cycles' ratios, leaving out cycles without one", () => {
    expect(median([0.9, 0.5, 0.8])).toBe(0.8);
    expect(median([0.6, 0.9, 0.8, 0.7])).toBeCloseTo(0.75);
    expect(median([null, 0.7, null])).toBe(0.7);
    expect(median([null])).toBeNull();
  });
});
