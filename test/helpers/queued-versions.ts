import type { Queue } from 'bullmq';
import type { ProcessingJobData } from '../../src/queue/jobs.js';

/**
 * The document ids each waiting or delayed job of the processing queue carries, whether a job of
 * one version or of a group: id -> how many jobs carry it.
 */
export async function queuedDocumentIds(queue: Queue<ProcessingJobData>): Promise<Map<string, number>> {
  const jobs = await queue.getJobs(['waiting', 'delayed', 'prioritized']);
  const counts = new Map<string, number>();
  for (const job of jobs) {
    const versions = 'versions' in job.data ? job.data.versions : [job.data];
    for (const { documentId } of versions) counts.set(documentId, (counts.get(documentId) ?? 0) + 1);
  }
  return counts;
}
