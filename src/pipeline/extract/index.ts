import { DocumentError } from '../../errors.js';
import type { SupportedContentType } from '../detect.js';
import type { Extractor } from './types.js';

export type { ExtractedText, ExtractHints, ExtractLimits, Extractor, Heading, PageSpan } from './types.js';
export { defaultExtractLimits } from './types.js';

/**
 * Each format's module is loaded on first use: pdf.js, mammoth and friends take hundreds of
 * milliseconds to load, which a fresh pipeline thread would otherwise pay before its first
 * document (and inside that document's time limit), whatever the document's format.
 */
function lazy(load: () => Promise<Extractor>): Extractor {
  let loaded: Promise<Extractor> | undefined;
  return async (bytes, limits, hints) => {
    loaded ??= load();
    return (await loaded)(bytes, limits, hints);
  };
}

/**
 * The extractor of each supported type, each wrapped by `failsAsDocumentError` so that whatever a
 * library throws on hostile input ends as a permanent DocumentError.
 */
export const extractors: Readonly<Record<SupportedContentType, Extractor>> = {
  'text/plain': failsAsDocumentError(lazy(async () => (await import('./text.js')).extractPlainText)),
  'text/markdown': failsAsDocumentError(lazy(async () => (await import('./markdown.js')).extractMarkdown)),
  'text/html': failsAsDocumentError(lazy(async () => (await import('./html.js')).extractHtml)),
  'text/csv': failsAsDocumentError(lazy(async () => (await import('./csv.js')).extractCsv)),
  'application/json': failsAsDocumentError(lazy(async () => (await import('./json.js')).extractJson)),
  'application/pdf': failsAsDocumentError(lazy(async () => (await import('./pdf.js')).extractPdf)),
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': failsAsDocumentError(
    lazy(async () => (await import('./docx.js')).extractDocx),
  ),
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': failsAsDocumentError(
    lazy(async () => (await import('./xlsx.js')).extractXlsx),
  ),
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': failsAsDocumentError(
    lazy(async () => (await import('./pptx.js')).extractPptx),
  ),
  'application/vnd.oasis.opendocument.text': failsAsDocumentError(
    lazy(async () => (await import('./odt.js')).extractOdt),
  ),
};

/** The extractor for a detected type (see detectContentType). */
export function extractorFor(type: SupportedContentType): Extractor {
  return extractors[type];
}

/**
 * Extraction is pure, so anything it throws is about the input: a parser's own error means the
 * file is corrupt, and a stack overflow means it nests too deeply for a library that recurses.
 * Neither can succeed on a retry. The original error is kept as `cause`.
 */
function failsAsDocumentError(extractor: Extractor): Extractor {
  return async (bytes, limits, hints) => {
    try {
      return await extractor(bytes, limits, hints);
    } catch (error) {
      if (error instanceof DocumentError) throw error;
      if (error instanceof RangeError && /call stack/i.test(error.message)) {
        throw new DocumentError('too_large', 'the document nests too deeply to read', false, {
          cause: error,
        });
      }
      throw new DocumentError(
        'corrupt',
        `the document cannot be read: ${(error as Error)?.message ?? error}`,
        false,
        {
          cause: error,
        },
      );
    }
  };
}
