/**
 * Open-loop scheduling: request i is due at start + i / rate, whatever happened to the requests
 * before it. A closed loop (send the next when an answer comes back) sends less when the server
 * slows down, so the slow moments make few samples and the latency percentiles look better than
 * what a steady stream of clients would see (coordinated omission). Here latency is measured from
 * the intended send time, so a request that had to wait (for our timer, or for a free connection)
 * counts its wait as latency.
 */
import { setTimeout as sleep } from 'node:timers/promises';

/** Nanoseconds from the schedule's start at which request `index` is due. */
export function intendedOffsetNs(index: number, ratePerSec: number): bigint {
  return BigInt(Math.round((index * 1e9) / ratePerSec));
}

/**
 * How many requests are due `elapsedNs` after the start: those whose intendedOffsetNs has come
 * (request 0 at once). The float estimate is corrected against intendedOffsetNs' rounding, so a
 * request is due exactly at its intended time.
 */
export function dueCount(elapsedNs: bigint, ratePerSec: number, total: number): number {
  if (elapsedNs < 0n) return 0;
  let count = Math.min(total, Math.floor((Number(elapsedNs) / 1e9) * ratePerSec) + 1);
  while (count < total && intendedOffsetNs(count, ratePerSec) <= elapsedNs) count++;
  while (count > 0 && intendedOffsetNs(count - 1, ratePerSec) > elapsedNs) count--;
  return count;
}

/** Requests a run of `durationSeconds` at `ratePerSec` sends. */
export function scheduledCount(ratePerSec: number, durationSeconds: number): number {
  return Math.max(1, Math.round(ratePerSec * durationSeconds));
}

/** How far the sender kept to the schedule. */
export interface ScheduleReport {
  offeredPerSec: number;
  scheduled: number;
  sent: number;
  /** Sends dispatched more than LATE_THRESHOLD_MS after their intended time (the sender fell behind). */
  lateSends: number;
  /** The latest dispatch, in ms after its intended time. */
  maxLateMs: number;
  /** Threshold for lateSends, in ms. */
  lateThresholdMs: number;
  /** Sends dispatched while every connection was busy: they waited in the client's queue. */
  queuedAtClient: number;
}

/** A dispatch this much after its intended time is counted as behind schedule. */
export const LATE_THRESHOLD_MS = 10;

export interface OpenLoopOptions {
  ratePerSec: number;
  total: number;
  /** Connections available; a send while this many requests are in flight waits for one. */
  connections: number;
  /**
   * Starts request `index`; resolves when its answer has been read. `intendedNs` is hrtime.
   * Records its own failures: a rejection here is dropped.
   */
  send: (index: number, intendedNs: bigint) => Promise<void>;
  signal: AbortSignal;
}

/**
 * Dispatches `total` requests on the schedule, without waiting for answers between them, then
 * waits for every answer. The timer wakes at most once a millisecond and sends all that are due.
 */
export async function runOpenLoop(options: OpenLoopOptions): Promise<ScheduleReport> {
  const { ratePerSec, total } = options;
  const report: ScheduleReport = {
    offeredPerSec: ratePerSec,
    scheduled: total,
    sent: 0,
    lateSends: 0,
    maxLateMs: 0,
    lateThresholdMs: LATE_THRESHOLD_MS,
    queuedAtClient: 0,
  };
  const inFlight = new Set<Promise<void>>();
  const startNs = process.hrtime.bigint();
  let next = 0;
  while (next < total && !options.signal.aborted) {
    const now = process.hrtime.bigint();
    const due = dueCount(now - startNs, ratePerSec, total);
    for (; next < due; next++) {
      const intendedNs = startNs + intendedOffsetNs(next, ratePerSec);
      const lateMs = Number(now - intendedNs) / 1e6;
      if (lateMs > LATE_THRESHOLD_MS) report.lateSends++;
      if (lateMs > report.maxLateMs) report.maxLateMs = lateMs;
      if (inFlight.size >= options.connections) report.queuedAtClient++;
      const request: Promise<void> = options
        .send(next, intendedNs)
        .catch(() => {})
        .finally(() => inFlight.delete(request));
      inFlight.add(request);
      report.sent++;
    }
    if (next >= total) break;
    const waitNs = startNs + intendedOffsetNs(next, ratePerSec) - process.hrtime.bigint();
    // Timers fire no sooner than 1 ms; anything due by then is sent in the same wake-up.
    await sleep(Math.max(1, Math.floor(Number(waitNs) / 1e6)));
  }
  await Promise.allSettled(inFlight);
  return report;
}
