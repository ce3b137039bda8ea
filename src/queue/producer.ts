import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import type { QueueSnapshot } from '../metrics.js';
import {
  ownJob,
  type PlannedJob,
  PROCESS_VERSION_JOB,
  PROCESS_VERSIONS_JOB,
  PROCESSING_QUEUE,
  type ProcessingJobData,
  type ProcessVersionPayload,
  processVersionJobId,
  RECHUNK_VERSION_JOB,
  rechunkVersionJobId,
  toProcessVersionPayload,
} from './jobs.js';

/**
 * Longest an enqueue may take: BullMQ waits for a connection that may never come. Generous,
 * because a busy event loop can delay a healthy reply by seconds.
 */
const ENQUEUE_TIMEOUT_MS = 5_000;

/** Rejects once ENQUEUE_TIMEOUT_MS pass, instead of waiting for Redis to come back. */
async function withTimeout<T>(adding: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(Object.assign(new Error(`enqueue took over ${ENQUEUE_TIMEOUT_MS} ms`), { code: 'ETIMEDOUT' })),
      ENQUEUE_TIMEOUT_MS,
    );
  });
  adding.catch(() => {}); // a late failure after the timeout is already accounted for
  try {
    return await Promise.race([adding, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Attempts per job before a version is marked failed; transient errors back off exponentially. */
const JOB_ATTEMPTS = 5;
const BACKOFF_BASE_MS = 1_000;

/** The producer side of the processing queue: API nodes add jobs, anyone can read its depth. */
export class DocumentQueue {
  readonly queue: Queue<ProcessingJobData>;

  constructor(connection: Redis, prefix: string, logger: Logger) {
    this.queue = new Queue<ProcessingJobData>(PROCESSING_QUEUE, {
      connection,
      prefix,
      defaultJobOptions: {
        attempts: JOB_ATTEMPTS,
        backoff: { type: 'exponential', delay: BACKOFF_BASE_MS, jitter: 0.5 },
        // Finished jobs are kept a while for inspection; Postgres is the record of truth.
        removeOnComplete: { age: 3_600, count: 10_000 },
        removeOnFail: { age: 7 * 24 * 3_600 },
      },
    });
    // Without a listener BullMQ prints connection errors to stderr; the connection's own listener
    // already logs them (throttled), so one debug line is enough here.
    this.queue.on('error', (error) => logger.debug({ err: error }, 'queue error'));
  }

  /**
   * Adds one job per version in one round trip. A version whose job still exists is not added
   * twice. Rejects after ENQUEUE_TIMEOUT_MS rather than waiting for Redis to come back.
   */
  async enqueue(
    payloads: readonly ProcessVersionPayload[],
    options: { delayMs?: number } = {},
  ): Promise<void> {
    await this.enqueuePlanned(payloads.map(ownJob), options);
  }

  /** Adds planned jobs (see planJobs) in one round trip; a job whose id exists is not added twice. */
  async enqueuePlanned(jobs: readonly PlannedJob[], options: { delayMs?: number } = {}): Promise<void> {
    const delay = options.delayMs ? { delay: options.delayMs } : {};
    const entries = jobs.map(({ jobId, versions }) =>
      versions.length === 1
        ? { name: PROCESS_VERSION_JOB, data: versions[0] as ProcessVersionPayload, opts: { jobId, ...delay } }
        : { name: PROCESS_VERSIONS_JOB, data: { versions }, opts: { jobId, ...delay } },
    );
    const [only] = entries;
    if (only === undefined) return;
    // One job (a group commit's usual lot) goes without addBulk's pipeline: ioredis copies every
    // Lua command BullMQ defines onto each new pipeline. Measured against a private Redis, 5,000
    // jobs, 3 runs: 94-99 us of client CPU a call for addBulk of one, 33-37 for add.
    await withTimeout<unknown>(
      entries.length === 1 ? this.queue.add(only.name, only.data, only.opts) : this.queue.addBulk(entries),
    );
  }

  /** Gives versions their own jobs, starting after the first backoff (see processVersions). */
  async enqueueRetries(payloads: readonly ProcessVersionPayload[]): Promise<void> {
    await this.enqueueAfresh(payloads, { delayMs: BACKOFF_BASE_MS });
  }

  /** Enqueues versions' own jobs, first removing finished ones of the same ids, which would block the add. */
  private async enqueueAfresh(
    payloads: readonly ProcessVersionPayload[],
    options: { delayMs?: number } = {},
  ): Promise<void> {
    await Promise.all(
      payloads.map((data) =>
        this.queue.remove(processVersionJobId(data.documentId, data.version)).catch(() => 0),
      ),
    );
    await this.enqueue(payloads, options);
  }

  /** Adds the job that re-chunks a version with the settings stored in its rechunk_settings. */
  async enqueueRechunk(data: ProcessVersionPayload): Promise<void> {
    await withTimeout(
      this.queue.add(RECHUNK_VERSION_JOB, data, {
        jobId: rechunkVersionJobId(data.documentId, data.version, randomUUID()),
      }),
    );
  }

  /**
   * Enqueues afresh each version whose job is missing, failed or completed; leaves versions whose
   * job is waiting, delayed or active alone, be it the version's own job or the group job it was
   * enqueued in (`groupJobId`). Returns how many were enqueued.
   */
  async reviveJobs(
    versions: readonly (Parameters<typeof toProcessVersionPayload>[0] & { groupJobId?: string | null })[],
  ): Promise<number> {
    const live = (state: string | undefined) => !['unknown', 'failed', 'completed'].includes(state as string);
    const groupIds = [...new Set(versions.flatMap((v) => (v.groupJobId ? [v.groupJobId] : [])))];
    const [ownStates, groupStates] = await Promise.all([
      Promise.all(versions.map((v) => this.queue.getJobState(processVersionJobId(v.documentId, v.version)))),
      Promise.all(groupIds.map((id) => this.queue.getJobState(id))),
    ]);
    const liveGroups = new Set(groupIds.filter((_, i) => live(groupStates[i])));
    const dead = versions.filter(
      (v, i) => !live(ownStates[i]) && !(v.groupJobId && liveGroups.has(v.groupJobId)),
    );
    await this.enqueueAfresh(dead.map(toProcessVersionPayload));
    return dead.length;
  }

  /**
   * Removes the waiting or delayed jobs of these versions. An active job cannot be removed (its
   * worker holds the lock); it finds its version gone and ends as a no-op.
   */
  async cancelVersions(documentId: string, versions: readonly number[]): Promise<void> {
    await withTimeout(
      Promise.all(
        versions.map((version) => this.queue.remove(processVersionJobId(documentId, version)).catch(() => 0)),
      ),
    );
  }

  async snapshot(): Promise<QueueSnapshot> {
    const [counts, oldest] = await Promise.all([
      this.queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'failed', 'completed'),
      this.queue.getJobs(['wait'], 0, 0, true),
    ]);
    const oldestTimestamp = oldest[0]?.timestamp;
    return {
      counts,
      oldestWaitingAgeSeconds: oldestTimestamp ? Math.max(0, (Date.now() - oldestTimestamp) / 1000) : 0,
    };
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
