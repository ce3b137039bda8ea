import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chunkByWords, wordSpans } from '../../../src/pipeline/chunk/words.js';
import { numberedWords } from '../../helpers/context.js';

const wordsOf = (text: string) => text.split(/\s+/).filter(Boolean);

describe('chunkByWords', () => {
  it('splits 1,000 words at size 500 / overlap 50 into chunks starting at words 0, 450 and 900', () => {
    const chunks = chunkByWords(numberedWords(1000), 500, 50);
    expect(chunks.map((c) => wordsOf(c.text)[0])).toEqual(['w0', 'w450', 'w900']);
    expect(chunks.map((c) => c.wordCount)).toEqual([500, 500, 100]);
    expect(chunks.map((c) => c.index)).toEqual([0, 1, 2]);
  });

  it('keeps the original whitespace inside a chunk and points its offsets at its text', () => {
    const text = '  alpha\tbeta\n\ngamma   delta ';
    const chunks = chunkByWords(text, 3, 1);
    expect(chunks.map((c) => c.text)).toEqual(['alpha\tbeta\n\ngamma', 'gamma   delta']);
    for (const chunk of chunks) expect(text.slice(chunk.start, chunk.end)).toBe(chunk.text);
  });

  it('gives no chunks for text without words, one chunk for text shorter than a chunk', () => {
    expect(chunkByWords(' \n\t ', 5, 1)).toEqual([]);
    const [only, ...rest] = chunkByWords('one two', 5, 1);
    expect(rest).toEqual([]);
    expect(only).toMatchObject({ text: 'one two', wordCount: 2, start: 0, end: 7 });
  });

  it('counts tokens with cl100k_base', () => {
    const [chunk] = chunkByWords('hello world', 10, 0);
    expect(chunk?.tokenCount).toBe(2);
  });

  it('rejects sizes and overlaps that cannot make progress or would multiply the text', () => {
    expect(() => chunkByWords('a b', 0, 0)).toThrow(RangeError);
    expect(() => chunkByWords('a b', 2, 2)).toThrow(RangeError);
    expect(() => chunkByWords('a b', 10, 6)).toThrow(RangeError); // more than half a chunk
    expect(() => chunkByWords('a b', 2, -1)).toThrow(RangeError);
  });

  // Words separated by random runs of whitespace, with chunk settings where overlap < size.
  const textAndSettings = fc
    .record({
      words: fc.array(fc.stringMatching(/^[^\s]{1,8}$/), { maxLength: 300 }),
      separators: fc.array(fc.constantFrom(' ', '  ', '\n', '\t', ' \n '), {
        minLength: 301,
        maxLength: 301,
      }),
      size: fc.integer({ min: 1, max: 60 }),
      overlapRatio: fc.double({ min: 0, max: 0.5, noNaN: true }),
    })
    .map(({ words, separators, size, overlapRatio }) => ({
      words,
      text: words.map((word, i) => `${separators[i]}${word}`).join('') + separators[300],
      size,
      overlap: Math.floor(size * overlapRatio),
    }));

  it('property: every word lands in a chunk, in order, overlaps are exact and no chunk is over size', () => {
    fc.assert(
      fc.property(textAndSettings, ({ words, text, size, overlap }) => {
        const chunks = chunkByWords(text, size, overlap);
        const step = size - overlap;
        if (words.length === 0) return chunks.length === 0;
        const expectedCount = words.length <= size ? 1 : Math.ceil((words.length - size) / step) + 1;
        expect(chunks).toHaveLength(expectedCount);
        chunks.forEach((chunk, k) => {
          const chunkWords = wordsOf(chunk.text);
          expect(chunk.index).toBe(k);
          expect(chunk.wordCount).toBe(chunkWords.length);
          expect(chunkWords.length).toBeLessThanOrEqual(size);
          expect(chunkWords).toEqual(words.slice(k * step, k * step + size));
          expect(text.slice(chunk.start, chunk.end)).toBe(chunk.text);
          const previous = chunks[k - 1];
          if (previous) expect(chunkWords.slice(0, overlap)).toEqual(wordsOf(previous.text).slice(step));
        });
        expect(wordsOf(chunks.at(-1)?.text ?? '').at(-1)).toBe(words.at(-1));
        return true;
      }),
      { numRuns: 300 },
    );
  });
});

describe('wordSpans', () => {
  it('spans each chunk from its first word to its last, whatever the whitespace around', () => {
    expect(wordSpans(' ab  c\u00a0d ', 2, 1)).toEqual([
      { start: 1, end: 6 },
      { start: 5, end: 8 },
    ]);
    expect(wordSpans('ab c d', 2, 0)).toEqual([
      { start: 0, end: 4 },
      { start: 5, end: 6 },
    ]);
    expect(wordSpans('ab c d e', 2, 0)).toEqual([
      { start: 0, end: 4 },
      { start: 5, end: 8 },
    ]);
    expect(wordSpans('  \n', 2, 0)).toEqual([]);
  });
});
