import { describe, expect, it } from 'vitest';
import { extractorFor } from '../../../src/pipeline/extract/index.js';
import { readFixture } from '../../fixtures/read-fixture.js';
import { expectDocumentError, limits } from './helpers.js';

const extractCsv = extractorFor('text/csv');
const textOf = async (csv: string): Promise<string> => (await extractCsv(Buffer.from(csv), limits())).text;

describe('extractCsv', () => {
  it('writes each row as header: value pairs, quoted fields and a BOM handled', async () => {
    expect(await extractCsv(readFixture('people.csv'), limits())).toEqual({
      text:
        'name: Ada Lovelace; city: London; quote: Poetical science, she said\n' +
        'name: Grace "Amazing" Hopper; city: New York; quote: It is easier to ask forgiveness\n' +
        'name: Alan Turing; quote: Machines',
      headings: [],
      pages: [],
    });
  });

  it('detects semicolon and tab delimiters from the header line', async () => {
    expect(await textOf('a;b\n"1,5";2\n')).toBe('a: 1,5; b: 2');
    expect(await textOf('a\tb\n1\t2\n')).toBe('a: 1; b: 2');
  });

  it('names columns without a header and tolerates ragged rows', async () => {
    expect(await textOf('a,\n1,2,3\n')).toBe('a: 1; column 2: 2; column 3: 3');
  });

  it('writes a header-only file as its header names', async () => {
    expect(await textOf('name,city\n')).toBe('name; city');
  });

  it('fails an unterminated quoted field as corrupt and an empty file as empty', async () => {
    await expectDocumentError(extractCsv(Buffer.from('a,b\n"never closed,1\n'), limits()), 'corrupt');
    await expectDocumentError(extractCsv(Buffer.from('\ufeff\n'), limits()), 'empty');
  });
});
