import { DocumentError } from '../../errors.js';

// Every extractor fails with one of these: a stable code and never a retry, since the same bytes
// will always fail the same way.

export function corrupt(message: string, cause?: unknown): DocumentError {
  return new DocumentError('corrupt', message, false, cause === undefined ? undefined : { cause });
}

export function tooLarge(message: string): DocumentError {
  return new DocumentError('too_large', message, false);
}

export function encrypted(message: string): DocumentError {
  return new DocumentError('encrypted', message, false);
}

export function emptyDocument(): DocumentError {
  return new DocumentError('empty', 'the document has no text', false);
}

export function textTooLong(maxChars: number): DocumentError {
  return tooLarge(`the extracted text is longer than ${maxChars} characters`);
}
