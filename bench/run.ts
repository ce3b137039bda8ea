/**
 * `npm run bench`: posts documents to an ingestd API, waits for the worker to finish them and
 * reports throughput, latency, memory and losses beside the design guide's targets. Without --url
 * it starts its own durable Postgres and Redis, one API and one worker process, and removes them
 * all at the end. Exits 1 when a document errored, failed or was lost; 2 on bad options.
 * `--scenario extraction` measures detection, extraction and chunking in-process instead (see
 * extraction.ts); exits 1 when a format could not be extracted.
 */
import { randomBytes } from 'node:crypto';
import { Command, InvalidArgumentError, Option } from 'commander';
import pg from 'pg';
import { Pool as HttpPool } from 'undici';
import { Cleanup } from './cleanup.js';
import { ApiTracker, type CompletionTracker, DatabaseTracker, waitForCompletion } from './completion.js';
import { documentText } from './documents.js';
import { errorCount, postDocuments } from './load.js';
import { analyze, type BenchSettings, formatReport } from './report.js';
import { type MemoryPeak, RssSampler } from './rss.js';
import { type ServiceProcess, startLocalTarget } from './stack.js';

const DOCUMENTS_PATH = '/api/v1/documents';
/** How often completion is polled: the database is cheap to ask, the API (one GET per document) is not. */
const DATABASE_POLL_MS = 250;
const API_POLL_MS = 1_000;
const PROGRESS_EVERY_MS = 5_000;

/** end-to-end: the API, queue, worker and database under load; extraction: the pure pipeline stages. */
const scenarios = ['end-to-end', 'extraction'] as const;

interface CliOptions {
  scenario: (typeof scenarios)[number];
  /** Timed runs per figure in the extraction scenario. */
  runs: number;
  docs: number;
  concurrency: number;
  words: number;
  size: number;
  overlap: number;
  workerConcurrency: number;
  url?: string;
  json: boolean;
  timeout: number;
}

function positiveInt(value: string): number {
  if (!/^[1-9]\d*$/.test(value)) throw new InvalidArgumentError('expected a positive integer');
  return Number(value);
}

function nonNegativeInt(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected an integer >= 0');
  return Number(value);
}

function httpUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError('expected a URL such as http://127.0.0.1:8080');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new InvalidArgumentError('expected http(s)');
  return url.href.replace(/\/+$/, '');
}

function parseOptions(argv: readonly string[]): CliOptions {
  const program = new Command('bench')
    .description(
      'Benchmark ingestd: POST documents, wait until they are processed, report against the design targets; ' +
        'or (--scenario extraction) measure detection, extraction and chunking in-process.',
    )
    .addOption(new Option('--scenario <name>', 'what to measure').choices(scenarios).default('end-to-end'))
    .option('--runs <n>', 'extraction scenario: timed runs per figure, after one warm-up', positiveInt, 5)
    .option('--docs <n>', 'documents to submit', positiveInt, 2000)
    .option('--concurrency <n>', 'POSTs in flight (HTTP connections)', positiveInt, 20)
    .option('--words <n>', 'words per document', positiveInt, 1000)
    .option('--size <n>', 'chunk size in words', positiveInt, 500)
    .option('--overlap <n>', 'words shared by neighbouring chunks', nonNegativeInt, 50)
    .option(
      '--worker-concurrency <n>',
      'jobs the worker process runs at once (private stack only)',
      positiveInt,
      16,
    )
    .option('--url <url>', 'benchmark an ingestd already running there (no RSS or database figures)', httpUrl)
    .option('--timeout <seconds>', 'how long to wait for processing to finish', positiveInt, 300)
    .option('--json', 'also print the result as one JSON line at the end', false)
    .showHelpAfterError()
    // Commander prints the problem itself; bad options exit 2, --help 0.
    .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2))
    .parse(argv);
  const options = program.opts<CliOptions>();
  if (options.overlap >= options.size) program.error('error: --overlap must be smaller than --size');
  return options;
}

/** Prints a progress line to stderr at most every PROGRESS_EVERY_MS, keeping stdout for the report. */
function throttledProgress(): (line: string) => void {
  let last = 0;
  return (line) => {
    if (Date.now() - last < PROGRESS_EVERY_MS) return;
    last = Date.now();
    process.stderr.write(`bench: ${line}\n`);
  };
}

/** Postgres version and the durability settings the numbers were measured with. */
async function describeDatabase(db: pg.Pool): Promise<string> {
  const { rows } = await db.query<{ version: string; fsync: string; synchronousCommit: string }>(
    `SELECT split_part(current_setting('server_version'), ' ', 1) AS version, current_setting('fsync') AS fsync,
            current_setting('synchronous_commit') AS "synchronousCommit"`,
  );
  const row = rows[0];
  return row
    ? `postgres ${row.version} (fsync ${row.fsync}, synchronous_commit ${row.synchronousCommit}) + redis`
    : 'postgres + redis';
}

/** What the benchmark talks to: the API, and where it reads outcomes and memory from. */
interface Target {
  url: string;
  documentsPath: string;
  http: HttpPool;
  tracker: CompletionTracker;
  /** The api and worker processes, when this run started them. */
  services: ServiceProcess[];
  /** Postgres version and durability settings, when the database is ours to read. */
  describeServer(): Promise<string | null>;
}

function httpTarget(url: string, concurrency: number, cleanup: Cleanup) {
  const base = new URL(url);
  const prefix = base.pathname.replace(/\/+$/, '');
  const http = new HttpPool(base.origin, { connections: concurrency });
  cleanup.add('close http pool', () => http.close());
  return { url, prefix, documentsPath: `${prefix}${DOCUMENTS_PATH}`, http };
}

/** A private durable Postgres and Redis, one api and one worker process; outcomes read from Postgres. */
async function startPrivateTarget(
  options: CliOptions,
  cleanup: Cleanup,
  abort: AbortController,
): Promise<Target> {
  process.stderr.write('bench: starting private postgres, redis, api and worker...\n');
  const stack = await startLocalTarget(
    {
      workerConcurrency: options.workerConcurrency,
      onUnexpectedExit: (reason) => abort.abort(new Error(reason)),
    },
    cleanup,
  );
  const database = new pg.Pool({
    connectionString: stack.databaseUrl,
    max: 2,
    application_name: 'ingestd-bench',
  });
  cleanup.add('close bench database pool', () => database.end());
  const { url, documentsPath, http } = httpTarget(stack.url, options.concurrency, cleanup);
  return {
    url,
    documentsPath,
    http,
    tracker: new DatabaseTracker(database),
    services: stack.services,
    describeServer: () => describeDatabase(database),
  };
}

/** An ingestd already running at --url; outcomes read through its API, its processes out of reach. */
async function connectToRunningTarget(url: string, options: CliOptions, cleanup: Cleanup): Promise<Target> {
  const { prefix, documentsPath, http } = httpTarget(url, options.concurrency, cleanup);
  const ready = await http.request({ method: 'GET', path: `${prefix}/ready` });
  const body = await ready.body.text();
  if (ready.statusCode !== 200) throw new Error(`${url}/ready answered ${ready.statusCode}: ${body}`);
  return {
    url,
    documentsPath,
    http,
    tracker: new ApiTracker(http, documentsPath, options.concurrency),
    services: [],
    describeServer: async () => null,
  };
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv);
  if (options.scenario === 'extraction') {
    // Loaded only here: the end-to-end scenario has no use for the pipeline's modules.
    const { runExtractionScenario } = await import('./extraction.js');
    return runExtractionScenario({ runs: options.runs, json: options.json });
  }
  const cleanup = new Cleanup();
  const abort = new AbortController();
  let services: ServiceProcess[] = [];

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      // The services run in their own process group; do not leave them behind on a forced exit.
      for (const service of services) service.child.kill('SIGKILL');
      process.stderr.write(`bench: ${signal} again: killed api and worker, exiting now\n`);
      process.exit(130);
    }
    process.stderr.write(`bench: ${signal}: stopping and cleaning up (again to force)\n`);
    abort.abort(new Error(`interrupted by ${signal}`));
    void cleanup.run().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    const local = options.url === undefined;
    const target = options.url
      ? await connectToRunningTarget(options.url, options, cleanup)
      : await startPrivateTarget(options, cleanup, abort);
    services = target.services;
    const sampler = local ? new RssSampler(target.services) : undefined;

    const runId = randomBytes(4).toString('hex');
    const chunking = { strategy: 'words', size: options.size, overlap: options.overlap };
    const progress = throttledProgress();
    process.stderr.write(
      `bench: posting ${options.docs} documents of ${options.words} words, ${options.concurrency} at a time to ${target.url}\n`,
    );
    sampler?.start();
    const load = await postDocuments({
      http: target.http,
      path: target.documentsPath,
      documents: options.docs,
      concurrency: options.concurrency,
      body: (index) => JSON.stringify({ content: documentText(runId, index, options.words), chunking }),
      signal: abort.signal,
      onProgress: (posted) => progress(`posted ${posted}/${options.docs}`),
    });
    abort.signal.throwIfAborted();
    process.stderr.write(
      `bench: ${load.accepted.length} accepted, ${errorCount(load)} errors; waiting for processing...\n`,
    );

    const ids = load.accepted.map((document) => document.id);
    const waited = await waitForCompletion(target.tracker, ids, {
      timeoutMs: options.timeout * 1000,
      pollMs: local ? DATABASE_POLL_MS : API_POLL_MS,
      signal: abort.signal,
      onProgress: ({ completed, failed }) =>
        progress(`completed ${completed}, failed ${failed} of ${ids.length}`),
    });
    const outcomes = await target.tracker.outcomes(ids);
    const memory: MemoryPeak[] | null = sampler?.stop() ?? null;

    const settings: BenchSettings = {
      documents: options.docs,
      concurrency: options.concurrency,
      words: options.words,
      chunkSize: options.size,
      chunkOverlap: options.overlap,
      workerConcurrency: local ? options.workerConcurrency : null,
      url: target.url,
      local,
      timeoutMs: options.timeout * 1000,
    };
    const result = analyze({
      settings,
      server: await target.describeServer(),
      figuresFrom: target.tracker.source,
      load,
      outcomes,
      memory,
      timedOut: waited.timedOut,
    });
    process.stdout.write(`${formatReport(result)}\n`);
    if (options.json) process.stdout.write(`${JSON.stringify(result)}\n`);
    const { errors, failed, lost } = result.counts;
    return errors + failed + lost > 0 ? 1 : 0;
  } catch (error) {
    // An abort (signal, or api/worker dying) says why in its reason; its stack adds nothing.
    const message = abort.signal.aborted
      ? (abort.signal.reason as Error).message
      : ((error as Error).stack ?? String(error));
    process.stderr.write(`bench failed: ${message}\n`);
    return 1;
  } finally {
    process.stderr.write('bench: cleaning up...\n');
    await cleanup.run();
  }
}

process.exitCode = await main();
