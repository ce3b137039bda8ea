import type { FastifyError, FastifyPluginAsync, FastifyReply } from 'fastify';
import fp from 'fastify-plugin';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { DocumentError, isTransientError, RequestError } from '../../errors.js';

/** The one error body every endpoint answers with. */
export interface ErrorBody {
  error: { code: string; message: string; details: unknown };
}

export function sendError(
  reply: FastifyReply,
  statusCode: number,
  code: string,
  message: string,
  details: unknown = null,
): FastifyReply {
  const body: ErrorBody = { error: { code, message, details } };
  return reply.code(statusCode).type('application/json; charset=utf-8').send(body);
}

/** Fastify's own 4xx codes, renamed to the stable codes clients see. */
const frameworkCodes: Record<string, string> = {
  // One code for "the body is too big", whichever way an upload came in.
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'bad_request',
  FST_ERR_CTP_EMPTY_TYPE: 'unsupported_media_type',
  // @fastify/multipart's limits
  FST_REQ_FILE_TOO_LARGE: 'payload_too_large',
  FST_FILES_LIMIT: 'too_many_files',
  FST_FIELDS_LIMIT: 'too_many_fields',
  FST_PARTS_LIMIT: 'too_many_parts',
  FST_INVALID_MULTIPART_CONTENT_TYPE: 'invalid_multipart',
  FST_PROTO_VIOLATION: 'invalid_multipart',
};

/**
 * Every error becomes `{"error":{"code","message","details"}}`. Validation failures list each
 * bad field; 5xx answers hide internals (the log keeps them, joined by request id).
 */
const errorHandlerPlugin: FastifyPluginAsync = async (app) => {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (hasZodFastifySchemaValidationErrors(error)) {
      const details = error.validation.map((issue) => ({
        in: error.validationContext ?? 'request',
        path: issue.instancePath.replace(/^\//, '').replaceAll('/', '.'),
        message: issue.message ?? 'invalid',
      }));
      const first = details[0];
      const where = first?.path ? `${first.in}.${first.path}` : (first?.in ?? 'request');
      return sendError(reply, 400, 'validation_error', `${where}: ${first?.message ?? 'invalid'}`, details);
    }
    if (error instanceof RequestError) {
      return sendError(reply, error.statusCode, error.code, error.message, error.details ?? null);
    }
    // A document processed in the request (a chunk preview) that cannot be: the input's fault.
    if (error instanceof DocumentError && !error.retryable) {
      return sendError(reply, 422, error.code, error.message);
    }
    const statusCode = error.statusCode ?? 500;
    if (statusCode >= 400 && statusCode < 500) {
      const code = frameworkCodes[error.code] ?? 'bad_request';
      // Too many parts is a malformed request, not a too-large one (the plugin says 413).
      const status = code.startsWith('too_many_') ? 400 : statusCode;
      return sendError(reply, status, code, error.message);
    }
    if (statusCode === 503 || isTransientError(error)) {
      request.log.warn({ err: error }, 'request failed: dependency unavailable');
      reply.header('retry-after', '5');
      return sendError(reply, 503, 'unavailable', 'the service is temporarily unavailable; retry shortly');
    }
    request.log.error({ err: error }, 'request failed');
    return sendError(
      reply,
      500,
      'internal_error',
      'internal error; the request id identifies it in the logs',
    );
  });

  app.setNotFoundHandler((request, reply) =>
    sendError(reply, 404, 'not_found', `no route for ${request.method} ${request.url.split('?', 1)[0]}`),
  );
};

export default fp(errorHandlerPlugin, { name: 'error-handler', fastify: '5.x' });
