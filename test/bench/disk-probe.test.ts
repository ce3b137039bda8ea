import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DiskProbe, PROBE_INTERVAL_MS, STALL_MS } from '../../bench/disk-probe.js';

describe('DiskProbe', () => {
  let directory: string | undefined;
  afterEach(() => {
    if (directory) rmSync(directory, { recursive: true, force: true });
  });

  it('times durable writes on the disk under a directory until finished, and leaves no file', async () => {
    directory = mkdtempSync(path.join(os.tmpdir(), 'ingestd-disk-probe-'));
    const probe = new DiskProbe(directory);
    await new Promise((resolve) => setTimeout(resolve, 6 * PROBE_INTERVAL_MS));
    expect(readdirSync(directory)).toHaveLength(1);
    const result = await probe.finish();
    expect(result.directory).toBe(directory);
    expect(result.intervalMs).toBe(PROBE_INTERVAL_MS);
    // About one flush an interval (fewer when the disk is slow); every one took some time.
    expect(result.flushMs.count).toBeGreaterThanOrEqual(2);
    expect(result.flushMs.count).toBeLessThanOrEqual(8);
    expect(result.flushMs.p50).toBeGreaterThan(0);
    expect(result.flushMs.max).toBeGreaterThanOrEqual(result.flushMs.p50 ?? 0);
    expect(result.stalls).toBeLessThanOrEqual(result.flushMs.count);
    expect(result.stalls > 0).toBe((result.flushMs.max ?? 0) > STALL_MS);
    expect(readdirSync(directory)).toHaveLength(0);
  });

  it('reports a directory it cannot write in when finished', async () => {
    const missing = path.join(os.tmpdir(), 'ingestd-disk-probe-missing', 'nested');
    expect(existsSync(missing)).toBe(false);
    await expect(new DiskProbe(missing).finish()).rejects.toThrow(/ENOENT/);
  });
});
