import { describe, expect, it } from 'vitest';
import { resolveOptions } from '../../bench/cli.js';
import { suiteSteps, suiteTable } from '../../bench/suite.js';
import { check } from '../../bench/targets.js';
import { rawOptions } from './raw-options.js';

const raw = rawOptions();

describe('suiteSteps', () => {
  it('runs every target-judging scenario at its defaults, sustained at 500/s and at 1,010/s', () => {
    const steps = suiteSteps(resolveOptions({ ...raw, scenario: 'all', duration: 60 }, {}));
    expect(steps.map((step) => step.label)).toEqual([
      'chunkers',
      'copy',
      'reference',
      'single',
      'batch',
      'batch, intake alone',
      'mixed-formats',
      'memory',
      'sustained 500/s',
      'sustained 1,010/s',
    ]);
    const byLabel = new Map(steps.map((step) => [step.label, step.options]));
    expect(byLabel.get('single')).toMatchObject({ scenario: 'single', docs: 8000, concurrency: 20 });
    expect(byLabel.get('batch')).toMatchObject({ docs: 20_000, batchSize: 100, holdWorkers: false });
    expect(byLabel.get('batch, intake alone')).toMatchObject({
      docs: 20_000,
      batchSize: 100,
      holdWorkers: true,
    });
    expect(byLabel.get('memory')).toMatchObject({ docs: 1001, batchSize: 1000, concurrency: 2 });
    expect(byLabel.get('sustained 500/s')).toMatchObject({ rate: 500, docs: 30_000, concurrency: 256 });
    // 1% over the target: a run that keeps up then measures over 1,000/s (see SUITE_THROUGHPUT_RATE).
    expect(byLabel.get('sustained 1,010/s')).toMatchObject({ rate: 1010, docs: 60_600 });
  });

  it('offers --rate in the throughput step, and keeps the reference on one API process', () => {
    const steps = suiteSteps(
      resolveOptions({ ...raw, scenario: 'all', rate: 1200, duration: 10, apiNodes: 3 }, {}),
    );
    expect(steps.at(-1)?.options).toMatchObject({ rate: 1200, docs: 12_000, target: 'cluster', apiNodes: 3 });
    expect(steps.find((step) => step.label === 'reference')?.options).toMatchObject({
      target: 'up',
      apiNodes: 1,
      warmupDocs: 2000,
    });
    // The other steps keep the usual warm-up.
    expect(steps.find((step) => step.label === 'single')?.options.warmupDocs).toBe(200);
  });

  it('refuses --url and --docs', () => {
    expect(() => resolveOptions({ ...raw, scenario: 'all', url: 'http://h:1' }, {})).toThrow();
    expect(() => resolveOptions({ ...raw, scenario: 'all', docs: 10 }, {})).toThrow();
  });
});

describe('suiteTable', () => {
  it('keeps only judged rows and the rows that explain them, under their step', () => {
    const table = suiteTable([
      {
        label: 'copy',
        rows: [
          { figure: 'rows', measured: '6,000' },
          { figure: 'ingestd / COPY', measured: '40 %', issue: check('issue 7', '>= 50 %', false) },
          { figure: '  the data disk meanwhile', measured: '2 of 1,151 over 50 ms', context: true },
        ],
      },
    ]);
    expect(table).toContain('ingestd / COPY');
    expect(table).toContain('not met');
    expect(table).toContain('2 of 1,151 over 50 ms');
    expect(table).not.toContain('6,000');
  });
});
