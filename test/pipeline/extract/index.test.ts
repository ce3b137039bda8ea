import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DocumentError } from '../../../src/errors.js';
import { supportedContentTypes } from '../../../src/pipeline/detect.js';
import { extractorFor } from '../../../src/pipeline/extract/index.js';
import { limits } from './helpers.js';

describe('extractorFor', () => {
  it('has an extractor for every supported type, each failing garbage with a permanent DocumentError', async () => {
    const garbage = randomBytes(4096);
    for (const type of supportedContentTypes) {
      const outcome = await extractorFor(type)(garbage, limits()).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(outcome, type).toBeInstanceOf(DocumentError);
      expect(outcome, type).toMatchObject({ retryable: false });
      expect(['corrupt', 'unsupported_type', 'too_large', 'empty'], type).toContain(
        (outcome as DocumentError).code,
      );
    }
  });
});
