import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { errorCodes } from 'fastify';

/** A preParsing stream reports what it read before transforming it (see Fastify's docs). */
type BodyStream = Readable & { receivedEncodedLength?: number };

/**
 * Reads a request body into one Buffer, with Fastify's own checks (body limit, Content-Length
 * agreeing with what came). Fastify's `parseAs: 'buffer'` keeps every chunk and then concatenates
 * them, holding a 50 MB upload twice. Here a body of declared length, read untransformed, goes
 * into a buffer of that size, allocated once a quarter of it has come: a client declaring 100 MB
 * and sending a trickle does not get 100 MB reserved for it.
 */
export function readRawBody(
  request: { raw: IncomingMessage; headers: IncomingMessage['headers'] },
  payload: BodyStream,
  limit: number,
): Promise<Buffer> {
  const contentLength = Number(request.headers['content-length']);
  if (contentLength > limit) return Promise.reject(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
  const declared = Number.isSafeInteger(contentLength) && contentLength >= 0;
  const sizable = declared && payload === request.raw;
  let sized: Buffer | undefined;
  const chunks: Buffer[] = [];
  let received = 0;
  return new Promise((resolve, reject) => {
    const finish = (error: Error | undefined, body?: Buffer) => {
      payload.removeListener('data', onData);
      payload.removeListener('end', onEnd);
      payload.removeListener('error', onEnd);
      if (error) reject(error);
      else resolve(body as Buffer);
    };
    function onData(chunk: Buffer | string) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      if (received + bytes.length > limit || (payload.receivedEncodedLength ?? 0) > limit) {
        finish(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
        return;
      }
      if (sizable && received + bytes.length > contentLength) {
        finish(new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH());
        return;
      }
      if (sized) {
        bytes.copy(sized, received);
      } else {
        chunks.push(bytes);
        if (sizable && (received + bytes.length) * 4 >= contentLength) {
          sized = Buffer.allocUnsafe(contentLength);
          let at = 0;
          for (const chunk of chunks.splice(0)) at += chunk.copy(sized, at);
        }
      }
      received += bytes.length;
    }
    function onEnd(error?: Error & { statusCode?: number }) {
      if (error) {
        if (!(typeof error.statusCode === 'number' && error.statusCode >= 400)) error.statusCode = 400;
        finish(error);
        return;
      }
      if (declared && (payload.receivedEncodedLength || received) !== contentLength) {
        finish(new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH());
        return;
      }
      finish(undefined, sized ?? Buffer.concat(chunks, received));
    }
    payload.on('data', onData);
    payload.on('end', onEnd);
    payload.on('error', onEnd);
    payload.resume();
  });
}
