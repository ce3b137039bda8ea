import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import {
  addDocumentVersion,
  insertDocuments,
  type NewDocument,
  type VersionOutcome,
} from '../store/documents.js';
import type { Pool } from '../store/pool.js';
import { toProcessVersionPayload } from './jobs.js';
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
 * version of an earlier one, or a duplicate that stores and queues nothing. The caller's answer
 * depends only on the commit: if Redis refuses the enqueue, the versions stay queued in Postgres
 * and the sweeper enqueues them later. Outcomes come back in the order of `documents`.
 */
export async function commitAndEnqueue(
  deps: HandoffDeps,
  documents: readonly NewDocument[],
): Promise<VersionOutcome[]> {
  const fresh = documents.filter((d) => d.externalId === null);
  await insertDocuments(deps.pool, fresh);
  const outcomes = new Map<NewDocument, VersionOutcome>(
    fresh.map((d) => [d, { id: d.id, version: 1, duplicate: false, status: 'queued' }]),
  );
  for (const document of documents) {
    if (document.externalId !== null) outcomes.set(document, await addDocumentVersion(deps.pool, document));
  }
  const ordered = documents.map((d) => outcomes.get(d) as VersionOutcome);
  const queued = documents.filter((_, i) => !ordered[i]?.duplicate);
  deps.metrics.documentsAccepted.inc(queued.length);
  try {
    await deps.queue.enqueue(
      queued.map((d) => {
        const outcome = outcomes.get(d) as VersionOutcome;
        return toProcessVersionPayload({
          documentId: outcome.id,
          version: outcome.version,
          tenantId: d.tenantId,
          requestId: d.requestId,
        });
      }),
    );
  } catch (error) {
    deps.metrics.enqueueFailures.inc(queued.length);
    // One line every few seconds is enough during an outage; the counter has the total.
    if (Date.now() - lastEnqueueWarning > 5_000) {
      lastEnqueueWarning = Date.now();
      deps.logger.warn({ err: error }, 'enqueue failed after commit; versions stay queued for the sweeper');
    }
  }
  return ordered;
}
