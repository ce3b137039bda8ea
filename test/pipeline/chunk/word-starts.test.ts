import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileWat, modulePath, moduleSource } from '../../../scripts/compile-wat.mjs';
import {
  javaScriptScanner,
  type WordScanner,
  WordStarts,
  webAssemblyScanner,
} from '../../../src/pipeline/chunk/word-starts.js';

/** Every word start, by the definition the scanner implements: the words of /\S+/g. */
const regexStarts = (text: string) => [...text.matchAll(/\S+/g)].map((match) => match.index);

/** Every word start, by WordStarts, asking for `need` words at a time. */
function scannedStarts(text: string, need = 1, using?: WordScanner): { starts: number[]; words: number } {
  const scanner = new WordStarts(text, using);
  const starts: number[] = [];
  for (;;) {
    const before = scanner.words;
    const at = scanner.find(need);
    if (at < 0) break;
    expect(scanner.words).toBe(before + need);
    starts.push(at);
  }
  return { starts, words: scanner.words };
}

// Every \s character, the ASCII and non-ASCII neighbours of the ranges, a surrogate pair.
const WHITESPACE = [
  '\t',
  '\n',
  '\v',
  '\f',
  '\r',
  ' ',
  '\u00a0',
  '\u1680',
  '\u2000',
  '\u200a',
  '\u2028',
  '\u2029',
];
const MORE_WHITESPACE = ['\u202f', '\u205f', '\u3000', '\ufeff'];
const NOT_WHITESPACE = [
  'a',
  'Z',
  '\b',
  '\u000e',
  '\u001f',
  '!',
  '\u007f',
  '\u0080',
  '\u009f',
  '\u00a1',
  '\u1681',
];
const MORE_NOT_WHITESPACE = [
  '\u1fff',
  '\u200b',
  '\u2027',
  '\u202a',
  '\u3001',
  '\ufefe',
  '\uffff',
  'é',
  '語',
  '😀',
];
const pieces = [...WHITESPACE, ...MORE_WHITESPACE, ...NOT_WHITESPACE, ...MORE_NOT_WHITESPACE];

const simd = webAssemblyScanner();

describe('the WebAssembly scanner', () => {
  it('compiles on this machine (else every walk takes the JavaScript one)', () => {
    expect(simd).toBeDefined();
  });
});

describe.each([
  ['WebAssembly', simd as WordScanner],
  ['JavaScript', javaScriptScanner()],
])('WordStarts with the %s scanner', (_name, scanner) => {
  it('finds the words of /\\S+/g at every \\s character and its neighbours', () => {
    for (const space of [...WHITESPACE, ...MORE_WHITESPACE]) {
      for (const other of [...NOT_WHITESPACE, ...MORE_NOT_WHITESPACE]) {
        const text = `${other}${space}${other}${other}${space}${space}${other}`;
        expect(scannedStarts(text, 1, scanner).starts, JSON.stringify(text)).toEqual(regexStarts(text));
      }
    }
  });

  it('splits words at exactly the UTF-16 code units that JavaScript calls \\s', () => {
    const differing: number[] = [];
    for (let code = 0; code <= 0xffff; code++) {
      const text = `a${String.fromCharCode(code)}a`;
      if (scannedStarts(text, 1, scanner).words !== (/\s/.test(String.fromCharCode(code)) ? 2 : 1)) {
        differing.push(code);
      }
    }
    expect(differing).toEqual([]);
  });

  it('gives no word starts for empty or blank text', () => {
    expect(scannedStarts('', 1, scanner)).toEqual({ starts: [], words: 0 });
    expect(scannedStarts(' \n\u3000 '.repeat(50), 1, scanner)).toEqual({ starts: [], words: 0 });
  });

  it('property: the same starts as /\\S+/g, for any text and any step, across block and window edges', () => {
    const text = fc.array(fc.constantFrom(...pieces), { maxLength: 400 }).chain((chars) =>
      // Repeating pushes texts past the 65,536-unit window and through many 64-unit blocks.
      fc.integer({ min: 1, max: 400 }).map((times) => chars.join('').repeat(times)),
    );
    fc.assert(
      fc.property(text, fc.integer({ min: 1, max: 200 }), (text, need) => {
        const expected = regexStarts(text);
        const { starts, words } = scannedStarts(text, need, scanner);
        expect(words).toBe(expected.length);
        expect(starts).toEqual(expected.filter((_, k) => (k + 1) % need === 0));
      }),
      { numRuns: 200 },
    );
  });

  it('keeps two walks apart when they take turns', () => {
    const first = new WordStarts('a b c d', scanner);
    const second = new WordStarts('  x  y  z', scanner);
    expect([first.find(1), second.find(1), first.find(1), second.find(2), first.find(5)]).toEqual([
      0, 2, 2, 8, -1,
    ]);
    expect([first.words, second.words]).toEqual([4, 3]);
  });

  it('keeps long walks apart when they take turns past their first windows', () => {
    const texts = [1, 2].map((seed) =>
      Array.from({ length: 40_000 }, (_, k) => 'ab'.repeat(((k * seed) % 5) + 1)).join(
        seed === 1 ? ' ' : '\n  ',
      ),
    );
    const walks = texts.map((text) => new WordStarts(text, scanner));
    const found: number[][] = [[], []];
    for (let done = 0; done < 2; ) {
      done = 0;
      for (const [k, walk] of walks.entries()) {
        const at = walk.find(1000);
        if (at < 0) done++;
        else found[k]?.push(at);
      }
    }
    for (const [k, text] of texts.entries()) {
      expect(text.length).toBeGreaterThan(2 * 65_536);
      expect(found[k]).toEqual(regexStarts(text).filter((_, i) => (i + 1) % 1000 === 0));
      expect(walks[k]?.words).toBe(40_000);
    }
  });

  it('refuses to look for no word at all', () => {
    expect(() => new WordStarts('a b', scanner).find(0)).toThrow(RangeError);
  });

  it('counts words started in one window and ended in the next once', () => {
    // A word straddles the 65,536th code unit; a run of whitespace straddles the next window edge.
    const text = `${'a'.repeat(65_530)} ${'b'.repeat(20)}${' '.repeat(65_536)}c`;
    expect(scannedStarts(text, 1, scanner)).toEqual({ starts: [0, 65_531, 131_087], words: 3 });
  });
});

describe('word-starts-wasm.ts', () => {
  it('is word-starts.wat compiled (run `node scripts/compile-wat.mjs` after editing it)', async () => {
    expect(readFileSync(modulePath, 'utf8')).toBe(moduleSource(await compileWat()));
  });
});
