import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findExecutable } from '../../src/stack/binaries.js';
import { type PrometheusSample, PrometheusServer } from '../../src/stack/prometheus-server.js';
import { waitUntilSettled } from '../faults/harness.js';
import { eventually } from '../helpers/context.js';
import { sendDocuments, startTestCluster, type TestCluster } from './cluster-harness.js';

// The "Prometheus, for real": a real Prometheus scrapes every API node and worker of the
// native cluster each second; its query API answers our series with values, every target is up,
// and `promtool check metrics` passes on what each target serves.
const DOCUMENTS = 300;

let stack: TestCluster | undefined;
let prometheus: PrometheusServer | undefined;
let passed = false;

beforeAll(async () => {
  stack = await startTestCluster({ apiNodes: 2, workers: 2 }, ['nginx', 'prometheus', 'promtool']);
  const targets = stack.cluster.metricsTargets();
  prometheus = await PrometheusServer.start({
    dataDir: path.join(stack.dataDir, 'prometheus'),
    scrapeIntervalSeconds: 1,
    jobs: [
      { name: 'ingestd-api', roles: ['api'] },
      { name: 'ingestd-worker', roles: ['processor', 'dlq', 'monitor'] },
    ].map(({ name, roles }) => ({
      name,
      targets: targets
        .filter((target) => roles.includes(target.role))
        .map((target) => ({ address: target.address, labels: { node: target.name, role: target.role } })),
    })),
  });
}, 90_000);

afterAll(async () => {
  await prometheus?.stop();
  await stack?.close(!passed);
}, 90_000);

describe('cluster: Prometheus scrapes every node', () => {
  it('answers queries for throughput, stage latency and queue depth, with every target up', async () => {
    const { cluster, pool, headers } = stack as TestCluster;
    const server = prometheus as PrometheusServer;
    const targets = cluster.metricsTargets();
    expect(targets.map((target) => target.role).sort()).toEqual(
      ['api', 'api', 'dlq', 'monitor', 'processor', 'processor'].sort(),
    );

    const active = await eventually(
      async () => {
        const found = await server.targets();
        return found.length === targets.length && found.every((target) => target.health === 'up')
          ? found
          : undefined;
      },
      20_000,
      'every target to be scraped and up',
    );

    const intake = await sendDocuments({
      url: cluster.url,
      headers,
      documents: DOCUMENTS,
      concurrency: 10,
      source: `prometheus-${Date.now()}`,
    });
    const ids = [...intake.ids.values()];
    const report = await waitUntilSettled(pool, intake.requests, ids, 120_000);
    expect(report.completed).toBe(DOCUMENTS);

    // The raw counters, summed over the processors, once a scrape after the last completion is in.
    const completedTotal = await eventually(
      async () => {
        const [sample] = await server.query('sum(ingestd_documents_completed_total)');
        return sample?.value === DOCUMENTS ? sample.value : undefined;
      },
      15_000,
      `ingestd_documents_completed_total to reach ${DOCUMENTS} in Prometheus`,
    );
    const rate = single(await server.query('sum(rate(ingestd_documents_completed_total[1m]))'));
    const increase = single(await server.query('sum(increase(ingestd_documents_completed_total[5m]))'));
    const p95ByStage = await server.query(
      'histogram_quantile(0.95, sum by (le, stage) (rate(ingestd_processing_stage_duration_seconds_bucket[1m])))',
    );
    const queueJobs = await server.query('ingestd_queue_jobs');
    const waitingByNode = await server.query('max by (node) (ingestd_queue_jobs{state="waiting"})');

    const bodies = await Promise.all(
      targets.map(async (target) => ({
        target,
        body: await (await fetch(`http://${target.address}/metrics`)).text(),
      })),
    );
    const promtool = findExecutable('promtool') as string;
    const checks = bodies.map(({ target, body }) => {
      const result = spawnSync(promtool, ['check', 'metrics'], { input: body, encoding: 'utf8' });
      return { node: target.name, status: result.status, output: `${result.stdout}${result.stderr}`.trim() };
    });

    console.log(
      `cluster prometheus: ${JSON.stringify({
        targetsUp: active.length,
        completedTotal,
        ratePerSecond: Number(rate.toFixed(2)),
        increase5m: Math.round(increase),
        p95SecondsByStage: Object.fromEntries(
          p95ByStage.map((sample) => [sample.labels.stage, Number(sample.value.toPrecision(3))]),
        ),
        queueJobsSeries: queueJobs.length,
        promtool: checks.map(({ node, status }) => `${node}:${status}`),
      })}`,
    );

    expect(rate).toBeGreaterThan(0);
    expect(increase).toBeGreaterThan(0);
    // One p95 per pipeline stage, each a real duration.
    expect(p95ByStage.length).toBeGreaterThanOrEqual(3);
    for (const sample of p95ByStage) {
      expect(sample.labels.stage).toBeTruthy();
      expect(Number.isFinite(sample.value) && sample.value > 0).toBe(true);
    }
    // Every node that watches the queue reports it by state; after the run nothing waits.
    expect(new Set(queueJobs.map((sample) => sample.labels.state)).has('waiting')).toBe(true);
    expect(queueJobs.every((sample) => Number.isFinite(sample.value) && sample.value >= 0)).toBe(true);
    expect(waitingByNode.length).toBeGreaterThan(0);
    expect(checks.filter((check) => check.status !== 0)).toEqual([]);
    passed = true;
  }, 180_000);
});

/** The value of a query that yields exactly one series. */
function single(samples: readonly PrometheusSample[]): number {
  expect(samples).toHaveLength(1);
  return (samples[0] as PrometheusSample).value;
}
