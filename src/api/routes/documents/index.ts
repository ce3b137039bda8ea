import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Config } from '../../../config.js';
import { RequestError } from '../../../errors.js';
import { commitAndEnqueue, type HandoffDeps } from '../../../queue/handoff.js';
import { listVersionChunks } from '../../../store/chunks.js';
import {
  type DocumentView,
  findDocument,
  listDocuments,
  type NewDocument,
} from '../../../store/documents.js';
import { decodeCursor, encodeCursor } from '../../cursor.js';
import { toNewDocument } from './intake.js';
import {
  acceptedDocument,
  batchBody,
  batchResponse,
  chunkListResponse,
  type DocumentResponse,
  documentIdParams,
  documentListResponse,
  documentResponse,
  errorResponse,
  listChunksQuery,
  listDocumentsQuery,
  newDocumentBody,
} from './schemas.js';

const documentsCursor = z.object({ before: z.uuid() });
const chunksCursor = z.object({ version: z.number().int().min(1), after: z.number().int().min(-1) });

function toDocumentResponse(view: DocumentView): DocumentResponse {
  const iso = (date: Date | null) => (date ? date.toISOString() : null);
  return {
    id: view.id,
    status: view.status,
    version: view.version,
    currentVersion: view.currentVersion,
    source: view.source,
    externalId: view.externalId,
    contentType: view.contentType,
    bytes: view.bytes,
    chunkCount: view.chunkCount,
    metadata: view.metadata,
    error: view.errorCode ? { code: view.errorCode, message: view.errorMessage ?? '' } : null,
    stages: {
      queuedAt: view.queuedAt.toISOString(),
      startedAt: iso(view.startedAt),
      extractedAt: iso(view.extractedAt),
      chunkedAt: iso(view.chunkedAt),
      completedAt: iso(view.completedAt),
    },
    createdAt: view.createdAt.toISOString(),
    updatedAt: view.updatedAt.toISOString(),
  };
}

function notFound(id: string): RequestError {
  return new RequestError(404, 'not_found', `document ${id} does not exist`);
}

/** JSON escapes can make a body several times its content; the content limit is checked exactly later. */
function singleBodyLimit(config: Config): number {
  return config.MAX_DOCUMENT_BYTES * 2 + 1024 * 1024;
}

export async function documentRoutes(app: FastifyInstance, options: { config: Config }): Promise<void> {
  const { config } = options;
  const api = app.withTypeProvider<ZodTypeProvider>();
  const handoff: HandoffDeps = {
    pool: app.db,
    queue: app.documentQueue,
    metrics: app.metrics,
    logger: app.log,
  };

  api.post(
    '',
    {
      bodyLimit: singleBodyLimit(config),
      schema: {
        summary: 'Submit a document; it is stored durably before the 202 and processed asynchronously',
        tags: ['documents'],
        body: newDocumentBody,
        response: { 202: acceptedDocument, 400: errorResponse, 413: errorResponse },
      },
    },
    async (request, reply) => {
      const document = toNewDocument(request.body, {
        tenantId: request.tenantId,
        requestId: request.id,
        config,
      });
      await commitAndEnqueue(handoff, [document]);
      return reply
        .code(202)
        .header('location', `/api/v1/documents/${document.id}`)
        .send({ id: document.id, version: 1, status: 'queued' as const });
    },
  );

  api.post(
    '/batch',
    {
      bodyLimit: config.BATCH_MAX_BYTES,
      schema: {
        summary: 'Submit up to BATCH_MAX_DOCUMENTS documents; each item succeeds or fails on its own',
        tags: ['documents'],
        body: batchBody(config.BATCH_MAX_DOCUMENTS),
        response: { 207: batchResponse, 400: errorResponse, 413: errorResponse },
      },
    },
    async (request, reply) => {
      const items: z.infer<typeof batchResponse>['items'] = [];
      const accepted: NewDocument[] = [];
      request.body.documents.forEach((item, index) => {
        const parsed = newDocumentBody.safeParse(item);
        if (!parsed.success) {
          const details = parsed.error.issues.map((issue) => ({
            path: issue.path.join('.'),
            message: issue.message,
          }));
          const first = details[0];
          items.push({
            index,
            status: 400,
            error: { code: 'validation_error', message: `${first?.path}: ${first?.message}`, details },
          });
          return;
        }
        try {
          const document = toNewDocument(parsed.data, {
            tenantId: request.tenantId,
            requestId: request.id,
            config,
          });
          accepted.push(document);
          items.push({ index, status: 202, id: document.id, version: 1 });
        } catch (error) {
          if (!(error instanceof RequestError)) throw error;
          items.push({
            index,
            status: error.statusCode,
            error: { code: error.code, message: error.message, details: error.details ?? null },
          });
        }
      });
      await commitAndEnqueue(handoff, accepted);
      return reply
        .code(207)
        .send({ accepted: accepted.length, rejected: items.length - accepted.length, items });
    },
  );

  api.get(
    '',
    {
      schema: {
        summary: 'List documents, newest first',
        tags: ['documents'],
        querystring: listDocumentsQuery,
        response: { 200: documentListResponse, 400: errorResponse },
      },
    },
    async (request) => {
      const { status, source, limit, cursor } = request.query;
      const before = cursor ? decodeCursor(cursor, documentsCursor).before : undefined;
      const rows = await listDocuments(app.db, {
        tenantId: request.tenantId,
        status,
        source,
        beforeId: before,
        limit: limit + 1,
      });
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        items: page.map(toDocumentResponse),
        nextCursor: rows.length > limit && last ? encodeCursor({ before: last.id }) : null,
      };
    },
  );

  api.get(
    '/:id',
    {
      schema: {
        summary: 'A document with its latest version, status, error and stage times',
        tags: ['documents'],
        params: documentIdParams,
        response: { 200: documentResponse, 400: errorResponse, 404: errorResponse },
      },
    },
    async (request) => {
      const view = await findDocument(app.db, request.tenantId, request.params.id);
      if (!view) throw notFound(request.params.id);
      return toDocumentResponse(view);
    },
  );

  api.get(
    '/:id/chunks',
    {
      schema: {
        summary: "A page of the chunks of a document's current version (or ?version=N)",
        tags: ['documents'],
        params: documentIdParams,
        querystring: listChunksQuery,
        response: { 200: chunkListResponse, 400: errorResponse, 404: errorResponse },
      },
    },
    async (request) => {
      const { id } = request.params;
      const position = request.query.cursor ? decodeCursor(request.query.cursor, chunksCursor) : undefined;
      const view = await findDocument(app.db, request.tenantId, id);
      if (!view) throw notFound(id);
      const version = position?.version ?? request.query.version ?? view.currentVersion;
      if (version === null) return { version: null, items: [], nextCursor: null };
      if (version > view.version)
        throw new RequestError(404, 'not_found', `document ${id} has no version ${version}`);
      const { limit } = request.query;
      const rows = await listVersionChunks(app.db, {
        tenantId: request.tenantId,
        documentId: id,
        version,
        afterIndex: position?.after ?? -1,
        limit: limit + 1,
      });
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        version,
        items: page,
        nextCursor: rows.length > limit && last ? encodeCursor({ version, after: last.index }) : null,
      };
    },
  );
}
