import { decodeDocumentText } from './decode.js';
import { emptyDocument } from './failures.js';
import type { Extractor } from './types.js';

/** Plain text in any encoding (see decodeText), NUL bytes stripped and line endings normalised. */
export const extractPlainText: Extractor = async (bytes, limits, hints) => {
  const text = decodeDocumentText(bytes, limits, hints);
  if (text.trim().length === 0) throw emptyDocument();
  return { text, headings: [], pages: [] };
};
