import { crc32, inflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { listZipEntries, readZip, writeZip } from '../../../src/pipeline/extract/zip.js';
import { expectDocumentError, limits, timed } from './helpers.js';
import { deflatedZeros, rawZip, storedEntry } from './hostile-zips.js';

const text = (bytes: Uint8Array | undefined): string => new TextDecoder().decode(bytes);

describe('readZip', () => {
  it('reads back what writeZip wrote, stored or deflated, picking entries by name', () => {
    const files: [string, Uint8Array][] = [
      ['a.xml', Buffer.from('<a/>'.repeat(100))],
      ['media/b.png', Buffer.from([1, 2, 3])],
      ['folder/', Buffer.alloc(0)],
    ];
    for (const compress of [undefined, () => true]) {
      const zip = writeZip(files, compress === undefined ? {} : { compress });
      expect(listZipEntries(zip, limits()).map((entry) => entry.name)).toEqual([
        'a.xml',
        'media/b.png',
        'folder/',
      ]);
      const read = readZip(zip, limits(), (name) => name.endsWith('.xml'));
      expect([...read.keys()]).toEqual(['a.xml']);
      expect(text(read.get('a.xml'))).toBe('<a/>'.repeat(100));
    }
  });

  it('has zlib stop at the declared size: the sanity check behind every cap', () => {
    expect(() => inflateRawSync(deflatedZeros(2), { maxOutputLength: 1024 })).toThrowError(
      expect.objectContaining({ code: 'ERR_BUFFER_TOO_LARGE' }),
    );
  });

  it('refuses an honest 500 MiB bomb by its ratio before inflating anything', async () => {
    const bomb = deflatedZeros(500);
    const zip = rawZip([{ name: 'zeros.xml', data: bomb, method: 8, declaredSize: 500 * 2 ** 20 }]);
    const { ms } = await timed(() => expectDocumentError(async () => readZip(zip, limits()), 'too_large'));
    expect(ms).toBeLessThan(500);
  });

  it('stops a bomb whose header lies about its size as soon as inflation passes the lie', async () => {
    const zip = rawZip([{ name: 'zeros.xml', data: deflatedZeros(500), method: 8, declaredSize: 1000 }]);
    const { ms } = await timed(async () => {
      const error = await expectDocumentError(async () => readZip(zip, limits()), 'too_large');
      expect(error.message).toMatch(/inflates past the 1000 bytes it declares/);
    });
    expect(ms).toBeLessThan(500);
  });

  it('refuses more entries than maxZipEntries before reading the directory', async () => {
    const zip = rawZip(Array.from({ length: 11 }, (_, index) => storedEntry(`${index}.xml`, '<a/>')));
    await expectDocumentError(async () => listZipEntries(zip, limits({ maxZipEntries: 10 })), 'too_large');
  });

  it('refuses entries whose declared sizes add up to more than maxInflatedBytes', async () => {
    const zip = rawZip([storedEntry('a.xml', 'x'.repeat(600)), storedEntry('b.xml', 'y'.repeat(600))]);
    await expectDocumentError(async () => readZip(zip, limits({ maxInflatedBytes: 1000 })), 'too_large');
    expect(readZip(zip, limits({ maxInflatedBytes: 1200 })).size).toBe(2);
  });

  it('fails entries that are encrypted, damaged, truncated or oddly compressed', async () => {
    const good = storedEntry('a.xml', '<a/>');
    await expectDocumentError(async () => readZip(rawZip([{ ...good, flags: 1 }]), limits()), 'encrypted');
    await expectDocumentError(async () => readZip(rawZip([{ ...good, crc: 1 }]), limits()), 'corrupt');
    await expectDocumentError(
      async () => readZip(rawZip([{ ...good, declaredSize: 3 }]), limits()),
      'corrupt',
    );
    await expectDocumentError(
      async () => readZip(rawZip([{ ...good, method: 12 as 8 }]), limits()),
      'corrupt',
    );
    await expectDocumentError(async () => readZip(rawZip([good, good]), limits()), 'corrupt');
    const deflated = {
      name: 'a.xml',
      data: Buffer.from([0xff, 0xff, 0xff]),
      method: 8 as const,
      declaredSize: 4,
    };
    await expectDocumentError(
      async () => readZip(rawZip([{ ...deflated, crc: crc32('<a/>') }]), limits()),
      'corrupt',
    );
    const zip = rawZip([good]);
    await expectDocumentError(async () => readZip(zip.subarray(0, zip.length - 30), limits()), 'corrupt');
    await expectDocumentError(
      async () => readZip(Buffer.from('PK\u0003\u0004 not really'), limits()),
      'corrupt',
    );
  });
});
