import { isExternalBody } from '../fetch/external-body.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import {
  addDocumentVersion,
  insertDocuments,
  type NewDocument,
  type VersionOutcome,
} from '../store/documents.js';
import type { Pool } from '../store/pool.js';
import {
  ownJob,
  type PlannedJob,
  type ProcessVersionPayload,
  planJobs,
  toProcessVersionPayload,
} from './jobs.js';
import type { DocumentQueue } from './producer.js';

export interface HandoffDeps {
  pool: Pool;
  queue: DocumentQueue;
  metrics: Metrics;
  logger: Logger;
}

let lastEnqueueWarning = 0;

/**
 * The durable handoff: commit the documents, then enqueue their jobs. Documents without an
 * externalId are new by definition and go in one statement; one with an externalId may be a new
 * version of an earlier one, or a duplicate that stores and queues nothing.
 *
 * commit() answers once the documents are durable and enqueues behind the answer: the answer
 * depends only on the commit (if Redis refuses the enqueue, or the process dies first, the
 * versions stay queued in Postgres and the sweeper enqueues them later), and the next group's
 * commit need not wait for this one's queue round trip. Past MAX_ENQUEUES_BEHIND enqueues under
 * way (Redis stalled, not down: a refused enqueue fails at once), answers wait for their own
 * enqueue again, so a stall slows the intake rather than gathering jobs in memory. settled()
 * waits for the enqueues under way, so a closing node hands its jobs to Redis before it closes
 * the connection.
 */
export class Handoff {
  private readonly enqueues = new Set<Promise<void>>();
  private readonly maxEnqueuesBehind: number;

  constructor(
    private readonly deps: HandoffDeps,
    options: { maxEnqueuesBehind?: number } = {},
  ) {
    this.maxEnqueuesBehind = options.maxEnqueuesBehind ?? MAX_ENQUEUES_BEHIND;
  }

  /** Commits the documents; outcomes come back in the order of `documents`, once durable. */
  async commit(documents: readonly NewDocument[]): Promise<VersionOutcome[]> {
    const deps = this.deps;
    const fresh = documents.filter((d) => d.externalId === null);
    // New small text documents travel in group jobs, whose ids their versions record as they are
    // inserted; any other gets a job of its own, so no job runs long (a fetch, a PDF).
    const grouped: ProcessVersionPayload[] = [];
    const alone: ProcessVersionPayload[] = [];
    for (const d of fresh) (joinsGroupJob(d) ? grouped : alone).push(payloadOf(d, d.id, 1));
    const freshJobs = [...planJobs(grouped), ...alone.map(ownJob)];
    const groupJobIds = new Map<string, string>();
    for (const job of freshJobs) {
      if (job.versions.length > 1) for (const v of job.versions) groupJobIds.set(v.documentId, job.jobId);
    }
    await insertDocuments(deps.pool, fresh, groupJobIds);
    const outcomes = new Map<NewDocument, VersionOutcome>(
      fresh.map((d) => [d, { id: d.id, version: 1, duplicate: false, status: 'queued' }]),
    );
    const versioned: ProcessVersionPayload[] = [];
    for (const document of documents) {
      if (document.externalId === null) continue;
      const outcome = await addDocumentVersion(deps.pool, document);
      outcomes.set(document, outcome);
      if (!outcome.duplicate) versioned.push(payloadOf(document, outcome.id, outcome.version));
    }
    const queued = fresh.length + versioned.length;
    deps.metrics.documentsAccepted.inc(queued);
    const enqueued = this.enqueueBehind([...freshJobs, ...versioned.map(ownJob)]);
    if (this.enqueues.size > this.maxEnqueuesBehind) await enqueued;
    return documents.map((d) => outcomes.get(d) as VersionOutcome);
  }

  /** Commits one document (see commit). */
  async commitOne(document: NewDocument): Promise<VersionOutcome> {
    const [outcome] = await this.commit([document]);
    return outcome as VersionOutcome;
  }

  /** Resolves once no enqueue is under way (each ends within the queue's enqueue timeout). */
  async settled(): Promise<void> {
    while (this.enqueues.size > 0) await Promise.all(this.enqueues);
  }

  /** Starts the enqueue; the promise resolves when it is done or left to the sweeper, never rejects. */
  private enqueueBehind(jobs: PlannedJob[]): Promise<void> {
    if (jobs.length === 0) return Promise.resolve();
    const enqueue = this.deps.queue
      .enqueuePlanned(jobs)
      .catch((error: unknown) => this.enqueueFailed(error, jobs))
      .catch(() => {}) // a throwing logger must not turn into an unhandled rejection
      .finally(() => this.enqueues.delete(enqueue));
    this.enqueues.add(enqueue);
    return enqueue;
  }

  private enqueueFailed(error: unknown, jobs: readonly PlannedJob[]): void {
    this.deps.metrics.enqueueFailures.inc(jobs.reduce((versions, job) => versions + job.versions.length, 0));
    // One line every few seconds is enough during an outage; the counter has the total.
    if (Date.now() - lastEnqueueWarning > 5_000) {
      lastEnqueueWarning = Date.now();
      this.deps.logger.warn(
        { err: error },
        'enqueue failed after commit; versions stay queued for the sweeper',
      );
    }
  }
}

/** Enqueues under way past which an answer waits for its own (see Handoff). Default of the option. */
const MAX_ENQUEUES_BEHIND = 256;

/** Documents larger than this (or not text, or sent by URL) get jobs of their own. */
const GROUP_JOB_DOCUMENT_MAX_BYTES = 256 * 1024;

function joinsGroupJob(document: NewDocument): boolean {
  return (
    document.contentText !== undefined &&
    document.content.length <= GROUP_JOB_DOCUMENT_MAX_BYTES &&
    !isExternalBody(document.contentType)
  );
}

function payloadOf(document: NewDocument, documentId: string, version: number): ProcessVersionPayload {
  return toProcessVersionPayload({
    documentId,
    version,
    tenantId: document.tenantId,
    requestId: document.requestId,
  });
}
