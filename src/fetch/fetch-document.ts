import { Transform, type TransformCallback, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { Agent, type Dispatcher, request } from 'undici';
import { DocumentError } from '../errors.js';
import { type Allowlist, parseAllowlist } from './address-policy.js';
import {
  createGuardedConnector,
  ForbiddenAddressError,
  type Resolver,
  systemResolver,
} from './guarded-connector.js';
import { filenameFromResponse } from './response-filename.js';
import { type FetchPolicy, validateFetchUrl } from './validate-fetch-url.js';

/** Limits and knobs of one fetch; every field is optional. */
export interface FetchOptions extends FetchPolicy {
  /** Most bytes of the document after decompression; the compressed body is held to it too. Default 100 MiB */
  maxBytes?: number;
  /** Most milliseconds for the whole fetch: every redirect hop, headers and body. Default 60000 */
  timeoutMs?: number;
  /** Most milliseconds to resolve and connect (and for https, handshake) one connection. Default 10000 */
  connectTimeoutMs?: number;
  /** Most redirects followed. Default 5 */
  maxRedirects?: number;
  /** Resolves hostnames at connect time; tests inject one to point names at chosen addresses. Default: dns.lookup */
  resolve?: Resolver;
  /** Extra PEM CA certificates trusted for https (intranet sources), on top of Node's bundled roots. Default: none */
  ca?: readonly string[];
  /** Sent as User-Agent. Default "ingestd" */
  userAgent?: string;
  /** Aborts the fetch (say, on worker shutdown); fails as retryable `fetch_aborted`. Default: none */
  signal?: AbortSignal;
}

export const defaultFetchLimits = {
  maxBytes: 100 * 1024 * 1024,
  timeoutMs: 60_000,
  connectTimeoutMs: 10_000,
  maxRedirects: 5,
} as const;

/** A fetched document, ready for the same pipeline as an upload. */
export interface FetchedDocument {
  bytes: Buffer;
  /** The Content-Type header as sent (charset included, for the extractor); undefined when absent. */
  contentType: string | undefined;
  /** Where the bytes came from, after redirects. */
  finalUrl: string;
  /** From Content-Disposition, else the final URL's last path segment; a base name, never a path. */
  filename?: string;
}

/**
 * Stable codes of a failed fetch. Permanent: `fetch_invalid_url`, `fetch_forbidden` (a refused
 * scheme, port, credentials or address, on any hop), `fetch_too_many_redirects`, `fetch_too_large`,
 * `fetch_failed` for 4xx (but 408, 429) or an undecodable body. Retryable: `fetch_timeout`,
 * `fetch_aborted`, `fetch_failed` for 5xx, 408, 429 and connection errors.
 */
export type FetchErrorCode =
  | 'fetch_invalid_url'
  | 'fetch_forbidden'
  | 'fetch_too_many_redirects'
  | 'fetch_too_large'
  | 'fetch_timeout'
  | 'fetch_aborted'
  | 'fetch_failed';

/** A DocumentError from fetching; `status` is the HTTP status when the server answered with an error. */
export class FetchError extends DocumentError {
  declare readonly code: FetchErrorCode;
  readonly status: number | undefined;
  constructor(
    code: FetchErrorCode,
    message: string,
    retryable: boolean,
    options: { status?: number; cause?: unknown } = {},
  ) {
    super(code, message, retryable, { cause: options.cause });
    this.status = options.status;
  }
}

const redirectStatuses = new Set([301, 302, 303, 307, 308]);

// deflate is not asked for: servers disagree on zlib-wrapped or raw; if one sends it anyway we try zlib.
const decoderFactories: Record<string, () => Transform> = {
  gzip: () => zlib.createGunzip(),
  'x-gzip': () => zlib.createGunzip(),
  br: () => zlib.createBrotliDecompress(),
  deflate: () => zlib.createInflate(),
};
const MAX_CONTENT_CODINGS = 2;

/**
 * Fetches a document from an untrusted URL without letting the URL reach into the network:
 * http(s) on allowed ports only, no credentials, every redirect (at most `maxRedirects`)
 * re-validated, and the address of every connection checked when it is made (see
 * createGuardedConnector), so a name cannot be re-pointed between check and connect. The body is
 * decompressed here (gzip, br, deflate) and capped at `maxBytes` after decompression; the whole
 * fetch is capped at `timeoutMs`. Fails with a FetchError (a DocumentError; see FetchErrorCode).
 */
export async function fetchDocument(
  input: string | URL,
  options: FetchOptions = {},
): Promise<FetchedDocument> {
  const maxBytes = options.maxBytes ?? defaultFetchLimits.maxBytes;
  const timeoutMs = options.timeoutMs ?? defaultFetchLimits.timeoutMs;
  const maxRedirects = options.maxRedirects ?? defaultFetchLimits.maxRedirects;
  const allowlist = parseAllowlist(options.allow ?? []);
  let url = checkedUrl(input, options, allowlist);

  const timeLimit = new AbortController();
  const timer = setTimeout(() => timeLimit.abort(new Error('fetch time limit reached')), timeoutMs);
  const signal = options.signal ? AbortSignal.any([timeLimit.signal, options.signal]) : timeLimit.signal;
  // One agent per fetch: the policy travels with its connector, and destroying it afterwards
  // leaves no socket behind whatever happened.
  const agent = new Agent({
    connect: createGuardedConnector({
      allowlist,
      resolve: options.resolve ?? systemResolver,
      timeoutMs: options.connectTimeoutMs ?? defaultFetchLimits.connectTimeoutMs,
      ...(options.ca ? { ca: options.ca } : {}),
    }),
    allowH2: false,
  });
  const headers = {
    accept: '*/*',
    'accept-encoding': 'gzip, br',
    'user-agent': options.userAgent ?? 'ingestd',
  };
  try {
    for (let redirects = 0; ; redirects += 1) {
      const response = await request(url, { method: 'GET', headers, signal, dispatcher: agent });
      const status = response.statusCode;
      if (redirectStatuses.has(status)) {
        discard(response.body);
        if (redirects >= maxRedirects) {
          throw new FetchError(
            'fetch_too_many_redirects',
            `more than ${maxRedirects} redirects from ${describe(url)}`,
            false,
          );
        }
        url = redirectTarget(response, url, options, allowlist);
        continue;
      }
      if (status < 200 || status > 299) {
        discard(response.body);
        // 408 and 429 say "not now"; any other 4xx will be answered the same way next time.
        const retryable = status >= 500 || status === 408 || status === 429;
        throw new FetchError('fetch_failed', `${describe(url)} answered HTTP ${status}`, retryable, {
          status,
        });
      }
      const bytes = await readBody(response, maxBytes, url);
      const filename = filenameFromResponse(singleHeader(response.headers['content-disposition']), url);
      return {
        bytes,
        contentType: singleHeader(response.headers['content-type']),
        finalUrl: url.href,
        ...(filename === undefined ? {} : { filename }),
      };
    }
  } catch (error) {
    throw asFetchError(error, {
      url,
      timedOut: timeLimit.signal.aborted,
      aborted: options.signal?.aborted ?? false,
      timeoutMs,
    });
  } finally {
    clearTimeout(timer);
    await agent.destroy().catch(() => {}); // never hide the fetch's own outcome
  }
}

/** The URL after validateFetchUrl, or a permanent FetchError saying why not. */
function checkedUrl(input: string | URL, policy: FetchPolicy, allowlist: Allowlist): URL {
  const check = validateFetchUrl(input, policy, allowlist);
  if (check.ok) return check.url;
  const code =
    check.problem === 'invalid_url' || check.problem === 'url_too_long'
      ? 'fetch_invalid_url'
      : 'fetch_forbidden';
  throw new FetchError(code, check.message, false);
}

function redirectTarget(
  response: Dispatcher.ResponseData,
  from: URL,
  policy: FetchPolicy,
  allowlist: Allowlist,
): URL {
  const location = singleHeader(response.headers.location);
  if (location === undefined) {
    throw new FetchError(
      'fetch_failed',
      `${describe(from)} answered ${response.statusCode} without one Location`,
      false,
      { status: response.statusCode },
    );
  }
  let target: URL;
  try {
    target = new URL(location, from);
  } catch (error) {
    throw new FetchError('fetch_invalid_url', `${describe(from)} redirects to an invalid URL`, false, {
      cause: error,
    });
  }
  return checkedUrl(target, policy, allowlist);
}

/** Reads the body, decoding its Content-Encoding, failing with `fetch_too_large` past `maxBytes`. */
async function readBody(response: Dispatcher.ResponseData, maxBytes: number, url: URL): Promise<Buffer> {
  const { body, headers } = response;
  const tooLarge = () =>
    new FetchError('fetch_too_large', `${describe(url)} is larger than ${maxBytes} bytes`, false);
  const codings = contentCodings(headers['content-encoding']);
  if (codings.length === 0 && Number(headers['content-length']) > maxBytes) {
    discard(body);
    throw tooLarge();
  }
  // Codings are listed in the order they were applied, so they are undone from the last.
  const decoders = codings.reverse().map((coding) => {
    const factory = decoderFactories[coding];
    if (!factory) {
      discard(body);
      throw new FetchError(
        'fetch_failed',
        `${describe(url)} uses unsupported Content-Encoding "${coding}"`,
        false,
      );
    }
    return factory();
  });
  const collector = new ByteCollector();
  // The compressed side is capped too: a stream of empty deflate blocks inflates to nothing forever.
  await pipeline([
    body,
    new ByteLimit(maxBytes, tooLarge),
    ...decoders,
    new ByteLimit(maxBytes, tooLarge),
    collector,
  ]);
  return Buffer.concat(collector.chunks);
}

/**
 * Drops a body we will not read. Destroying rather than draining: a hostile server could drip an
 * endless error page, and the agent is thrown away after the fetch anyway. The listener keeps the
 * abort error undici then emits from turning into an uncaught exception.
 */
function discard(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => {});
  body.destroy();
}

function contentCodings(header: string | string[] | undefined): string[] {
  const value = Array.isArray(header) ? header.join(',') : (header ?? '');
  const codings = value
    .split(',')
    .map((coding) => coding.trim().toLowerCase())
    .filter((coding) => coding !== '' && coding !== 'identity');
  if (codings.length > MAX_CONTENT_CODINGS) {
    throw new FetchError('fetch_failed', `Content-Encoding "${value}" stacks too many codings`, false);
  }
  return codings;
}

/** Passes bytes through until more than `limit` have gone by, then fails the pipeline. */
class ByteLimit extends Transform {
  private seen = 0;
  constructor(
    private readonly limit: number,
    private readonly exceeded: () => Error,
  ) {
    super();
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.limit) callback(this.exceeded());
    else callback(null, chunk);
  }
}

class ByteCollector extends Writable {
  readonly chunks: Buffer[] = [];
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.chunks.push(chunk);
    callback();
  }
}

function asFetchError(
  error: unknown,
  context: { url: URL; timedOut: boolean; aborted: boolean; timeoutMs: number },
): FetchError {
  if (error instanceof FetchError) return error;
  const { url } = context;
  if (context.timedOut) {
    return new FetchError(
      'fetch_timeout',
      `${describe(url)} took longer than ${context.timeoutMs} ms`,
      true,
      {
        cause: error,
      },
    );
  }
  if (context.aborted)
    return new FetchError('fetch_aborted', 'the fetch was aborted', true, { cause: error });
  const forbidden = findForbidden(error);
  if (forbidden) return new FetchError('fetch_forbidden', forbidden.message, false, { cause: error });
  const code = (error as { code?: unknown } | null)?.code;
  if (
    code === 'UND_ERR_CONNECT_TIMEOUT' ||
    code === 'UND_ERR_HEADERS_TIMEOUT' ||
    code === 'UND_ERR_BODY_TIMEOUT'
  ) {
    return new FetchError('fetch_timeout', `${describe(url)}: ${messageOf(error)}`, true, { cause: error });
  }
  // zlib names its errors Z_*, brotli ERR__ERROR_*: the bytes are not what the header says.
  if (typeof code === 'string' && /^(Z_|ERR__ERROR_)/.test(code)) {
    return new FetchError('fetch_failed', `${describe(url)} sent a body that could not be decoded`, false, {
      cause: error,
    });
  }
  // Refused, reset, unreachable, DNS failures: the network may do better next time.
  return new FetchError('fetch_failed', `could not fetch ${describe(url)}: ${messageOf(error)}`, true, {
    cause: error,
  });
}

function findForbidden(error: unknown): ForbiddenAddressError | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; depth += 1) {
    if (current instanceof ForbiddenAddressError) return current;
    current = current.cause;
  }
  return undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A header that must appear once; repeated or absent is undefined. */
function singleHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? (value.length === 1 ? value[0] : undefined) : value;
}

/** The URL without query or fragment: enough to say what failed, without the signed-URL tokens a query often holds. */
function describe(url: URL): string {
  return `${url.origin}${url.pathname}`;
}
