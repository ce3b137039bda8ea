import { isUtf8 } from 'node:buffer';
import { analyse } from 'chardet';
import iconv from 'iconv-lite';
import { DocumentError } from '../../errors.js';
import { textTooLong, tooLarge } from './failures.js';
import type { ExtractHints, ExtractLimits } from './types.js';

/** Byte order marks, longest first so UTF-32LE is not taken for UTF-16LE. */
const byteOrderMarks: ReadonlyArray<{ bom: readonly number[]; encoding: string }> = [
  { bom: [0xef, 0xbb, 0xbf], encoding: 'utf-8' },
  { bom: [0xff, 0xfe, 0x00, 0x00], encoding: 'utf-32le' },
  { bom: [0x00, 0x00, 0xfe, 0xff], encoding: 'utf-32be' },
  { bom: [0xff, 0xfe], encoding: 'utf-16le' },
  { bom: [0xfe, 0xff], encoding: 'utf-16be' },
];

/**
 * How much of a file the encoding guessers look at: enough to be sure, cheap on a 100 MB file.
 * A TextStreamDecoder's first piece should hold this many bytes (or all there are).
 */
export const ENCODING_SAMPLE_BYTES = 64 * 1024;

/**
 * Share of characters that no text file has (C0/C1 controls other than whitespace, ESC and SUB,
 * plus U+FFFD from undecodable bytes) above which the bytes are binary, not text. Random bytes
 * decode to about 10% of such characters in any single-byte encoding; real text has next to none.
 */
const maxBinaryShare = 0.03;

export interface DecodedText {
  /** NUL bytes removed (Postgres text cannot hold them), line endings normalised to \n. */
  text: string;
  /** The encoding the bytes were read as, for logs and tests. */
  encoding: string;
}

/**
 * Reads bytes of unknown encoding as text, in this order: a byte order mark; the declared charset
 * (UTF-8 only when the bytes are valid UTF-8, as mislabelled Latin-1 is common); UTF-16 without a
 * BOM, recognised by its NUL pattern; valid UTF-8; UTF-8 with a few damaged bytes (kept, with
 * U+FFFD); otherwise the guess of chardet, falling back to windows-1252 as browsers do.
 * Fails with `unsupported_type` when the result is not text at all (binary declared as text).
 */
export function decodeText(bytes: Uint8Array, hints: ExtractHints = {}): DecodedText {
  const decoded = decodeRaw(bytes, hints.charset);
  const text = normalise(decoded.text);
  if (binaryShare(text, decoded.encoding) > maxBinaryShare) throw notText(decoded.encoding);
  return { text, encoding: decoded.encoding };
}

/** decodeText with the document limits: refuses bytes that cannot fit before decoding them. */
export function decodeDocumentText(bytes: Uint8Array, limits: ExtractLimits, hints?: ExtractHints): string {
  // No encoding packs more than 4 bytes into a UTF-16 code unit, so this bound is safe to check first.
  if (bytes.length > limits.maxTextChars * 4) {
    throw tooLarge(`the document is larger than ${limits.maxTextChars * 4} bytes of text`);
  }
  const { text } = decodeText(bytes, hints);
  if (text.length > limits.maxTextChars) throw textTooLong(limits.maxTextChars);
  return text;
}

/** True when the bytes read as text under decodeText's rules (used by type detection). */
export function looksLikeText(bytes: Uint8Array, charset?: string): boolean {
  const sample = bytes.subarray(0, ENCODING_SAMPLE_BYTES);
  // Cutting the sample may split a multi-byte character at its end: one U+FFFD is harmless.
  const decoded = decodeRaw(sample, charset);
  return binaryShare(normalise(decoded.text), decoded.encoding) <= maxBinaryShare;
}

function decodeRaw(bytes: Uint8Array, charset: string | undefined): DecodedText {
  let strict: string | undefined;
  const { encoding, bomLength } = chooseEncoding(bytes, charset, (all) => {
    strict = tryStrictUtf8(all);
    return strict !== undefined;
  });
  if (strict !== undefined) return { text: strict, encoding };
  return { text: decodeWith(bytes.subarray(bomLength), encoding), encoding };
}

interface EncodingChoice {
  encoding: string;
  /** Bytes of byte order mark to skip. */
  bomLength: number;
}

/**
 * The encoding a declared charset names, normalised; undefined when decoding treats it as none:
 * absent, unknown, or UTF-8 (or ASCII, a subset of it), since the bytes are tried as UTF-8 first
 * when nothing else is declared.
 */
function declaredEncoding(charset: string | undefined): string | undefined {
  const declared = charset?.trim().toLowerCase();
  if (declared === undefined || declared === '' || !iconv.encodingExists(declared)) return undefined;
  return declared === 'utf-8' || declared === 'utf8' || declared === 'us-ascii' ? undefined : declared;
}

/** True when decoding treats a declared charset as none (see declaredEncoding). */
export function charsetIsIgnored(charset: string | undefined): boolean {
  return declaredEncoding(charset) === undefined;
}

/** decodeRaw's order of rules; `isValidUtf8` decides the strict UTF-8 step on `bytes`. */
function chooseEncoding(
  bytes: Uint8Array,
  charset: string | undefined,
  isValidUtf8: (bytes: Uint8Array) => boolean,
): EncodingChoice {
  for (const { bom, encoding } of byteOrderMarks) {
    if (bom.every((byte, index) => bytes[index] === byte)) return { encoding, bomLength: bom.length };
  }
  const declared = declaredEncoding(charset);
  if (declared !== undefined) return { encoding: declared, bomLength: 0 };
  const utf16 = guessUtf16(bytes);
  if (utf16 !== undefined) return { encoding: utf16, bomLength: 0 };
  if (isValidUtf8(bytes) || isMostlyUtf8(bytes.subarray(0, ENCODING_SAMPLE_BYTES))) {
    return { encoding: 'utf-8', bomLength: 0 };
  }
  return { encoding: guessLegacyEncoding(bytes), bomLength: 0 };
}

/** How a TextStreamDecoder chooses; the first pass over a document has nothing to say. */
export interface StreamDecoding {
  /** The bytes are known not to be valid UTF-8 as a whole (an earlier pass found out). */
  invalidUtf8?: boolean;
}

/**
 * Thrown by a TextStreamDecoder that chose UTF-8 because its first piece was valid UTF-8, when
 * a later piece is not: decodeText would have chosen by its other rules, so the caller reads the
 * text again from the start with `invalidUtf8` set (a legacy encoding whose first piece was
 * ASCII, say).
 */
export class InvalidUtf8Error extends Error {
  constructor() {
    super('the text is not valid UTF-8 after its first piece');
    this.name = 'InvalidUtf8Error';
  }
}

/**
 * decodeText for text that arrives in pieces (a large document read from Postgres as a stream),
 * so no more than a piece of it is held at a time, under the same rules. Valid UTF-8 is decided
 * on the whole text: a first pass assumes it when the first piece is, and a later invalid piece
 * throws InvalidUtf8Error for a second pass. A piece may end inside a character or between \r
 * and \n: the decoder carries it over.
 */
export class TextStreamDecoder {
  readonly encoding: string;
  private readonly decode: (bytes: Uint8Array, last: boolean) => string;
  private bomToSkip: number;
  /** The piece before ended with \r, held back in case \n follows. */
  private heldCarriageReturn = false;
  private suspicious = 0;
  private length = 0;

  constructor(first: Uint8Array, hints: ExtractHints = {}, decoding: StreamDecoding = {}) {
    let assumedValid = false;
    const { encoding, bomLength } = chooseEncoding(first, hints.charset, (bytes) => {
      assumedValid = !decoding.invalidUtf8 && isUtf8(bytes.subarray(0, wholeUtf8Length(bytes)));
      return assumedValid;
    });
    this.encoding = encoding;
    this.bomToSkip = bomLength;
    if (encoding === 'utf-8') {
      // Not TextDecoder's stream mode: it returns two-byte strings even for ASCII, on which the
      // chunkers' and tokenizer's regular expressions ran 2-4 times slower. Whole characters are
      // decoded at once instead, and a character cut by the piece's end waits for the next.
      const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
      let cut: Uint8Array = new Uint8Array(0);
      this.decode = (bytes, last) => {
        const input = cut.length === 0 ? bytes : Buffer.concat([cut, bytes]);
        const end = last ? input.length : wholeUtf8Length(input);
        cut = input.slice(end);
        const whole = input.subarray(0, end);
        if (assumedValid && !isUtf8(whole)) throw new InvalidUtf8Error();
        return decoder.decode(whole);
      };
    } else if (encoding === 'utf-16le' || encoding === 'utf-16be') {
      const decoder = new TextDecoder(encoding, { ignoreBOM: true });
      this.decode = (bytes, last) => decoder.decode(bytes, { stream: !last });
    } else {
      const decoder = iconv.getDecoder(encoding, { stripBOM: false });
      this.decode = (bytes, last) =>
        decoder.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)) +
        (last ? (decoder.end() ?? '') : '');
    }
  }

  /**
   * The text of the next piece, normalised as decodeText does. Fails with `unsupported_type`
   * when the first piece, or with `last` the whole text, is not text (see maxBinaryShare).
   */
  write(bytes: Uint8Array, last: boolean): string {
    const skip = Math.min(this.bomToSkip, bytes.length);
    this.bomToSkip -= skip;
    // normalise in its two steps, a \r at the end held back between them: NULs go first, so
    // "\r\0" then "\n" is one line break, as in the whole text.
    let raw = withoutNul(this.decode(bytes.subarray(skip), last));
    if (this.heldCarriageReturn) raw = `\r${raw}`;
    this.heldCarriageReturn = !last && raw.endsWith('\r');
    const text = unixLineEnds(this.heldCarriageReturn ? raw.slice(0, -1) : raw);
    const first = this.length === 0;
    this.suspicious += suspiciousCharacters(text, this.encoding);
    this.length += text.length;
    if ((first || last) && this.length > 0 && this.suspicious / this.length > maxBinaryShare) {
      throw notText(this.encoding);
    }
    return text;
  }
}

/** Bytes of `bytes` up to the end of its last whole UTF-8 character (a cut one is left out). */
function wholeUtf8Length(bytes: Uint8Array): number {
  for (let back = 1; back <= Math.min(4, bytes.length); back++) {
    const byte = bytes[bytes.length - back] as number;
    if ((byte & 0xc0) === 0x80) continue; // a continuation byte: look further back
    const length = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return length > back ? bytes.length - back : bytes.length;
  }
  return bytes.length; // only continuation bytes: invalid whatever follows
}

function notText(encoding: string): DocumentError {
  return new DocumentError(
    'unsupported_type',
    `the bytes are not text (read as ${encoding}, too many control or undecodable characters)`,
    false,
  );
}

function decodeWith(bytes: Uint8Array, encoding: string): string {
  if (encoding === 'utf-8' || encoding === 'utf-16le' || encoding === 'utf-16be') {
    // Native decoders: several times faster than iconv-lite on large files.
    return new TextDecoder(encoding, { ignoreBOM: true }).decode(bytes);
  }
  return iconv.decode(bytes, encoding, { stripBOM: false });
}

function tryStrictUtf8(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/** UTF-16 text in a Latin script has a NUL in every other byte; other text and binaries do not. */
function guessUtf16(bytes: Uint8Array): 'utf-16le' | 'utf-16be' | undefined {
  const pairs = Math.floor(Math.min(bytes.length, ENCODING_SAMPLE_BYTES) / 2);
  // Below a few characters a NUL or two proves nothing (a stray NUL in a short ASCII file).
  if (pairs < 4) return undefined;
  // Most text has no NUL at all: one native search instead of counting them byte by byte.
  if (bytes.subarray(0, pairs * 2).indexOf(0) === -1) return undefined;
  let evenZeros = 0;
  let oddZeros = 0;
  for (let pair = 0; pair < pairs; pair++) {
    if (bytes[2 * pair] === 0) evenZeros++;
    if (bytes[2 * pair + 1] === 0) oddZeros++;
  }
  if (oddZeros > pairs * 0.4 && evenZeros < pairs * 0.05) return 'utf-16le';
  if (evenZeros > pairs * 0.4 && oddZeros < pairs * 0.05) return 'utf-16be';
  return undefined;
}

/**
 * UTF-8 with a few damaged bytes (a bad copy, a truncated character) is still UTF-8: valid
 * multi-byte sequences outnumber invalid bytes at least two to one. In Latin-1 text and random
 * bytes, valid sequences are rare accidents (an Ã followed by a ©) and invalid bytes the rule.
 */
function isMostlyUtf8(bytes: Uint8Array): boolean {
  let valid = 0;
  let invalid = 0;
  let index = 0;
  while (index < bytes.length) {
    const lead = bytes[index] ?? 0;
    if (lead < 0x80) {
      index++;
      continue;
    }
    const length =
      lead >= 0xc2 && lead <= 0xdf
        ? 2
        : lead >= 0xe0 && lead <= 0xef
          ? 3
          : lead >= 0xf0 && lead <= 0xf4
            ? 4
            : 0;
    let ok = length > 0 && index + length <= bytes.length;
    for (let offset = 1; ok && offset < length; offset++) {
      const trail = bytes[index + offset] ?? 0;
      ok = trail >= 0x80 && trail <= 0xbf;
    }
    if (ok) {
      valid++;
      index += length;
    } else {
      invalid++;
      index++;
    }
  }
  return valid > 0 && invalid * 2 <= valid;
}

/**
 * chardet costs ~0.5 ms per KB of sample: 16 KB is enough to tell legacy encodings apart.
 * Detection and extraction both ask about the same bytes, so the last answer is kept (a pipeline
 * thread reads one document at a time).
 */
const chardetSampleBytes = 16 * 1024;
let lastGuess: { buffer: WeakRef<ArrayBufferLike>; offset: number; encoding: string } | undefined;

function guessLegacyEncoding(bytes: Uint8Array): string {
  if (lastGuess?.buffer.deref() === bytes.buffer && lastGuess.offset === bytes.byteOffset)
    return lastGuess.encoding;
  const encoding = chardetGuess(bytes.subarray(0, chardetSampleBytes));
  lastGuess = { buffer: new WeakRef(bytes.buffer), offset: bytes.byteOffset, encoding };
  return encoding;
}

function chardetGuess(sample: Uint8Array): string {
  for (const match of analyse(sample)) {
    // chardet's low-confidence answers for short samples are noise; so are ASCII/UTF-8 here,
    // since the bytes are known not to be valid UTF-8.
    if (match.confidence < 10) break;
    const name = match.name.toLowerCase();
    if (name === 'ascii' || name === 'utf-8') continue;
    // Browsers read ISO-8859-1 as windows-1252 (WHATWG Encoding), which maps 0x80-0x9F to € “ ” etc.
    if (name === 'iso-8859-1') return 'windows-1252';
    if (iconv.encodingExists(name)) return name;
  }
  return 'windows-1252';
}

/** NULs removed (Postgres text cannot hold them), then line endings made \n. */
function normalise(text: string): string {
  return unixLineEnds(withoutNul(text));
}

function withoutNul(text: string): string {
  return text.includes('\u0000') ? text.replaceAll('\u0000', '') : text;
}

function unixLineEnds(text: string): string {
  return text.includes('\r') ? text.replace(/\r\n?/g, '\n') : text;
}

/**
 * The share of characters no text has. U+FFFD counts only for guessed encodings: bytes read as
 * UTF-8 were judged mostly valid already, and its damaged bytes are a handful.
 */
function binaryShare(text: string, encoding: string): number {
  return text.length === 0 ? 0 : suspiciousCharacters(text, encoding) / text.length;
}

/** The characters suspiciousCharacters counts: C0/C1 controls but whitespace, SUB and ESC (and U+FFFD). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it looks for.
const ANY_CONTROL = /[\x00-\x08\x0e-\x19\x1c-\x1f\x7f-\x9f]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: as above.
const ANY_CONTROL_OR_REPLACEMENT = /[\x00-\x08\x0e-\x19\x1c-\x1f\x7f-\x9f\ufffd]/;

/** Characters of `text` no text has (see binaryShare). */
function suspiciousCharacters(text: string, encoding: string): number {
  // Most text has none: the regular expression's native scan says so 2-3x faster than the loop.
  if (!(encoding === 'utf-8' ? ANY_CONTROL : ANY_CONTROL_OR_REPLACEMENT).test(text)) return 0;
  const replacement = encoding === 'utf-8' ? -1 : 0xfffd;
  let suspicious = 0;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    const isControl =
      (code < 0x20 && !(code >= 0x09 && code <= 0x0d) && code !== 0x1a && code !== 0x1b) ||
      (code >= 0x7f && code <= 0x9f);
    if (isControl || code === replacement) suspicious++;
  }
  return suspicious;
}
