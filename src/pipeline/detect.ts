import { fileTypeFromBuffer } from 'file-type';
import { DocumentError } from '../errors.js';
import { charsetIsIgnored, decodeText, looksLikeText } from './extract/decode.js';
import { jsonDepth } from './extract/json.js';
import { defaultExtractLimits, type ExtractLimits } from './extract/types.js';
import { isZip, listZipEntries, readZipEntry } from './extract/zip.js';

const docxType = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
const xlsxType = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const pptxType = 'application/vnd.openxmlformats-officedocument.presentationml.presentation';
const odtType = 'application/vnd.oasis.opendocument.text';

/** The media types the pipeline can extract; each has an extractor in extract/index.ts. */
export const supportedContentTypes = [
  'text/plain',
  'text/markdown',
  'text/html',
  'text/csv',
  'application/json',
  'application/pdf',
  docxType,
  xlsxType,
  pptxType,
  odtType,
] as const;
export type SupportedContentType = (typeof supportedContentTypes)[number];

/** Types that are text: the declared type is trusted for them when the bytes carry no signature. */
const textTypes: ReadonlySet<SupportedContentType> = new Set([
  'text/plain',
  'text/markdown',
  'text/html',
  'text/csv',
  'application/json',
]);

/** Other names in common use for the supported types. */
const aliases: Readonly<Record<string, SupportedContentType>> = {
  'text/x-markdown': 'text/markdown',
  'application/xhtml+xml': 'text/html',
  'text/comma-separated-values': 'text/csv',
  'application/csv': 'text/csv',
  'text/json': 'application/json',
  'application/x-pdf': 'application/pdf',
};

/** Declared types that say nothing about the content: the bytes and the filename decide. */
const genericTypes = new Set(['', 'application/octet-stream', 'binary/octet-stream', 'application/unknown']);

const typesByExtension: Readonly<Record<string, SupportedContentType>> = {
  txt: 'text/plain',
  text: 'text/plain',
  log: 'text/plain',
  md: 'text/markdown',
  markdown: 'text/markdown',
  mdown: 'text/markdown',
  mkd: 'text/markdown',
  html: 'text/html',
  htm: 'text/html',
  xhtml: 'text/html',
  csv: 'text/csv',
  json: 'application/json',
  pdf: 'application/pdf',
  docx: docxType,
  xlsx: xlsxType,
  pptx: pptxType,
  odt: odtType,
};

/** Types file-type reports for text formats it knows; such bytes are still read as text. */
const textualSignatures = new Set(['application/xml', 'text/calendar', 'text/vcard', 'text/vtt']);

/** Lower-cased media type without parameters: "Text/Plain; charset=utf-8" -> "text/plain". */
export function mediaTypeOf(contentType: string): string {
  return (contentType.split(';', 1)[0] ?? '').trim().toLowerCase();
}

/** The `charset` parameter of a Content-Type, if any: "text/plain; charset=ISO-8859-1" -> "ISO-8859-1". */
export function charsetOf(contentType: string | undefined): string | undefined {
  const match = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType ?? '');
  return match?.[1];
}

/** The supported type a Content-Type names, aliases and "+json" types included, or undefined. */
export function canonicalContentType(contentType: string): SupportedContentType | undefined {
  const mediaType = mediaTypeOf(contentType);
  if ((supportedContentTypes as readonly string[]).includes(mediaType))
    return mediaType as SupportedContentType;
  if (mediaType.startsWith('application/') && mediaType.endsWith('+json')) return 'application/json';
  return aliases[mediaType];
}

export function isSupportedContentType(contentType: string): boolean {
  return canonicalContentType(contentType) !== undefined;
}

/**
 * Decides which extractor reads a document, from its bytes first: a signature in the bytes (a zip
 * told apart by its entries, a PDF header, what file-type recognises) wins over the declared type.
 * Bytes without one are text: the declared text type is used (text/plain refined by the filename's
 * extension), else the extension, else a sniff (HTML, JSON, otherwise plain text), and bytes that
 * do not read as text in any encoding fail as `unsupported_type` whatever they were declared as.
 *
 * Async because file-type is. Fails with `empty` (no bytes), `encrypted` (a password-protected
 * Office file), `corrupt` (a declared PDF or Office file whose bytes are not one, a damaged zip),
 * `too_large` (a zip with more entries than `limits.maxZipEntries`) or `unsupported_type`.
 * `limits` defaults to defaultExtractLimits; pass the ones extraction will use.
 */
export async function detectContentType(
  bytes: Uint8Array,
  declared?: string,
  filename?: string,
  limits: Pick<ExtractLimits, 'maxZipEntries' | 'maxNestingDepth'> = defaultExtractLimits,
): Promise<SupportedContentType> {
  if (bytes.length === 0) throw new DocumentError('empty', 'the document is empty (0 bytes)', false);
  let readsAsText: boolean | undefined;
  // Whether the bytes read as text by the usual rules (no charset declared): asked at most once.
  const looksLikePlainText = () => {
    readsAsText ??= looksLikeText(bytes);
    return readsAsText;
  };
  const signed = await typeFromSignature(bytes, limits, looksLikePlainText);
  if (signed !== undefined) return signed;

  const declaredMediaType = mediaTypeOf(declared ?? '');
  const declaredType = canonicalContentType(declaredMediaType);
  const extensionType = typeOfFilename(filename);
  let type: SupportedContentType;
  if (declaredType !== undefined && !textTypes.has(declaredType)) {
    throw notWhatItClaims(declaredType, `declared ${declaredMediaType}`);
  } else if (declaredType !== undefined) {
    // text/plain is what many clients send for any text file; a .md or .csv name says more.
    type =
      declaredType === 'text/plain' && extensionType && textTypes.has(extensionType)
        ? extensionType
        : declaredType;
  } else if (declaredMediaType.startsWith('text/') || genericTypes.has(declaredMediaType)) {
    if (extensionType !== undefined && !textTypes.has(extensionType)) {
      throw notWhatItClaims(extensionType, `named ${filename}`);
    }
    type =
      extensionType ?? (declaredMediaType.startsWith('text/') ? 'text/plain' : sniffTextType(bytes, limits));
  } else {
    throw new DocumentError(
      'unsupported_type',
      `no extractor for content type "${declaredMediaType}"`,
      false,
    );
  }
  const charset = charsetOf(declared);
  if (!(charsetIsIgnored(charset) ? looksLikePlainText() : looksLikeText(bytes, charset))) {
    throw new DocumentError('unsupported_type', `the bytes are not text, though declared as ${type}`, false);
  }
  return type;
}

/**
 * The type the bytes themselves prove, or undefined when they carry no binary signature.
 * `looksLikePlainText` is looksLikeText(bytes), computed once for the caller too.
 */
async function typeFromSignature(
  bytes: Uint8Array,
  limits: Pick<ExtractLimits, 'maxZipEntries'>,
  looksLikePlainText: () => boolean,
): Promise<SupportedContentType | undefined> {
  if (isZip(bytes)) return zipDocumentType(bytes, limits);
  if (isCompoundFile(bytes)) {
    // Office encrypts DOCX/XLSX/PPTX by wrapping them in an OLE2 compound file with this stream.
    if (
      Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).includes('EncryptedPackage', 0, 'utf16le')
    ) {
      throw new DocumentError('encrypted', 'the Office document is protected by a password', false);
    }
    throw new DocumentError(
      'unsupported_type',
      'legacy Office files (.doc, .xls, .ppt) are not supported',
      false,
    );
  }
  // Readers accept junk before the header within the first 1024 bytes; so do we, but only at the
  // start of a line, so that a note that mentions "%PDF-1.7" stays text.
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, 1024)).toString(
    'latin1',
  );
  if (/(^|[\r\n])%PDF-/.test(head)) return 'application/pdf';
  // Some signatures are two printable bytes ("BM" for BMP, "MZ" for executables), which text can
  // start with; a real binary of those formats never reads as text, so text wins. Asked first:
  // most documents are text, and file-type's hundreds of checks cost more than the answer.
  if (looksLikePlainText()) return undefined;
  const guess = await fileTypeFromBuffer(bytes.subarray(0, 4 * 1024 * 1024));
  if (guess === undefined || textualSignatures.has(guess.mime)) return undefined;
  const type = canonicalContentType(guess.mime);
  if (type !== undefined) return type;
  throw new DocumentError('unsupported_type', `the bytes are ${guess.mime}, which has no extractor`, false);
}

/** DOCX, XLSX, PPTX and ODT are all zips; their entries tell them apart. */
function zipDocumentType(
  bytes: Uint8Array,
  limits: Pick<ExtractLimits, 'maxZipEntries'>,
): SupportedContentType {
  const entries = listZipEntries(bytes, limits);
  // OpenDocument starts with an uncompressed "mimetype" entry naming its type.
  const mimetype = entries.find((entry) => entry.name === 'mimetype');
  if (mimetype !== undefined && mimetype.size <= 256) {
    const name = new TextDecoder().decode(readZipEntry(bytes, mimetype)).trim();
    if (name === odtType) return odtType;
    throw new DocumentError(
      'unsupported_type',
      `the bytes are ${name || 'an OpenDocument file'}, which has no extractor`,
      false,
    );
  }
  const names = new Set(entries.map((entry) => entry.name));
  if (names.has('word/document.xml')) return docxType;
  if (names.has('xl/workbook.xml')) return xlsxType;
  if (names.has('ppt/presentation.xml')) return pptxType;
  // Some writers name the main part differently (Word Online's word/document2.xml); the readers
  // find it through the package relationships, so the folder is evidence enough here.
  const folders = new Set([...names].map((name) => name.split('/', 1)[0]));
  if (names.has('[Content_Types].xml')) {
    if (folders.has('word')) return docxType;
    if (folders.has('xl')) return xlsxType;
    if (folders.has('ppt')) return pptxType;
  }
  throw new DocumentError(
    'unsupported_type',
    'a zip archive that is not a Word, Excel, PowerPoint or OpenDocument text file',
    false,
  );
}

function isCompoundFile(bytes: Uint8Array): boolean {
  const signature = [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1];
  return signature.every((byte, index) => bytes[index] === byte);
}

function typeOfFilename(filename: string | undefined): SupportedContentType | undefined {
  const match = /\.([a-z0-9]+)$/i.exec(filename ?? '');
  return match?.[1] === undefined ? undefined : typesByExtension[match[1].toLowerCase()];
}

/** A binary type was declared (or implied by the name) but the bytes lack its signature. */
function notWhatItClaims(type: SupportedContentType, how: string): DocumentError {
  const expected = type === 'application/pdf' ? 'a PDF (no %PDF- header)' : 'a zip archive';
  return new DocumentError('corrupt', `${how}, but the bytes are not ${expected}`, false);
}

/** No type was declared: HTML by its opening tags, JSON if it parses (or nests past any limit), else plain text. */
/**
 * Whether text opens like JSON: a bracket after any whitespace. Text that does is JSON only if
 * all of it parses, so a sample of it cannot tell.
 */
export function opensLikeJson(text: string): boolean {
  const start = text.trimStart();
  return start.startsWith('{') || start.startsWith('[');
}

function sniffTextType(
  bytes: Uint8Array,
  limits: Pick<ExtractLimits, 'maxNestingDepth'>,
): SupportedContentType {
  const { text } = decodeText(bytes);
  const start = text.trimStart();
  const head = start.slice(0, 1024).toLowerCase();
  if (
    head.startsWith('<!doctype html') ||
    head.startsWith('<html') ||
    (head.startsWith('<') && /<(head|body|p|div|h[1-6]|title|meta|table)[\s>]/.test(head))
  ) {
    return 'text/html';
  }
  if (opensLikeJson(start)) {
    // Too deep to parse safely is still JSON, for the extractor to refuse with a clear message.
    if (jsonDepth(text) > limits.maxNestingDepth) return 'application/json';
    try {
      JSON.parse(text);
      return 'application/json';
    } catch {
      // Brackets, but not JSON: plain text.
    }
  }
  return 'text/plain';
}
