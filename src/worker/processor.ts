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
import { completeVersion, completeVersions } from '../store/completion.js';
import {
  abandonRechunk,
  type ClaimedVersion,
  claimVersion,
  claimVersions,
  completeRechunk,
  failVersion,
  findRechunkWork,
  MARK_NONE,
  type VersionRef,
} from '../store/versions.js';
import {
  type ContentDeps,
  type ContentOutcome,
  type Processed,
  processContent,
  type ReadyVersion,
} from './process-content.js';
import type { SampleRecorder } from './processing-samples.js';

export interface ProcessorDeps extends ContentDeps {
  metrics: Metrics;
  logger: Logger;
  /** Where per-version processing samples go (the `metrics` table, in batches). */
  samples?: SampleRecorder;
}

export type ProcessOutcome = 'completed' | 'skipped';

/** Which delivery of its job this is. */
interface Attempt {
  number: number;
  isLast: boolean;
  /** Times the job was delivered, stalls included (BullMQ's attemptsStarted). Default: number. */
  deliveries?: number;
}

/** One version on its way: what its log lines, its sample and its failure need. */
interface VersionRun {
  ref: VersionRef;
  attempt: Attempt;
  deliveries: number;
  logger: Logger;
  /** performance.now() when it began. */
  started: number;
  /** Whether its claim marked it processing; undefined until claimed. */
  marked: boolean | undefined;
  /** What the sample of its outcome records; filled in as the stages pass. */
  sample: {
    tenantId: string;
    bytes: number;
    queueMs: number;
    extractMs: number;
    chunkMs: number;
    format: string | undefined;
  };
}

function startRun(deps: ProcessorDeps, payload: ProcessVersionPayload, attempt: Attempt): VersionRun {
  const ref = { documentId: payload.documentId, version: payload.version };
  return {
    ref,
    attempt,
    deliveries: Math.max(attempt.deliveries ?? attempt.number, 1),
    logger: deps.logger.child({ ...ref, requestId: payload.requestId, attempt: attempt.number }),
    started: performance.now(),
    marked: undefined,
    sample: { tenantId: '', bytes: 0, queueMs: 0, extractMs: 0, chunkMs: 0, format: undefined },
  };
}

/**
 * Processes one version: claim it in Postgres, run the pipeline, store text and chunks in one
 * transaction. Bad input fails the version at once (no retry can help); anything else is thrown
 * for BullMQ to retry with backoff, and the last attempt marks the version failed.
 */
export async function processVersion(
  deps: ProcessorDeps,
  payload: ProcessVersionPayload,
  attempt: Attempt,
): Promise<ProcessOutcome> {
  const run = startRun(deps, payload, attempt);
  try {
    const outcome = await prepareVersion(deps, run);
    if (outcome.kind === 'skipped') return 'skipped';
    if (outcome.kind === 'stored') return recordCompleted(deps, run, outcome.processed);
    return await storeAlone(deps, run, outcome.version);
  } catch (thrown) {
    return failRun(deps, run, thrown);
  }
}

/** Claims a version and runs the pipeline on it (see prepareClaimed). */
async function prepareVersion(deps: ProcessorDeps, run: VersionRun): Promise<ContentOutcome> {
  // Versions over the inline limit (64 KB) are marked processing: they take long enough to be seen.
  return prepareClaimed(deps, run, await claimVersion(deps.pool, run.ref, INLINE_MAX_BYTES));
}

/**
 * Runs the pipeline on a claimed version (undefined: nothing to do). Large plain text is stored
 * as it streams; other content comes back ready for its completion.
 */
async function prepareClaimed(
  deps: ProcessorDeps,
  run: VersionRun,
  claimed: ClaimedVersion | undefined,
): Promise<ContentOutcome> {
  run.marked = claimed?.marked;
  if (!claimed) {
    run.logger.debug('version already completed or deleted; nothing to do');
    return { kind: 'skipped' };
  }
  const parsedChunking = chunkingSettings.safeParse(claimed.chunking);
  if (!parsedChunking.success) {
    throw new DocumentError(
      'invalid_settings',
      `stored chunking settings are invalid: ${parsedChunking.error.message}`,
      false,
    );
  }
  Object.assign(run.sample, { tenantId: claimed.tenantId, bytes: claimed.bytes, queueMs: claimed.queuedMs });
  const outcome = await processContent(deps, run.ref, claimed, parsedChunking.data, {
    tenantId: claimed.tenantId,
    marked: claimed.marked,
    deliveries: run.deliveries,
    started: run.started,
  });
  if (outcome.kind === 'skipped') {
    run.logger.info('version was completed by another delivery; kept the first result');
  }
  return outcome;
}

/**
 * A group's versions read by one statement, marking none. A read takes no row lock, so a row held
 * elsewhere holds up no other version, and no version is marked before its turn. A version over
 * the inline limit comes without its content: it is claimed (and marked) alone when its turn
 * comes. Undefined when the read failed: each version then claims itself, so a failure is its
 * own, as in a job of its own.
 */
async function readTogether(
  deps: ProcessorDeps,
  runs: readonly VersionRun[],
): Promise<(ClaimedVersion | undefined)[] | undefined> {
  try {
    return await claimVersions(
      deps.pool,
      runs.map((run) => run.ref),
      { markAboveBytes: MARK_NONE, contentMaxBytes: INLINE_MAX_BYTES },
    );
  } catch (error) {
    deps.logger.warn(
      { err: error, versions: runs.length },
      'reading a group of versions failed; claiming each',
    );
    return undefined;
  }
}

/** Stores a ready version in a transaction of its own. */
async function storeAlone(
  deps: ProcessorDeps,
  run: VersionRun,
  ready: ReadyVersion,
): Promise<ProcessOutcome> {
  const storeStarted = performance.now();
  const completion = { ...ready.completion, processingMs: storeStarted - run.started };
  if (!(await completeVersion(deps.pool, run.ref, completion))) return skippedAtStore(run);
  return recordCompleted(deps, run, stored(ready, performance.now() - storeStarted));
}

/** storeAlone, with a failure recorded (or kept for a retry) as in a job of its own. */
function storeAloneOrFail(
  deps: ProcessorDeps,
  run: VersionRun,
  ready: ReadyVersion,
): Promise<ProcessOutcome> {
  return storeAlone(deps, run, ready).catch((thrown: unknown) => failRun(deps, run, thrown));
}

function stored(ready: ReadyVersion, storeMs: number): Processed {
  return {
    detectedType: ready.detectedType,
    bytes: ready.bytes,
    chunkCount: ready.completion.chunks.length,
    timings: { ...ready.timings, storeMs },
  };
}

function skippedAtStore(run: VersionRun): ProcessOutcome {
  run.logger.info('version was completed by another delivery; kept the first result');
  return 'skipped';
}

/** Metrics, a sample and a log line for a version stored. */
function recordCompleted(deps: ProcessorDeps, run: VersionRun, processed: Processed): ProcessOutcome {
  const { metrics } = deps;
  const { timings } = processed;
  metrics.stageDuration.observe({ stage: 'extract' }, timings.extractMs / 1000);
  metrics.stageDuration.observe({ stage: 'chunk' }, timings.chunkMs / 1000);
  metrics.stageDuration.observe({ stage: 'store' }, timings.storeMs / 1000);
  const processingMs = performance.now() - run.started;
  metrics.stageDuration.observe({ stage: 'total' }, processingMs / 1000);
  metrics.documentsCompleted.inc();
  deps.samples?.record({
    ...run.sample,
    bytes: processed.bytes,
    at: new Date(),
    outcome: 'completed',
    format: processed.detectedType,
    extractMs: timings.extractMs,
    chunkMs: timings.chunkMs,
    storeMs: timings.storeMs,
    chunks: processed.chunkCount,
    processingMs,
  });
  run.logger.debug({ chunks: processed.chunkCount }, 'version completed');
  return 'completed';
}

/**
 * A version's attempt failed: bad input fails it for good (UnrecoverableError, so BullMQ does not
 * retry); so does any error on its last attempt. Otherwise the error is thrown for a retry.
 */
async function failRun(deps: ProcessorDeps, run: VersionRun, thrown: unknown): Promise<never> {
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
  if (permanent || run.attempt.isLast) {
    const code = error instanceof DocumentError ? error.code : 'processing_failed';
    await failVersion(deps.pool, run.ref, {
      code,
      message: error.message,
      stack: error.stack,
      retryable: !permanent,
      attempts: run.attempt.number,
      // A claim that failed marked nothing either.
      unmarkedAttempts: run.marked === true ? 0 : run.deliveries,
      processingMs: performance.now() - run.started,
    });
    deps.metrics.documentsFailed.inc({ code });
    deps.samples?.record({
      ...run.sample,
      at: new Date(),
      outcome: 'failed',
      code,
      storeMs: 0,
      chunks: 0,
      processingMs: performance.now() - run.started,
    });
    run.logger.warn({ err: error, code }, 'version failed');
    if (permanent) throw new UnrecoverableError(`${code}: ${error.message}`);
  } else {
    run.logger.warn({ err: error }, 'version attempt failed; will retry');
  }
  throw error;
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
 * Pipeline results a group job holds for one transaction, at most: a group's versions are small
 * (up to 256 KB each) and usually far under it, but 16 large ones would otherwise all be held at
 * once, by each of a worker's concurrent jobs. Characters of text and chunk text.
 */
const GROUP_STORE_MAX_CHARS = 1 << 20;

/**
 * Processes the versions of a group job: reads them by one statement (readTogether; their
 * contents, at most 16 of 64 KB, held at once), runs their pipelines one after another, and
 * stores them together: one transaction (one commit) for the lot, or for each
 * GROUP_STORE_MAX_CHARS of them. A version that fails for good is recorded as failed, as in its
 * own job; one that fails for a passing reason is handed to a job of its own (with the usual
 * retries and backoff) rather than retrying the group. When the shared transaction fails, its
 * versions are stored one by one, so one bad version costs only itself. Only when the hand-off
 * fails does the group job fail, to be retried whole: versions it already completed are then
 * skipped at their claim.
 */
export async function processVersions(
  deps: ProcessorDeps,
  versions: readonly ProcessVersionPayload[],
  delivery: { attemptsMade: number; attemptsStarted: number },
  handOff: (versions: ProcessVersionPayload[]) => Promise<void>,
): Promise<ProcessOutcome> {
  const attempt = { number: delivery.attemptsMade + 1, isLast: false, deliveries: delivery.attemptsStarted };
  const retry: ProcessVersionPayload[] = [];
  let completed = false;
  /** Counts an outcome; a version that failed for a passing reason is kept for the hand-off. */
  const settle = async (payload: ProcessVersionPayload, outcome: Promise<ProcessOutcome>) => {
    try {
      // Awaited first: `||=` would skip the await once something has completed.
      const settled = await outcome;
      completed ||= settled === 'completed';
    } catch (error) {
      // failRun has recorded a version that failed for good; it needs nothing more.
      if (!(error instanceof UnrecoverableError)) retry.push(payload);
    }
  };
  let ready: ReadyInGroup[] = [];
  let readyChars = 0;
  const storeReady = async () => {
    const group = ready;
    ready = [];
    readyChars = 0;
    await storeTogether(deps, group, settle);
  };
  // All read in one round trip (a version's processing time now includes its elders' pipelines).
  const runs = versions.map((payload) => startRun(deps, payload, attempt));
  const reads = await readTogether(deps, runs);
  for (const [index, payload] of versions.entries()) {
    const run = runs[index] as VersionRun;
    let outcome: ContentOutcome;
    try {
      const read = reads?.[index];
      if (reads) reads[index] = undefined; // its content need not outlive its pipeline
      outcome =
        reads && (read === undefined || read.bytes <= INLINE_MAX_BYTES)
          ? await prepareClaimed(deps, run, read)
          : await prepareVersion(deps, run);
    } catch (thrown) {
      await settle(payload, failRun(deps, run, thrown));
      continue;
    }
    if (outcome.kind === 'stored') {
      // Recorded first: `||=` would skip the call once something has completed.
      const recorded = recordCompleted(deps, run, outcome.processed);
      completed ||= recorded === 'completed';
    }
    if (outcome.kind !== 'ready') continue;
    const chars = charsOf(outcome.version);
    if (ready.length > 0 && readyChars + chars > GROUP_STORE_MAX_CHARS) await storeReady();
    ready.push({ payload, run, version: outcome.version });
    readyChars += chars;
  }
  if (ready.length > 0) await storeReady();
  if (retry.length > 0) await handOff(retry);
  return completed ? 'completed' : 'skipped';
}

interface ReadyInGroup {
  payload: ProcessVersionPayload;
  run: VersionRun;
  version: ReadyVersion;
}

function charsOf(ready: ReadyVersion): number {
  let chars = ready.completion.extracted.text.length;
  for (const chunk of ready.completion.chunks) chars += chunk.text.length;
  return chars;
}

/**
 * Stores ready versions in one transaction, then records each; when that transaction fails, each
 * is stored alone, one after another, and fails alone, as in its own job. Each version's outcome
 * goes to `settle`.
 */
async function storeTogether(
  deps: ProcessorDeps,
  group: readonly ReadyInGroup[],
  settle: (payload: ProcessVersionPayload, outcome: Promise<ProcessOutcome>) => Promise<void>,
): Promise<void> {
  const [only] = group;
  if (group.length === 1 && only) {
    // One statement, as for a job of its own, rather than a transaction of five round trips.
    const { payload, run, version } = only;
    await settle(payload, storeAloneOrFail(deps, run, version));
    return;
  }
  const storeStarted = performance.now();
  let completed: boolean[];
  try {
    completed = await completeVersions(
      deps.pool,
      group.map(({ run, version }) => ({
        ref: run.ref,
        result: { ...version.completion, processingMs: storeStarted - run.started },
      })),
    );
  } catch (error) {
    deps.logger.warn(
      { err: error, versions: group.length },
      'storing a group of versions together failed; storing each alone',
    );
    for (const { payload, run, version } of group) {
      await settle(payload, storeAloneOrFail(deps, run, version));
    }
    return;
  }
  // Each version's share of the transaction: its store stage, as a version stored alone records
  // its own statement. Its total time still runs to the commit, siblings' pipelines included.
  const storeMs = (performance.now() - storeStarted) / group.length;
  for (const [index, { payload, run, version }] of group.entries()) {
    const outcome = completed[index]
      ? recordCompleted(deps, run, stored(version, storeMs))
      : skippedAtStore(run);
    await settle(payload, Promise.resolve(outcome));
  }
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
