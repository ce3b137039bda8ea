import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  canonicalContentType,
  charsetOf,
  detectContentType,
  isSupportedContentType,
  mediaTypeOf,
} from '../../src/pipeline/detect.js';
import { readFixture } from '../fixtures/read-fixture.js';
import { expectDocumentError } from './extract/helpers.js';
import { rawZip, storedEntry } from './extract/hostile-zips.js';

const docx = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
const xlsx = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const pptx = 'application/vnd.openxmlformats-officedocument.presentationml.presentation';
const odt = 'application/vnd.oasis.opendocument.text';

/** The smallest PNG file-type recognises: the signature and an IHDR chunk. */
function png(): Uint8Array {
  const header = Buffer.from([0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0]);
  const chunk = Buffer.concat([Buffer.from('IHDR'), header]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(chunk));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]),
    chunk,
    crc,
  ]);
}

/** What detection reads of an OLE2 compound file: its signature and its directory's stream names. */
function compoundFile(streams: string[]): Uint8Array {
  const header = Buffer.alloc(512);
  Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]).copy(header);
  const directory = Buffer.alloc(128 * streams.length);
  streams.forEach((name, index) => {
    directory.write(name, index * 128, 'utf16le');
  });
  return Buffer.concat([header, directory]);
}

describe('content type names', () => {
  it('normalises parameters and case, and reads the charset', () => {
    expect(mediaTypeOf('Text/Plain; charset=utf-8')).toBe('text/plain');
    expect(charsetOf('text/plain; Charset="ISO-8859-1"')).toBe('ISO-8859-1');
    expect(charsetOf('text/plain')).toBeUndefined();
  });

  it('maps common aliases and +json types to the canonical type', () => {
    expect(canonicalContentType('text/x-markdown')).toBe('text/markdown');
    expect(canonicalContentType('application/xhtml+xml')).toBe('text/html');
    expect(canonicalContentType('text/comma-separated-values')).toBe('text/csv');
    expect(canonicalContentType('application/csv')).toBe('text/csv');
    expect(canonicalContentType('text/json; charset=utf-8')).toBe('application/json');
    expect(canonicalContentType('application/ld+json')).toBe('application/json');
    expect(isSupportedContentType(docx)).toBe(true);
    expect(isSupportedContentType('application/msword')).toBe(false);
  });
});

describe('detectContentType', () => {
  it('recognises every fixture from its bytes alone', async () => {
    const expected: Record<string, string> = {
      'report.pdf': 'application/pdf',
      'report.docx': docx,
      'sales.xlsx': xlsx,
      'deck.pptx': pptx,
      'minutes.odt': odt,
      'page.html': 'text/html',
      'order.json': 'application/json',
      'latin1.txt': 'text/plain',
      'utf16le.txt': 'text/plain',
    };
    for (const [name, type] of Object.entries(expected)) {
      expect(await detectContentType(readFixture(name)), name).toBe(type);
    }
  });

  it('lets the bytes win over a wrong declared type', async () => {
    expect(await detectContentType(readFixture('report.docx'), 'text/plain', 'report.txt')).toBe(docx);
    expect(await detectContentType(readFixture('report.pdf'), 'application/msword')).toBe('application/pdf');
    expect(await detectContentType(readFixture('sales.xlsx'), docx)).toBe(xlsx);
  });

  it('uses a declared text type, refined from text/plain by the extension', async () => {
    const csv = readFixture('people.csv');
    expect(await detectContentType(csv, 'text/csv; charset=utf-8')).toBe('text/csv');
    expect(await detectContentType(csv, 'text/plain', 'people.csv')).toBe('text/csv');
    expect(await detectContentType(readFixture('guide.md'), 'text/plain', 'GUIDE.MD')).toBe('text/markdown');
    expect(await detectContentType(readFixture('page.html'), 'text/plain')).toBe('text/plain');
    expect(await detectContentType(Buffer.from('print(1)'), 'text/x-python')).toBe('text/plain');
  });

  it('falls back to the extension, then sniffs HTML, JSON or plain text', async () => {
    expect(await detectContentType(readFixture('guide.md'), 'application/octet-stream', 'guide.md')).toBe(
      'text/markdown',
    );
    expect(await detectContentType(readFixture('people.csv'), undefined, 'people.csv')).toBe('text/csv');
    expect(await detectContentType(Buffer.from('  <div><p>hi</p></div>'))).toBe('text/html');
    expect(await detectContentType(Buffer.from('[1, 2, {"a": null}]\n'))).toBe('application/json');
    expect(await detectContentType(Buffer.from('[1] see the notes [2]'))).toBe('text/plain');
    expect(await detectContentType(Buffer.from(`${'['.repeat(100_000)}${']'.repeat(100_000)}`))).toBe(
      'application/json',
    );
  });

  it('reads text that happens to start with a binary signature as text', async () => {
    // "BM" is the BMP signature and "ID3" an MP3 tag, to file-type.
    expect(await detectContentType(Buffer.from('BMW sells cars.'), 'text/plain')).toBe('text/plain');
    expect(await detectContentType(Buffer.from('ID3 tags are metadata.'))).toBe('text/plain');
  });

  it('fails binaries declared as text with unsupported_type', async () => {
    await expectDocumentError(detectContentType(png(), 'text/plain'), 'unsupported_type');
    await expectDocumentError(detectContentType(randomBytes(8192), 'text/plain'), 'unsupported_type');
    await expectDocumentError(detectContentType(randomBytes(8192)), 'unsupported_type');
    await expectDocumentError(detectContentType(Buffer.alloc(1000, 1), 'text/markdown'), 'unsupported_type');
  });

  it('fails a declared PDF or Office file whose bytes are not one as corrupt', async () => {
    await expectDocumentError(detectContentType(Buffer.from('not a zip at all'), docx), 'corrupt');
    await expectDocumentError(
      detectContentType(Buffer.from('not a PDF'), 'application/octet-stream', 'x.pdf'),
      'corrupt',
    );
    const docxBytes = readFixture('report.docx');
    await expectDocumentError(
      detectContentType(docxBytes.subarray(0, docxBytes.length - 100), docx),
      'corrupt',
    );
  });

  it('fails password-protected Office files as encrypted, other compound files as unsupported', async () => {
    await expectDocumentError(
      detectContentType(compoundFile(['Root Entry', 'EncryptionInfo', 'EncryptedPackage']), docx),
      'encrypted',
    );
    await expectDocumentError(
      detectContentType(compoundFile(['Root Entry', 'WordDocument'])),
      'unsupported_type',
    );
  });

  it('recognises Office files whose main part has an unusual name by their folders', async () => {
    const zip = rawZip([
      storedEntry('[Content_Types].xml', '<Types/>'),
      storedEntry('word/document2.xml', '<w/>'),
    ]);
    expect(await detectContentType(zip)).toBe(docx);
  });

  it('fails zips that are no supported document, unknown declared types and empty files', async () => {
    await expectDocumentError(detectContentType(rawZip([storedEntry('a.txt', 'hello')])), 'unsupported_type');
    const ods = rawZip([storedEntry('mimetype', 'application/vnd.oasis.opendocument.spreadsheet')]);
    await expectDocumentError(detectContentType(ods), 'unsupported_type');
    await expectDocumentError(
      detectContentType(Buffer.from('text'), 'application/msword'),
      'unsupported_type',
    );
    await expectDocumentError(detectContentType(Buffer.alloc(0), 'text/plain'), 'empty');
  });

  it('fails a zip with more entries than maxZipEntries as too_large', async () => {
    const zip = rawZip(Array.from({ length: 5 }, (_, index) => storedEntry(`${index}`, '')));
    await expectDocumentError(
      detectContentType(zip, docx, undefined, { maxZipEntries: 4, maxNestingDepth: 256 }),
      'too_large',
    );
  });
});
