import { describe, expect, it } from 'vitest';
import { dueCount, intendedOffsetNs, runOpenLoop, scheduledCount } from '../../bench/open-loop.js';

describe('the open-loop schedule', () => {
  it('spaces requests 1/rate apart from the start', () => {
    expect(intendedOffsetNs(0, 500)).toBe(0n);
    expect(intendedOffsetNs(1, 500)).toBe(2_000_000n);
    expect(intendedOffsetNs(1000, 500)).toBe(2_000_000_000n);
    expect(intendedOffsetNs(1, 3)).toBe(333_333_333n);
  });

  it('counts the requests due by a moment: the first at once', () => {
    expect(dueCount(-1n, 1000, 10)).toBe(0);
    expect(dueCount(0n, 1000, 10)).toBe(1);
    expect(dueCount(999_999n, 1000, 10)).toBe(1);
    expect(dueCount(1_000_000n, 1000, 10)).toBe(2);
    expect(dueCount(5_000_000_000n, 1000, 10)).toBe(10);
  });

  it('agrees with intendedOffsetNs: request i is due exactly at its offset', () => {
    for (const rate of [1, 7, 500, 1000, 2500]) {
      for (const index of [0, 1, 2, 10, 999]) {
        expect(dueCount(intendedOffsetNs(index, rate), rate, 10_000)).toBeGreaterThanOrEqual(index + 1);
        if (index > 0)
          expect(dueCount(intendedOffsetNs(index, rate) - 1n, rate, 10_000)).toBeLessThanOrEqual(index);
      }
    }
  });

  it('schedules rate x duration requests', () => {
    expect(scheduledCount(500, 60)).toBe(30_000);
    expect(scheduledCount(0.5, 1)).toBe(1);
  });
});

describe('runOpenLoop', () => {
  it('sends on schedule whatever the answers take, and passes each intended time', async () => {
    const intended: bigint[] = [];
    const sentAt: bigint[] = [];
    const report = await runOpenLoop({
      ratePerSec: 200,
      total: 20,
      connections: 1000,
      signal: new AbortController().signal,
      // Every answer takes 50 ms, ten times the interval: a closed loop would fall behind.
      send: async (_index, intendedNs) => {
        intended.push(intendedNs);
        sentAt.push(process.hrtime.bigint());
        await new Promise((resolve) => setTimeout(resolve, 50));
      },
    });
    expect(report.sent).toBe(20);
    expect(report.scheduled).toBe(20);
    const span = Number((intended.at(-1) as bigint) - (intended[0] as bigint)) / 1e6;
    expect(span).toBeCloseTo(95, 0);
    // All sent within about the schedule's length (19 intervals of 5 ms), not 20 x 50 ms.
    const sentSpan = Number((sentAt.at(-1) as bigint) - (sentAt[0] as bigint)) / 1e6;
    expect(sentSpan).toBeLessThan(500);
    for (let i = 0; i < sentAt.length; i++) expect(sentAt[i]).toBeGreaterThanOrEqual(intended[i] as bigint);
  });

  it('counts sends made while every connection was busy', async () => {
    const report = await runOpenLoop({
      ratePerSec: 1000,
      total: 10,
      connections: 2,
      signal: new AbortController().signal,
      send: () => new Promise((resolve) => setTimeout(resolve, 100)),
    });
    expect(report.queuedAtClient).toBe(8);
  });

  it('stops sending when aborted, and a failing send does not stop the rest', async () => {
    const abort = new AbortController();
    let sends = 0;
    const report = await runOpenLoop({
      ratePerSec: 1000,
      total: 1000,
      connections: 10,
      signal: abort.signal,
      send: async () => {
        sends++;
        if (sends === 5) abort.abort();
        throw new Error('refused');
      },
    });
    expect(report.sent).toBeLessThan(1000);
    expect(report.sent).toBe(sends);
  });
});
