import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { insertDocuments, type NewDocument } from '../store/documents.js';
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
 * The durable handoff: commit the documents, then enqueue their jobs. The caller's 202 depends
 * only on the commit; if Redis refuses the enqueue, the versions stay queued in Postgres and the
 * sweeper enqueues them later.
 */
export async function commitAndEnqueue(deps: HandoffDeps, documents: readonly NewDocument[]): Promise<void> {
  if (documents.length === 0) return;
  await insertDocuments(deps.pool, documents);
  deps.metrics.documentsAccepted.inc(documents.length);
  try {
    await deps.queue.enqueue(
      documents.map((d) =>
        toProcessVersionPayload({
          documentId: d.id,
          version: 1,
          tenantId: d.tenantId,
          requestId: d.requestId,
        }),
      ),
    );
  } catch (error) {
    deps.metrics.enqueueFailures.inc(documents.length);
    // One line every few seconds is enough during an outage; the counter has the total.
    if (Date.now() - lastEnqueueWarning > 5_000) {
      lastEnqueueWarning = Date.now();
      deps.logger.warn({ err: error }, 'enqueue failed after commit; versions stay queued for the sweeper');
    }
  }
}
