/**
 * Domain errors. Every error a client or an operator sees carries a stable `code`; document
 * errors also say whether a retry can help, which decides between backoff and the dead-letter path.
 */
export class IngestdError extends Error {
  override readonly name: string = 'IngestdError';
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A request the client must change before sending again: answered with `statusCode`. */
export class RequestError extends IngestdError {
  override readonly name = 'RequestError';
  constructor(
    readonly statusCode: number,
    code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(code, message);
  }
}

/** Processing a document failed. `retryable` false means the same input will always fail. */
export class DocumentError extends IngestdError {
  override readonly name = 'DocumentError';
  constructor(
    code: string,
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}

/** Turns anything thrown into an Error, keeping the original as `cause`. */
export function coerceError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  return new Error(typeof thrown === 'string' ? thrown : 'non-error thrown', { cause: thrown });
}

/** Postgres SQLSTATE classes and codes that mean "unavailable now", not "this request is wrong". */
// 57014 is a statement cancelled by statement_timeout: lock contention that a later try may not meet.
const transientSqlStates = new Set(['53300', '55P03', '57014', '57P01', '57P02', '57P03', '40001', '40P01']);
const transientNetworkCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * True for errors a retry may cure: lost or refused connections, pool timeouts, server
 * shutdown, too many connections, serialization failures and deadlocks.
 */
export function isTransientError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (transientSqlStates.has(code) || code.startsWith('08')) return true;
    if (transientNetworkCodes.has(code)) return true;
  }
  return /timeout exceeded when trying to connect|Connection terminated|connection timeout|Client has encountered a connection error/i.test(
    error.message,
  );
}

/**
 * Postgres refusing the data itself (invalid text or JSON, a value too long, a row too big): the
 * same content will be refused again, so retrying cannot help.
 */
export function isDataRejectedError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('22') || code === '54000');
}
