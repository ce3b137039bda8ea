/**
 * The `reference` scenario: the single-document load against ingestd and against the least-work
 * server of reference-server.ts, in the same run, on the same Postgres, and the ratio of their
 * accept rates. Both intakes are measured with the machine to themselves: ingestd's workers start
 * only after both have been measured (then every accepted document is waited for, so nothing lost
 * goes unnoticed).
 *
 * The machine's speed drifts by tens of percent over seconds (neighbours on the host, a disk
 * flush that stalls every commit behind it), so the servers take turns in several short cycles,
 * each run reference, ingestd, ingestd, reference: a drift within a cycle weighs on both alike,
 * and the ratio is the median of the cycles' ratios, so one cycle caught by a stall does not
 * decide it. Every cycle's ratio is reported, and the ratio of the pooled rates beside it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Pool as HttpPool } from 'undici';
import { stopChild } from '../src/stack/child-process.js';
import type { Cleanup } from './cleanup.js';
import { waitForCompletion } from './completion.js';
import { CpuMeter, processComponent } from './cpu.js';
import { formatFigure, formatNumber, formatPercentiles, formatRate, formatRatio } from './format.js';
import { errorCount, type LoadResult, prebuilt, runClosedLoop } from './load.js';
import { REFERENCE_TABLE } from './reference-server.js';
import { type RequestContext, singleDocumentRequest } from './requests.js';
import { type Summary, summarize } from './stats.js';
import type { Target } from './target.js';
import { check, GUIDE, ISSUE7, type Row } from './targets.js';

/** Cycles the servers take turns in (see the top of this file). */
export const REFERENCE_CYCLES = 4;

export interface ReferenceSettings {
  /** Documents sent to each server, split evenly over its rounds (two a cycle). */
  docs: number;
  /** Cycles of four rounds: reference, ingestd, ingestd, reference. */
  cycles: number;
  concurrency: number;
  words: number;
  chunkSize: number;
  chunkOverlap: number;
  /** Documents sent to each server before the measured rounds. */
  warmupDocs: number;
  timeoutMs: number;
}

/** One server's intake over its rounds. */
export interface IntakeSide {
  server: 'reference' | 'ingestd';
  posted: number;
  accepted: number;
  errors: number;
  acceptedPerSec: number | null;
  intakeSeconds: number;
  postMs: Summary;
  /** CPU ms per accepted document during its rounds, per component. */
  cpuMsPerDoc: Record<string, number | null>;
  loadGeneratorMsPerDoc: number | null;
}

export interface ReferenceMeasurement {
  scenario: 'reference';
  settings: ReferenceSettings;
  reference: IntakeSide;
  ingestd: IntakeSide;
  /** The median of cycleRatios: the scenario's figure. */
  ratio: number | null;
  /** Each cycle's ingestd accept rate / the reference's, in the order run. */
  cycleRatios: (number | null)[];
  /** ingestd's accept rate over all its rounds / the reference's over all of its. */
  pooledRatio: number | null;
  /** Documents the reference accepted, warm-up included, and the rows it committed for them. */
  referenceAcceptedTotal: number;
  referenceRowsStored: number;
  /** After the workers started: how ingestd's accepted documents ended. */
  ingestdOutcome: { completed: number; failed: number; lost: number; timedOut: boolean };
  errorKinds: { server: string; kind: string; count: number; sample: string }[];
}

const referenceServerPath = fileURLToPath(new URL('./reference-server.js', import.meta.url));

/** Starts reference-server.js on a free port against `databaseUrl`; resolves with its URL. */
async function startReferenceServer(
  databaseUrl: string,
  cleanup: Cleanup,
  onUnexpectedExit: (reason: string) => void,
): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [referenceServerPath], {
    env: { ...process.env, DATABASE_URL: databaseUrl, PORT: '0', HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let stopping = false;
  cleanup.add('stop reference server', () => {
    stopping = true;
    return stopChild(child, 'SIGTERM', 5_000);
  });
  createInterface({ input: child.stderr }).on('line', (line) =>
    process.stderr.write(`[reference] ${line}\n`),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error('the reference server did not start within 15 s')),
      15_000,
    );
    createInterface({ input: child.stdout }).on('line', (line) => {
      const match = /^listening on (\S+)/.exec(line);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the reference server exited with ${code} before listening`));
    });
  });
  child.once('exit', (code, signal) => {
    if (!stopping) onUnexpectedExit(`the reference server exited (code ${code}, signal ${signal})`);
  });
  return { url, child };
}

interface Round {
  load: LoadResult;
  cpuMs: Record<string, number>;
  loadGeneratorMs: number;
}

function combine(server: IntakeSide['server'], rounds: readonly Round[]): IntakeSide {
  const accepted = rounds.reduce((sum, round) => sum + round.load.accepted.length, 0);
  const intakeSeconds = rounds.reduce((sum, round) => {
    const { firstPostAtNs, lastAcceptAtNs } = round.load;
    return (
      sum +
      (firstPostAtNs !== undefined && lastAcceptAtNs !== undefined
        ? Number(lastAcceptAtNs - firstPostAtNs) / 1e9
        : 0)
    );
  }, 0);
  const cpuMs: Record<string, number> = {};
  for (const round of rounds) {
    for (const [component, ms] of Object.entries(round.cpuMs))
      cpuMs[component] = (cpuMs[component] ?? 0) + ms;
  }
  const perDoc = (ms: number) => (accepted > 0 ? ms / accepted : null);
  return {
    server,
    posted: rounds.reduce((sum, round) => sum + round.load.posted, 0),
    accepted,
    errors: rounds.reduce((sum, round) => sum + errorCount(round.load), 0),
    acceptedPerSec: intakeSeconds > 0 ? accepted / intakeSeconds : null,
    intakeSeconds,
    postMs: summarize(rounds.flatMap((round) => round.load.postLatenciesMs)),
    cpuMsPerDoc: Object.fromEntries(Object.entries(cpuMs).map(([component, ms]) => [component, perDoc(ms)])),
    loadGeneratorMsPerDoc: perDoc(rounds.reduce((sum, round) => sum + round.loadGeneratorMs, 0)),
  };
}

/** ingestd's accept rate / the reference's, or null if either is unknown. */
function rateRatio(ingestd: IntakeSide, reference: IntakeSide): number | null {
  return ingestd.acceptedPerSec !== null && reference.acceptedPerSec
    ? ingestd.acceptedPerSec / reference.acceptedPerSec
    : null;
}

/** `total` split into `parts` sizes that differ by at most one, the larger first. */
export function splitEvenly(total: number, parts: number): number[] {
  return Array.from(
    { length: parts },
    (_, index) => Math.floor(total / parts) + (index < total % parts ? 1 : 0),
  );
}

/** The median of the known values (the mean of the middle two for an even count), or null. */
export function median(values: readonly (number | null)[]): number | null {
  const known = values.filter((value): value is number => value !== null).sort((a, b) => a - b);
  if (known.length === 0) return null;
  const middle = Math.floor(known.length / 2);
  return known.length % 2 === 1
    ? (known[middle] as number)
    : ((known[middle - 1] as number) + (known[middle] as number)) / 2;
}

/** Runs the scenario against an `up` target started with its workers held back. */
export async function runReference(
  target: Target,
  settings: ReferenceSettings,
  cleanup: Cleanup,
  signal: AbortSignal,
  onUnexpectedExit: (reason: string) => void,
): Promise<ReferenceMeasurement> {
  if (!target.databaseUrl) throw new Error('the reference scenario needs a stack of its own (not --url)');
  const reference = await startReferenceServer(target.databaseUrl, cleanup, onUnexpectedExit);
  const referencePid = reference.child.pid;
  if (referencePid === undefined) throw new Error('the reference server has no pid');
  const referenceHttp = new HttpPool(reference.url, {
    connections: settings.concurrency,
    keepAliveTimeout: 30_000,
  });
  cleanup.add('close reference http pool', () => referenceHttp.close());

  const runId = randomBytes(4).toString('hex');
  const shared = {
    prefix: '',
    words: settings.words,
    chunking: { strategy: 'words' as const, size: settings.chunkSize, overlap: settings.chunkOverlap },
  };
  const servers = {
    reference: {
      http: referenceHttp,
      context: { ...shared, headers: {}, runId: `${runId}-ref` } satisfies RequestContext,
      // The postgres and redis components are the same servers ingestd uses.
      components: () => [
        processComponent('reference', () => [referencePid]),
        ...target
          .cpuComponents()
          .filter((component) => component.name === 'postgres' || component.name === 'redis'),
      ],
    },
    ingestd: {
      http: target.http,
      context: { ...shared, prefix: target.prefix, headers: target.headers, runId } satisfies RequestContext,
      components: () => target.cpuComponents(),
    },
  };
  let nextIndex = { reference: 0, ingestd: 0 };
  const send = async (server: keyof typeof servers, documents: number, measure: boolean): Promise<Round> => {
    const { http, context, components } = servers[server];
    const first = nextIndex[server];
    nextIndex = { ...nextIndex, [server]: first + documents };
    const make = prebuilt(documents, (index) => singleDocumentRequest(context, first + index));
    const meter = measure ? new CpuMeter(components()) : undefined;
    meter?.start();
    const load = await runClosedLoop({
      http,
      requests: documents,
      concurrency: settings.concurrency,
      make,
      signal,
    });
    signal.throwIfAborted();
    const cpu = meter?.stop();
    return { load, cpuMs: cpu?.components ?? {}, loadGeneratorMs: cpu?.loadGeneratorMs ?? 0 };
  };

  const sinceMs = Date.now();
  const ingestdIds: string[] = [];
  const referenceIds: string[] = [];
  const keep = (server: keyof typeof servers, round: Round) => {
    for (const document of round.load.accepted)
      (server === 'ingestd' ? ingestdIds : referenceIds).push(document.id);
    return round;
  };
  if (settings.warmupDocs > 0) {
    process.stderr.write(`bench: warm-up: ${settings.warmupDocs} documents to each server, not counted\n`);
    keep('reference', await send('reference', settings.warmupDocs, false));
    keep('ingestd', await send('ingestd', settings.warmupDocs, false));
  }
  const roundSizes = splitEvenly(settings.docs, 2 * settings.cycles);
  const rounds: { cycle: number; server: keyof typeof servers; round: Round }[] = [];
  const roundsSent = { reference: 0, ingestd: 0 };
  for (let cycle = 0; cycle < settings.cycles; cycle++) {
    for (const server of ['reference', 'ingestd', 'ingestd', 'reference'] as const) {
      const documents = roundSizes[roundsSent[server]++] ?? 0;
      if (documents === 0) continue;
      process.stderr.write(
        `bench: cycle ${cycle + 1} of ${settings.cycles}: ${server}, ${documents} documents, ${settings.concurrency} in flight\n`,
      );
      rounds.push({ cycle, server, round: keep(server, await send(server, documents, true)) });
    }
  }
  const sideOf = (server: keyof typeof servers, cycle?: number) =>
    combine(
      server,
      rounds
        .filter((done) => done.server === server && (cycle === undefined || done.cycle === cycle))
        .map((done) => done.round),
    );
  const referenceSide = sideOf('reference');
  const ingestdSide = sideOf('ingestd');
  const cycleRatios = Array.from({ length: settings.cycles }, (_, cycle) =>
    rateRatio(sideOf('ingestd', cycle), sideOf('reference', cycle)),
  );

  process.stderr.write(`bench: starting ingestd's workers; waiting for ${ingestdIds.length} documents...\n`);
  await target.startWorkers();
  const waited = await waitForCompletion(target.tracker, ingestdIds, {
    sinceMs,
    timeoutMs: settings.timeoutMs,
    pollMs: 250,
    signal,
  });
  const outcomes = await target.tracker.outcomes(ingestdIds);
  const completed = outcomes.filter((outcome) => outcome.status === 'completed').length;
  const failed = outcomes.filter((outcome) => outcome.status === 'failed').length;

  const db = new pg.Client({ connectionString: target.databaseUrl, application_name: 'ingestd-bench' });
  await db.connect();
  let referenceRowsStored: number;
  try {
    const { rows } = await db.query<{ stored: number }>(
      `SELECT count(*)::int AS stored FROM ${REFERENCE_TABLE} WHERE id = ANY($1::uuid[])`,
      [referenceIds],
    );
    referenceRowsStored = rows[0]?.stored ?? 0;
  } finally {
    await db.end();
  }

  return {
    scenario: 'reference',
    settings,
    reference: referenceSide,
    ingestd: ingestdSide,
    ratio: median(cycleRatios),
    cycleRatios,
    pooledRatio: rateRatio(ingestdSide, referenceSide),
    referenceAcceptedTotal: referenceIds.length,
    referenceRowsStored,
    ingestdOutcome: {
      completed,
      failed,
      lost: ingestdIds.length - completed - failed,
      timedOut: waited.timedOut,
    },
    errorKinds: rounds.flatMap(({ server, round }) =>
      [...round.load.errors].map(([kind, { count, sample }]) => ({ server, kind, count, sample })),
    ),
  };
}

function formatCpuPerDoc(side: IntakeSide): string {
  const parts = Object.entries(side.cpuMsPerDoc).map(([component, ms]) => `${component} ${formatFigure(ms)}`);
  return `${parts.join(', ')}; load generator ${formatFigure(side.loadGeneratorMsPerDoc)}`;
}

export function referenceProblems(result: ReferenceMeasurement): string[] {
  const problems: string[] = [];
  const { ingestdOutcome, reference, ingestd } = result;
  if (reference.errors + ingestd.errors > 0) {
    problems.push(`${reference.errors} reference and ${ingestd.errors} ingestd document(s) not accepted`);
  }
  if (ingestdOutcome.timedOut)
    problems.push(`not all documents finished within ${result.settings.timeoutMs / 1000} s`);
  if (ingestdOutcome.lost > 0) problems.push(`${ingestdOutcome.lost} accepted ingestd document(s) lost`);
  if (ingestdOutcome.failed > 0)
    problems.push(`${ingestdOutcome.failed} ingestd document(s) failed processing`);
  return problems;
}

export function referenceRows(result: ReferenceMeasurement): Row[] {
  const { reference, ingestd, settings } = result;
  return [
    {
      figure: 'documents',
      measured:
        `${formatNumber(settings.docs)} per server of ${formatNumber(settings.words)} words, ${settings.concurrency} in flight; ` +
        `${settings.cycles} cycles of rounds reference, ingestd, ingestd, reference; ingestd workers started after`,
    },
    {
      figure: 'reference accepted docs/s',
      measured: `${formatRate(reference.acceptedPerSec)} in ${formatFigure(reference.intakeSeconds)} s`,
    },
    {
      figure: 'ingestd accepted docs/s',
      measured: `${formatRate(ingestd.acceptedPerSec)} in ${formatFigure(ingestd.intakeSeconds)} s`,
      guide: check(
        'design guide',
        `>= ${formatRate(GUIDE.throughputPerSec)} (100/min)`,
        ingestd.acceptedPerSec !== null && ingestd.acceptedPerSec >= GUIDE.throughputPerSec,
      ),
    },
    {
      figure: 'ingestd / reference, each cycle',
      measured: `${result.cycleRatios.map(formatRatio).join(', ')}; pooled rates ${formatRatio(result.pooledRatio)}`,
      context: true,
    },
    {
      figure: 'ingestd / reference (median cycle)',
      measured: formatRatio(result.ratio),
      issue: check(
        'issue 7',
        `>= ${formatRatio(ISSUE7.referenceRatio)}`,
        result.ratio === null ? false : result.ratio >= ISSUE7.referenceRatio,
      ),
    },
    { figure: 'POST p50/p95/p99 reference', measured: formatPercentiles(reference.postMs) },
    { figure: 'POST p50/p95/p99 ingestd', measured: formatPercentiles(ingestd.postMs) },
    { figure: 'CPU ms/doc, reference intake', measured: formatCpuPerDoc(reference) },
    { figure: 'CPU ms/doc, ingestd intake', measured: formatCpuPerDoc(ingestd) },
    {
      figure: 'reference rows durable',
      measured: `${formatNumber(result.referenceRowsStored)} of ${formatNumber(result.referenceAcceptedTotal)} accepted (warm-up included)`,
    },
    {
      figure: 'ingestd afterwards: completed / failed / lost',
      measured: `${formatNumber(result.ingestdOutcome.completed)} / ${formatNumber(result.ingestdOutcome.failed)} / ${formatNumber(result.ingestdOutcome.lost)}`,
      issue: check(
        'issue 7',
        '0 errors, 0 lost',
        ingestd.errors + result.ingestdOutcome.failed + result.ingestdOutcome.lost === 0,
      ),
    },
  ];
}
