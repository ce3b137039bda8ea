import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { DocumentError } from '../errors.js';
import type { PipelineInput, ProcessedDocument } from './process.js';
import type { ThreadOutcome } from './thread.js';

export interface PipelinePoolOptions {
  /** Threads running the pipeline at once. */
  threads: number;
  /** Wall-clock limit per document, counted from when a thread takes it, in ms. */
  timeoutMs: number;
  /** Heap limit of each thread (V8 old generation), in MB. */
  heapMb: number;
}

/**
 * The compiled thread body. Tests run from src/ (TypeScript), which a thread cannot load, so
 * they use the build in dist/ (`npm test` builds first).
 */
function threadFile(): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) return path.join(path.dirname(here), 'thread.js');
  const built = path.resolve(path.dirname(here), '../../dist/src/pipeline/thread.js');
  if (!existsSync(built))
    throw new Error(`pipeline thread not built: run \`npm run build\` (looked for ${built})`);
  return built;
}

/**
 * Runs the pipeline in worker threads, so a slow or hostile document never blocks the event loop
 * (BullMQ lock renewal, HTTP). A thread that overruns its time or heap is terminated and replaced,
 * and the document fails with `timeout` or `too_large`. Tasks wait here, not in piscina's queue,
 * so the clock of a document starts when a thread takes it.
 */
export class PipelinePool {
  private readonly piscina: Piscina;
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly options: PipelinePoolOptions) {
    this.piscina = new Piscina({
      filename: threadFile(),
      minThreads: 1,
      maxThreads: options.threads,
      idleTimeout: 30_000,
      // A small young generation per thread: documents are processed one at a time, and each
      // isolate's nursery otherwise adds tens of MB of resident memory per thread.
      resourceLimits: { maxOldGenerationSizeMb: options.heapMb, maxYoungGenerationSizeMb: 8 },
    });
  }

  async run(input: PipelineInput): Promise<ProcessedDocument> {
    await this.acquire();
    try {
      return await this.runNow(input);
    } finally {
      this.release();
    }
  }

  private async runNow(input: PipelineInput): Promise<ProcessedDocument> {
    const { timeoutMs, heapMb } = this.options;
    const signal = AbortSignal.timeout(timeoutMs);
    let outcome: ThreadOutcome;
    try {
      outcome = await this.piscina.run(input, { signal });
    } catch (error) {
      if (signal.aborted) {
        throw new DocumentError('timeout', `processing took longer than ${timeoutMs} ms`, false, {
          cause: error,
        });
      }
      if ((error as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY') {
        throw new DocumentError('too_large', `processing needed more than ${heapMb} MB of memory`, false, {
          cause: error,
        });
      }
      throw error;
    }
    if (!outcome.ok) throw new DocumentError(outcome.code, outcome.message, false);
    return outcome.result;
  }

  private acquire(): Promise<void> {
    if (this.running < this.options.threads) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.running--;
  }

  async close(): Promise<void> {
    await this.piscina.destroy();
  }
}
