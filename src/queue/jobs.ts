import { z } from 'zod';

/**
 * The contract between API nodes and workers. A job carries ids only: the document's bytes are
 * in Postgres, committed before the job exists, so Redis never holds anything that cannot be rebuilt.
 */
export const PROCESSING_QUEUE = 'documents';
export const PROCESS_VERSION_JOB = 'process-version';
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
 * One job id per (document, version): adding the same version twice while its job exists is a
 * no-op in BullMQ. BullMQ forbids ':' in custom ids, hence the dash.
 */
export function processVersionJobId(documentId: string, version: number): string {
  return `${documentId}-v${version}`;
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
