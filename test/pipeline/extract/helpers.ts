import { expect } from 'vitest';
import { DocumentError } from '../../../src/errors.js';
import { defaultExtractLimits, type ExtractLimits } from '../../../src/pipeline/extract/types.js';

export function limits(overrides: Partial<ExtractLimits> = {}): ExtractLimits {
  return { ...defaultExtractLimits, ...overrides };
}

/** Awaits `work` and returns the DocumentError it failed with, after checking its code and that it is permanent. */
export async function expectDocumentError(
  work: Promise<unknown> | (() => unknown),
  code: string,
): Promise<DocumentError> {
  let thrown: unknown;
  try {
    await (typeof work === 'function' ? work() : work);
  } catch (error) {
    thrown = error;
  }
  expect(thrown, `expected a DocumentError with code ${code}`).toBeInstanceOf(DocumentError);
  expect(thrown).toMatchObject({ code, retryable: false });
  return thrown as DocumentError;
}

/** Milliseconds `work` took, with its outcome. */
export async function timed<T>(
  work: () => Promise<T>,
): Promise<{ ms: number; outcome: PromiseSettledResult<T> }> {
  const started = performance.now();
  const [outcome] = await Promise.allSettled([work()]);
  return { ms: performance.now() - started, outcome: outcome as PromiseSettledResult<T> };
}
