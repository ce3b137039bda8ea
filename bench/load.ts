import type { Pool } from 'undici';
import { runOpenLoop, type ScheduleReport } from './open-loop.js';

/** A document the API accepted. */
export interface AcceptedDocument {
  id: string;
  /** Index of the request that carried it. */
  request: number;
  /** Client hrtime (ns) when the answer's body had been read. */
  acceptedAtNs: bigint;
}

/** What one answer said about the documents its request carried. */
export interface RequestOutcome {
  /** Ids of the documents accepted (202, or 202 items of a 207). */
  accepted: string[];
  /** Documents not accepted, by kind ("HTTP 429 rate_limited"), with a sample message. */
  errors: { kind: string; count: number; sample: string }[];
}

/** One POST the load generator sends. */
export interface BenchRequest {
  path: string;
  headers: Record<string, string>;
  body: string | Buffer;
  /** Documents the request carries. */
  documents: number;
  /** Reads the answer (status and body text) into accepted ids and per-document errors. */
  read: (status: number, text: string) => RequestOutcome;
}

export interface LoadResult {
  /** Requests sent. */
  requests: number;
  /** Documents sent. */
  posted: number;
  accepted: AcceptedDocument[];
  /**
   * Latency of each request that had documents accepted, in ms: from its send (closed loop) or
   * its intended send time (open loop) to its answer's body read.
   */
  postLatenciesMs: number[];
  /** Documents not accepted, by kind, with a sample message. */
  errors: Map<string, { count: number; sample: string }>;
  /** Client hrtime (ns) and wall clock (epoch ms) when the first request was sent (or was due). */
  firstPostAtNs: bigint | undefined;
  firstPostWallMs: number | undefined;
  /** Client hrtime (ns) when the last document was accepted. */
  lastAcceptAtNs: bigint | undefined;
  /** How the open loop kept to its schedule; absent for a closed loop. */
  schedule?: ScheduleReport;
}

export function errorCount(result: Pick<LoadResult, 'errors'>): number {
  let total = 0;
  for (const { count } of result.errors.values()) total += count;
  return total;
}

/** The `error.code` of an ingestd error body, if the body is one. */
export function apiErrorCode(text: string): string | undefined {
  try {
    const parsed = JSON.parse(text) as { error?: { code?: unknown } };
    return typeof parsed.error?.code === 'string' ? parsed.error.code : undefined;
  } catch {
    return undefined;
  }
}

/** Every document of a request refused with a non-2xx answer. */
export function refusedOutcome(status: number, text: string, documents: number): RequestOutcome {
  const code = apiErrorCode(text);
  return {
    accepted: [],
    errors: [
      { kind: `HTTP ${status}${code ? ` ${code}` : ''}`, count: documents, sample: text.slice(0, 300) },
    ],
  };
}

function emptyResult(): LoadResult {
  return {
    requests: 0,
    posted: 0,
    accepted: [],
    postLatenciesMs: [],
    errors: new Map(),
    firstPostAtNs: undefined,
    firstPostWallMs: undefined,
    lastAcceptAtNs: undefined,
  };
}

function recordError(result: LoadResult, kind: string, count: number, sample: string): void {
  const entry = result.errors.get(kind);
  if (entry) entry.count += count;
  else result.errors.set(kind, { count, sample: sample.slice(0, 300) });
}

/**
 * Sends one request and records what came back. `fromNs` is where its latency starts: the send
 * itself (closed loop) or its intended send time (open loop). Never throws.
 */
async function execute(
  http: Pool,
  index: number,
  request: BenchRequest,
  fromNs: bigint,
  result: LoadResult,
  signal: AbortSignal,
): Promise<void> {
  if (result.firstPostAtNs === undefined) {
    result.firstPostAtNs = fromNs;
    result.firstPostWallMs = Date.now() - Number(process.hrtime.bigint() - fromNs) / 1e6;
  }
  result.requests++;
  result.posted += request.documents;
  try {
    const response = await http.request({
      method: 'POST',
      path: request.path,
      headers: request.headers,
      body: request.body,
      signal,
    });
    const text = await response.body.text();
    const doneAt = process.hrtime.bigint();
    const outcome = request.read(response.statusCode, text);
    for (const error of outcome.errors) recordError(result, error.kind, error.count, error.sample);
    if (outcome.accepted.length === 0) return;
    for (const id of outcome.accepted) result.accepted.push({ id, request: index, acceptedAtNs: doneAt });
    result.postLatenciesMs.push(Number(doneAt - fromNs) / 1e6);
    if (result.lastAcceptAtNs === undefined || doneAt > result.lastAcceptAtNs) result.lastAcceptAtNs = doneAt;
  } catch (error) {
    if (signal.aborted) return;
    const failure = error as Error & { code?: string };
    recordError(result, failure.code ?? failure.name, request.documents, failure.message);
  }
}

/**
 * Builds every request up front, so the load generator's own work (making text, JSON) is done
 * before the clock starts and does not take CPU from the system under test during the run.
 */
export function prebuilt(
  requests: number,
  make: (index: number) => BenchRequest,
): (index: number) => BenchRequest {
  const built = Array.from({ length: requests }, (_, index) => make(index));
  return (index) => built[index] as BenchRequest;
}

export interface ClosedLoopOptions {
  http: Pool;
  requests: number;
  /** Requests in flight: each lane sends its next request when the previous answer arrives. */
  concurrency: number;
  /** Request `index`; called just before it is sent, outside the timed span. */
  make: (index: number) => BenchRequest;
  /** Stops sending new requests; those in flight finish, or fail when the server stops. */
  signal: AbortSignal;
  /** Called as each request is sent, with the documents sent so far. */
  onProgress?: (posted: number) => void;
}

/** A closed loop: `concurrency` lanes, each sending its next request when its last one is answered. */
export async function runClosedLoop(options: ClosedLoopOptions): Promise<LoadResult> {
  const result = emptyResult();
  let nextIndex = 0;
  const lane = async () => {
    for (;;) {
      const index = nextIndex++;
      if (index >= options.requests || options.signal.aborted) return;
      const request = options.make(index);
      await execute(options.http, index, request, process.hrtime.bigint(), result, options.signal);
      options.onProgress?.(result.posted);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, options.requests) }, lane));
  return result;
}

export interface OpenLoopLoadOptions {
  http: Pool;
  requests: number;
  ratePerSec: number;
  /** The HTTP pool's connections: sends beyond them queue in the client (and count that wait). */
  connections: number;
  make: (index: number) => BenchRequest;
  signal: AbortSignal;
  onProgress?: (posted: number) => void;
}

/** An open loop: request i is sent at start + i / rate, answered or not (see open-loop.ts). */
export async function runOpenLoopLoad(options: OpenLoopLoadOptions): Promise<LoadResult> {
  const result = emptyResult();
  const schedule = await runOpenLoop({
    ratePerSec: options.ratePerSec,
    total: options.requests,
    connections: options.connections,
    signal: options.signal,
    send: async (index, intendedNs) => {
      const request = options.make(index);
      options.onProgress?.(result.posted + request.documents);
      await execute(options.http, index, request, intendedNs, result, options.signal);
    },
  });
  result.schedule = schedule;
  return result;
}
