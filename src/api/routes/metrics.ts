import type { FastifyInstance } from 'fastify';

/** Prometheus scrape endpoint (text exposition format). */
export async function metricsRoutes(app: FastifyInstance): Promise<void> {
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    const { registry } = app.metrics;
    return reply.type(registry.contentType).send(await registry.metrics());
  });
}
