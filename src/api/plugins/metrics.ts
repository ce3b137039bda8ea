import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { Metrics } from '../../metrics.js';

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics;
  }
}

export interface MetricsPluginOptions {
  /** A process-wide instance to share with an in-process worker; a new one when absent. */
  metrics?: Metrics | undefined;
}

/** Times every request by route template (never by raw URL, which would explode the label set). */
const metricsPlugin: FastifyPluginAsync<MetricsPluginOptions> = async (app, options) => {
  const metrics = options.metrics ?? new Metrics();
  app.decorate('metrics', metrics);
  app.addHook('onResponse', async (request, reply) => {
    metrics.httpRequestDuration.observe(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status_code: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
  });
};

export default fp(metricsPlugin, { name: 'metrics', fastify: '5.x' });
