import path from 'node:path';
import { parse as parseContentDisposition } from 'content-disposition';

const MAX_FILENAME_LENGTH = 255;

/**
 * The document's filename as the server names it: Content-Disposition's `filename*` (RFC 8187)
 * or `filename`, else the last segment of the final URL's path; undefined when neither gives one.
 * Metadata only, never used as a path: reduced to a base name without control characters.
 */
export function filenameFromResponse(
  contentDisposition: string | undefined,
  finalUrl: URL,
): string | undefined {
  return fromContentDisposition(contentDisposition) ?? fromUrlPath(finalUrl);
}

function fromContentDisposition(header: string | undefined): string | undefined {
  if (!header) return undefined;
  try {
    // The parser prefers filename* and decodes it; a malformed header falls back to the URL.
    return sanitize(parseContentDisposition(header).parameters.filename);
  } catch {
    return undefined;
  }
}

function fromUrlPath(url: URL): string | undefined {
  const segment = url.pathname.split('/').at(-1) ?? '';
  try {
    return sanitize(decodeURIComponent(segment));
  } catch {
    return sanitize(segment); // a stray % is kept as written
  }
}

// Same rule as the API's sanitizeFilename for uploads; duplicated because fetch must not import api.
function sanitize(name: string | undefined): string | undefined {
  if (!name) return undefined;
  const base = path.posix.basename(name.replaceAll('\\', '/'));
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
  const clean = base.replace(/[\u0000-\u001f\u007f]/g, '').trim();
  return clean && clean !== '.' && clean !== '..' ? clean.slice(0, MAX_FILENAME_LENGTH) : undefined;
}
