import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  checkPromqlSyntax,
  exportedSeriesNames,
  metricNamesIn,
  prometheusOwnSeries,
  readRepoFile,
} from './deploy-files.js';

// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's import-time input, not a JavaScript template
const datasource = z.strictObject({ type: z.literal('prometheus'), uid: z.literal('${DS_PROMETHEUS}') });
const gridPos = z.strictObject({
  h: z.number().int().positive(),
  w: z.number().int().positive().max(24),
  x: z.number().int().min(0).max(23),
  y: z.number().int().min(0),
});
const panel = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('row'), id: z.number().int(), title: z.string(), gridPos }),
  z.looseObject({
    type: z.enum(['timeseries', 'stat']),
    id: z.number().int(),
    title: z.string().min(1),
    description: z.string().min(1),
    datasource,
    gridPos,
    targets: z
      .array(
        z.looseObject({
          datasource,
          refId: z.string(),
          expr: z.string().min(1),
          legendFormat: z.string(),
        }),
      )
      .min(1),
  }),
]);
const dashboard = z
  .looseObject({
    __inputs: z.array(z.looseObject({ name: z.string(), type: z.string(), pluginId: z.string() })),
    uid: z.string().min(1),
    title: z.string().min(1),
    schemaVersion: z.number().int(),
    panels: z.array(panel),
  })
  .parse(JSON.parse(readRepoFile('deploy/grafana/ingestd-dashboard.json')));

const graphs = dashboard.panels.flatMap((p) => (p.type === 'row' ? [] : [p]));
const expressions = graphs.flatMap((p) => p.targets.map((target) => target.expr));
const titles = graphs.map((p) => p.title);

let exported: Set<string>;
beforeAll(async () => {
  exported = await exportedSeriesNames();
});

describe('deploy/grafana/ingestd-dashboard.json', () => {
  it('imports into current Grafana with a Prometheus data source chosen at import', () => {
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dashboard.__inputs).toEqual([
      expect.objectContaining({ name: 'DS_PROMETHEUS', type: 'datasource', pluginId: 'prometheus' }),
    ]);
    expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length);
    for (const p of graphs) {
      expect(new Set(p.targets.map((t) => t.refId)).size, p.title).toBe(p.targets.length);
    }
  });

  it('lays panels out on the 24-column grid without overlaps', () => {
    const boxes = dashboard.panels.map((p) => ({ title: p.title, ...p.gridPos }));
    for (const box of boxes) expect(box.x + box.w, box.title).toBeLessThanOrEqual(24);
    for (const [i, a] of boxes.entries()) {
      for (const b of boxes.slice(i + 1)) {
        const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
        expect(overlap, `${a.title} overlaps ${b.title}`).toBe(false);
      }
    }
  });

  it('has the panels operators need', () => {
    expect(titles).toEqual(
      expect.arrayContaining([
        'Throughput',
        'Processing stage latency (p50 / p95 / p99)',
        'Error rate',
        'Queue depth by state',
        'Oldest waiting job age',
        'Dead letters by status',
        'HTTP p95 by route',
        'Resident memory per process',
        'Worker concurrency',
      ]),
    );
    const used = new Set(expressions.flatMap((expr) => [...metricNamesIn(expr)]));
    for (const name of [
      'ingestd_documents_accepted_total',
      'ingestd_documents_completed_total',
      'ingestd_documents_failed_total',
      'ingestd_processing_stage_duration_seconds_bucket',
      'ingestd_http_request_duration_seconds_bucket',
      'ingestd_queue_jobs',
      'ingestd_queue_oldest_waiting_age_seconds',
      'ingestd_dlq_items',
      'ingestd_worker_concurrency',
      'process_resident_memory_bytes',
    ]) {
      expect(used, name).toContain(name);
    }
    const latency = graphs.find((p) => p.title.startsWith('Processing stage latency'));
    expect(latency?.targets.map((t) => /histogram_quantile\((0\.\d+)/.exec(t.expr)?.[1])).toEqual([
      '0.5',
      '0.95',
      '0.99',
    ]);
  });

  it('selects only metrics ingestd exports', () => {
    for (const expr of expressions) {
      for (const name of metricNamesIn(expr)) {
        expect(exported.has(name) || prometheusOwnSeries.has(name), `${name} in ${expr}`).toBe(true);
      }
    }
  });

  it('writes valid PromQL (promtool)', () => {
    const result = checkPromqlSyntax(expressions);
    expect(result.status, result.output).toBe(0);
    expect(result.output).toContain(`SUCCESS: ${expressions.length} rules found`);
  });
});
