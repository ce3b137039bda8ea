import { DocumentError } from '../../errors.js';

const decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: false });

/**
 * Plain text and Markdown: UTF-8 decoded (a BOM dropped, invalid sequences replaced), NUL bytes
 * removed because Postgres text cannot hold them. Markdown keeps its heading lines as they are.
 */
export function extractText(bytes: Uint8Array): string {
  const text = decoder.decode(bytes).replaceAll('\u0000', '');
  if (text.trim().length === 0) throw new DocumentError('empty', 'the document has no text', false);
  return text;
}
