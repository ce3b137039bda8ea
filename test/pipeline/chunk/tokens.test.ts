import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chunkText } from '../../../src/pipeline/chunk/index.js';
import { type TokenizerName, tokenizerNames } from '../../../src/pipeline/chunk/settings.js';
import { tokenSpans } from '../../../src/pipeline/chunk/tokens.js';
import { encodeTokens, TokenizedText } from '../../../src/pipeline/tokenize.js';
import { pagesFor, proseText, unicodeText } from './arbitraries.js';
import { expectChunkInvariants } from './invariants.js';
import { isCharacterBoundary } from './oracles.js';

const document = (text: string) => ({ text, headings: [], pages: [] });
const tokens = (size: number, overlap: number, tokenizer: TokenizerName = 'cl100k_base') =>
  ({ strategy: 'tokens', size, overlap, tokenizer }) as const;

describe('tokens strategy', () => {
  it('cuts between tokens, sharing exactly `overlap` tokens', () => {
    // cl100k_base: "hello" " world" " foo" " bar" " baz"
    const chunks = chunkText(document('hello world foo bar baz'), tokens(2, 1));
    expect(chunks.map((c) => c.text)).toEqual(['hello world', ' world foo', ' foo bar', ' bar baz']);
    expect(chunks.map((c) => [c.start, c.end])).toEqual([
      [0, 11],
      [5, 15],
      [11, 19],
      [15, 23],
    ]);
    expect(chunks.map((c) => c.tokenCount)).toEqual([2, 2, 2, 2]);
    expect(chunks.map((c) => c.wordCount)).toEqual([2, 2, 2, 2]);
  });

  it('ends with the first window that reaches the last token, and gives none for empty text', () => {
    expect(chunkText(document('one two three four five'), tokens(3, 0)).map((c) => c.text)).toEqual([
      'one two three',
      ' four five',
    ]);
    expect(chunkText(document(''), tokens(3, 1))).toEqual([]);
    expect(chunkText(document(' \n\n '), tokens(3, 1))).toEqual([]);
  });

  it('never cuts inside a character that spans several tokens', () => {
    // "𠀋" (U+2000B) is four UTF-8 bytes, several byte tokens in cl100k_base.
    const text = '𠀋𠀋𠀋𠀋';
    const ids = encodeTokens(text);
    expect(ids.length).toBeGreaterThan(4);
    const chunks = chunkText(document(text), tokens(4, 0));
    for (const chunk of chunks) {
      expect(chunk.text).toBe(chunk.text.toWellFormed());
      expect(chunk.tokenCount).toBeLessThanOrEqual(4);
    }
    expect(chunks.map((c) => c.text).join('')).toBe(text);
  });

  it('puts a character worth more tokens than `size` in a chunk of its own', () => {
    const text = 'a𠀋b';
    const chunks = chunkText(document(text), tokens(1, 0));
    expect(chunks.map((c) => c.text)).toEqual(['a', '𠀋', 'b']);
    expect(chunks[1]?.tokenCount).toBeGreaterThan(1);
  });

  it('counts special-token strings as text and measures in the named tokenizer', () => {
    const text = 'before <|endoftext|> after';
    for (const tokenizer of tokenizerNames) {
      const chunks = chunkText(document(text), tokens(100, 0, tokenizer));
      expect(chunks).toHaveLength(1);
      expect(chunks[0]?.tokenCount).toBe(encodeTokens(text, tokenizer).length);
    }
  });

  it('shortens a window whose own text re-encodes to more than `size` tokens', () => {
    // Rare in practice (random texts never showed it: a range re-encoded on its own gave the same
    // count or fewer), so a stand-in tokenization that over-counts long ranges forces the case.
    const real = new TokenizedText('aa bb cc dd ee ff gg hh');
    const overCounting = {
      tokenBoundaries: () => real.tokenBoundaries(),
      count: (start: number, end: number) => real.count(start, end) + (end - start > 6 ? 2 : 0),
    };
    const spans = tokenSpans(overCounting, 4, 1);
    for (const span of spans) expect(overCounting.count(span.start, span.end)).toBeLessThanOrEqual(4);
    expect(spans.at(-1)?.end).toBe(real.text.length);
    expect(spans.map((s) => real.text.slice(s.start, s.end))).toEqual([
      'aa bb',
      ' bb cc',
      ' cc dd',
      ' dd ee',
      ' ee ff',
      ' ff gg',
      ' gg hh',
    ]);
  });

  it('rejects budgets that cannot make progress', () => {
    const tokenized = new TokenizedText('a b c');
    expect(() => tokenSpans(tokenized, 0, 0)).toThrow(RangeError);
    expect(() => tokenSpans(tokenized, 4, 3)).toThrow(RangeError);
  });

  const cases = fc.record({
    text: fc.oneof(unicodeText(120), proseText(200)),
    size: fc.integer({ min: 1, max: 40 }),
    overlapRatio: fc.double({ min: 0, max: 0.5, noNaN: true }),
    tokenizer: fc.constantFrom(...tokenizerNames),
    pageCuts: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 4 }),
  });

  it('property: windows of at most `size` tokens, overlapping by exactly `overlap` where cuts allow', () => {
    fc.assert(
      fc.property(cases, ({ text, size, overlapRatio, tokenizer, pageCuts }) => {
        const overlap = Math.floor(size * overlapRatio);
        const doc = { text, headings: [], pages: pagesFor(text, pageCuts) };
        const settings = tokens(size, overlap, tokenizer);
        const chunks = chunkText(doc, settings);
        expectChunkInvariants(doc, settings, chunks);

        // Re-derive the windows in document tokens from the boundaries the chunks land on.
        const tokenized = new TokenizedText(text, tokenizer);
        const { offsets, insideCharacter } = tokenized.tokenBoundaries();
        // Valid boundaries have distinct offsets (an invalid one sits at its character's start).
        const validAt = new Map<number, number>();
        offsets.forEach((offset, b) => {
          if (insideCharacter[b] === 0) validAt.set(offset, b);
        });
        const boundaryAt = (offset: number) => {
          const boundary = validAt.get(offset);
          expect(boundary).toBeDefined();
          return boundary as number;
        };
        const spans = tokenSpans(tokenized, size, overlap);
        spans.forEach((span, k) => {
          expect(isCharacterBoundary(text, span.start) && isCharacterBoundary(text, span.end)).toBe(true);
          const first = boundaryAt(span.start);
          const last = boundaryAt(span.end);
          const ownTokens = tokenized.count(span.start, span.end);
          const single = [...Array(last - first - 1).keys()].every(
            (i) => insideCharacter[first + 1 + i] === 1,
          );
          if (!single) {
            expect(last - first).toBeLessThanOrEqual(size); // document tokens
            expect(ownTokens).toBeLessThanOrEqual(size); // the chunk's own tokens
          }
          const previous = spans[k - 1];
          if (previous) {
            expect(span.start).toBeLessThanOrEqual(previous.end); // no token left out
            const previousEnd = boundaryAt(previous.end);
            const previousStart = boundaryAt(previous.start);
            // Where the window should start: `overlap` tokens back, moved back to a valid cut,
            // or forward to the first valid cut after the previous start.
            const target = previousEnd - overlap;
            let candidate = target;
            while (candidate > previousStart && insideCharacter[candidate] === 1) candidate--;
            if (candidate <= previousStart) {
              candidate = previousStart + 1;
              while (insideCharacter[candidate] === 1) candidate++;
            }
            if (first === candidate && candidate === target) expect(previousEnd - first).toBe(overlap); // exact
            if (first !== candidate) {
              // Overlap dropped: only when the window from the candidate could not pass
              // previousEnd (ignoring re-count shortening, which random texts never trigger).
              expect(first).toBe(previousEnd);
              let reach = Math.min(candidate + size, offsets.length - 1);
              while (reach > candidate && insideCharacter[reach] === 1) reach--;
              if (reach === candidate) {
                reach = candidate + 1;
                while (insideCharacter[reach] === 1) reach++;
              }
              expect(reach).toBeLessThanOrEqual(previousEnd);
            }
          }
        });
        // Windows tile every token: the first starts at 0, the last ends at the end.
        if (spans.length > 0) {
          expect(spans[0]?.start).toBe(0);
          expect(spans.at(-1)?.end).toBe(text.length);
        }
      }),
      { numRuns: 400 },
    );
  });
});
