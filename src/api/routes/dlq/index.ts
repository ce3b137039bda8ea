import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { RequestError } from '../../../errors.js';
import { toProcessVersionPayload } from '../../../queue/jobs.js';
import {
  type DlqItem,
  discardDlqItem,
  dlqStatuses,
  findDlqItem,
  listDlqItems,
  redriveDlqItems,
} from '../../../store/dlq.js';
import { decodeCursor, encodeCursor } from '../../cursor.js';
import { errorResponse } from '../documents/schemas.js';

const itemId = z.object({ id: z.string().regex(/^[1-9]\d{0,18}$/, 'id must be a dead letter id') });

const filter = {
  status: z.enum(dlqStatuses).optional(),
  priority: z.coerce.number().int().min(0).max(1000).optional(),
  code: z.string().min(1).max(100).optional(),
};

const dlqItem = z.object({
  id: z.string(),
  documentId: z.string().nullable(),
  version: z.number().int().nullable(),
  priority: z.number().int(),
  status: z.enum(dlqStatuses),
  error: z.object({ code: z.string(), message: z.string(), stack: z.string().nullable() }),
  attempts: z.number().int(),
  retryable: z.boolean(),
  redrives: z.number().int(),
  needsHuman: z.boolean().describe('the dlq role re-drove it DLQ_MAX_REDRIVES times and gave up'),
  payload: z.unknown(),
  firstFailedAt: z.string(),
  lastFailedAt: z.string(),
  updatedAt: z.string(),
});

function toResponse(item: DlqItem): z.infer<typeof dlqItem> {
  return {
    id: item.id,
    documentId: item.documentId,
    version: item.version,
    priority: item.priority,
    status: item.status,
    error: { code: item.errorCode, message: item.errorMessage, stack: item.errorStack },
    attempts: item.attempts,
    retryable: item.retryable,
    redrives: item.redrives,
    needsHuman: item.needsHuman,
    payload: item.payload,
    firstFailedAt: item.firstFailedAt.toISOString(),
    lastFailedAt: item.lastFailedAt.toISOString(),
    updatedAt: item.updatedAt.toISOString(),
  };
}

const cursorSchema = z.object({ before: z.string().regex(/^\d+$/) });
const BULK_RETRY_LIMIT = 10_000;

/** Dead letters: inspect, re-drive (one or many) and discard. */
export async function dlqRoutes(app: FastifyInstance): Promise<void> {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const notFound = (id: string) => new RequestError(404, 'not_found', `dead letter ${id} does not exist`);

  /** Re-drives and enqueues; a Redis that refuses leaves the versions queued for the sweeper. */
  async function redrive(payloads: Awaited<ReturnType<typeof redriveDlqItems>>): Promise<number> {
    await app.documentQueue
      .reviveJobs(payloads.map(toProcessVersionPayload))
      .catch((error) => app.log.warn({ err: error }, 're-driven versions stay queued for the sweeper'));
    return payloads.length;
  }

  api.get(
    '/api/v1/dlq',
    {
      schema: {
        summary: 'Dead letters, newest first, by status, priority and error code',
        tags: ['dlq'],
        querystring: z
          .object({
            ...filter,
            limit: z.coerce.number().int().min(1).max(100).default(20),
            cursor: z.string().max(200).optional(),
          })
          .strict(),
        response: {
          200: z.object({ items: z.array(dlqItem), nextCursor: z.string().nullable() }),
          400: errorResponse,
        },
      },
    },
    async (request) => {
      const { limit, cursor, ...rest } = request.query;
      const beforeId = cursor ? decodeCursor(cursor, cursorSchema).before : undefined;
      const rows = await listDlqItems(app.db, {
        tenantId: request.tenantId,
        ...rest,
        beforeId,
        limit: limit + 1,
      });
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        items: page.map(toResponse),
        nextCursor: rows.length > limit && last ? encodeCursor({ before: last.id }) : null,
      };
    },
  );

  api.get(
    '/api/v1/dlq/:id',
    {
      schema: {
        summary: 'One dead letter, with its error and stack',
        tags: ['dlq'],
        params: itemId,
        response: { 200: dlqItem, 400: errorResponse, 404: errorResponse },
      },
    },
    async (request) => {
      const item = await findDlqItem(app.db, request.tenantId, request.params.id);
      if (!item) throw notFound(request.params.id);
      return toResponse(item);
    },
  );

  api.post(
    '/api/v1/dlq/:id/retry',
    {
      schema: {
        summary: 'Re-drive one pending dead letter: its version is queued again',
        tags: ['dlq'],
        params: itemId,
        response: { 202: z.object({ retried: z.number().int() }), 404: errorResponse, 409: errorResponse },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const item = await findDlqItem(app.db, request.tenantId, id);
      if (!item) throw notFound(id);
      const retried = await redrive(await redriveDlqItems(app.db, { tenantId: request.tenantId, ids: [id] }));
      if (retried === 0)
        throw new RequestError(409, 'not_pending', `dead letter ${id} is ${item.status}, not pending`);
      return reply.code(202).send({ retried });
    },
  );

  api.post(
    '/api/v1/dlq/retry',
    {
      schema: {
        summary: `Re-drive every pending dead letter matching the filter (at most ${BULK_RETRY_LIMIT}); returns how many`,
        tags: ['dlq'],
        body: z.object({ priority: filter.priority, code: filter.code }).strict().default({}),
        response: { 202: z.object({ retried: z.number().int() }), 400: errorResponse },
      },
    },
    async (request, reply) => {
      const payloads = await redriveDlqItems(app.db, {
        tenantId: request.tenantId,
        status: 'pending',
        priority: request.body.priority,
        code: request.body.code,
        limit: BULK_RETRY_LIMIT,
      });
      return reply.code(202).send({ retried: await redrive(payloads) });
    },
  );

  api.delete(
    '/api/v1/dlq/:id',
    {
      schema: {
        summary: 'Discard a dead letter; its row stays, marked discarded, as the audit trail',
        tags: ['dlq'],
        params: itemId,
        response: { 204: z.null(), 404: errorResponse, 409: errorResponse },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      if (await discardDlqItem(app.db, request.tenantId, id)) return reply.code(204).send(null);
      const item = await findDlqItem(app.db, request.tenantId, id);
      if (!item) throw notFound(id);
      throw new RequestError(409, 'not_open', `dead letter ${id} is already ${item.status}`);
    },
  );
}
