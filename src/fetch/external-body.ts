/**
 * A document sent by URL is stored, until a worker fetches it, as a body by reference: content
 * type `message/external-body` (RFC 2046's type for exactly this) and the URL as its bytes. The
 * API acknowledges it durably like any upload; the worker swaps in the fetched bytes and type.
 */
export const EXTERNAL_BODY_TYPE = 'message/external-body; access-type=URL';

export function isExternalBody(contentType: string): boolean {
  return contentType.toLowerCase().startsWith('message/external-body');
}
