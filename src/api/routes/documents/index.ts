import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Config } from '../../../config.js';
import { RequestError } from '../../../errors.js';
import { GroupCommit } from '../../../queue/group-commit.js';
import { toProcessVersionPayload } from '../../../queue/jobs.js';
import { listVersionChunks } from '../../../store/chunks.js';
import {
  type DocumentView,
  deleteDocument,
  findDocument,
  listDocuments,
  type NewDocument,
} from '../../../store/documents.js';
import { listVersions, requestRechunk } from '../../../store/versions.js';
import { chunkingRequest, resolveChunking } from '../../chunking.js';
import { decodeCursor, encodeCursor } from '../../cursor.js';
import { documentsFingerprint, withIdempotencyKey } from '../../idempotency.js';
import { readRawBody } from '../../raw-body.js';
import { toNewDocument, toUploadedDocument } from './intake.js';
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
  rechunkAccepted,
  uploadQuery,
  versionListResponse,
} from './schemas.js';
import { RawBody, readMultipartUpload, readRawUpload } from './upload.js';

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
    detectedType: view.detectedType,
    filename: view.filename,
    sourceUrl: view.sourceUrl,
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

/** The Location of an accepted document, from its (possibly replayed) response body. */
function locationOf(body: unknown): string | undefined {
  const id = (body as { id?: unknown } | null)?.id;
  return typeof id === 'string' ? `/api/v1/documents/${id}` : undefined;
}

function notFound(id: string): RequestError {
  return new RequestError(404, 'not_found', `document ${id} does not exist`);
}

export async function documentRoutes(app: FastifyInstance, options: { config: Config }): Promise<void> {
  const { config } = options;
  const api = app.withTypeProvider<ZodTypeProvider>();
  const ttlMs = config.IDEMPOTENCY_TTL_HOURS * 3_600_000;
  // Concurrent single-document POSTs share commits (see GroupCommit).
  const groupCommit = new GroupCommit(app.handoff, { lingerMs: config.GROUP_COMMIT_LINGER_MS });

  // One endpoint, three ways in: JSON, a multipart upload, or a raw body of any other type. The
  // upload parsers live in their own context, so no other route accepts arbitrary bodies.
  await app.register(async (uploads) => {
    await uploads.register(multipart, {
      limits: {
        fileSize: config.MAX_UPLOAD_BYTES,
        files: 1,
        fields: 8,
        fieldSize: 64 * 1024,
        parts: 10,
        headerPairs: 100,
      },
    });
    uploads.addContentTypeParser('*', async (request: FastifyRequest, payload: Readable) => {
      return new RawBody(await readRawBody(request, payload, config.MAX_UPLOAD_BYTES));
    });
    uploads.withTypeProvider<ZodTypeProvider>().post(
      '',
      {
        // Only JSON bodies have this shape; for uploads the body is validated by hand (see below).
        attachValidation: true,
        schema: {
          summary:
            'Submit a document as JSON, a multipart upload (part "file") or a raw body with its own Content-Type; ' +
            'it is stored durably before the 202 and processed asynchronously',
          tags: ['documents'],
          body: newDocumentBody,
          querystring: uploadQuery,
          response: {
            200: acceptedDocument.describe('the same content as the latest version: nothing new stored'),
            202: acceptedDocument,
            400: errorResponse,
            413: errorResponse,
            415: errorResponse,
          },
        },
      },
      async (request, reply) => {
        const context = { tenantId: request.tenantId, requestId: request.id, config };
        let document: NewDocument;
        if (request.isMultipart()) {
          const upload = await readMultipartUpload(request);
          document = toUploadedDocument(upload, upload.fields, context);
        } else if (request.body instanceof RawBody) {
          const upload = readRawUpload(request, request.body.bytes);
          document = toUploadedDocument(upload, upload.fields, context);
        } else {
          if (request.validationError) throw request.validationError;
          document = toNewDocument(request.body, context);
        }
        return withIdempotencyKey(
          app,
          request,
          reply,
          {
            fingerprint: () => documentsFingerprint([document]),
            ttlMs,
            location: (body) => locationOf(body),
            documents: [document],
          },
          async () => {
            const outcome = await groupCommit.submit(document);
            return { statusCode: outcome.duplicate ? 200 : 202, body: outcome };
          },
        );
      },
    );
  });

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
      const acceptedItems: (typeof items)[number][] = [];
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
          const item = { index, status: 202 };
          accepted.push(document);
          acceptedItems.push(item);
          items.push(item);
        } catch (error) {
          if (!(error instanceof RequestError)) throw error;
          items.push({
            index,
            status: error.statusCode,
            error: { code: error.code, message: error.message, details: error.details ?? null },
          });
        }
      });
      // Rejected items are part of what was asked, so they count towards the fingerprint too.
      const fingerprint = () =>
        createHash('sha256')
          .update(documentsFingerprint(accepted))
          .update(JSON.stringify(items.filter((item) => item.error)))
          .digest();
      return withIdempotencyKey(
        app,
        request,
        reply,
        { fingerprint, ttlMs, documents: accepted },
        async () => {
          const outcomes = await app.handoff.commit(accepted);
          outcomes.forEach((outcome, i) => {
            const item = acceptedItems[i];
            if (!item) return;
            Object.assign(item, {
              status: outcome.duplicate ? 200 : 202,
              id: outcome.id,
              version: outcome.version,
            });
            if (outcome.duplicate) item.duplicate = true;
          });
          return {
            statusCode: 207,
            body: { accepted: accepted.length, rejected: items.length - accepted.length, items },
          };
        },
      );
    },
  );

  api.post(
    '/:id/rechunk',
    {
      schema: {
        summary:
          "Re-chunk a document's current version from its stored text; the old chunks stay until the new ones replace them",
        tags: ['documents'],
        params: documentIdParams,
        body: z.object({ chunking: chunkingRequest }).strict(),
        response: { 202: rechunkAccepted, 400: errorResponse, 404: errorResponse, 409: errorResponse },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const settings = resolveChunking(request.body.chunking, config);
      const requested = await requestRechunk(app.db, request.tenantId, id, settings);
      if (!requested) {
        if (!(await findDocument(app.db, request.tenantId, id))) throw notFound(id);
        throw new RequestError(409, 'not_ready', `document ${id} has no completed version to re-chunk yet`);
      }
      const payload = toProcessVersionPayload({
        documentId: id,
        version: requested.version,
        tenantId: request.tenantId,
        requestId: request.id,
      });
      await app.documentQueue.enqueueRechunk(payload);
      return reply
        .code(202)
        .send({ id, version: requested.version, status: 'rechunking' as const, chunking: settings });
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
        summary: 'A document with its latest version (or ?version=N): status, error and stage times',
        tags: ['documents'],
        params: documentIdParams,
        querystring: z.object({ version: z.coerce.number().int().min(1).optional() }).strict(),
        response: { 200: documentResponse, 400: errorResponse, 404: errorResponse },
      },
    },
    async (request) => {
      const { id } = request.params;
      const { version } = request.query;
      const view = await findDocument(app.db, request.tenantId, id, version);
      if (!view) {
        if (version !== undefined && (await findDocument(app.db, request.tenantId, id))) {
          throw new RequestError(404, 'not_found', `document ${id} has no version ${version}`);
        }
        throw notFound(id);
      }
      return toDocumentResponse(view);
    },
  );

  api.delete(
    '/:id',
    {
      schema: {
        summary: 'Delete a document with all its versions and chunks; its pending jobs are cancelled',
        tags: ['documents'],
        params: documentIdParams,
        response: { 204: z.null().describe('deleted'), 400: errorResponse, 404: errorResponse },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const versions = await deleteDocument(app.db, request.tenantId, id);
      if (!versions) throw notFound(id);
      // The rows are gone, so a job that still runs finds nothing to do; removing waiting jobs
      // only saves the work. A Redis that is down must not fail the delete.
      await app.documentQueue
        .cancelVersions(id, versions)
        .catch((error) =>
          request.log.warn({ err: error, documentId: id }, 'could not cancel jobs of a deleted document'),
        );
      return reply.code(204).send(null);
    },
  );

  api.get(
    '/:id/versions',
    {
      schema: {
        summary: 'Every version of a document, newest first',
        tags: ['documents'],
        params: documentIdParams,
        response: { 200: versionListResponse, 400: errorResponse, 404: errorResponse },
      },
    },
    async (request) => {
      const versions = await listVersions(app.db, request.tenantId, request.params.id);
      if (versions.length === 0) throw notFound(request.params.id);
      return {
        items: versions.map((v) => ({
          ...v,
          createdAt: v.createdAt.toISOString(),
          completedAt: v.completedAt?.toISOString() ?? null,
        })),
      };
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
