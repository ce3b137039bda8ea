import { describe, expect, it } from 'vitest';
import {
  clockTicksPerSecond,
  parseProcStat,
  readProcStat,
  type Snapshot,
  ticksBetween,
} from '../../bench/cpu.js';

describe('parseProcStat', () => {
  it('reads ppid and times counted from the last parenthesis, whatever the name holds', () => {
    const line =
      '4242 (my (odd) proc) S 17 4242 4242 0 -1 4194560 1000 0 0 0 250 75 12 3 20 0 11 0 123456 1000000 2000 18446744073709551615';
    expect(parseProcStat(line)).toEqual({
      pid: 4242,
      comm: 'my (odd) proc',
      ppid: 17,
      utime: 250,
      stime: 75,
      cutime: 12,
      cstime: 3,
    });
  });

  it('refuses what is not a stat line', () => {
    expect(() => parseProcStat('nonsense')).toThrow();
  });

  it('reads this process from /proc', () => {
    const stat = readProcStat(process.pid);
    expect(stat?.pid).toBe(process.pid);
    expect(stat?.ppid).toBe(process.ppid);
    expect(readProcStat(2 ** 30)).toBeNull();
    expect(clockTicksPerSecond()).toBeGreaterThan(0);
  });
});

describe('ticksBetween', () => {
  const snapshot = (ticks: [number, number][], reaped: [number, number][] = []): Snapshot => ({
    ticks: new Map(ticks),
    reaped: new Map(reaped),
  });

  it('adds each process its growth, a newborn all of its time, and what reapers collected', () => {
    const start = snapshot(
      [
        [1, 100],
        [2, 50],
      ],
      [[1, 10]],
    );
    const end = snapshot(
      [
        [1, 130], // +30
        [3, 7], // born in the window: +7
        // 2 exited; its time reached 1's cutime
      ],
      [[1, 70]], // +60
    );
    expect(ticksBetween(start, end)).toBe(97);
  });

  it('never counts a negative (a reused pid)', () => {
    expect(ticksBetween(snapshot([[5, 900]]), snapshot([[5, 10]]))).toBe(0);
  });
});
