import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chunkText } from '../../../src/pipeline/chunk/index.js';
import { measureCharacters, recursiveSpans } from '../../../src/pipeline/chunk/recursive.js';
import { type TokenizerName, tokenizerNames } from '../../../src/pipeline/chunk/settings.js';
import type { ChunkSpan } from '../../../src/pipeline/chunk/span.js';
import { longWords, pagesFor, proseText, unicodeText } from './arbitraries.js';
import { expectChunkInvariants } from './invariants.js';
import { referenceTokens } from './oracles.js';

const document = (text: string) => ({ text, headings: [], pages: [] });
const characters = (size: number, overlap: number) =>
  ({ strategy: 'recursive', size, overlap, unit: 'characters', tokenizer: 'cl100k_base' }) as const;
const tokens = (size: number, overlap: number, tokenizer: TokenizerName = 'cl100k_base') =>
  ({ strategy: 'recursive', size, overlap, unit: 'tokens', tokenizer }) as const;
const texts = (text: string, settings: Parameters<typeof chunkText>[1]) =>
  chunkText(document(text), settings).map((chunk) => chunk.text);

/**
 * The same algorithm written the slow, obvious way, on strings and one piece at a time as
 * LangChain's mergeSplits does: the model the fast splitter (galloping, bisecting) must match.
 */
function referenceSpans(text: string, size: number, overlap: number): ChunkSpan[] {
  const separators = [
    /\n[^\S\n]*\n\s*/g,
    /\n\s*/g,
    /[.!?\u2026]+["'\u2019\u201d)\]]*\s+|[\u3002\uff01\uff1f]+["'\u2019\u201d\u300d\u300f)\]]*\s*/g,
    /\s+/g,
  ];
  const trim = (start: number, end: number): ChunkSpan | null => {
    const piece = text.slice(start, end);
    const leading = piece.length - piece.trimStart().length;
    const trimmed = piece.trim();
    return trimmed ? { start: start + leading, end: start + leading + trimmed.length } : null;
  };
  const length = (start: number, end: number) => {
    const span = trim(start, end);
    return span ? span.end - span.start : 0;
  };
  const spans: ChunkSpan[] = [];
  const emit = (start: number, end: number) => {
    const span = trim(start, end);
    if (span) spans.push(span);
  };
  const merge = (bounds: number[]) => {
    let window: number[] = []; // piece indexes
    for (let piece = 0; piece < bounds.length - 1; piece++) {
      const end = bounds[piece + 1] as number;
      const from = () => bounds[window[0] as number] as number;
      if (window.length > 0 && length(from(), end) > size) {
        emit(from(), bounds[piece] as number);
        while (
          window.length > 0 &&
          (length(from(), bounds[piece] as number) > overlap || length(from(), end) > size)
        ) {
          window = window.slice(1);
        }
      }
      window.push(piece);
    }
    if (window.length > 0) emit(bounds[window[0] as number] as number, bounds.at(-1) as number);
  };
  const split = (start: number, end: number, level: number) => {
    let bounds: number[] = [];
    let used = level;
    for (; used <= separators.length; used++) {
      bounds = [start];
      if (used === separators.length) {
        for (const character of text.slice(start, end))
          bounds.push((bounds.at(-1) as number) + character.length);
        bounds.pop();
      } else {
        for (const match of text.slice(start, end).matchAll(separators[used] as RegExp)) {
          const cut = start + match.index + match[0].length;
          if (cut < end) bounds.push(cut);
        }
      }
      bounds.push(end);
      if (bounds.length > 2) break;
    }
    let run: number[] = [];
    for (let piece = 0; piece < bounds.length - 1; piece++) {
      const pieceStart = bounds[piece] as number;
      const pieceEnd = bounds[piece + 1] as number;
      if (length(pieceStart, pieceEnd) <= size) {
        if (run.length === 0) run.push(pieceStart);
        run.push(pieceEnd);
        continue;
      }
      if (run.length > 0) merge(run);
      run = [];
      if (used >= separators.length) emit(pieceStart, pieceEnd);
      else split(pieceStart, pieceEnd, used + 1);
    }
    if (run.length > 0) merge(run);
  };
  if (length(0, text.length) <= size) emit(0, text.length);
  else split(0, text.length, 0);
  return spans;
}

describe('recursive strategy', () => {
  it('keeps paragraphs whole when they fit, merging small ones', () => {
    const text = 'First paragraph here.\n\nSecond one.\n\nThird paragraph is a bit longer than the others.';
    // The third paragraph (48 characters) has no sentence break inside: it is cut at words.
    expect(texts(text, characters(40, 0))).toEqual([
      'First paragraph here.\n\nSecond one.',
      'Third paragraph is a bit longer than the',
      'others.',
    ]);
  });

  it('splits an oversized paragraph at sentences, keeping the period with its sentence', () => {
    const text = 'One two three. Four five six! Seven eight nine? Ten.';
    expect(texts(text, characters(30, 0))).toEqual([
      'One two three. Four five six!',
      'Seven eight nine? Ten.',
    ]);
  });

  it('carries whole trailing pieces worth at most `overlap` into the next chunk', () => {
    const text = 'aa bb cc dd ee ff gg';
    // Words are the pieces here: each chunk holds at most 8 characters, the next starts with
    // the previous chunk's last words as long as they total at most `overlap` characters.
    expect(texts(text, characters(8, 4))).toEqual(['aa bb cc', 'cc dd ee', 'ee ff gg']);
    expect(texts(text, characters(8, 1))).toEqual(['aa bb cc', 'dd ee ff', 'gg']);
  });

  it('carries no overlap that would leave no room for the next piece', () => {
    // "bb" fits the overlap, but "bb cccccccc" would not fit a chunk: LangChain drops it too.
    expect(texts('aa bb cccccccc', characters(10, 5))).toEqual(['aa bb', 'cccccccc']);
  });

  it('cuts a piece with no separator at code points, never inside a surrogate pair', () => {
    expect(texts('abcdefghij', characters(4, 1))).toEqual(['abcd', 'defg', 'ghij']);
    expect(texts('😀😀😀', characters(3, 0))).toEqual(['😀', '😀', '😀']);
    // At size 1, an astral character (two UTF-16 units) cannot fit: it is a chunk of its own.
    expect(texts('a😀b', characters(1, 0))).toEqual(['a', '😀', 'b']);
  });

  it('measures in tokens when asked, never over the budget', () => {
    const text = 'The quick brown fox jumps over the lazy dog. '.repeat(20);
    const chunks = chunkText(document(text), tokens(16, 4));
    expect(chunks.length).toBeGreaterThan(10);
    for (const chunk of chunks) expect(chunk.tokenCount).toBeLessThanOrEqual(16);
  });

  it('gives nothing for blank text and one trimmed chunk for text that fits', () => {
    expect(texts('  \n\n  ', characters(10, 0))).toEqual([]);
    expect(chunkText(document('\n  short text \n'), characters(100, 10))).toMatchObject([
      { text: 'short text', start: 3, end: 13, wordCount: 2 },
    ]);
  });

  it('rejects budgets that cannot make progress', () => {
    const budget = (size: number, overlap: number) => ({ size, overlap, measure: measureCharacters });
    expect(() => recursiveSpans('abc', 0, 3, budget(0, 0))).toThrow(RangeError);
    expect(() => recursiveSpans('abc', 0, 3, budget(4, 3))).toThrow(RangeError);
  });

  it('property: matches the slow reference in characters, exactly', () => {
    fc.assert(
      fc.property(
        fc.oneof(proseText(200), unicodeText(80), longWords),
        fc.integer({ min: 1, max: 60 }),
        fc.double({ min: 0, max: 0.5, noNaN: true }),
        (text, size, overlapRatio) => {
          const overlap = Math.floor(size * overlapRatio);
          const budget = { size, overlap, measure: measureCharacters };
          expect(recursiveSpans(text, 0, text.length, budget)).toEqual(referenceSpans(text, size, overlap));
        },
      ),
      { numRuns: 500 },
    );
  });

  const cases = fc.record({
    text: fc.oneof(proseText(250), unicodeText(100), longWords),
    size: fc.integer({ min: 1, max: 80 }),
    overlapRatio: fc.double({ min: 0, max: 0.5, noNaN: true }),
    unit: fc.constantFrom('characters', 'tokens'),
    tokenizer: fc.constantFrom(...tokenizerNames),
    pageCuts: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 4 }),
  });

  it('property: in order, covering, within budget, overlapping by at most `overlap`', () => {
    fc.assert(
      fc.property(cases, ({ text, size, overlapRatio, unit, tokenizer, pageCuts }) => {
        const overlap = Math.floor(size * overlapRatio);
        const doc = { text, headings: [], pages: pagesFor(text, pageCuts) };
        const settings = { strategy: 'recursive', size, overlap, unit, tokenizer } as const;
        const chunks = chunkText(doc, settings);
        expectChunkInvariants(doc, settings, chunks);
        const measure = (chunkText: string) =>
          unit === 'characters' ? chunkText.length : referenceTokens(chunkText, tokenizer);
        chunks.forEach((chunk, k) => {
          expect(chunk.text).toBe(chunk.text.trim());
          if ([...chunk.text].length > 1) expect(measure(chunk.text)).toBeLessThanOrEqual(size);
          const previous = chunks[k - 1];
          if (previous && chunk.start < previous.end) {
            expect(measure(text.slice(chunk.start, previous.end))).toBeLessThanOrEqual(overlap);
          }
        });
      }),
      { numRuns: 400 },
    );
  });
});
