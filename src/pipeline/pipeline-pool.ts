import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { DocumentError } from '../errors.js';
import { detectContentType } from './detect.js';
import { asDocumentError, type PipelineInput, type ProcessedDocument, processDocument } from './process.js';
import type { ThreadOutcome } from './thread.js';
import { countTokens } from './tokenize.js';

/**
 * Small plain-text and Markdown documents are processed on the calling thread: at 8 KB the
 * thread handoff (cloning, messages, wake-ups) cost more CPU than the work, ~0.5 of ~0.9 ms.
 * Linear work on at most 64 KB holds the event loop a few ms at worst; anything else (every
 * binary format, anything larger) still goes to a thread with its time and heap limits.
 */
export const INLINE_MAX_BYTES = 64 * 1024;
const INLINE_TYPES = new Set(['text/plain', 'text/markdown']);

/** The input to run inline (with its detected type, so it is not detected twice), or undefined. */
async function inlineInput(input: PipelineInput): Promise<PipelineInput | undefined> {
  // A re-chunk brings its text and no bytes.
  if (input.extracted) return input.extracted.text.length <= INLINE_MAX_BYTES ? input : undefined;
  if (input.bytes.length > INLINE_MAX_BYTES || input.bytes.length === 0) return undefined;
  try {
    // Reads signatures only (a zip's directory is bounded by the 64 KB), so it is safe here.
    const detectedType = await detectContentType(
      input.bytes,
      input.declaredType,
      input.filename ?? undefined,
      input.limits,
    );
    return INLINE_TYPES.has(detectedType) ? { ...input, detectedType } : undefined;
  } catch {
    return undefined; // let the thread path report it, as it always has
  }
}

/** processDocument, failing the way a thread does (see asDocumentError). */
async function processInline(input: PipelineInput): Promise<ProcessedDocument> {
  try {
    return await processDocument(input);
  } catch (error) {
    throw asDocumentError(error);
  }
}

export interface PipelinePoolOptions {
  /** Threads running the pipeline at once. */
  threads: number;
  /** Wall-clock limit per document, counted from when a thread takes it, in ms. */
  timeoutMs: number;
  /** Heap limit of each thread (V8 old generation), in MB. */
  heapMb: number;
}

/**
 * The compiled thread entry (see thread-entry.cts). Tests run from src/ (TypeScript), which a
 * thread cannot load, so they use the build in dist/ (`npm test` builds first).
 */
function threadFile(): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) return path.join(path.dirname(here), 'thread-entry.cjs');
  const built = path.resolve(path.dirname(here), '../../dist/src/pipeline/thread-entry.cjs');
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
    // Inline documents count tokens on this thread: build the tables now (~100 ms), not while
    // the first document holds the event loop.
    countTokens('warm up');
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

  /**
   * Runs the pipeline on `input`. With `moveBytes`, bytes that own their whole buffer are moved
   * to the thread rather than copied (a 50 MB upload is not held twice); the caller's view of
   * them is then empty.
   */
  async run(input: PipelineInput, options: { moveBytes?: boolean } = {}): Promise<ProcessedDocument> {
    const inline = await inlineInput(input);
    if (inline) return processInline(inline);
    await this.acquire();
    try {
      return await this.runNow(input, options.moveBytes === true);
    } finally {
      this.release();
    }
  }

  private async runNow(input: PipelineInput, moveBytes: boolean): Promise<ProcessedDocument> {
    const { timeoutMs, heapMb } = this.options;
    const signal = AbortSignal.timeout(timeoutMs);
    const { buffer, byteOffset, byteLength } = input.bytes;
    const movable =
      moveBytes && buffer instanceof ArrayBuffer && byteOffset === 0 && byteLength === buffer.byteLength;
    let outcome: ThreadOutcome;
    try {
      outcome = await this.piscina.run(input, { signal, ...(movable ? { transferList: [buffer] } : {}) });
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
    const { chunks, ...result } = outcome.result;
    const text = result.extracted.text;
    return {
      ...result,
      chunks: chunks.map((chunk) => ({ ...chunk, text: text.slice(chunk.start, chunk.end) })),
    };
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

  /** Documents processed by a thread so far (the rest ran inline). */
  get threadTasks(): number {
    return this.piscina.completed;
  }

  async close(): Promise<void> {
    await this.piscina.destroy();
  }
}
