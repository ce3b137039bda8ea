import { validate, version } from 'uuid';
import { describe, expect, it } from 'vitest';
import { newId } from '../src/ids.js';

describe('newId', () => {
  it('makes distinct UUIDv7s that ascend in the order they were made, many to a millisecond', () => {
    // 10,000 ids: dozens share each millisecond, and the 4 KB random pool is refilled 39 times.
    const ids = Array.from({ length: 10_000 }, () => newId());
    for (const id of ids.slice(0, 50)) {
      expect(validate(id)).toBe(true);
      expect(version(id)).toBe(7);
    }
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.toSorted()).toEqual(ids);
    // The time in the first 48 bits is now.
    const ms = Number.parseInt((ids.at(-1) as string).replaceAll('-', '').slice(0, 12), 16);
    expect(Math.abs(ms - Date.now())).toBeLessThan(5_000);
  });
});
