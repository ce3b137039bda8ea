import type { Pool } from 'undici';

/** A document the API accepted with a 202. */
export interface AcceptedDocument {
  id: string;
  /** Client hrtime (ns) when the 202's body had been read. */
  acceptedAtNs: bigint;
}

export interface LoadResult {
  posted: number;
  accepted: AcceptedDocument[];
  /** Latency of each accepted POST, request sent to 202 body read, in ms. */
  postLatenciesMs: number[];
  /** Non-202 answers and transport failures, by kind ("HTTP 503 not_ready", "ECONNRESET"), with a sample message. */
  errors: Map<string, { count: number; sample: string }>;
  /** Client hrtime (ns) and wall clock (epoch ms) when the first POST was sent; undefined if none was. */
  firstPostAtNs: bigint | undefined;
  firstPostWallMs: number | undefined;
  /** Client hrtime (ns) when the last 202 arrived. */
  lastAcceptAtNs: bigint | undefined;
}

export interface LoadOptions {
  http: Pool;
  /** Path of the documents resource, e.g. /api/v1/documents */
  path: string;
  documents: number;
  concurrency: number;
  /** The JSON body of document `index`; called just before its POST, outside the timed span. */
  body: (index: number) => string;
  /** Stops sending new POSTs; those in flight finish, or fail when the API is stopped. */
  signal: AbortSignal;
  /** Called as each POST is sent, with the number sent so far. */
  onProgress?: (posted: number) => void;
}

export function errorCount(result: Pick<LoadResult, 'errors'>): number {
  let total = 0;
  for (const { count } of result.errors.values()) total += count;
  return total;
}

/** The `error.code` of an ingestd error body, if the body is one. */
function apiErrorCode(text: string): string | undefined {
  try {
    const parsed = JSON.parse(text) as { error?: { code?: unknown } };
    return typeof parsed.error?.code === 'string' ? parsed.error.code : undefined;
  } catch {
    return undefined;
  }
}

/**
 * POSTs `documents` documents, `concurrency` at a time (a closed loop: each lane sends its next
 * document when the previous answer arrives), and records what came back.
 */
export async function postDocuments(options: LoadOptions): Promise<LoadResult> {
  const result: LoadResult = {
    posted: 0,
    accepted: [],
    postLatenciesMs: [],
    errors: new Map(),
    firstPostAtNs: undefined,
    firstPostWallMs: undefined,
    lastAcceptAtNs: undefined,
  };
  const recordError = (kind: string, message: string) => {
    const entry = result.errors.get(kind);
    if (entry) entry.count++;
    else result.errors.set(kind, { count: 1, sample: message.slice(0, 300) });
  };

  let nextIndex = 0;
  const lane = async () => {
    for (;;) {
      const index = nextIndex++;
      if (index >= options.documents || options.signal.aborted) return;
      const body = options.body(index);
      const sentAt = process.hrtime.bigint();
      if (result.firstPostAtNs === undefined) {
        result.firstPostAtNs = sentAt;
        result.firstPostWallMs = Date.now();
      }
      result.posted++;
      options.onProgress?.(result.posted);
      try {
        const response = await options.http.request({
          method: 'POST',
          path: options.path,
          headers: { 'content-type': 'application/json' },
          body,
        });
        const text = await response.body.text();
        const doneAt = process.hrtime.bigint();
        if (response.statusCode !== 202) {
          const code = apiErrorCode(text);
          recordError(`HTTP ${response.statusCode}${code ? ` ${code}` : ''}`, text);
          continue;
        }
        const id = (JSON.parse(text) as { id?: unknown }).id;
        if (typeof id !== 'string') {
          recordError('202 without an id', text);
          continue;
        }
        result.accepted.push({ id, acceptedAtNs: doneAt });
        result.postLatenciesMs.push(Number(doneAt - sentAt) / 1e6);
        if (result.lastAcceptAtNs === undefined || doneAt > result.lastAcceptAtNs) {
          result.lastAcceptAtNs = doneAt;
        }
      } catch (error) {
        if (options.signal.aborted) return;
        const failure = error as Error & { code?: string };
        recordError(failure.code ?? failure.name, failure.message);
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, lane));
  return result;
}
