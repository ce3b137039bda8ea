import os from 'node:os';
import type { DocumentOutcome } from './completion.js';
import { expectedChunkCount } from './documents.js';
import { errorCount, type LoadResult } from './load.js';
import type { MemoryPeak } from './rss.js';
import { ratePerSecond, type Summary, summarize } from './stats.js';

/**
 * The design guide's targets (performance-optimization-guide, "Performance Targets"): the
 * standard column, with the high-volume column's throughput and P95 where it relaxes them.
 */
export const TARGETS = {
  /** 100 docs/min. */
  throughputPerSec: 100 / 60,
  /** 1000+ docs/min. */
  highVolumeThroughputPerSec: 1000 / 60,
  p95Ms: 5_000,
  /** The P95 the guide allows at high volume. */
  highVolumeP95Ms: 10_000,
  maxErrorRate: 0.01,
  maxMemoryBytes: 2 * 1024 ** 3,
} as const;

export interface BenchSettings {
  documents: number;
  concurrency: number;
  words: number;
  chunkSize: number;
  chunkOverlap: number;
  /** Jobs at once in the worker process; null with --url (not ours to set). */
  workerConcurrency: number | null;
  /** The API benchmarked. */
  url: string;
  /** true: a private stack this run started; false: an already running ingestd (--url). */
  local: boolean;
  timeoutMs: number;
}

export type Tier = 'high volume' | 'standard';

export interface BenchResult {
  startedAt: string;
  machine: { cores: number; memoryGb: number; node: string; platform: string };
  settings: BenchSettings;
  /** Server versions and durability settings, when the database is readable. */
  server: string | null;
  /** Where document outcomes and their timestamps were read from. */
  figuresFrom: string;
  counts: {
    posted: number;
    accepted: number;
    errors: number;
    completed: number;
    failed: number;
    lost: number;
  };
  /** (POST errors + failed documents) / documents posted. */
  errorRate: number | null;
  errorKinds: { kind: string; count: number; sample: string }[];
  failureSamples: string[];
  throughput: {
    /** Accepted / (first POST sent -> last 202 received). */
    acceptedPerSec: number | null;
    /** Completed / (first POST sent -> last completion). */
    completedPerSec: number | null;
    intakeSeconds: number | null;
    endToEndSeconds: number | null;
    /** How the end-to-end window was measured. */
    endToEndWindow: string;
  };
  latencyMs: { post: Summary; acceptToCompleted: Summary; processing: Summary };
  /** Peak memory of the api and worker processes; null with --url. */
  memory: { name: string; peakRssMb: number | null; highWaterMarkMb: number | null }[] | null;
  chunks: { total: number; expectedPerDocument: number; mismatched: number; rowsCounted: boolean };
  timedOut: boolean;
  verdict: { pass: boolean; tier: Tier | null; problems: string[] };
}

export interface AnalysisInput {
  settings: BenchSettings;
  server: string | null;
  figuresFrom: string;
  load: LoadResult;
  outcomes: readonly DocumentOutcome[];
  memory: readonly MemoryPeak[] | null;
  timedOut: boolean;
}

const MB = 1024 ** 2;
const toMb = (bytes: number | null) => (bytes === null ? null : bytes / MB);
const nsToSeconds = (from: bigint | undefined, to: bigint | undefined) =>
  from === undefined || to === undefined ? null : Number(to - from) / 1e9;

function maxOf(values: readonly number[]): number | null {
  return values.length === 0 ? null : values.reduce((a, b) => Math.max(a, b));
}

/** The tier whose throughput floor and P95 limit the run meets, if any. */
function tierMet(completedPerSec: number | null, p95Ms: number | null): Tier | null {
  if (completedPerSec === null || p95Ms === null) return null;
  if (completedPerSec >= TARGETS.highVolumeThroughputPerSec && p95Ms < TARGETS.highVolumeP95Ms) {
    return 'high volume';
  }
  if (completedPerSec >= TARGETS.throughputPerSec && p95Ms < TARGETS.p95Ms) return 'standard';
  return null;
}

/** Turns raw measurements into the figures the report prints, and judges them against TARGETS. */
export function analyze(input: AnalysisInput): BenchResult {
  const { settings, load, outcomes } = input;
  const completed = outcomes.filter((outcome) => outcome.status === 'completed');
  const failed = outcomes.filter((outcome) => outcome.status === 'failed');
  const errors = errorCount(load);
  const lost = load.accepted.length - completed.length - failed.length;
  const errorRate = load.posted > 0 ? (errors + failed.length) / load.posted : null;

  const intakeSeconds = nsToSeconds(load.firstPostAtNs, load.lastAcceptAtNs);
  const lastCompletionMs = maxOf(completed.flatMap((outcome) => outcome.completedAtMs ?? []));
  // Locally the server clock is ours, so the window can start at the first POST; a remote server's
  // clock may be skewed from ours, so there it starts at the server's first accept.
  const windowStartMs = settings.local
    ? (load.firstPostWallMs ?? null)
    : (outcomes
        .flatMap((outcome) => outcome.acceptedAtMs ?? [])
        .reduce<number | null>((a, b) => (a === null ? b : Math.min(a, b)), null) ?? null);
  const endToEndSeconds =
    lastCompletionMs !== null && windowStartMs !== null ? (lastCompletionMs - windowStartMs) / 1000 : null;

  const acceptToCompleted = summarize(completed.flatMap((outcome) => outcome.acceptToCompletedMs ?? []));
  const completedPerSec = endToEndSeconds === null ? null : ratePerSecond(completed.length, endToEndSeconds);

  const expectedPerDocument = expectedChunkCount(settings.words, settings.chunkSize, settings.chunkOverlap);
  const rowsCounted = completed.some((outcome) => outcome.chunkRows !== null);
  const mismatched = completed.filter(
    (outcome) =>
      outcome.chunkCount !== expectedPerDocument ||
      (outcome.chunkRows !== null && outcome.chunkRows !== expectedPerDocument),
  ).length;
  const chunksTotal = completed.reduce(
    (sum, outcome) => sum + (outcome.chunkRows ?? outcome.chunkCount ?? 0),
    0,
  );

  const memory =
    input.memory?.map((peak) => ({
      name: peak.name,
      peakRssMb: toMb(peak.peakRssBytes),
      highWaterMarkMb: toMb(peak.highWaterMarkBytes),
    })) ?? null;

  const tier = tierMet(completedPerSec, acceptToCompleted.p95);
  const problems: string[] = [];
  if (input.timedOut) problems.push(`not all documents finished within ${settings.timeoutMs / 1000} s`);
  if (lost > 0) problems.push(`${lost} accepted document(s) lost (neither completed nor failed)`);
  if (errors > 0) problems.push(`${errors} POST error(s)`);
  if (failed.length > 0) problems.push(`${failed.length} document(s) failed processing`);
  if (errorRate !== null && errorRate >= TARGETS.maxErrorRate) {
    problems.push(
      `error rate ${formatPercent(errorRate)} is not below ${formatPercent(TARGETS.maxErrorRate)}`,
    );
  }
  for (const peak of memory ?? []) {
    const mb = Math.max(peak.peakRssMb ?? 0, peak.highWaterMarkMb ?? 0);
    if (mb * MB >= TARGETS.maxMemoryBytes) problems.push(`${peak.name} used ${formatMb(mb)}, not below 2 GB`);
  }
  if (mismatched > 0)
    problems.push(`${mismatched} completed document(s) without ${expectedPerDocument} chunks`);
  if (tier === null) {
    problems.push(
      `throughput/latency meet neither tier: ${formatRate(completedPerSec)} completed with p95 ` +
        `${formatMs(acceptToCompleted.p95)} (standard: >= ${formatRate(TARGETS.throughputPerSec)} and ` +
        `< ${formatMs(TARGETS.p95Ms)}; high volume: >= ${formatRate(TARGETS.highVolumeThroughputPerSec)} ` +
        `and < ${formatMs(TARGETS.highVolumeP95Ms)})`,
    );
  }

  return {
    startedAt: new Date().toISOString(),
    machine: {
      cores: os.cpus().length,
      memoryGb: os.totalmem() / 1024 ** 3,
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
    },
    settings,
    server: input.server,
    figuresFrom: input.figuresFrom,
    counts: {
      posted: load.posted,
      accepted: load.accepted.length,
      errors,
      completed: completed.length,
      failed: failed.length,
      lost,
    },
    errorRate,
    errorKinds: [...load.errors].map(([kind, { count, sample }]) => ({ kind, count, sample })),
    failureSamples: [...new Set(failed.flatMap((outcome) => outcome.error ?? []))].slice(0, 5),
    throughput: {
      acceptedPerSec: intakeSeconds === null ? null : ratePerSecond(load.accepted.length, intakeSeconds),
      completedPerSec,
      intakeSeconds,
      endToEndSeconds,
      endToEndWindow: settings.local
        ? 'first POST sent -> last completed_at'
        : "server's first accept -> last completion (server clock)",
    },
    latencyMs: {
      post: summarize(load.postLatenciesMs),
      acceptToCompleted,
      processing: summarize(completed.flatMap((outcome) => outcome.processingMs ?? [])),
    },
    memory,
    chunks: { total: chunksTotal, expectedPerDocument, mismatched, rowsCounted },
    timedOut: input.timedOut,
    verdict: { pass: problems.length === 0, tier, problems },
  };
}

function formatNumber(value: number, digits = 0): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function formatRate(perSec: number | null): string {
  return perSec === null ? 'n/a' : `${formatNumber(perSec, perSec < 10 ? 2 : 1)} docs/s`;
}

function formatMs(ms: number | null): string {
  if (ms === null) return 'n/a';
  return ms >= 10_000 ? `${formatNumber(ms / 1000, 1)} s` : `${formatNumber(ms, ms < 100 ? 1 : 0)} ms`;
}

function formatMb(mb: number | null): string {
  return mb === null ? 'n/a' : `${formatNumber(mb, 1)} MB`;
}

function formatPercent(ratio: number | null): string {
  return ratio === null ? 'n/a' : `${formatNumber(ratio * 100, 2)} %`;
}

function formatPercentiles(summary: Summary): string {
  if (summary.count === 0) return 'n/a';
  const value = (ms: number | null) => (ms === null ? 'n/a' : formatNumber(ms, ms < 100 ? 1 : 0));
  return `${value(summary.p50)} / ${value(summary.p95)} / ${value(summary.p99)} ms`;
}

/** 'ok' or 'FAIL'; an empty result marks a figure shown for information only. */
const judge = (ok: boolean) => (ok ? 'ok' : 'FAIL');

function throughputResult(perSec: number | null): string {
  if (perSec === null) return 'FAIL';
  if (perSec >= TARGETS.highVolumeThroughputPerSec) return 'ok, high volume';
  return judge(perSec >= TARGETS.throughputPerSec);
}

function p95Result(p95: number | null, tier: Tier | null): string {
  if (p95 === null) return 'FAIL';
  if (p95 < TARGETS.p95Ms) return 'ok';
  return tier === 'high volume' ? 'ok at high volume' : 'FAIL';
}

type Row = [metric: string, value: string, target: string, result: string];

function rows(result: BenchResult): Row[] {
  const { settings, counts, throughput, latencyMs, chunks, verdict } = result;
  const throughputTarget = `>= ${formatRate(TARGETS.throughputPerSec)}; HV >= ${formatRate(TARGETS.highVolumeThroughputPerSec)}`;
  const table: Row[] = [
    ['documents', formatNumber(settings.documents), '', ''],
    ['concurrency (POSTs in flight)', formatNumber(settings.concurrency), '', ''],
    [
      'words/doc',
      `${formatNumber(settings.words)} (chunks ${settings.chunkSize}/${settings.chunkOverlap})`,
      '',
      '',
    ],
    [
      'worker concurrency',
      settings.workerConcurrency === null ? 'n/a (--url)' : String(settings.workerConcurrency),
      '',
      '',
    ],
    [
      'accepted docs/s',
      `${formatRate(throughput.acceptedPerSec)} in ${formatNumber(throughput.intakeSeconds ?? 0, 1)} s`,
      throughputTarget,
      throughputResult(throughput.acceptedPerSec),
    ],
    [
      'completed docs/s (end to end)',
      `${formatRate(throughput.completedPerSec)} in ${formatNumber(throughput.endToEndSeconds ?? 0, 1)} s`,
      throughputTarget,
      throughputResult(throughput.completedPerSec),
    ],
    ['POST latency p50/p95/p99', formatPercentiles(latencyMs.post), '', ''],
    [
      'accept->completed p50/p95/p99',
      formatPercentiles(latencyMs.acceptToCompleted),
      `p95 < ${TARGETS.p95Ms / 1000} s; HV < ${TARGETS.highVolumeP95Ms / 1000} s`,
      p95Result(latencyMs.acceptToCompleted.p95, verdict.tier),
    ],
    ['  of which processing (no queue)', formatPercentiles(latencyMs.processing), '', 'info'],
  ];
  if (result.memory === null) {
    table.push(['peak RSS api / worker', 'n/a (--url: not our processes)', '< 2,048 MB', 'not checked']);
  } else {
    for (const peak of result.memory) {
      const worst = Math.max(peak.peakRssMb ?? 0, peak.highWaterMarkMb ?? 0);
      table.push([
        `peak RSS ${peak.name}`,
        `${formatMb(peak.peakRssMb)} (VmHWM ${formatMb(peak.highWaterMarkMb)})`,
        '< 2,048 MB',
        judge(peak.peakRssMb !== null && worst * MB < TARGETS.maxMemoryBytes),
      ]);
    }
  }
  table.push(
    ['errors (POST not 202)', formatNumber(counts.errors), '', ''],
    ['failed (processing)', formatNumber(counts.failed), '', ''],
    [
      'error rate',
      formatPercent(result.errorRate),
      `< ${formatPercent(TARGETS.maxErrorRate)}`,
      judge(result.errorRate !== null && result.errorRate < TARGETS.maxErrorRate),
    ],
    ['lost (accepted, never finished)', formatNumber(counts.lost), '0', judge(counts.lost === 0)],
    [
      `chunks total${chunks.rowsCounted ? ' (rows)' : ' (chunkCount)'}`,
      formatNumber(chunks.total),
      formatNumber(chunks.expectedPerDocument * counts.completed),
      judge(chunks.total === chunks.expectedPerDocument * counts.completed),
    ],
    [
      'chunks per doc check',
      `${formatNumber(counts.completed - chunks.mismatched)}/${formatNumber(counts.completed)} docs have ${chunks.expectedPerDocument}`,
      'all',
      judge(chunks.mismatched === 0),
    ],
  );
  return table;
}

function formatTable(header: Row, body: readonly Row[]): string {
  const widths = header.map((_, column) =>
    Math.max(...[header, ...body].map((row) => row[column]?.length ?? 0)),
  );
  const line = (row: Row) =>
    row
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((width) => '-'.repeat(width)) as Row), ...body.map(line)].join('\n');
}

/** The human-readable report: setup, the figures beside their targets, and the verdict. */
export function formatReport(result: BenchResult): string {
  const { machine, settings } = result;
  const lines = [
    '',
    'ingestd benchmark',
    `machine   ${machine.cores} cores, ${formatNumber(machine.memoryGb, 1)} GB RAM, node ${machine.node} (${machine.platform})`,
    settings.local
      ? `target    private stack started by this run: ${result.server ?? 'postgres, redis'}; ` +
        `1 api + 1 worker process (${settings.workerConcurrency} jobs at once)`
      : `target    ${settings.url} (--url: an ingestd already running; its process RSS and database ` +
        'cannot be read, so memory is not checked and chunk rows are not counted)',
    `figures   outcomes and accept->completed from ${result.figuresFrom}; ` +
      `end to end = ${result.throughput.endToEndWindow}`,
    '',
    formatTable(['metric', 'value', 'target (design guide)', 'result'], rows(result)),
    '',
    'HV = high volume column of the guide (1000+ docs/min, P95 < 10 s). POST latency is of 202 answers only;',
    'accept->completed includes the time a document waits in the queue behind the documents posted before it.',
  ];
  for (const { kind, count, sample } of result.errorKinds) {
    lines.push(`error     ${count} x ${kind}: ${sample}`);
  }
  for (const sample of result.failureSamples) lines.push(`failure   ${sample}`);
  const { verdict } = result;
  lines.push(
    '',
    verdict.pass
      ? `VERDICT: PASS (meets the ${verdict.tier} targets: throughput, P95, error rate < 1 %${
          result.memory ? ', memory < 2 GB, nothing lost)' : ', nothing lost; memory not checked with --url)'
        }`
      : `VERDICT: FAIL (${verdict.problems.join('; ')})`,
  );
  return lines.join('\n');
}
