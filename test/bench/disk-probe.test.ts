import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type DiskLatency, DiskProbe, PROBE_INTERVAL_MS, STALL_MS } from '../../bench/disk-probe.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('DiskProbe', () => {
  let directory: string | undefined;
  afterEach(() => {
    if (directory) rmSync(directory, { recursive: true, force: true });
  });

  it('times durable writes on the disk under a directory, one an interval, and leaves no file', async () => {
    directory = mkdtempSync(path.join(os.tmpdir(), 'ingestd-disk-probe-'));
    const started = Date.now();
    const probe = new DiskProbe(directory);
    let result: DiskLatency;
    try {
      // The thread makes its file before its first timed write.
      while (readdirSync(directory).length === 0) await sleep(5);
      await sleep(20 * PROBE_INTERVAL_MS);
    } finally {
      result = await probe.finish();
    }
    const elapsedMs = Date.now() - started;
    expect(result.directory).toBe(directory);
    expect(result.intervalMs).toBe(PROBE_INTERVAL_MS);
    // Each write waits an interval after the one before: never more than the time allows.
    expect(result.flushMs.count).toBeGreaterThanOrEqual(2);
    expect(result.flushMs.count).toBeLessThanOrEqual(Math.floor(elapsedMs / PROBE_INTERVAL_MS) + 1);
    expect(result.flushMs.p50).toBeGreaterThan(0);
    expect(result.flushMs.max).toBeGreaterThanOrEqual(result.flushMs.p50 ?? 0);
    expect(result.stalls > 0).toBe((result.flushMs.max ?? 0) > STALL_MS);
    expect(readdirSync(directory)).toHaveLength(0);
  });

  it('stops when asked without finishing (a failed run), removing its file', async () => {
    directory = mkdtempSync(path.join(os.tmpdir(), 'ingestd-disk-probe-'));
    const probe = new DiskProbe(directory);
    while (readdirSync(directory).length === 0) await sleep(5);
    probe.stop();
    probe.stop();
    const deadline = Date.now() + 10_000;
    while (readdirSync(directory).length > 0 && Date.now() < deadline) await sleep(10);
    expect(readdirSync(directory)).toHaveLength(0);
  });

  it('reports a directory it cannot write in when finished', async () => {
    const missing = path.join(os.tmpdir(), 'ingestd-disk-probe-missing', 'nested');
    expect(existsSync(missing)).toBe(false);
    await expect(new DiskProbe(missing).finish()).rejects.toThrow(/ENOENT/);
  });
});
