/**
 * The scenarios that drive the whole system: single, batch, mixed-formats and sustained. Each posts
 * documents, waits until every accepted one is completed or failed, and measures intake and
 * end-to-end throughput, latency, memory and CPU per component over that window.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { DatabaseTracker, waitForCompletion } from './completion.js';
import { CpuMeter } from './cpu.js';
import { type DiskLatency, DiskProbe } from './disk-probe.js';
import { analyze, type EndToEndMeasurement, type EndToEndSettings } from './end-to-end-report.js';
import { loadFixtures } from './fixtures.js';
import {
  type BenchRequest,
  errorCount,
  type LoadResult,
  prebuilt,
  runClosedLoop,
  runOpenLoopLoad,
} from './load.js';
import {
  batchRequest,
  largeTextUpload,
  type RequestContext,
  singleDocumentRequest,
  uploadRequest,
} from './requests.js';
import { RssSampler } from './rss.js';
import type { Target } from './target.js';

export { type EndToEndScenario, type EndToEndSettings, endToEndScenarios } from './end-to-end-report.js';

const DATABASE_POLL_MS = 250;
const API_POLL_MS = 1_000;
const PROGRESS_EVERY_MS = 5_000;

/** Prints a progress line to stderr at most every PROGRESS_EVERY_MS, keeping stdout for the report. */
function throttledProgress(): (line: string) => void {
  let last = 0;
  return (line) => {
    if (Date.now() - last < PROGRESS_EVERY_MS) return;
    last = Date.now();
    process.stderr.write(`bench: ${line}\n`);
  };
}

/** What a scenario sends: how many requests, each made how, and the format of each document. */
interface Workload {
  requests: number;
  make: (index: number) => BenchRequest;
  /** The format of the document request `index` carries, for mixed formats. */
  formatOf?: (index: number) => string;
}

function workloadFor(settings: EndToEndSettings, context: RequestContext): Workload {
  switch (settings.scenario) {
    case 'single':
    case 'sustained':
      return { requests: settings.docs, make: (index) => singleDocumentRequest(context, index) };
    case 'batch': {
      const requests = Math.ceil(settings.docs / settings.batchSize);
      return {
        requests,
        make: (index) =>
          batchRequest(
            context,
            index,
            Math.min(settings.batchSize, settings.docs - index * settings.batchSize),
          ),
      };
    }
    case 'memory':
      return {
        requests: 2,
        make: (index) =>
          index === 0
            ? largeTextUpload(context, settings.bigDocumentMb ?? 50)
            : batchRequest(context, 0, settings.batchSize),
      };
    case 'mixed-formats': {
      const fixtures = loadFixtures();
      const fixture = (index: number) => fixtures[index % fixtures.length] as (typeof fixtures)[number];
      return {
        requests: settings.docs,
        make: (index) => uploadRequest(context, index, fixture(index)),
        formatOf: (index) => fixture(index).format,
      };
    }
  }
}

/** What the disk probe measured; a probe that failed costs its row, not the run. */
async function diskLatencyOf(disk: DiskProbe): Promise<DiskLatency | null> {
  try {
    return await disk.finish();
  } catch (error) {
    process.stderr.write(`bench: the disk probe in ${disk.directory} failed (${(error as Error).message})\n`);
    return null;
  }
}

/** Runs one end-to-end scenario against `target` and returns what it measured. */
export async function runEndToEnd(
  target: Target,
  settings: EndToEndSettings,
  signal: AbortSignal,
): Promise<EndToEndMeasurement> {
  const runId = randomBytes(4).toString('hex');
  const context: RequestContext = {
    prefix: target.prefix,
    headers: target.headers,
    runId,
    words: settings.words,
    chunking: { strategy: 'words', size: settings.chunkSize, overlap: settings.chunkOverlap },
  };
  const progress = throttledProgress();
  const pollMs = target.kind === 'url' ? API_POLL_MS : DATABASE_POLL_MS;

  if (settings.warmupDocs > 0) {
    process.stderr.write(`bench: warm-up: ${settings.warmupDocs} documents, not counted\n`);
    const warmContext = { ...context, runId: `${runId}-warm` };
    const sinceMs = Date.now();
    const warm = await runClosedLoop({
      http: target.http,
      requests: settings.warmupDocs,
      concurrency: Math.min(settings.concurrency, 20),
      make: (index) => singleDocumentRequest(warmContext, index),
      signal,
    });
    signal.throwIfAborted();
    const warmErrors = errorCount(warm);
    if (warmErrors > 0) {
      const [kind, { sample }] = [...warm.errors][0] ?? ['?', { sample: '' }];
      throw new Error(
        `warm-up: ${warmErrors} of ${settings.warmupDocs} documents refused (${kind}: ${sample})`,
      );
    }
    // With the workers held back, the warm-up documents wait in the queue for them too.
    if (!settings.holdWorkers) {
      await waitForCompletion(
        target.tracker,
        warm.accepted.map((document) => document.id),
        { sinceMs, timeoutMs: settings.timeoutMs, pollMs, signal },
      );
    }
  }

  const workload = workloadFor(settings, context);
  workload.make = prebuilt(workload.requests, workload.make);
  const processes = target.processes();
  const sampler = processes.length > 0 ? new RssSampler(processes) : undefined;
  const meter = target.kind === 'url' ? undefined : new CpuMeter(target.cpuComponents());
  const open = settings.scenario === 'sustained' && settings.rate !== null;
  process.stderr.write(
    open
      ? `bench: ${settings.scenario}: offering ${settings.rate} documents/s for ${settings.durationSeconds} s ` +
          `(open loop, up to ${settings.concurrency} connections) to ${target.url}\n`
      : `bench: ${settings.scenario}: ${settings.docs} documents in ${workload.requests} requests, ` +
          `${settings.concurrency} in flight, to ${target.url}\n`,
  );

  // WAL is read where the CPU is: over the measured window, from the tracker's own connection.
  const database = target.tracker instanceof DatabaseTracker ? target.tracker : undefined;
  const walStart = await database?.walPosition();
  const walSince = () =>
    database && walStart !== undefined ? database.walBytesSince(walStart) : Promise.resolve(null);
  // Beside the data directory (which is Postgres'): on the WAL's disk unless pg_wal is elsewhere.
  const dataDirectory = (await database?.dataDirectory()) ?? null;
  const disk = dataDirectory === null ? undefined : new DiskProbe(path.dirname(dataDirectory));
  const sinceMs = Date.now();
  sampler?.start();
  meter?.start();
  const onProgress = (posted: number) => progress(`posted ${posted}/${settings.docs}`);
  let load: LoadResult;
  try {
    load = open
      ? await runOpenLoopLoad({
          http: target.http,
          requests: workload.requests,
          ratePerSec: settings.rate as number,
          connections: settings.concurrency,
          make: workload.make,
          signal,
          onProgress,
        })
      : await runClosedLoop({
          http: target.http,
          requests: workload.requests,
          concurrency: settings.concurrency,
          make: workload.make,
          signal,
          onProgress,
        });
    signal.throwIfAborted();
  } finally {
    disk?.stop(); // a run that fails here leaves no probe writing beside the next one
  }
  process.stderr.write(
    `bench: ${load.accepted.length} accepted, ${errorCount(load)} not; waiting for processing...\n`,
  );

  const diskLatency = disk ? await diskLatencyOf(disk) : null;
  // Held back, the workers are not among the measured processes: the CPU figures are the intake's.
  const intakeCpu = settings.holdWorkers ? meter?.stop() : undefined;
  const intakeWal = settings.holdWorkers ? await walSince() : undefined;
  if (settings.holdWorkers) await target.startWorkers();
  const ids = load.accepted.map((document) => document.id);
  const waited = await waitForCompletion(target.tracker, ids, {
    sinceMs,
    timeoutMs: settings.timeoutMs,
    pollMs,
    signal,
    onProgress: ({ completed, failed }) =>
      progress(`completed ${completed}, failed ${failed} of ${ids.length}`),
  });
  const cpu = intakeCpu ?? meter?.stop() ?? null;
  const walBytes = intakeWal ?? (await walSince());
  const memory = sampler?.stop() ?? null;
  const outcomes = await target.tracker.outcomes(ids);

  let formatsById: Map<string, string> | undefined;
  // Mixed formats: request i carried one document, of fixture i's format.
  if (workload.formatOf) {
    const formatOf = workload.formatOf;
    formatsById = new Map(load.accepted.map((document) => [document.id, formatOf(document.request)]));
  }
  return analyze({
    settings,
    local: target.kind !== 'url',
    load,
    outcomes,
    memory,
    roles: new Map(processes.map((process) => [process.pid, process.role])),
    cpu,
    walBytes,
    disk: diskLatency,
    timedOut: waited.timedOut,
    formatsById,
  });
}
