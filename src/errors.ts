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
