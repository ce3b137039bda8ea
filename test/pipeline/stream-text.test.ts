import fc from 'fast-check';
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import type { DocumentError } from '../../src/errors.js';
import { type Chunk, type ChunkingSettings, chunkText } from '../../src/pipeline/chunk/index.js';
import {
  decodeText,
  ENCODING_SAMPLE_BYTES,
  InvalidUtf8Error,
  type StreamDecoding,
} from '../../src/pipeline/extract/decode.js';
import { defaultExtractLimits } from '../../src/pipeline/extract/types.js';
import { chunkTextStream, MAX_TAIL_CHARS, type TextWindow } from '../../src/pipeline/stream-text.js';
import { expectChunkInvariants } from './chunk/invariants.js';
import { prose } from './chunk/prose.js';

const words = { strategy: 'words', size: 100, overlap: 10 } as const;

/** `bytes` cut into pieces of `size` (the last one shorter), as a stream from Postgres brings them. */
async function* piecesOf(bytes: Uint8Array, size: number) {
  for (let offset = 0; offset < bytes.length; offset += size) yield bytes.subarray(offset, offset + size);
}

const chunkWindowWith = (settings: ChunkingSettings) => async (text: string) =>
  chunkText({ text, headings: [], pages: [] }, settings);

/** Every window of the stream, and the document they make: text joined, chunks in order. */
async function streamed(bytes: Uint8Array, pieceSize: number, settings: ChunkingSettings, charset?: string) {
  const windows: TextWindow[] = [];
  for await (const window of chunkTextStream(piecesOf(bytes, pieceSize), {
    hints: charset === undefined ? {} : { charset },
    limits: defaultExtractLimits,
    chunkWindow: chunkWindowWith(settings),
  })) {
    windows.push(window);
  }
  return {
    windows,
    text: windows.map((window) => window.text).join(''),
    chunks: windows.flatMap((window) => window.chunks),
  };
}

/** The stream of `pieces` (given as they are), decoded: the document's text. */
async function decodedPieces(pieces: readonly Uint8Array[], decoding?: StreamDecoding) {
  async function* source() {
    yield* pieces;
  }
  let text = '';
  for await (const window of chunkTextStream(source(), {
    limits: defaultExtractLimits,
    ...(decoding ? { decoding } : {}),
    chunkWindow: chunkWindowWith(words),
  })) {
    text += window.text;
  }
  return text;
}

async function streamError(bytes: Uint8Array, pieceSize: number, limits = defaultExtractLimits) {
  try {
    for await (const _ of chunkTextStream(piecesOf(bytes, pieceSize), {
      limits,
      chunkWindow: chunkWindowWith({ strategy: 'words', size: 50, overlap: 5 }),
    }));
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('chunkTextStream', () => {
  // Multi-byte characters, CRLF line endings and NULs, so pieces cut characters and \r\n pairs.
  const text = `${prose({ length: 120_000, seed: 7 }).text.replaceAll('\n', '\r\n')} ünïcødé 中文 😀\u0000 end`;
  const bytes = Buffer.from(text);
  const whole = decodeText(bytes).text;

  it.each([1_000, 4_099, 65_536])(
    'gives the words strategy exactly the chunks of the whole text, pieces of %d bytes',
    async (pieceSize) => {
      const result = await streamed(bytes, pieceSize, words);
      expect(result.text).toBe(whole);
      expect(result.chunks).toEqual(chunkText({ text: whole, headings: [], pages: [] }, words));
      // A window a piece, but for the first: pieces joined until they hold the 64 KB the
      // encoding is chosen from, as decodeText chooses it from the whole text's first 64 KB.
      const firstPieces = Math.ceil(ENCODING_SAMPLE_BYTES / pieceSize);
      expect(result.windows.length).toBe(Math.ceil(bytes.length / pieceSize) - firstPieces + 1);
    },
  );

  it.each<ChunkingSettings>([
    { strategy: 'tokens', size: 120, overlap: 20, tokenizer: 'cl100k_base' },
    { strategy: 'recursive', size: 800, overlap: 100, unit: 'characters', tokenizer: 'cl100k_base' },
    { strategy: 'recursive', size: 150, overlap: 0, unit: 'tokens', tokenizer: 'o200k_base' },
  ])('gives $strategy chunks that keep every chunk promise across seams', async (settings) => {
    const result = await streamed(bytes, 4_099, settings);
    expect(result.text).toBe(whole);
    expectChunkInvariants({ text: whole, headings: [], pages: [] }, settings, result.chunks as Chunk[]);
  });

  it('decodes UTF-16 with a byte order mark and a declared legacy charset as decodeText does', async () => {
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    expect((await streamed(utf16, 4_097, words)).text).toBe(whole);
    const latin = 'Grüße aus Köln, naïve café. '.repeat(3_000);
    const cp1252 = iconv.encode(latin, 'windows-1252');
    const result = await streamed(cp1252, 5_000, words, 'windows-1252');
    expect(result.text).toBe(decodeText(cp1252, { charset: 'windows-1252' }).text);
    expect(result.text).toBe(latin);
  });

  it('chooses the encoding from the same bytes as decodeText when the pieces are tiny', async () => {
    // 8 bytes whose NULs look like UTF-16 (big-endian) to decodeText; a first piece of 1 byte
    // alone would have been read as UTF-8 (property test counterexample).
    const bytes = Buffer.from('\u0000 \u0000\u{10000} ');
    expect(await decodedPieces([...bytes].map((byte) => Uint8Array.of(byte)))).toBe(decodeText(bytes).text);
  });

  it("reads text that is UTF-8 only at its start again under decodeText's other rules", async () => {
    // ASCII first, windows-1252 later: the first piece (over the 64 KB the encoding is chosen
    // from) alone looks like UTF-8.
    const legacy = iconv.encode(`${'plain ascii words '.repeat(10_000)}Café “quoted” naïve`, 'windows-1252');
    const pieces = [legacy.subarray(0, 100_000), legacy.subarray(100_000)];
    await expect(decodedPieces(pieces)).rejects.toBeInstanceOf(InvalidUtf8Error);
    expect(await decodedPieces(pieces, { invalidUtf8: true })).toBe(decodeText(legacy).text);
    expect(decodeText(legacy).text).toMatch(/Café “quoted” naïve$/);
  });

  it('property: any text, cut into pieces anywhere, decodes and chunks as the whole does', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.string({ unit: 'grapheme', maxLength: 12 }),
            fc.constantFrom(' ', '\r\n', '\n', '\r', '\u0000'),
          ),
          {
            minLength: 1,
            maxLength: 200,
          },
        ),
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 40 }),
        async (parts, cuts) => {
          const bytes = Buffer.from(parts.join(''));
          fc.pre(!bytes.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf])));
          // Some inputs are not text as a whole (NULs that read as UTF-16, then too many control
          // characters): the stream must refuse them alike.
          let whole = '';
          let refused: DocumentError | undefined;
          try {
            whole = decodeText(bytes).text;
          } catch (error) {
            refused = error as DocumentError;
          }
          fc.pre(refused !== undefined || whole.trim().length > 0);
          const pieces: Uint8Array[] = [];
          for (let at = 0, k = 0; at < bytes.length; k++) {
            const size = cuts[k % cuts.length] as number;
            pieces.push(bytes.subarray(at, at + size));
            at += size;
          }
          async function* source() {
            yield* pieces;
          }
          let text = '';
          const chunks: Chunk[] = [];
          const settings = { strategy: 'words', size: 5, overlap: 1 } as const;
          const stream = async () => {
            for await (const window of chunkTextStream(source(), {
              limits: defaultExtractLimits,
              chunkWindow: chunkWindowWith(settings),
            })) {
              text += window.text;
              chunks.push(...window.chunks);
            }
          };
          if (refused !== undefined) {
            await expect(stream()).rejects.toMatchObject({ code: refused.code });
            return;
          }
          await stream();
          expect(text).toBe(whole);
          expect(chunks).toEqual(chunkText({ text: whole, headings: [], pages: [] }, settings));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('joins a line break split across pieces around a NUL as decodeText does', async () => {
    const pieces = [Buffer.from('one\r\u0000'), Buffer.from('\ntwo')];
    expect(await decodedPieces(pieces)).toBe(decodeText(Buffer.concat(pieces)).text);
    expect(await decodedPieces(pieces)).toBe('one\ntwo');
  });

  it('cuts a run without whitespace instead of carrying it from window to window', async () => {
    const run = Buffer.alloc(2 * MAX_TAIL_CHARS + 5, 'x');
    const windowLengths: number[] = [];
    const chunks: Chunk[] = [];
    for await (const window of chunkTextStream(piecesOf(run, 48 * 1024), {
      limits: defaultExtractLimits,
      chunkWindow: async (text) => {
        windowLengths.push(text.length);
        return chunkWindowWith(words)(text);
      },
    })) {
      chunks.push(...window.chunks);
    }
    // Carried whole, the last window would be the whole run: quadratic work.
    expect(Math.max(...windowLengths)).toBeLessThanOrEqual(MAX_TAIL_CHARS + 48 * 1024);
    expect(chunks.map((chunk) => chunk.text).join('')).toBe(run.toString());
    expect(chunks.length).toBeGreaterThan(1);
  });

  it('fails as the whole-text path does: binary, empty, too long, too many chunks', async () => {
    // Text at first, control bytes after: caught when the last piece is in.
    const binaryTail = Buffer.concat([Buffer.from('words '.repeat(10_000)), Buffer.alloc(20_000, 1)]);
    expect(await streamError(binaryTail, 8_192)).toMatchObject({ code: 'unsupported_type' });
    // Binary from the start: caught at the first piece.
    expect(await streamError(Buffer.alloc(50_000, 2), 8_192)).toMatchObject({ code: 'unsupported_type' });
    expect(await streamError(Buffer.from(' \n\t '.repeat(10_000)), 8_192)).toMatchObject({ code: 'empty' });
    expect(await streamError(bytes, 8_192, { ...defaultExtractLimits, maxTextChars: 50_000 })).toMatchObject({
      code: 'too_large',
    });
  });
});
