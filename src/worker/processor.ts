import { performance } from 'node:perf_hooks';
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { coerceError, DocumentError, isDataRejectedError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { type Chunk, chunkingSettings } from '../pipeline/chunk/settings.js';
import { defaultExtractLimits } from '../pipeline/extract/types.js';
import { INLINE_MAX_BYTES } from '../pipeline/pipeline-pool.js';
import {
  PROCESS_VERSIONS_JOB,
  PROCESSING_QUEUE,
  type ProcessingJobData,
  type ProcessVersionPayload,
  processVersionPayload,
  processVersionsPayload,
  RECHUNK_VERSION_JOB,
} from '../queue/jobs.js';
import {
  abandonRechunk,
  claimVersion,
  completeRechunk,
  failVersion,
  findRechunkWork,
} from '../store/versions.js';
import { type ContentDeps, processContent } from './process-content.js';
import type { SampleRecorder } from './processing-samples.js';

export interface ProcessorDeps extends ContentDeps {
  metrics: Metrics;
  logger: Logger;
  /** Where per-version processing samples go (the `metrics` table, in batches). */
  samples?: SampleRecorder;
}

export type ProcessOutcome = 'completed' | 'skipped';

/**
 * Processes one version: claim it in Postgres, run the pipeline, store text and chunks in one
 * transaction. Bad input fails the version at once (no retry can help); anything else is thrown
 * for BullMQ to retry with backoff, and the last attempt marks the version failed.
 */
export async function processVersion(
  deps: ProcessorDeps,
  payload: ProcessVersionPayload,
  attempt: {
    number: number;
    isLast: boolean;
    /** Times the job was delivered, stalls included (BullMQ's attemptsStarted). Default: number. */
    deliveries?: number;
  },
): Promise<ProcessOutcome> {
  const { pool, metrics } = deps;
  const ref = { documentId: payload.documentId, version: payload.version };
  const logger = deps.logger.child({ ...ref, requestId: payload.requestId, attempt: attempt.number });
  const started = performance.now();
  // What the sample of a final outcome records; filled in as the stages pass.
  const sample = {
    tenantId: '',
    bytes: 0,
    queueMs: 0,
    extractMs: 0,
    chunkMs: 0,
    format: undefined as string | undefined,
  };
  const deliveries = Math.max(attempt.deliveries ?? attempt.number, 1);
  let marked: boolean | undefined;
  try {
    // Versions over the inline limit (64 KB) are marked processing: they take long enough to be seen.
    const claimed = await claimVersion(pool, ref, INLINE_MAX_BYTES);
    marked = claimed?.marked;
    if (!claimed) {
      logger.debug('version already completed or deleted; nothing to do');
      return 'skipped';
    }
    const parsedChunking = chunkingSettings.safeParse(claimed.chunking);
    if (!parsedChunking.success) {
      throw new DocumentError(
        'invalid_settings',
        `stored chunking settings are invalid: ${parsedChunking.error.message}`,
        false,
      );
    }
    Object.assign(sample, { tenantId: claimed.tenantId, bytes: claimed.bytes, queueMs: claimed.queuedMs });
    const processed = await processContent(deps, ref, claimed, parsedChunking.data, {
      tenantId: claimed.tenantId,
      marked: claimed.marked,
      deliveries,
      started,
    });
    if (!processed) {
      logger.info('version was completed by another delivery; kept the first result');
      return 'skipped';
    }
    const { timings } = processed;
    sample.bytes = processed.bytes;
    metrics.stageDuration.observe({ stage: 'extract' }, timings.extractMs / 1000);
    metrics.stageDuration.observe({ stage: 'chunk' }, timings.chunkMs / 1000);
    metrics.stageDuration.observe({ stage: 'store' }, timings.storeMs / 1000);
    const processingMs = performance.now() - started;
    metrics.stageDuration.observe({ stage: 'total' }, processingMs / 1000);
    metrics.documentsCompleted.inc();
    deps.samples?.record({
      ...sample,
      at: new Date(),
      outcome: 'completed',
      format: processed.detectedType,
      extractMs: timings.extractMs,
      chunkMs: timings.chunkMs,
      storeMs: timings.storeMs,
      chunks: processed.chunkCount,
      processingMs,
    });
    logger.debug({ chunks: processed.chunkCount }, 'version completed');
    return 'completed';
  } catch (thrown) {
    const rejected = isDataRejectedError(thrown);
    const error = rejected
      ? new DocumentError(
          'invalid_content',
          `the database refused the extracted content: ${coerceError(thrown).message}`,
          false,
          {
            cause: thrown,
          },
        )
      : coerceError(thrown);
    const permanent = error instanceof DocumentError && !error.retryable;
    if (permanent || attempt.isLast) {
      const code = error instanceof DocumentError ? error.code : 'processing_failed';
      await failVersion(pool, ref, {
        code,
        message: error.message,
        stack: error.stack,
        retryable: !permanent,
        attempts: attempt.number,
        // A claim that failed marked nothing either.
        unmarkedAttempts: marked === true ? 0 : deliveries,
        processingMs: performance.now() - started,
      });
      metrics.documentsFailed.inc({ code });
      deps.samples?.record({
        ...sample,
        at: new Date(),
        outcome: 'failed',
        code,
        storeMs: 0,
        chunks: 0,
        processingMs: performance.now() - started,
      });
      logger.warn({ err: error, code }, 'version failed');
      if (permanent) throw new UnrecoverableError(`${code}: ${error.message}`);
    } else {
      logger.warn({ err: error }, 'version attempt failed; will retry');
    }
    throw error;
  }
}

/**
 * Re-chunks a completed version from its stored text: no detection or extraction again. A bad
 * setting cannot reach here (the API validated it), so any failure is left to BullMQ's retries;
 * the version keeps its current chunks throughout.
 */
export async function rechunkVersion(
  deps: ProcessorDeps,
  payload: ProcessVersionPayload,
): Promise<ProcessOutcome> {
  const ref = { documentId: payload.documentId, version: payload.version };
  const work = await findRechunkWork(deps.pool, ref);
  if (!work) return 'skipped';
  let chunks: Chunk[];
  try {
    ({ chunks } = await deps.pipeline.run({
      bytes: new Uint8Array(0),
      declaredType: 'text/plain',
      filename: null,
      chunking: work.settings,
      limits: defaultExtractLimits,
      extracted: work.extracted,
    }));
  } catch (error) {
    if (error instanceof DocumentError) {
      // The current chunks stay; the request is dropped so nothing waits on it forever.
      await abandonRechunk(deps.pool, ref, work.settings);
      deps.logger.warn(
        { ...ref, requestId: payload.requestId, code: error.code },
        're-chunk failed; chunks unchanged',
      );
      throw new UnrecoverableError(`${error.code}: ${error.message}`);
    }
    throw error;
  }
  const stored = await completeRechunk(deps.pool, { ...ref, tenantId: work.tenantId }, work.settings, chunks);
  deps.logger.debug(
    { ...ref, requestId: payload.requestId, chunks: chunks.length, stored },
    'version re-chunked',
  );
  return stored ? 'completed' : 'skipped';
}

/**
 * Processes the versions of a group job one after another. A version that fails for good is
 * recorded as failed by processVersion, as in its own job; one that fails for a passing reason
 * is handed to a job of its own (with the usual retries and backoff) rather than retrying the
 * group. Only when that hand-off fails does the group job fail, to be retried whole: versions it
 * already completed are then skipped at their claim.
 */
export async function processVersions(
  deps: ProcessorDeps,
  versions: readonly ProcessVersionPayload[],
  delivery: { attemptsMade: number; attemptsStarted: number },
  handOff: (versions: ProcessVersionPayload[]) => Promise<void>,
): Promise<ProcessOutcome> {
  const retry: ProcessVersionPayload[] = [];
  let completed = false;
  for (const payload of versions) {
    try {
      const outcome = await processVersion(deps, payload, {
        number: delivery.attemptsMade + 1,
        isLast: false,
        deliveries: delivery.attemptsStarted,
      });
      completed ||= outcome === 'completed';
    } catch (error) {
      // processVersion has recorded a version that failed for good; it needs nothing more.
      if (!(error instanceof UnrecoverableError)) retry.push(payload);
    }
  }
  if (retry.length > 0) await handOff(retry);
  return completed ? 'completed' : 'skipped';
}

export interface ProcessorWorkerOptions extends ProcessorDeps {
  connection: Redis;
  prefix: string;
  concurrency: number;
  /** Job lock duration, in ms: the pipeline runs off the event loop, so renewals keep coming. */
  lockDurationMs: number;
  /** Gives versions of a group job that failed for a passing reason jobs of their own. */
  handOff: (versions: ProcessVersionPayload[]) => Promise<void>;
}

/** The BullMQ worker of the `processor` role. Its owner closes it. */
export function createProcessorWorker(
  options: ProcessorWorkerOptions,
): Worker<ProcessingJobData, ProcessOutcome> {
  const { connection, prefix, concurrency, lockDurationMs, handOff, ...deps } = options;
  const worker = new Worker<ProcessingJobData, ProcessOutcome>(
    PROCESSING_QUEUE,
    async (job: Job<ProcessingJobData>) => {
      if (job.name === PROCESS_VERSIONS_JOB) {
        const group = processVersionsPayload.safeParse(job.data);
        if (!group.success) throw new UnrecoverableError(`malformed job payload: ${group.error.message}`);
        return processVersions(deps, group.data.versions, job, handOff);
      }
      const parsed = processVersionPayload.safeParse(job.data);
      if (!parsed.success) throw new UnrecoverableError(`malformed job payload: ${parsed.error.message}`);
      const payload = parsed.data;
      if (job.name === RECHUNK_VERSION_JOB) return rechunkVersion(deps, payload);
      const maxAttempts = job.opts.attempts ?? 1;
      return processVersion(deps, payload, {
        number: job.attemptsMade + 1,
        isLast: job.attemptsMade + 1 >= maxAttempts,
        deliveries: job.attemptsStarted,
      });
    },
    {
      connection,
      prefix,
      concurrency,
      lockDuration: lockDurationMs,
      stalledInterval: lockDurationMs,
      autorun: true,
    },
  );
  worker.on('error', (error) => deps.logger.error({ err: error }, 'processor worker error'));
  return worker;
}
