/** Number formats and the report table every scenario prints. */
import os from 'node:os';
import type { Summary } from './stats.js';
import type { Row } from './targets.js';

export function formatNumber(value: number, digits = 0): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** About three significant figures: 0.412, 4.12, 41.2, 412, 4,120. */
export function formatFigure(value: number | null): string {
  if (value === null || !Number.isFinite(value)) return 'n/a';
  const abs = Math.abs(value);
  if (abs >= 100) return formatNumber(value);
  if (abs >= 10) return formatNumber(value, 1);
  if (abs >= 1) return formatNumber(value, 2);
  return formatNumber(value, 3);
}

export function formatRate(perSec: number | null, unit = 'docs/s'): string {
  return perSec === null ? 'n/a' : `${formatFigure(perSec)} ${unit}`;
}

export function formatMs(ms: number | null): string {
  if (ms === null) return 'n/a';
  return ms >= 10_000 ? `${formatNumber(ms / 1000, 1)} s` : `${formatNumber(ms, ms < 100 ? 1 : 0)} ms`;
}

export function formatMb(mb: number | null): string {
  return mb === null ? 'n/a' : `${formatNumber(mb, 1)} MB`;
}

export function formatPercent(ratio: number | null): string {
  return ratio === null ? 'n/a' : `${formatNumber(ratio * 100, 2)} %`;
}

export function formatRatio(ratio: number | null): string {
  return ratio === null ? 'n/a' : `${formatNumber(ratio * 100, 0)} %`;
}

export function formatTimes(ratio: number | null): string {
  return ratio === null ? 'n/a' : `${formatFigure(ratio)}x`;
}

/** "p50 / p95 / p99 ms" of a summary. */
export function formatPercentiles(summary: Pick<Summary, 'count' | 'p50' | 'p95' | 'p99'>): string {
  if (summary.count === 0) return 'n/a';
  const value = (ms: number | null) => (ms === null ? 'n/a' : formatNumber(ms, ms < 100 ? 1 : 0));
  return `${value(summary.p50)} / ${value(summary.p95)} / ${value(summary.p99)} ms`;
}

/** Left-aligned columns under a header and a rule. */
export function formatColumns(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((_, column) =>
    Math.max(...[header, ...rows].map((row) => row[column]?.length ?? 0)),
  );
  const line = (row: readonly string[]) =>
    row
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

/** The figures beside the design guide's and issue 7's targets, each marked met / not met. */
export function formatRows(rows: readonly Row[]): string {
  const status = (check: Row['guide']) =>
    check ? `${check.status}${check.note ? ` (${check.note})` : ''}` : '';
  return formatColumns(
    ['figure', 'measured', 'design guide target', 'result', 'issue 7 target', 'result'],
    rows.map((row) => [
      row.figure,
      row.measured,
      row.guide?.target ?? '',
      status(row.guide),
      row.issue?.target ?? '',
      status(row.issue),
    ]),
  );
}

/** The machine the figures come from; the load average shows how busy it was when the run began. */
export interface Machine {
  cores: number;
  cpu: string;
  memoryGb: number;
  node: string;
  platform: string;
  loadAverage: number;
}

export function describeMachine(): Machine {
  return {
    cores: os.availableParallelism(),
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown cpu',
    memoryGb: os.totalmem() / 1024 ** 3,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    loadAverage: os.loadavg()[0] ?? 0,
  };
}

export function machineLine(machine: Machine): string {
  return (
    `machine   ${machine.cores} cores (${machine.cpu}), ${formatNumber(machine.memoryGb, 1)} GB RAM, ` +
    `node ${machine.node} (${machine.platform}), load average ${formatNumber(machine.loadAverage, 2)} at start`
  );
}
