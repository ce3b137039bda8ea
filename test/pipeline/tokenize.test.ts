import fc from 'fast-check';
import cl100kRanks from 'gpt-tokenizer/bpeRanks/cl100k_base';
import o200kRanks from 'gpt-tokenizer/bpeRanks/o200k_base';
import { decode as decodeCl100k, encode as encodeCl100k } from 'gpt-tokenizer/encoding/cl100k_base';
import { decode as decodeO200k, encode as encodeO200k } from 'gpt-tokenizer/encoding/o200k_base';
import { describe, expect, it } from 'vitest';
import { type TokenizerName, tokenizerNames } from '../../src/pipeline/chunk/settings.js';
import {
  countTokens,
  encodeTokens,
  pieceTableFill,
  splitPatternOf,
  TokenizedText,
} from '../../src/pipeline/tokenize.js';
import { edgyText, proseText, unicodeText } from './chunk/arbitraries.js';
import { referenceTokens } from './chunk/oracles.js';

/** A seeded PRNG (mulberry32), so the search for colliding pieces is the same every run. */
function mulberry(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PLAIN = { disallowedSpecial: new Set<string>() };

describe('countTokens', () => {
  it('counts in cl100k_base unless told otherwise', () => {
    expect(countTokens('hello world')).toBe(2);
    expect(countTokens('hello world', 'o200k_base')).toBe(2);
    expect(countTokens('')).toBe(0);
  });

  it('counts special-token strings as the plain text they are, wherever they are', () => {
    // "<|endoftext|>" is 7 ordinary tokens in cl100k_base; as a special token it would be 1.
    for (const tokenizer of tokenizerNames) {
      const plain = referenceTokens('<|endoftext|>', tokenizer);
      expect(plain).toBeGreaterThan(1);
      expect(countTokens('<|endoftext|>', tokenizer)).toBe(plain);
      for (const text of ['a <|endoftext|> b', 'x<|im_start|>', '<|endoftext|><|endoftext|>']) {
        expect(countTokens(text, tokenizer)).toBe(referenceTokens(text, tokenizer));
      }
      expect(() => countTokens('<|fim_prefix|><|im_start|><|endofprompt|>', tokenizer)).not.toThrow();
    }
    expect(encodeTokens('<|endoftext|>')).toEqual(
      encodeCl100k('<|endoftext|>', { disallowedSpecial: new Set() }),
    );
    // gpt-tokenizer's `allowedSpecial: 'all'` only sees a special token at the start of the text,
    // which is why it is not used: the same string would count 1 here and 7 one character later.
    expect(encodeCl100k('<|endoftext|>', { allowedSpecial: 'all' })).toHaveLength(1);
    expect(encodeCl100k(' <|endoftext|>', { allowedSpecial: 'all' }).length).toBeGreaterThan(2);
  });

  it('property: equals gpt-tokenizer on any text, in both tokenizers', () => {
    fc.assert(
      fc.property(unicodeText(60), fc.constantFrom(...tokenizerNames), (text, tokenizer) => {
        expect(countTokens(text, tokenizer)).toBe(referenceTokens(text, tokenizer));
      }),
      { numRuns: 400 },
    );
  });
});

describe('the piece cache', () => {
  it('counts pieces of every cached length exactly, as it grows, fills and starts over', () => {
    // 85,000 distinct letter runs of 1 to 64 characters, each a piece with the space before it
    // (2 to 65 units: inline in a slot up to 12, in the arena up to 64, uncounted by the cache
    // beyond): the table doubles five times, then holds 81,920 before it starts over; each piece
    // is counted twice.
    const letters = 'abcdefghijklmnopqrstuvwxyzéß中文';
    const pieces: string[] = [];
    for (let i = 0; pieces.length < 85_000; i++) {
      let word = '';
      for (let n = i; word.length < 1 + (i % 64); n = Math.floor(n / letters.length) + i)
        word += letters[n % letters.length];
      pieces.push(word);
    }
    expect(new Set(pieces).size).toBeGreaterThan(82_000);
    const text = ` ${pieces.join(' ')}`;
    for (let round = 0; round < 2; round++) {
      for (let at = 0; at < pieces.length; at += 5_000) {
        const slice = ` ${pieces.slice(at, at + 5_000).join(' ')}`;
        expect(countTokens(slice)).toBe(referenceTokens(slice, 'cl100k_base'));
      }
    }
    expect(countTokens(text)).toBe(referenceTokens(text, 'cl100k_base'));
  });

  it('keeps each piece its own token cuts when the table grows', () => {
    // Cuts are kept by slot, and growing moves pieces to other slots: pieces whose cuts were
    // cached before a growth, and new pieces landing on their old slots, must both cut right.
    const random = mulberry(11);
    const words = (count: number) =>
      Array.from({ length: count }, () => {
        let word = ' ';
        while (word.length < 11) word += String.fromCharCode(97 + Math.floor(random() * 26));
        return word;
      }).join('');
    const cutsMatch = (text: string) => {
      const { offsets, count } = new TokenizedText(text).tokenBoundaries();
      const ids = encodeCl100k(text, PLAIN);
      expect(count).toBe(ids.length);
      for (let b = 0; b < count; b++)
        expect(text.slice(offsets[b], offsets[b + 1])).toBe(decodeCl100k([ids[b] as number]));
    };
    const before = words(3_000);
    cutsMatch(before);
    const filled = pieceTableFill();
    countTokens(words(20_000));
    const grown = pieceTableFill();
    // Grown, or (had it been at its largest) started over: either way the slots were remade.
    expect(grown.slots > filled.slots || grown.used < filled.used).toBe(true);
    cutsMatch(words(3_000));
    cutsMatch(before);
  });

  it('tells apart pieces whose hashes collide', () => {
    // The table's hash (FNV-1a over UTF-16 units, low bit set); equal hashes and lengths share a
    // probe sequence, so only the characters' comparison can tell such pieces apart.
    const hashOf = (piece: string) => {
      let hash = 0x811c9dc5;
      for (let at = 0; at < piece.length; at++) hash = Math.imul(hash ^ piece.charCodeAt(at), 0x01000193);
      return hash | 1;
    };
    const random = mulberry(7);
    for (const length of [8, 20]) {
      // Birthday bound: a few hundred thousand random pieces give a colliding pair of different counts.
      const seen = new Map<number, string>();
      let pair: [string, string] | undefined;
      while (pair === undefined) {
        let piece = ' ';
        while (piece.length < length) piece += String.fromCharCode(97 + Math.floor(random() * 26));
        const other = seen.get(hashOf(piece));
        if (
          other !== undefined &&
          other !== piece &&
          countTokens(other) !== referenceTokens(piece, 'cl100k_base')
        )
          pair = [other, piece];
        else seen.set(hashOf(piece), piece);
      }
      for (const piece of [...pair, ...pair])
        expect(countTokens(piece)).toBe(referenceTokens(piece, 'cl100k_base'));
    }
  });
});

describe('long pieces', () => {
  // One piece of the split pattern (a run of letters, of spaces) longer than 256 characters is
  // byte-pair encoded by ingestd's own heap-based merge instead of gpt-tokenizer's quadratic one.
  const longPiece = fc
    .tuple(
      fc.constantFrom(
        ['a', 'b', 'ab', 'the', 'e'],
        [' '],
        ['中', '文', '鬱', 'é'],
        ['a', 'é', '中', 'x', 'yz', 'ß'],
      ),
      fc.integer({ min: 257, max: 1200 }),
      fc.array(fc.nat(), { minLength: 1200, maxLength: 1200 }),
    )
    .map(([alphabet, length, picks]) => {
      let text = '';
      for (let i = 0; text.length < length; i++) text += alphabet[(picks[i] as number) % alphabet.length];
      return text;
    });

  it('property: encodes them to exactly the tokens gpt-tokenizer does', () => {
    fc.assert(
      fc.property(longPiece, fc.constantFrom(...tokenizerNames), (text, tokenizer) => {
        const expected = tokenizer === 'o200k_base' ? encodeO200k(text, PLAIN) : encodeCl100k(text, PLAIN);
        expect(encodeTokens(text, tokenizer)).toEqual(expected);
        expect(countTokens(text, tokenizer)).toBe(expected.length);
      }),
      { numRuns: 60 },
    );
  });

  it('counts a run of 300,000 spaces in well under a second (gpt-tokenizer: minutes)', () => {
    const started = performance.now();
    expect(countTokens(`${' '.repeat(300_000)}x`)).toBeGreaterThan(1000);
    expect(performance.now() - started).toBeLessThan(3000);
  });
});

describe('TokenizedText', () => {
  // A text and a range of it, with the range's ends biased toward interesting places.
  const textAndRange = (text: fc.Arbitrary<string>) =>
    text.chain((t) =>
      fc.record({
        text: fc.constant(t),
        start: fc.nat({ max: t.length }),
        length: fc.oneof(fc.nat({ max: 12 }), fc.nat({ max: t.length })),
        tokenizer: fc.constantFrom(...tokenizerNames),
      }),
    );

  it('property: counts any range exactly as if it were encoded on its own', () => {
    fc.assert(
      fc.property(
        textAndRange(fc.oneof(unicodeText(80), proseText(120), edgyText(40))),
        ({ text, start, length, tokenizer }) => {
          const end = Math.min(text.length, start + length);
          const tokenized = new TokenizedText(text, tokenizer);
          expect(tokenized.tokenCount).toBe(referenceTokens(text, tokenizer));
          expect(tokenized.count(start, end)).toBe(referenceTokens(text.slice(start, end), tokenizer));
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('counts ranges at the cases the proof of exactness turns on', () => {
    const cases = [
      'a   1', // a whitespace run before a digit splits as "  " + " " in the text, "   " at its end
      'word \n\n  next',
      'unbelievable things',
      '1234567 89',
      "it's they'll",
      '   ',
      'x\u3000\u3000y',
      '中文字符测试 😀👍🏽',
      'tail spaces    ',
      '|>\ud800𪚥, é', // a range ending inside 𪚥 ends in a lone surrogate the text does not have
      "\t𪚥's 15", // one starting inside it begins with one
    ];
    for (const tokenizer of tokenizerNames) {
      for (const text of cases) {
        const tokenized = new TokenizedText(text, tokenizer);
        for (let start = 0; start <= text.length; start++) {
          for (let end = start; end <= text.length; end++) {
            expect([text, start, end, tokenized.count(start, end)]).toEqual([
              text,
              start,
              end,
              referenceTokens(text.slice(start, end), tokenizer),
            ]);
          }
        }
      }
    }
  });

  it('relies on split patterns without look-behind whose look-aheads end whitespace runs', () => {
    // TokenizedText.count is exact because of this shape (see its comment): if gpt-tokenizer
    // changes its patterns, this test says the argument needs checking again.
    for (const tokenizer of tokenizerNames) {
      const source = splitPatternOf(tokenizer).source;
      expect(source).not.toMatch(/\(\?<[=!]/);
      const outsideClasses = source.replace(/\[(?:\\.|[^\]\\])*\]/g, '');
      const assertions = outsideClasses.match(/\(\?[=!][^)]*\)|\$|\\b|\\B|\^/g) ?? [];
      expect(new Set(assertions)).toEqual(
        new Set(tokenizer === 'cl100k_base' ? ['$', '(?!\\S)'] : ['(?!\\S)']),
      );
      expect(source).toMatch(tokenizer === 'cl100k_base' ? /\\s\+\$\|.*\\s\+\(\?!\\S\)/ : /\\s\+\(\?!\\S\)/);
    }
  });

  it('maps token boundaries to UTF-16 offsets, flagging those inside a character', () => {
    const text = 'héllo 中文 😀 鬱 𠀋';
    const tokenized = new TokenizedText(text);
    const { offsets, insideCharacter, count } = tokenized.tokenBoundaries();
    const ids = encodeCl100k(text, { disallowedSpecial: new Set() });
    expect(count).toBe(ids.length);
    expect(offsets[0]).toBe(0);
    expect(offsets[count]).toBe(text.length);
    // Between two valid boundaries, the text is exactly what the tokens decode to.
    const valid = [...Array(count + 1).keys()].filter((b) => insideCharacter[b] === 0);
    expect(valid.length).toBeLessThan(count + 1); // some token of this text splits a character
    for (let i = 1; i < valid.length; i++) {
      const from = valid[i - 1] as number;
      const to = valid[i] as number;
      expect(text.slice(offsets[from], offsets[to])).toBe(decodeCl100k(ids.slice(from, to)));
    }
  });

  it('property: token boundaries ascend and slice the text into the tokens it encodes to', () => {
    fc.assert(
      fc.property(unicodeText(40), fc.constantFrom(...tokenizerNames), (text, tokenizer) => {
        const { offsets, insideCharacter, count } = new TokenizedText(text, tokenizer).tokenBoundaries();
        const ids = encodeTokens(text, tokenizer);
        expect(count).toBe(ids.length);
        expect(offsets[count]).toBe(text.length);
        const wellFormed = text.toWellFormed(); // lone surrogates are encoded as U+FFFD
        for (let b = 1; b <= count; b++) {
          const offset = offsets[b] as number;
          expect(offset).toBeGreaterThanOrEqual(offsets[b - 1] as number);
          if (insideCharacter[b] === 0) {
            expect(decoders[tokenizer](ids.slice(0, b))).toBe(wellFormed.slice(0, offset));
          } else {
            // The cut lies strictly inside the character that starts at `offset`.
            const before = Buffer.byteLength(wellFormed.slice(0, offset));
            const character = String.fromCodePoint(wellFormed.codePointAt(offset) as number);
            const bytes = tokenBytes(ids.slice(0, b), tokenizer);
            expect(bytes).toBeGreaterThan(before);
            expect(bytes).toBeLessThan(before + Buffer.byteLength(character));
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});

const decoders = { cl100k_base: decodeCl100k, o200k_base: decodeO200k };

/** UTF-8 bytes of a token sequence, from the vocabularies (a token may hold part of a character). */
function tokenBytes(ids: number[], tokenizer: TokenizerName): number {
  const ranks = tokenizer === 'o200k_base' ? o200kRanks : cl100kRanks;
  let bytes = 0;
  for (const id of ids) {
    const rank = ranks[id] as string | number[];
    bytes += typeof rank === 'string' ? Buffer.byteLength(rank) : rank.length;
  }
  return bytes;
}
