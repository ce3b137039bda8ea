/**
 * How the database's disk answers a durable write while a scenario runs: 8 KB written in place
 * and fdatasync'd every PROBE_INTERVAL_MS, from a thread of its own, in a file beside the data
 * directory. No commit is faster than its WAL flush, and a flush that stalls holds every commit
 * waiting behind it: a POST p99 read beside this says whether the time went to the disk.
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { type Summary, summarize } from './stats.js';

export const PROBE_INTERVAL_MS = 50;
/** A flush slower than this is counted as a stall. */
export const STALL_MS = 50;

export interface DiskLatency {
  /** The directory the probe wrote in. */
  directory: string;
  intervalMs: number;
  /** Latency of each write + fdatasync. */
  flushMs: Summary;
  /** Flushes slower than STALL_MS. */
  stalls: number;
}

/*
 * The thread's source, as a string: it must run from the TypeScript sources (tests) and from the
 * build alike. Blocks are written before the first sample, so every timed write overwrites
 * allocated space and its fdatasync flushes data, not file metadata (as a WAL segment's does).
 */
const PROBE_THREAD = `
const { workerData, parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const { file, intervalMs, stop } = workerData;
const block = Buffer.alloc(8192, 1);
const blocks = 256;
const latencies = [];
const fd = fs.openSync(file, 'w');
try {
  for (let i = 0; i < blocks; i++) fs.writeSync(fd, block, 0, block.length, i * block.length);
  fs.fsyncSync(fd);
  for (let i = 0; Atomics.load(stop, 0) === 0; i++) {
    const started = process.hrtime.bigint();
    fs.writeSync(fd, block, 0, block.length, (i % blocks) * block.length);
    fs.fdatasyncSync(fd);
    latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
    Atomics.wait(stop, 0, 0, intervalMs);
  }
} finally {
  try {
    fs.closeSync(fd);
  } finally {
    fs.rmSync(file, { force: true });
  }
}
parentPort.postMessage(latencies);
`;

export class DiskProbe {
  private readonly stopFlag = new Int32Array(new SharedArrayBuffer(4));
  private readonly latencies: Promise<number[]>;
  private readonly worker: Worker;

  /** Starts probing the disk under `directory` (a file is made there, and removed at stop). */
  constructor(readonly directory: string) {
    const file = path.join(directory, `ingestd-bench-disk-probe-${process.pid}`);
    this.worker = new Worker(PROBE_THREAD, {
      eval: true,
      workerData: { file, intervalMs: PROBE_INTERVAL_MS, stop: this.stopFlag },
    });
    this.latencies = new Promise((resolve, reject) => {
      this.worker.once('message', resolve);
      this.worker.once('error', reject);
      this.worker.once('exit', (code) => reject(new Error(`disk probe thread exited (${code})`)));
    });
    // A failure is reported by finish(); a run that stops before finish() is not held open.
    this.latencies.catch(() => {});
    this.worker.unref();
  }

  /**
   * Asks the thread to stop: it ends after the flush in progress, removing its file. Safe to
   * call more than once; what a run that failed calls instead of finish().
   */
  stop(): void {
    Atomics.store(this.stopFlag, 0, 1);
    Atomics.notify(this.stopFlag, 0);
  }

  /** Stops the probe and reports what it measured. */
  async finish(): Promise<DiskLatency> {
    this.worker.ref(); // the awaited answer comes from the thread: keep the process up for it
    this.stop();
    const latencies = await this.latencies;
    return {
      directory: this.directory,
      intervalMs: PROBE_INTERVAL_MS,
      flushMs: summarize(latencies),
      stalls: latencies.filter((ms) => ms > STALL_MS).length,
    };
  }
}
