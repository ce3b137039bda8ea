import { DocumentError } from '../../errors.js';
import type { SupportedContentType } from '../detect.js';
import { extractCsv } from './csv.js';
import { extractDocx } from './docx.js';
import { extractHtml } from './html.js';
import { extractJson } from './json.js';
import { extractMarkdown } from './markdown.js';
import { extractOdt } from './odt.js';
import { extractPdf } from './pdf.js';
import { extractPptx } from './pptx.js';
import { extractPlainText } from './text.js';
import type { Extractor } from './types.js';
import { extractXlsx } from './xlsx.js';

export type { ExtractedText, ExtractHints, ExtractLimits, Extractor, Heading, PageSpan } from './types.js';
export { defaultExtractLimits } from './types.js';

/**
 * The extractor of each supported type, each wrapped by `failsAsDocumentError` so that whatever a
 * library throws on hostile input ends as a permanent DocumentError.
 */
export const extractors: Readonly<Record<SupportedContentType, Extractor>> = {
  'text/plain': failsAsDocumentError(extractPlainText),
  'text/markdown': failsAsDocumentError(extractMarkdown),
  'text/html': failsAsDocumentError(extractHtml),
  'text/csv': failsAsDocumentError(extractCsv),
  'application/json': failsAsDocumentError(extractJson),
  'application/pdf': failsAsDocumentError(extractPdf),
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document':
    failsAsDocumentError(extractDocx),
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': failsAsDocumentError(extractXlsx),
  'application/vnd.openxmlformats-officedocument.presentationml.presentation':
    failsAsDocumentError(extractPptx),
  'application/vnd.oasis.opendocument.text': failsAsDocumentError(extractOdt),
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
