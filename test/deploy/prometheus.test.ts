import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  exportedSeriesNames,
  metricNamesIn,
  prometheusOwnSeries,
  promtool,
  readYaml,
  repoPath,
} from './deploy-files.js';

const alertRules = z
  .strictObject({
    groups: z.array(
      z.strictObject({
        name: z.string(),
        rules: z.array(
          z.strictObject({
            alert: z.string(),
            expr: z.string(),
            for: z.string().optional(),
            labels: z.strictObject({ severity: z.enum(['warning', 'critical']) }),
            annotations: z.strictObject({ summary: z.string(), description: z.string() }),
          }),
        ),
      }),
    ),
  })
  .parse(readYaml('deploy/prometheus-alerts.yml'));
const rules = alertRules.groups.flatMap((group) => group.rules);

let exported: Set<string>;
beforeAll(async () => {
  exported = await exportedSeriesNames();
});

describe('deploy/prometheus.yml', () => {
  it('passes promtool check config, rule files included', () => {
    const result = promtool(['check', 'config', 'deploy/prometheus.yml']);
    expect(result.output).toContain('SUCCESS: 1 rule files found');
    expect(result.status, result.output).toBe(0);
  });

  it('names its ingestd jobs as the alerts and the dashboard expect', () => {
    const config = z
      .looseObject({ scrape_configs: z.array(z.looseObject({ job_name: z.string() })) })
      .parse(readYaml('deploy/prometheus.yml'));
    const jobs = config.scrape_configs
      .map((job) => job.job_name)
      .filter((name) => name.startsWith('ingestd-'));
    expect(jobs.sort()).toEqual(['ingestd-api', 'ingestd-worker']);
  });
});

describe('deploy/prometheus-alerts.yml', () => {
  it('passes promtool check rules', () => {
    const result = promtool(['check', 'rules', 'deploy/prometheus-alerts.yml']);
    expect(result.status, result.output).toBe(0);
  });

  it('fires each alert on a bad history and stays quiet on a healthy one (promtool test rules)', () => {
    const result = promtool(['test', 'rules', 'prometheus-alerts.test.yml'], repoPath('test/deploy'));
    expect(result.status, result.output).toBe(0);
    expect(result.output).toContain('SUCCESS');
  });

  it('covers the DLQ, queue wait, error rate and stalled processing', () => {
    expect(rules.map((rule) => rule.alert)).toEqual(
      expect.arrayContaining([
        'IngestdDeadLettersGrowing',
        'IngestdQueueWaitHigh',
        'IngestdErrorRateHigh',
        'IngestdNoCompletionsWhileJobsWait',
      ]),
    );
  });

  it('selects only metrics ingestd exports', () => {
    for (const rule of rules) {
      const names = metricNamesIn(rule.expr);
      expect(names.size, rule.alert).toBeGreaterThan(0);
      for (const name of names) {
        expect(exported.has(name) || prometheusOwnSeries.has(name), `${rule.alert}: ${name}`).toBe(true);
      }
    }
  });
});

describe('metricNamesIn', () => {
  it('finds selected metrics, not functions, labels, ranges or keywords', () => {
    expect(
      metricNamesIn(
        'histogram_quantile(0.95, sum by (le, stage) (rate(a_bucket{stage!~"x|y"}[$__rate_interval]))) / on() (b offset 5m) > bool 1e3 and c:rate5m or vector(0)',
      ),
    ).toEqual(new Set(['a_bucket', 'b', 'c:rate5m']));
  });
});
