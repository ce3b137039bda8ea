import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Queue counts by BullMQ state and the age of the oldest waiting job, read at scrape time. */
export interface QueueSnapshot {
  counts: Record<string, number>;
  oldestWaitingAgeSeconds: number;
}

/** A scrape must not hang on a Redis that is down: the process metrics matter most then. */
const QUEUE_SNAPSHOT_TIMEOUT_MS = 1_000;

/**
 * Every prom-client metric of one process, in one registry. A process that runs both an API
 * node and a worker (`ingestd up`) shares one instance, so one scrape shows both.
 */
export class Metrics {
  readonly registry = new Registry();

  readonly httpRequestDuration = new Histogram({
    name: 'ingestd_http_request_duration_seconds',
    help: 'HTTP request duration by route and status code.',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly documentsAccepted = new Counter({
    name: 'ingestd_documents_accepted_total',
    help: 'Documents committed to Postgres and acknowledged to the client.',
    registers: [this.registry],
  });

  readonly enqueueFailures = new Counter({
    name: 'ingestd_enqueue_failures_total',
    help: 'Committed versions whose job could not be enqueued at once (the sweeper enqueues them later).',
    registers: [this.registry],
  });

  readonly documentsCompleted = new Counter({
    name: 'ingestd_documents_completed_total',
    help: 'Document versions processed to chunks.',
    registers: [this.registry],
  });

  readonly documentsFailed = new Counter({
    name: 'ingestd_documents_failed_total',
    help: 'Document versions that failed processing, by error code.',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });

  readonly stageDuration = new Histogram({
    name: 'ingestd_processing_stage_duration_seconds',
    help: 'Time spent in each processing stage of a document version.',
    labelNames: ['stage'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  private queueSnapshot: (() => Promise<QueueSnapshot>) | undefined;
  private queueRefresh: Promise<void> | undefined;

  readonly queueJobs = new Gauge({
    name: 'ingestd_queue_jobs',
    help: 'Jobs in the processing queue by state.',
    labelNames: ['state'] as const,
    registers: [this.registry],
    collect: () => this.refreshQueue(),
  });

  readonly queueOldestWaitingAge = new Gauge({
    name: 'ingestd_queue_oldest_waiting_age_seconds',
    help: 'Age of the oldest job waiting in the processing queue (0 when none wait).',
    registers: [this.registry],
    collect: () => this.refreshQueue(),
  });

  readonly workerConcurrency = new Gauge({
    name: 'ingestd_worker_concurrency',
    help: 'Jobs this processor runs at once (WORKER_CONCURRENCY, or chosen from cores and memory).',
    registers: [this.registry],
  });

  readonly dlqItems = new Gauge({
    name: 'ingestd_dlq_items',
    help: 'Dead letters by status, all tenants (exported by the monitor role).',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });

  readonly versionsQueued = new Gauge({
    name: 'ingestd_versions_queued',
    help:
      'Versions waiting to be processed, queued in Postgres (exported by the monitor role). A queue job ' +
      'carries one version, or up to 16 committed together, so this is the backlog in documents.',
    registers: [this.registry],
  });

  readonly dlqNeedsHuman = new Gauge({
    name: 'ingestd_dlq_needs_human_items',
    help: 'Pending dead letters the dlq role gave up re-driving (exported by the monitor role).',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    // Gauges named *_total break Prometheus naming rules (promtool rejects them); the handle and
    // request counts they report are not worth a renamed copy.
    for (const name of [
      'nodejs_active_handles_total',
      'nodejs_active_requests_total',
      'nodejs_active_resources_total',
    ]) {
      this.registry.removeSingleMetric(name);
    }
  }

  /** Makes scrapes report the queue through `snapshot`; the last caller wins. */
  watchQueue(snapshot: () => Promise<QueueSnapshot>): void {
    this.queueSnapshot = snapshot;
  }

  /** One Redis read per scrape, shared by both queue gauges, and never longer than a second. */
  private refreshQueue(): Promise<void> {
    const snapshot = this.queueSnapshot;
    if (!snapshot) return Promise.resolve();
    this.queueRefresh ??= (async () => {
      let timer: NodeJS.Timeout | undefined;
      try {
        const { counts, oldestWaitingAgeSeconds } = await Promise.race([
          snapshot(),
          new Promise<never>((_, reject) => {
            timer = setTimeout(
              () => reject(new Error('queue snapshot timed out')),
              QUEUE_SNAPSHOT_TIMEOUT_MS,
            );
          }),
        ]);
        for (const [state, count] of Object.entries(counts)) this.queueJobs.set({ state }, count);
        this.queueOldestWaitingAge.set(oldestWaitingAgeSeconds);
      } catch {
        // Redis unreachable: keep the last values rather than failing the whole scrape.
      } finally {
        clearTimeout(timer);
        this.queueRefresh = undefined;
      }
    })();
    return this.queueRefresh;
  }
}
