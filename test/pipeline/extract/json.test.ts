import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { extractorFor } from '../../../src/pipeline/extract/index.js';
import { jsonDepth } from '../../../src/pipeline/extract/json.js';
import { readFixture } from '../../fixtures/read-fixture.js';
import { expectDocumentError, limits, timed } from './helpers.js';

const extractJson = extractorFor('application/json');
const textOf = async (json: string): Promise<string> => (await extractJson(Buffer.from(json), limits())).text;

describe('extractJson', () => {
  it('writes one key path and value per line, in document order', async () => {
    expect((await extractJson(readFixture('order.json'), limits())).text).toBe(
      [
        'order.id: 42',
        'order.paid: true',
        'order.customer.name: Ada',
        'order.customer.e-mail: ada@example.org',
        'order.customer["home town"]: London',
        'order.items[0].sku: A-1',
        'order.items[0].qty: 2',
        'order.items[1].sku: B-2',
        'order.items[1].qty: 1',
        'order.items[1].note: null',
        'order.tags: []',
      ].join('\n'),
    );
  });

  it('handles top-level arrays and scalars, and keeps a value one line', async () => {
    expect(await textOf('[{"a": "x\\ny"}, 2]')).toBe('[0].a: x y\n[1]: 2');
    expect(await textOf('"just a string"')).toBe('just a string');
  });

  it('refuses JSON nested 100,000 deep quickly, without a stack overflow', async () => {
    const deep = `${'{"a":['.repeat(50_000)}1${']}'.repeat(50_000)}`;
    const { ms } = await timed(() =>
      expectDocumentError(extractJson(Buffer.from(deep), limits()), 'too_large'),
    );
    expect(ms).toBeLessThan(1_000);
  });

  it('accepts nesting up to maxNestingDepth, brackets inside strings not counted', async () => {
    const json = `${'['.repeat(4)}"]]]][[[[[["${']'.repeat(4)}`;
    expect(await extractJson(Buffer.from(json), limits({ maxNestingDepth: 4 }))).toMatchObject({
      text: '[0][0][0][0]: ]]]][[[[[[',
    });
  });

  it('fails invalid JSON as corrupt and an empty object as empty', async () => {
    await expectDocumentError(extractJson(Buffer.from('{"a": 1,}'), limits()), 'corrupt');
    await expectDocumentError(extractJson(Buffer.from('{}'), limits()), 'empty');
  });
});

describe('jsonDepth', () => {
  /** The plain character-by-character scan the fast one must agree with. */
  function slowDepth(text: string): number {
    let depth = 0;
    let deepest = 0;
    let inString = false;
    for (let index = 0; index < text.length; index++) {
      const code = text.charCodeAt(index);
      if (inString) {
        if (code === 0x5c) index++;
        else if (code === 0x22) inString = false;
      } else if (code === 0x22) inString = true;
      else if (code === 0x7b || code === 0x5b) deepest = Math.max(deepest, ++depth);
      else if (code === 0x7d || code === 0x5d) depth--;
    }
    return deepest;
  }

  it('agrees with a character-by-character scan on any JSON, escapes and all', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 12 }), (value) => {
        const text = JSON.stringify(value);
        expect(jsonDepth(text)).toBe(slowDepth(text));
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('"', '\\', '[', ']', '{', '}', 'a') }), (text) => {
        expect(jsonDepth(text)).toBe(slowDepth(text));
      }),
      { numRuns: 2000 },
    );
  });
});
