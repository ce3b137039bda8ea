import { describe, expect, it } from 'vitest';
import { filenameFromResponse } from '../../src/fetch/response-filename.js';

describe('filenameFromResponse', () => {
  const url = new URL('https://example.com/files/Annual%20Report.pdf?download=1');

  it('prefers filename* over filename, then the URL path', () => {
    const header = `attachment; filename="plain.pdf"; filename*=UTF-8''%E2%82%AC%20rates.pdf`;
    expect(filenameFromResponse(header, url)).toBe('€ rates.pdf');
    expect(filenameFromResponse('inline; filename="plain.pdf"', url)).toBe('plain.pdf');
    expect(filenameFromResponse('inline', url)).toBe('Annual Report.pdf');
    expect(filenameFromResponse(undefined, url)).toBe('Annual Report.pdf');
  });

  it('falls back to the URL when the header is malformed', () => {
    expect(filenameFromResponse('attachment; filename="unterminated', url)).toBe('Annual Report.pdf');
  });

  it('reduces names to a base name without control characters', () => {
    expect(filenameFromResponse('attachment; filename="../../etc/passwd"', url)).toBe('passwd');
    expect(filenameFromResponse('attachment; filename="C:\\\\Windows\\\\evil.exe"', url)).toBe('evil.exe');
    expect(filenameFromResponse(`attachment; filename*=UTF-8''a%0D%0Ab.txt`, url)).toBe('ab.txt');
    expect(filenameFromResponse(`attachment; filename="${'x'.repeat(300)}"`, url)).toHaveLength(255);
  });

  it('gives none for a bare path or dot segments', () => {
    expect(filenameFromResponse(undefined, new URL('https://example.com/'))).toBeUndefined();
    expect(filenameFromResponse(undefined, new URL('https://example.com/dir/'))).toBeUndefined();
    expect(
      filenameFromResponse('attachment; filename=".."', new URL('https://example.com/')),
    ).toBeUndefined();
    expect(filenameFromResponse(undefined, new URL('https://example.com/100%zz'))).toBe('100%zz');
  });
});
