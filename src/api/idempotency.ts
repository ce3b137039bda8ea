import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { RequestError } from '../errors.js';
import type { NewDocument } from '../store/documents.js';
import { claimIdempotencyKey, completeIdempotencyKey, releaseIdempotencyKey } from '../store/idempotency.js';

const KEY_FORMAT = /^[\x21-\x7e]{1,255}$/;

/**
 * What makes two requests "the same" for an Idempotency-Key: the documents' contents and every
 * setting that shapes their processing (not their new ids, which differ on every request).
 */
export function documentsFingerprint(documents: readonly NewDocument[]): Buffer {
  const hash = createHash('sha256');
  for (const d of documents) {
    hash.update(
      JSON.stringify([
        d.contentHash.toString('hex'),
        d.contentType,
        d.source,
        d.externalId,
        d.filename,
        d.metadata,
        d.chunking,
      ]),
    );
  }
  return hash.digest();
}

export interface IdempotentResponse {
  statusCode: number;
  body: unknown;
}

/**
 * Runs `work` at most once per Idempotency-Key (header), within `ttlMs`: a retry with the same
 * key and request gets the first response again (marked `idempotent-replayed: true`); the same
 * key with another request is a 409, and so is a retry while the first is still running. Without
 * the header, `work` simply runs.
 */
export async function withIdempotencyKey(
  app: FastifyInstance,
  request: FastifyRequest,
  reply: FastifyReply,
  options: {
    /** What makes a retry "the same request"; computed only when the request has a key. */
    fingerprint: () => Buffer;
    ttlMs: number;
    location?: (body: unknown) => string | undefined;
    /**
     * The new documents the request creates. When it takes over a claim whose node died, they
     * get that claim's ids, so documents it may have committed are not stored a second time.
     */
    documents?: NewDocument[];
  },
  work: () => Promise<IdempotentResponse>,
): Promise<FastifyReply> {
  const header = request.headers['idempotency-key'];
  const send = ({ statusCode, body }: IdempotentResponse) => {
    const location = options.location?.(body);
    if (location) reply.header('location', location);
    return reply.code(statusCode).send(body);
  };
  if (header === undefined) return send(await work());
  if (typeof header !== 'string' || !KEY_FORMAT.test(header)) {
    throw new RequestError(
      400,
      'invalid_idempotency_key',
      'Idempotency-Key must be 1 to 255 visible ASCII characters',
    );
  }
  const key = { tenantId: request.tenantId, key: header };
  const fresh = (options.documents ?? []).filter((document) => document.externalId === null);
  const claim = await claimIdempotencyKey(app.db, {
    ...key,
    requestHash: options.fingerprint(),
    ttlMs: options.ttlMs,
    documentIds: fresh.map((document) => document.id),
  });
  switch (claim.kind) {
    case 'replay':
      reply.header('idempotent-replayed', 'true');
      return send({ statusCode: claim.statusCode, body: claim.response });
    case 'mismatch':
      throw new RequestError(
        409,
        'idempotency_key_reused',
        'this Idempotency-Key was used for a different request; use a new key for a new request',
      );
    case 'in_progress':
      reply.header('retry-after', '1');
      throw new RequestError(
        409,
        'idempotency_key_in_progress',
        'a request with this Idempotency-Key is still running',
      );
    case 'claimed':
      for (const [i, document] of fresh.entries()) document.id = claim.documentIds[i] ?? document.id;
      break;
  }
  let response: IdempotentResponse;
  try {
    response = await work();
  } catch (error) {
    await releaseIdempotencyKey(app.db, key).catch(() => {});
    throw error;
  }
  await completeIdempotencyKey(app.db, { ...key, statusCode: response.statusCode, response: response.body });
  return send(response);
}
