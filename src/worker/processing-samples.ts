import type { Logger } from '../logger.js';
import { insertProcessingSamples, type ProcessingSample } from '../store/metrics.js';
import type { Pool } from '../store/pool.js';

export interface SampleRecorder {
  record(sample: ProcessingSample): void;
}

export interface ProcessingSampleWriterOptions {
  pool: Pool;
  logger: Logger;
  /** How often buffered samples are written, in ms. Default 1000 */
  flushIntervalMs?: number;
  /** Samples kept while Postgres is unreachable; beyond it the oldest are dropped. Default 50000 */
  maxBuffered?: number;
}

/**
 * Buffers processing samples and writes them to `metrics` in one INSERT per interval, off the
 * job's path: a sample never delays or fails a document. A Postgres outage keeps samples
 * buffered up to a bound; a killed process loses at most one interval's samples.
 */
export class ProcessingSampleWriter implements SampleRecorder {
  private buffer: ProcessingSample[] = [];
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> | undefined;
  private dropped = 0;
  private readonly maxBuffered: number;

  constructor(private readonly options: ProcessingSampleWriterOptions) {
    this.maxBuffered = options.maxBuffered ?? 50_000;
    this.timer = setInterval(() => void this.flush(), options.flushIntervalMs ?? 1_000);
    this.timer.unref();
  }

  record(sample: ProcessingSample): void {
    if (this.buffer.length >= this.maxBuffered) {
      this.buffer.shift();
      this.dropped++;
    }
    this.buffer.push(sample);
  }

  /** Writes what is buffered; a failed write puts the samples back for the next try. */
  flush(): Promise<void> {
    this.flushing ??= this.writeBuffered().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  /** Stops the timer and writes what is left. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flushing;
    await this.flush();
  }

  private async writeBuffered(): Promise<void> {
    if (this.buffer.length === 0) return;
    const batch = this.buffer;
    this.buffer = [];
    try {
      await insertProcessingSamples(this.options.pool, batch);
      if (this.dropped > 0) {
        this.options.logger.warn(
          { dropped: this.dropped },
          'processing samples dropped while Postgres was unreachable',
        );
        this.dropped = 0;
      }
    } catch (error) {
      this.options.logger.warn(
        { err: error, samples: batch.length },
        'writing processing samples failed; will retry',
      );
      const room = this.maxBuffered - this.buffer.length;
      const kept = batch.slice(Math.max(0, batch.length - room));
      this.dropped += batch.length - kept.length;
      this.buffer = [...kept, ...this.buffer];
    }
  }
}
