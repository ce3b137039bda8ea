import { DocumentError } from '../errors.js';

/** The media types the pipeline can extract, with the extractor each uses. */
export const supportedContentTypes = ['text/plain', 'text/markdown'] as const;
export type SupportedContentType = (typeof supportedContentTypes)[number];

/** Lower-cased media type without parameters: "Text/Plain; charset=utf-8" -> "text/plain". */
export function mediaTypeOf(contentType: string): string {
  return (contentType.split(';', 1)[0] ?? '').trim().toLowerCase();
}

export function isSupportedContentType(contentType: string): boolean {
  return (supportedContentTypes as readonly string[]).includes(mediaTypeOf(contentType));
}

/** Decides which extractor reads a version. Only declared types exist so far; byte sniffing comes with binary formats. */
export function detectContentType(declared: string): SupportedContentType {
  const mediaType = mediaTypeOf(declared);
  if (isSupportedContentType(mediaType)) return mediaType as SupportedContentType;
  throw new DocumentError('unsupported_type', `no extractor for content type "${mediaType}"`, false);
}
