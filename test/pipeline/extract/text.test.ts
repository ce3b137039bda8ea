import { describe, expect, it } from 'vitest';
import { DocumentError } from '../../../src/errors.js';
import { detectContentType } from '../../../src/pipeline/detect.js';
import { extractText } from '../../../src/pipeline/extract/text.js';

describe('extractText', () => {
  it('decodes UTF-8 and drops a byte order mark', () => {
    expect(extractText(Buffer.from('\ufeffgrüße', 'utf8'))).toBe('grüße');
  });

  it('removes NUL bytes, which Postgres text cannot store', () => {
    expect(extractText(Buffer.from('a\u0000b', 'utf8'))).toBe('ab');
  });

  it('replaces invalid UTF-8 rather than failing', () => {
    expect(extractText(Buffer.from([0x61, 0xff, 0x62]))).toBe('a\ufffdb');
  });

  it('fails a document with no text as empty, not worth retrying', () => {
    const error = (() => {
      try {
        extractText(Buffer.from(' \n\u0000 '));
      } catch (thrown) {
        return thrown;
      }
    })();
    expect(error).toBeInstanceOf(DocumentError);
    expect(error).toMatchObject({ code: 'empty', retryable: false });
  });
});

describe('detectContentType', () => {
  it('normalises parameters and case', () => {
    expect(detectContentType('Text/Plain; charset=utf-8')).toBe('text/plain');
    expect(detectContentType('text/markdown')).toBe('text/markdown');
  });

  it('fails unknown types permanently with unsupported_type', () => {
    expect(() => detectContentType('application/pdf')).toThrowError(
      expect.objectContaining({ code: 'unsupported_type', retryable: false }),
    );
  });
});
