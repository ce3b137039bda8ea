/**
 * `npm run bench -- all`: every scenario that judges one of issue 7's targets, one after another,
 * each on a fresh stack at its own defaults, and one table of every target beside the figure that
 * judges it: the table for the README's performance section, from one command.
 */
import {
  type BenchOptions,
  MEMORY_BATCH_SIZE,
  REFERENCE_WARMUP_DOCS,
  type Scenario,
  scenarioDefaults,
} from './cli.js';
import { formatColumns, formatNumber } from './format.js';
import { ISSUE7, type Row } from './targets.js';

export interface SuiteStep {
  /** e.g. "sustained 500/s". */
  label: string;
  options: BenchOptions;
}

/** The steps of the suite, in order: in-process and database ones first, then the loads. */
export function suiteSteps(base: BenchOptions): SuiteStep[] {
  const step = (label: string, scenario: Scenario, overrides: Partial<BenchOptions> = {}): SuiteStep => ({
    label,
    options: { ...base, scenario, ...scenarioDefaults(scenario), ...overrides },
  });
  const sustained = (rate: number) =>
    step(`sustained ${formatNumber(rate)}/s`, 'sustained', {
      rate,
      docs: Math.max(1, Math.round(rate * base.durationSeconds)),
    });
  return [
    step('chunkers', 'chunkers'),
    step('copy', 'copy'),
    // The reference compares one API process with one reference process, both warmed up as
    // `reference` on its own warms them (a larger --warmup is kept).
    step('reference', 'reference', {
      target: 'up',
      apiNodes: 1,
      warmupDocs: Math.max(base.warmupDocs, REFERENCE_WARMUP_DOCS),
    }),
    step('single', 'single'),
    step('batch', 'batch', { batchSize: ISSUE7.batchSize }),
    step('batch, intake alone', 'batch', { batchSize: ISSUE7.batchSize, holdWorkers: true }),
    step('mixed-formats', 'mixed-formats'),
    step('memory', 'memory', { batchSize: MEMORY_BATCH_SIZE, docs: MEMORY_BATCH_SIZE + 1 }),
    sustained(ISSUE7.latencyRatePerSec),
    sustained(base.rate),
  ];
}

/** The figure of a step that stopped before it had figures. */
export const COULD_NOT_RUN = 'could not run';

/** Every row of every step that is judged against a target (or says it could not run), under the step's name. */
export function suiteTable(steps: readonly { label: string; rows: readonly Row[] }[]): string {
  const status = (check: Row['guide']) =>
    check ? `${check.status}${check.note ? ` (${check.note})` : ''}` : '';
  return formatColumns(
    ['step', 'figure', 'measured', 'design guide target', 'result', 'issue 7 target', 'result'],
    steps.flatMap(({ label, rows }) =>
      rows
        .filter((row) => row.guide || row.issue || row.context || row.figure === COULD_NOT_RUN)
        .map((row) => [
          label,
          row.figure.trim(),
          row.measured,
          row.guide?.target ?? '',
          status(row.guide),
          row.issue?.target ?? '',
          status(row.issue),
        ]),
    ),
  );
}
