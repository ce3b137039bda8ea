/**
 * `npm run bench -- <scenario> [options]`: the tool to size an ingestd deployment. See cli.ts for
 * the scenarios and options, and `npm run bench -- --help`. The report (stdout) shows each figure
 * beside the design guide's and issue 7's targets, marked met / not met, and a line of verdict;
 * progress goes to stderr; --json FILE writes the result. Exits 1 when a document was refused,
 * failed or lost (or a scenario could not run), 2 on bad options.
 */
import { setMaxListeners } from 'node:events';
import { writeFileSync } from 'node:fs';
import { configSchema } from '../src/config.js';
import { CHUNKERS_NOTES, type ChunkersMeasurement, chunkersRows, runChunkers } from './chunkers.js';
import { Cleanup } from './cleanup.js';
import { type BenchOptions, parseArguments } from './cli.js';
import { type CopyMeasurement, copyProblems, copyRows, runCopy } from './copy.js';
import { runEndToEnd } from './end-to-end.js';
import {
  correctnessProblems,
  type EndToEndMeasurement,
  endToEndRows,
  formatsTable,
  problemLines,
} from './end-to-end-report.js';
import { describeMachine, formatRows, type Machine, machineLine } from './format.js';
import {
  REFERENCE_CYCLES,
  type ReferenceMeasurement,
  referenceProblems,
  referenceRows,
  runReference,
} from './reference.js';
import { COULD_NOT_RUN, suiteSteps, suiteTable } from './suite.js';
import { openTarget, type Target } from './target.js';
import { type Check, checksOf, GUIDE, ISSUE7, type Row, verdictLine } from './targets.js';

/** Settings ingestd reads that the bench sets itself for a stack it starts. */
const SET_BY_BENCH = new Set([
  'DATABASE_URL',
  'REDIS_URL',
  'HOST',
  'PORT',
  'LOG_LEVEL',
  'AUTH_REQUIRED',
  'WORKER_METRICS_PORT',
]);

/** ingestd settings inherited from this shell by the processes the bench starts: they shape the figures. */
function inheritedSettings(): Record<string, string> {
  return Object.fromEntries(
    Object.keys(configSchema.shape)
      .filter(
        (name) => !SET_BY_BENCH.has(name) && process.env[name] !== undefined && process.env[name] !== '',
      )
      .map((name) => [name, process.env[name] as string]),
  );
}

type Measurement = EndToEndMeasurement | ReferenceMeasurement | ChunkersMeasurement | CopyMeasurement;

/** What a scenario hands back to be printed and written. */
interface Outcome {
  measurement: Measurement;
  rows: Row[];
  /** Correctness problems: any one fails the run. */
  problems: string[];
  /** Lines after the table: per-format figures, error samples. */
  extra: string[];
  /** One line on what ran: the stack, or in-process. */
  target: string;
  /** Lines before the verdict: how to read the table. */
  notes: string[];
}

const END_TO_END_NOTES = [
  'HV = the guide\'s high-volume column (1,000+ docs/min, P95 < 10 s). "not judged": the run does not meet the',
  "target's condition (rate offered, duration, batch size); the figure is shown all the same.",
];

/**
 * The --json file: the fields issue 7 names at the top (null where the scenario does not measure
 * them), then everything the scenario measured, the checks and the verdict.
 */
function jsonResult(machine: Machine, startedAt: string, outcome: Outcome, verdict: string) {
  const { measurement } = outcome;
  const common = {
    acceptedPerSec: null as number | null,
    completedPerSec: null as number | null,
    postMs: null as { p50: number | null; p95: number | null; p99: number | null } | null,
    e2eMs: null as { p50: number | null; p95: number | null; p99: number | null } | null,
    peakRssMb: null as { api: number | null; worker: number | null } | null,
    errors: null as number | null,
    lost: null as number | null,
    cpuMsPerDoc: null as Record<string, number | null> | null,
  };
  if (measurement.scenario === 'reference') {
    common.acceptedPerSec = measurement.ingestd.acceptedPerSec;
    common.postMs = measurement.ingestd.postMs;
    common.errors = measurement.ingestd.errors;
    common.lost = measurement.ingestdOutcome.lost;
    common.cpuMsPerDoc = measurement.ingestd.cpuMsPerDoc;
  }
  const checks: Check[] = checksOf(outcome.rows);
  const { scenario, ...measured } = measurement;
  return {
    scenario,
    ...common,
    ...measured,
    startedAt,
    machine,
    target: outcome.target,
    inheritedSettings: inheritedSettings(),
    targets: { designGuide: GUIDE, issue7: ISSUE7 },
    checks,
    problems: outcome.problems,
    verdict,
  };
}

async function runScenario(
  options: BenchOptions,
  cleanup: Cleanup,
  abort: AbortController,
  onServices: (target: Target) => void,
): Promise<Outcome> {
  const onUnexpectedExit = (reason: string) => abort.abort(new Error(reason));
  const chunkSettings = {
    words: options.words,
    chunkSize: options.chunkSize,
    chunkOverlap: options.chunkOverlap,
  };
  switch (options.scenario) {
    case 'chunkers': {
      const measurement = await runChunkers(options.runs);
      return {
        measurement,
        rows: chunkersRows(measurement),
        problems: [],
        extra: [],
        target: 'in-process, this one thread',
        notes: CHUNKERS_NOTES,
      };
    }
    case 'copy': {
      const measurement = await runCopy(
        { docs: options.docs, concurrency: options.concurrency, ...chunkSettings },
        cleanup,
      );
      return {
        measurement,
        rows: copyRows(measurement),
        problems: copyProblems(measurement),
        extra: [],
        target: `private ${measurement.server}, written from this process`,
        notes: [],
      };
    }
    case 'extraction':
    case 'all':
      throw new Error(`${options.scenario} runs on its own (see main)`);
    default:
      break;
  }
  const { scenario } = options;
  process.stderr.write(
    options.target === 'url'
      ? `bench: connecting to ${options.url}...\n`
      : `bench: starting a private stack (${options.target})...\n`,
  );
  const target = await openTarget(
    {
      kind: options.target,
      url: options.url,
      apiKey: options.apiKey,
      apiNodes: options.apiNodes,
      workers: options.workers,
      workerConcurrency: options.workerConcurrency,
      connections: options.concurrency,
      deferWorkers: scenario === 'reference' || options.holdWorkers,
      onUnexpectedExit,
    },
    cleanup,
  );
  onServices(target);
  if (scenario === 'reference') {
    const measurement = await runReference(
      target,
      {
        docs: options.docs,
        cycles: REFERENCE_CYCLES,
        concurrency: options.concurrency,
        warmupDocs: options.warmupDocs,
        timeoutMs: options.timeoutMs,
        ...chunkSettings,
      },
      cleanup,
      abort.signal,
      onUnexpectedExit,
    );
    const extra = measurement.errorKinds.map(
      ({ server, kind, count, sample }) => `error     ${server}: ${count} x ${kind}: ${sample}`,
    );
    return {
      measurement,
      rows: referenceRows(measurement),
      problems: referenceProblems(measurement),
      extra,
      target: `${target.description}; reference server: bench/reference-server.ts on the same postgres`,
      notes: [],
    };
  }
  const measurement = await runEndToEnd(
    target,
    {
      scenario,
      docs: options.docs,
      concurrency: options.concurrency,
      rate: options.scenario === 'sustained' ? options.rate : null,
      durationSeconds: options.scenario === 'sustained' ? options.durationSeconds : null,
      batchSize: options.batchSize,
      bigDocumentMb: options.scenario === 'memory' ? options.bigDocumentMb : null,
      warmupDocs: options.warmupDocs,
      holdWorkers: options.holdWorkers,
      timeoutMs: options.timeoutMs,
      ...chunkSettings,
    },
    abort.signal,
  );
  const formats = formatsTable(measurement);
  return {
    measurement,
    rows: endToEndRows(measurement),
    problems: correctnessProblems(measurement),
    extra: [...(formats ? ['', formats] : []), ...problemLines(measurement)],
    target: `${target.description}; figures from ${target.tracker.source}, end to end = ${measurement.endToEndWindow}`,
    notes: END_TO_END_NOTES,
  };
}

function printReport(options: BenchOptions, machine: Machine, outcome: Outcome, verdict: string): void {
  const inherited = Object.entries(inheritedSettings());
  const lines = [
    '',
    `ingestd benchmark: ${options.scenario}`,
    machineLine(machine),
    `target    ${outcome.target}`,
  ];
  if (inherited.length > 0 && options.target !== 'url') {
    lines.push(
      `settings  from the environment: ${inherited.map(([name, value]) => `${name}=${value}`).join(' ')}`,
    );
  }
  lines.push(
    '',
    formatRows(outcome.rows),
    ...outcome.extra,
    '',
    ...outcome.notes,
    ...(outcome.notes.length > 0 ? [''] : []),
    verdict,
  );
  process.stdout.write(`${lines.join('\n')}\n`);
}

/**
 * The step running now: its cleanup, its abort (a signal, or one of its processes dying, stops
 * it), and its services for a forced exit. Each step of `all` gets its own: a crash ends that step
 * only; a signal ends the suite (`interrupted`).
 */
interface Running {
  cleanup: Cleanup;
  abort: AbortController;
  target: Target | undefined;
  interrupted: boolean;
}

function newStep(running: Running): void {
  running.cleanup = new Cleanup();
  running.abort = new AbortController();
  // Every request in flight listens for the abort: thousands at once are expected, not a leak.
  setMaxListeners(0, running.abort.signal);
}

/** Runs one scenario on its own cleanup; resolves with its outcome (or throws what stopped it). */
async function runOnce(options: BenchOptions, running: Running): Promise<Outcome> {
  const { abort } = running;
  try {
    const outcome = await runScenario(options, running.cleanup, abort, (opened) => {
      running.target = opened;
    });
    abort.signal.throwIfAborted();
    return outcome;
  } finally {
    process.stderr.write('bench: cleaning up...\n');
    await running.cleanup.run();
    running.target = undefined;
  }
}

/** Why a scenario stopped: an abort says why in its reason (its stack adds nothing). */
function failureMessage(error: unknown, abort: AbortController): string {
  return abort.signal.aborted
    ? (abort.signal.reason as Error).message
    : ((error as Error).stack ?? String(error));
}

/** all: each step in turn, its report printed as it ends, then one table and one verdict. */
async function runAll(
  options: BenchOptions,
  machine: Machine,
  startedAt: string,
  running: Running,
): Promise<number> {
  const done: { label: string; rows: Row[]; json: unknown }[] = [];
  const problems: string[] = [];
  const checks: Check[] = [];
  for (const step of suiteSteps(options)) {
    process.stderr.write(`bench: all: ${step.label}\n`);
    if (running.interrupted) break;
    newStep(running);
    try {
      const outcome = await runOnce(step.options, running);
      const verdict = verdictLine(checksOf(outcome.rows), outcome.problems);
      printReport(step.options, machine, outcome, verdict);
      done.push({
        label: step.label,
        rows: outcome.rows,
        json: jsonResult(machine, startedAt, outcome, verdict),
      });
      checks.push(
        ...checksOf(outcome.rows).map((check) => ({ ...check, figure: `${step.label}: ${check.figure}` })),
      );
      problems.push(...outcome.problems.map((problem) => `${step.label}: ${problem}`));
    } catch (error) {
      if (running.interrupted) throw error;
      const message = failureMessage(error, running.abort);
      process.stderr.write(`bench: ${step.label} failed: ${message}\n`);
      const reason = message.split('\n')[0] ?? message;
      problems.push(`${step.label} could not run (${reason})`);
      done.push({
        label: step.label,
        rows: [{ figure: COULD_NOT_RUN, measured: reason }],
        json: { error: message },
      });
    }
  }
  // The table names every target missed; the line counts them.
  const verdict = verdictLine(checks, problems, { listMissed: false });
  process.stdout.write(
    [
      '',
      'ingestd benchmark: all (every target beside the step that judges it)',
      machineLine(machine),
      '',
      suiteTable(done),
      '',
      verdict,
      '',
    ].join('\n'),
  );
  writeJson(options.jsonFile, {
    scenario: 'all',
    startedAt,
    machine,
    steps: done.map(({ label, json }) => ({ label, result: json })),
    checks,
    problems,
    verdict,
  });
  return problems.length > 0 ? 1 : 0;
}

async function main(): Promise<number> {
  const options = parseArguments(process.argv);
  const startedAt = new Date().toISOString();
  const machine = describeMachine();
  if (options.scenario === 'extraction') {
    // Loaded only here: the other scenarios have no use for the extraction modules.
    const { runExtractionScenario } = await import('./extraction.js');
    try {
      const result = await runExtractionScenario({ runs: options.runs });
      writeJson(options.jsonFile, result);
      return 0;
    } catch (error) {
      process.stderr.write(`bench failed: ${(error as Error).stack ?? String(error)}\n`);
      return 1;
    }
  }

  const running: Running = {
    cleanup: new Cleanup(),
    abort: new AbortController(),
    target: undefined,
    interrupted: false,
  };
  newStep(running);
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      // The services run in their own process groups; do not leave them behind on a forced exit.
      for (const each of running.target?.processes() ?? []) {
        try {
          process.kill(each.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      process.stderr.write(`bench: ${signal} again: killed the services, exiting now\n`);
      process.exit(130);
    }
    process.stderr.write(`bench: ${signal}: stopping and cleaning up (again to force)\n`);
    running.interrupted = true;
    running.abort.abort(new Error(`interrupted by ${signal}`));
    void running.cleanup.run().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    if (options.scenario === 'all') return await runAll(options, machine, startedAt, running);
    const outcome = await runOnce(options, running);
    const verdict = verdictLine(checksOf(outcome.rows), outcome.problems);
    printReport(options, machine, outcome, verdict);
    writeJson(options.jsonFile, jsonResult(machine, startedAt, outcome, verdict));
    return outcome.problems.length > 0 ? 1 : 0;
  } catch (error) {
    process.stderr.write(`bench failed: ${failureMessage(error, running.abort)}\n`);
    return 1;
  }
}

function writeJson(file: string | undefined, value: unknown): void {
  if (file === undefined) return;
  const text = `${JSON.stringify(value, null, 2)}\n`;
  if (file === '-') process.stdout.write(text);
  else {
    writeFileSync(file, text);
    process.stderr.write(`bench: wrote ${file}\n`);
  }
}

process.exitCode = await main();
