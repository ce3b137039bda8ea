import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { countUnfinishedVersions } from '../../store/versions.js';
import { sendError } from './error-handler.js';

export interface TenantQuotaOptions {
  /** Unfinished versions one tenant may have before its new work is refused; 0 off. */
  maxUnfinished: number;
}

/** A tenant's count is read at most once a second per node, never per request. */
const COUNT_TTL_MS = 1_000;

/**
 * One tenant cannot fill the queue for everyone: while it has `maxUnfinished` versions queued or
 * processing, its requests that add work answer 429 with Retry-After. The count is up to a
 * second old, so a burst may pass the bound by what one second of intake brings.
 */
const tenantQuotaPlugin: FastifyPluginAsync<TenantQuotaOptions> = async (app, options) => {
  if (options.maxUnfinished === 0) return;
  const counts = new Map<string, { count: number; expires: number; pending?: Promise<number> }>();

  const unfinished = async (tenantId: string): Promise<number> => {
    const cached = counts.get(tenantId);
    if (cached && cached.expires > Date.now()) return cached.count;
    if (cached?.pending) return cached.pending;
    const pending = countUnfinishedVersions(app.db, tenantId).then(
      (count) => {
        counts.set(tenantId, { count, expires: Date.now() + COUNT_TTL_MS });
        return count;
      },
      (error: unknown) => {
        counts.delete(tenantId);
        throw error;
      },
    );
    counts.set(tenantId, { count: cached?.count ?? 0, expires: 0, pending });
    return pending;
  };

  // Before the body is read: a tenant over its quota must not make us receive a 100 MB upload.
  app.addHook('preParsing', async (request, reply) => {
    if (request.method !== 'POST' || !request.routeOptions.url?.startsWith('/api/v1/documents')) return;
    const count = await unfinished(request.tenantId);
    if (count < options.maxUnfinished) return;
    reply.header('retry-after', '10');
    return sendError(
      reply,
      429,
      'tenant_quota_exceeded',
      `this tenant has ${count} documents waiting or processing (limit ${options.maxUnfinished}); retry when they finish`,
      { unfinished: count, limit: options.maxUnfinished },
    );
  });
};

export default fp(tenantQuotaPlugin, { name: 'tenant-quota', fastify: '5.x', dependencies: ['db', 'auth'] });
