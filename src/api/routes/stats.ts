import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { RequestError } from '../../errors.js';
import {
  latestGauges,
  listProcessingMinutes,
  mergeBuckets,
  monitorGauges,
  type ProcessingMinute,
  quantileFromBuckets,
} from '../../store/metrics.js';
import { errorResponse } from './documents/schemas.js';

/** Window -> its length and the step of the throughput series. */
const windows = {
  '1h': { ms: 3_600_000, stepMinutes: 1 },
  '24h': { ms: 86_400_000, stepMinutes: 15 },
  '7d': { ms: 7 * 86_400_000, stepMinutes: 60 },
} as const;

/** The design guide's targets (normal volume), shown beside the measured figures. */
const designTargets = { completedPerMinute: 100, p95ProcessingMs: 5_000, errorRate: 0.01 } as const;

const percentiles = z.object({ p50: z.number(), p95: z.number(), p99: z.number() }).nullable();
const target = z.object({ target: z.number(), actual: z.number().nullable(), met: z.boolean().nullable() });

const statsResponse = z.object({
  window: z.enum(['1h', '24h', '7d']),
  from: z.string(),
  to: z.string().describe('end of the last whole minute; the minute under way is not counted yet'),
  documents: z.object({ processed: z.number(), completed: z.number(), failed: z.number() }),
  throughput: z.object({
    completedPerMinute: z.number().describe('average over the minutes of the window'),
    peakCompletedPerMinute: z.number(),
    series: z.array(
      z.object({ at: z.string(), completedPerMinute: z.number(), failedPerMinute: z.number() }),
    ),
  }),
  processingMs: percentiles.describe('claimed by a worker to done'),
  endToEndMs: percentiles.describe('accepted to done'),
  errorRate: z.number().nullable().describe('failed / processed'),
  queue: z
    .object({
      waiting: z.number().describe('jobs waiting: a job carries one version, or up to 16 committed together'),
      versionsQueued: z.number().describe('versions waiting to be processed (queued in Postgres)'),
      active: z.number(),
      delayed: z.number(),
      oldestWaitingSeconds: z.number(),
      at: z.string(),
    })
    .nullable()
    .describe('the newest gauges the monitor role wrote; null when no monitor ran lately'),
  dlq: z
    .object({ pending: z.number(), retrying: z.number(), needsHuman: z.number(), at: z.string() })
    .nullable(),
  targets: z.object({
    completedPerMinute: target.describe('actual: the busiest minute of the window'),
    p95ProcessingMs: target,
    errorRate: target,
  }),
});

type Percentiles = z.infer<typeof percentiles>;

function percentilesOf(histograms: readonly Record<string, number>[]): Percentiles {
  const merged = mergeBuckets(histograms);
  const at = (q: number) => quantileFromBuckets(merged, q);
  const p50 = at(0.5);
  if (p50 === undefined) return null;
  const round = (ms: number | undefined) => Math.round((ms ?? 0) * 10) / 10;
  return { p50: round(p50), p95: round(at(0.95)), p99: round(at(0.99)) };
}

/** Throughput in steps counted back from `to`, so every window has a whole number of full steps. */
function throughputSeries(
  minutes: readonly ProcessingMinute[],
  from: number,
  to: number,
  stepMinutes: number,
) {
  const stepMs = stepMinutes * 60_000;
  const steps = Array.from({ length: Math.round((to - from) / stepMs) }, (_, i) => ({
    at: from + i * stepMs,
    completed: 0,
    failed: 0,
  }));
  for (const minute of minutes) {
    const step = steps[Math.floor((minute.minute.getTime() - from) / stepMs)];
    if (!step) continue;
    step.completed += minute.total - minute.failed;
    step.failed += minute.failed;
  }
  return steps.map((step) => ({
    at: new Date(step.at).toISOString(),
    completedPerMinute: step.completed / stepMinutes,
    failedPerMinute: step.failed / stepMinutes,
  }));
}

const gaugeMaxAgeMs = 10 * 60_000;

/**
 * GET /api/v1/stats: throughput, latency percentiles and error rate over a window, read from the
 * monitor role's per-minute rollups (so a 7-day window reads ~10k rows, not every sample), and
 * the newest queue and DLQ gauges, beside the design guide's targets. Platform-wide, so for the
 * operator tenant's admin keys only (OPERATOR_TENANT).
 */
export async function statsRoutes(app: FastifyInstance, options: { operatorTenant: string }): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/api/v1/stats',
    {
      schema: {
        summary: 'Throughput, latency and error rate over a window, with queue and DLQ size',
        tags: ['stats'],
        querystring: z.object({ window: z.enum(['1h', '24h', '7d']).default('1h') }),
        response: { 200: statsResponse, 400: errorResponse, 403: errorResponse },
      },
    },
    async (request) => {
      // The figures cover every tenant: only the operator's admin keys may read them.
      if (request.caller?.kind === 'key' && request.tenantId !== options.operatorTenant) {
        throw new RequestError(
          403,
          'forbidden',
          'platform statistics cover every tenant; they are for admin keys of the operator tenant',
        );
      }
      const { window } = request.query;
      const { ms, stepMinutes } = windows[window];
      // Whole minutes only: the current one is still open and not rolled up.
      const to = Math.floor(Date.now() / 60_000) * 60_000;
      const from = to - ms;
      const [minutes, gauges] = await Promise.all([
        listProcessingMinutes(app.db, new Date(from)),
        latestGauges(app.db, Object.values(monitorGauges), gaugeMaxAgeMs),
      ]);
      const processed = minutes.reduce((sum, minute) => sum + minute.total, 0);
      const failed = minutes.reduce((sum, minute) => sum + minute.failed, 0);
      const completed = processed - failed;
      const series = throughputSeries(minutes, from, to, stepMinutes);
      const completedPerMinute = completed / (ms / 60_000);
      // The guide's throughput target is a capacity: the busiest minute is what shows it.
      const peakCompletedPerMinute = Math.max(0, ...minutes.map((minute) => minute.total - minute.failed));
      const processingMs = percentilesOf(minutes.map((minute) => minute.processing));
      const errorRate = processed > 0 ? failed / processed : null;
      const gauge = (name: string) => gauges.get(name);
      const queueWaiting = gauge(monitorGauges.queueWaiting);
      const dlqPending = gauge(monitorGauges.dlqPending);
      return {
        window,
        from: new Date(from).toISOString(),
        to: new Date(to).toISOString(),
        documents: { processed, completed, failed },
        throughput: {
          completedPerMinute,
          peakCompletedPerMinute,
          series,
        },
        processingMs,
        endToEndMs: percentilesOf(minutes.map((minute) => minute.e2e)),
        errorRate,
        queue: queueWaiting
          ? {
              waiting: queueWaiting.value,
              versionsQueued: gauge(monitorGauges.versionsQueued)?.value ?? 0,
              active: gauge(monitorGauges.queueActive)?.value ?? 0,
              delayed: gauge(monitorGauges.queueDelayed)?.value ?? 0,
              oldestWaitingSeconds: gauge(monitorGauges.queueOldestWaitingSeconds)?.value ?? 0,
              at: queueWaiting.at.toISOString(),
            }
          : null,
        dlq: dlqPending
          ? {
              pending: dlqPending.value,
              retrying: gauge(monitorGauges.dlqRetrying)?.value ?? 0,
              needsHuman: gauge(monitorGauges.dlqNeedsHuman)?.value ?? 0,
              at: dlqPending.at.toISOString(),
            }
          : null,
        targets: {
          completedPerMinute: {
            target: designTargets.completedPerMinute,
            actual: peakCompletedPerMinute,
            met: processed > 0 ? peakCompletedPerMinute >= designTargets.completedPerMinute : null,
          },
          p95ProcessingMs: {
            target: designTargets.p95ProcessingMs,
            actual: processingMs?.p95 ?? null,
            met: processingMs ? processingMs.p95 < designTargets.p95ProcessingMs : null,
          },
          errorRate: {
            target: designTargets.errorRate,
            actual: errorRate,
            met: errorRate === null ? null : errorRate < designTargets.errorRate,
          },
        },
      };
    },
  );
}
