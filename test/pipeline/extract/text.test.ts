import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { decodeText } from '../../../src/pipeline/extract/decode.js';
import { extractorFor } from '../../../src/pipeline/extract/index.js';
import { latin1Text, utf16Text } from '../../fixtures/build-fixtures.js';
import { readFixture } from '../../fixtures/read-fixture.js';
import { expectDocumentError, limits } from './helpers.js';

const extractPlainText = extractorFor('text/plain');
const textOf = async (bytes: Uint8Array, charset?: string): Promise<string> =>
  (await extractPlainText(bytes, limits(), charset === undefined ? {} : { charset })).text;

describe('extractPlainText', () => {
  it('reads windows-1252 (Latin-1) text, € and – included, with CRLF normalised', async () => {
    expect(decodeText(readFixture('latin1.txt')).encoding).toBe('windows-1252');
    expect(await textOf(readFixture('latin1.txt'))).toBe(latin1Text.replaceAll('\r\n', '\n'));
  });

  it('reads UTF-16LE with a byte order mark', async () => {
    const result = await extractPlainText(readFixture('utf16le.txt'), limits());
    expect(result).toEqual({ text: utf16Text, headings: [], pages: [] });
  });

  it('reads UTF-16BE without a byte order mark by its NUL pattern', async () => {
    const bytes = Buffer.from(Buffer.from('plain ASCII in UTF-16BE\n', 'utf16le')).swap16();
    expect(decodeText(bytes).encoding).toBe('utf-16be');
    expect(await textOf(bytes)).toBe('plain ASCII in UTF-16BE\n');
  });

  it('drops a UTF-8 byte order mark and NUL bytes, and turns CR and CRLF into LF', async () => {
    expect(await textOf(Buffer.from('\ufeffgrüße\r\nzwei\rdrei\u0000!', 'utf8'))).toBe('grüße\nzwei\ndrei!');
  });

  it('keeps UTF-8 with a few damaged bytes as UTF-8, marking them U+FFFD', async () => {
    const bytes = Buffer.concat([
      Buffer.from('Ünïcödé text '),
      Buffer.from([0xff]),
      Buffer.from(' ends fine'),
    ]);
    expect(await textOf(bytes)).toBe('Ünïcödé text \ufffd ends fine');
  });

  it('uses the declared charset when the bytes are not UTF-8', async () => {
    const bytes = iconv.encode('Привет, мир', 'koi8-r');
    expect(await textOf(bytes, 'KOI8-R')).toBe('Привет, мир');
  });

  it('ignores a declared UTF-8 charset that the bytes contradict', async () => {
    expect(await textOf(iconv.encode('Café crème', 'latin1'), 'utf-8')).toBe('Café crème');
  });

  it('fails invalid UTF-8 that reads as no text in any encoding with unsupported_type', async () => {
    // Overlong and truncated sequences, lone continuation bytes and C0 controls: nothing decodes it.
    const bytes = Buffer.from(
      Array.from(
        { length: 400 },
        (_, index) => [0xc0, 0x80, 0x01, 0xe2, 0x28, 0x02, 0xf8, 0x03][index % 8] ?? 0,
      ),
    );
    await expectDocumentError(extractPlainText(bytes, limits()), 'unsupported_type');
  });

  it('fails empty and whitespace-only documents as empty', async () => {
    await expectDocumentError(extractPlainText(Buffer.alloc(0), limits()), 'empty');
    await expectDocumentError(extractPlainText(Buffer.from(' \n\u0000\t '), limits()), 'empty');
  });

  it('fails text longer than maxTextChars as too_large', async () => {
    await expectDocumentError(
      extractPlainText(Buffer.from('x'.repeat(101)), limits({ maxTextChars: 100 })),
      'too_large',
    );
    // Bytes that cannot fit even at four bytes a character are refused before decoding.
    await expectDocumentError(
      extractPlainText(Buffer.alloc(401, 0x78), limits({ maxTextChars: 100 })),
      'too_large',
    );
  });
});
