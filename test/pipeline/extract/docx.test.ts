import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { extractorFor } from '../../../src/pipeline/extract/index.js';
import { readFixture } from '../../fixtures/read-fixture.js';
import { expectDocumentError, limits, timed } from './helpers.js';
import { deflatedZeros, rawZip, storedEntry } from './hostile-zips.js';

const extractDocx = extractorFor('application/vnd.openxmlformats-officedocument.wordprocessingml.document');
const contentTypes = storedEntry('[Content_Types].xml', '<Types/>');

describe('extractDocx', () => {
  it('reads paragraphs, keeps Heading 1/2 styles as headings and table rows as lines', async () => {
    const result = await extractDocx(readFixture('report.docx'), limits());
    expect(result.text).toBe(
      'Quarterly report\n\nSales grew in every region.\n\nNorth\n\nNorth sold 120 units.\n\n' +
        'South\n\nSouth sold 80 units.\n\nRegion Units\nNorth 120',
    );
    expect(result.headings).toEqual([
      { level: 1, title: 'Quarterly report', start: 0 },
      { level: 2, title: 'North', start: 47 },
      { level: 2, title: 'South', start: 77 },
    ]);
    for (const heading of result.headings)
      expect(result.text.startsWith(heading.title, heading.start)).toBe(true);
    expect(result.pages).toEqual([]);
  });

  it('fails a "DOCX" that is not a zip as corrupt', async () => {
    await expectDocumentError(extractDocx(Buffer.from('just some text, no zip here'), limits()), 'corrupt');
  });

  it('fails a zip without a Word document in it as corrupt', async () => {
    await expectDocumentError(extractDocx(rawZip([contentTypes]), limits()), 'corrupt');
  });

  it('refuses a zip-bomb DOCX (500 MiB of zeros in word/document.xml) in milliseconds', async () => {
    const bomb = rawZip([
      contentTypes,
      { name: 'word/document.xml', data: deflatedZeros(500), method: 8, declaredSize: 500 * 2 ** 20 },
    ]);
    const { ms } = await timed(() => expectDocumentError(extractDocx(bomb, limits()), 'too_large'));
    expect(ms).toBeLessThan(500);
  });

  it('refuses the same bomb when its header claims a harmless size', async () => {
    const bomb = rawZip([
      contentTypes,
      { name: 'word/document.xml', data: deflatedZeros(500), method: 8, declaredSize: 4096, crc: crc32('') },
    ]);
    const { ms } = await timed(() => expectDocumentError(extractDocx(bomb, limits()), 'too_large'));
    expect(ms).toBeLessThan(500);
  });

  it('refuses XML nested deeper than maxNestingDepth before mammoth walks it recursively', async () => {
    const depth = 10_000;
    const document = `<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>${'<w:sdt>'.repeat(depth)}${'</w:sdt>'.repeat(depth)}</w:body></w:document>`;
    const docx = rawZip([contentTypes, storedEntry('word/document.xml', document)]);
    await expectDocumentError(extractDocx(docx, limits()), 'too_large');
  });

  it('fails a document with no text as empty', async () => {
    const document =
      '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p/></w:body></w:document>';
    const docx = rawZip([
      contentTypes,
      storedEntry(
        '_rels/.rels',
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
      ),
      storedEntry('word/document.xml', document),
    ]);
    await expectDocumentError(extractDocx(docx, limits()), 'empty');
  });
});
