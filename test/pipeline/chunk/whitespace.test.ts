import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  isWhitespaceCode,
  skipWhitespaceBackward,
  skipWhitespaceForward,
} from '../../../src/pipeline/chunk/whitespace.js';
import { countWords } from '../../../src/pipeline/chunk/word-starts.js';
import { unicodeText } from './arbitraries.js';

describe('whitespace', () => {
  it('is exactly what JavaScript calls \\s, for every UTF-16 code unit', () => {
    const differing: number[] = [];
    for (let code = 0; code <= 0xffff; code++) {
      if (isWhitespaceCode(code) !== /\s/.test(String.fromCharCode(code))) differing.push(code);
    }
    expect(differing).toEqual([]);
  });

  it('property: counts the words /\\S+/g finds and trims like String.prototype.trim', () => {
    fc.assert(
      fc.property(unicodeText(40), (text) => {
        expect(countWords(text, 0, text.length)).toBe(text.match(/\S+/g)?.length ?? 0);
        const start = skipWhitespaceForward(text, 0, text.length);
        const end = skipWhitespaceBackward(text, start, text.length);
        expect(text.slice(start, end)).toBe(text.trim());
      }),
      { numRuns: 300 },
    );
  });
});
