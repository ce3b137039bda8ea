import { createHash } from 'node:crypto';
import { z } from 'zod';

/**
 * The contract between API nodes and workers. A job carries ids only: the document's bytes are
 * in Postgres, committed before the job exists, so Redis never holds anything that cannot be rebuilt.
 */
export const PROCESSING_QUEUE = 'documents';
export const PROCESS_VERSION_JOB = 'process-version';
/**
 * Processes the versions one group commit stored, one after another: one job instead of one per
 * version, which divides BullMQ's work in Redis and in both processes by the group's size.
 */
export const PROCESS_VERSIONS_JOB = 'process-versions';
/** Re-chunks a completed version from its stored text with the settings in rechunk_settings. */
export const RECHUNK_VERSION_JOB = 'rechunk-version';

export const processVersionPayload = z.object({
  documentId: z.uuid(),
  version: z.number().int().positive(),
  tenantId: z.string().min(1),
  /** The request that created the version, so the worker's log lines can be joined to it. */
  requestId: z.string().optional(),
});
export type ProcessVersionPayload = z.infer<typeof processVersionPayload>;

/**
 * Versions per group job. A job's versions run one after another on one of a worker's slots, so
 * a large batch is spread over several jobs (and workers); 16 already divides BullMQ's work per
 * version by 16.
 */
export const GROUP_JOB_MAX_VERSIONS = 16;

export const processVersionsPayload = z.object({
  versions: z.array(processVersionPayload).min(1).max(GROUP_JOB_MAX_VERSIONS),
});
export type ProcessVersionsPayload = z.infer<typeof processVersionsPayload>;

/** What a job of the processing queue carries. */
export type ProcessingJobData = ProcessVersionPayload | ProcessVersionsPayload;

/**
 * One job id per (document, version): adding the same version twice while its job exists is a
 * no-op in BullMQ. BullMQ forbids ':' in custom ids, hence the dash.
 */
export function processVersionJobId(documentId: string, version: number): string {
  return `${documentId}-v${version}`;
}

/**
 * A group's job is named after its first version and a hash of all of them: enqueuing the same
 * group again (a retried batch) is a no-op while the job exists, and a different group that
 * starts with the same version (a keyed request regrouped on its retry) gets a job of its own.
 */
export function processVersionsJobId(versions: readonly ProcessVersionPayload[]): string {
  const hash = createHash('sha256');
  for (const v of versions) hash.update(`${v.documentId}:${v.version};`);
  const first = versions[0] as ProcessVersionPayload;
  return `${processVersionJobId(first.documentId, first.version)}-group-${hash.digest('hex').slice(0, 16)}`;
}

/** A job to add: one version's own job, or a group job of several. */
export interface PlannedJob {
  jobId: string;
  versions: ProcessVersionPayload[];
}

/**
 * The jobs that carry versions committed together: groups of up to GROUP_JOB_MAX_VERSIONS, in
 * order; a version left alone gets its own job. The API records each version's group job id
 * with the version (queue_job_id) before enqueuing, so the sweeper can tell it is in a live job.
 */
export function planJobs(payloads: readonly ProcessVersionPayload[]): PlannedJob[] {
  const jobs: PlannedJob[] = [];
  for (let start = 0; start < payloads.length; start += GROUP_JOB_MAX_VERSIONS) {
    const versions = payloads.slice(start, start + GROUP_JOB_MAX_VERSIONS);
    jobs.push(
      versions.length === 1
        ? ownJob(versions[0] as ProcessVersionPayload)
        : { jobId: processVersionsJobId(versions), versions },
    );
  }
  return jobs;
}

/** A version's own job. */
export function ownJob(version: ProcessVersionPayload): PlannedJob {
  return { jobId: processVersionJobId(version.documentId, version.version), versions: [version] };
}

/**
 * One job per re-chunk request. Not derived from the settings: asking for A, then B, then A again
 * must run a third time, and a finished job's id would block it.
 */
export function rechunkVersionJobId(documentId: string, version: number, requestKey: string): string {
  return `${documentId}-v${version}-rechunk-${requestKey}`;
}

/** The job payload for a version: the one place it is built, for the API and the sweeper alike. */
export function toProcessVersionPayload(version: {
  documentId: string;
  version: number;
  tenantId: string;
  requestId?: string | null;
}): ProcessVersionPayload {
  const payload: ProcessVersionPayload = {
    documentId: version.documentId,
    version: version.version,
    tenantId: version.tenantId,
  };
  if (version.requestId) payload.requestId = version.requestId;
  return payload;
}
