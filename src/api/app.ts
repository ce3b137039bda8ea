import { randomUUID } from 'node:crypto';
import cors from '@fastify/cors';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { type Config, commaList } from '../config.js';
import { type Logger, loggerOptions } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { registerJsonBodyParser } from './json-body.js';
import authPlugin from './plugins/auth.js';
import backpressurePlugin from './plugins/backpressure.js';
import dbPlugin from './plugins/db.js';
import errorHandlerPlugin from './plugins/error-handler.js';
import handoffPlugin from './plugins/handoff.js';
import metricsPlugin from './plugins/metrics.js';
import pipelinePlugin from './plugins/pipeline.js';
import queuePlugin from './plugins/queue.js';
import rateLimitPlugin from './plugins/rate-limit.js';
import readinessPlugin from './plugins/readiness.js';
import securityHeadersPlugin from './plugins/security-headers.js';
import tenantQuotaPlugin from './plugins/tenant-quota.js';
import { chunkPreviewRoutes } from './routes/chunk-preview.js';
import { dlqRoutes } from './routes/dlq/index.js';
import { documentRoutes } from './routes/documents/index.js';
import { healthRoutes } from './routes/health.js';
import { metricsRoutes } from './routes/metrics.js';
import { statsRoutes } from './routes/stats.js';

export interface AppOptions {
  config: Config & { DATABASE_URL: string; REDIS_URL: string };
  /** Share one registry with an in-process worker (`ingestd up`). */
  metrics?: Metrics;
  /** A parent logger; by default the app makes its own from config. */
  logger?: Logger;
}

/** Request ids we accept from a client or proxy; anything else is replaced by our own. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** A comma-separated setting as a list; undefined when empty. */
function listOf(setting: string): string[] | undefined {
  const items = commaList(setting);
  return items.length > 0 ? items : undefined;
}

/** Builds the API: plugins first, then routes. Listening is the caller's business (see server.ts). */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { config } = options;
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: loggerOptions(config) }),
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    // Per-request info lines cost more than the requests themselves at high rates; debug keeps one.
    logController: new LogController({ requestIdLogLabel: 'requestId', disableRequestLogging: true }),
    bodyLimit: config.BATCH_MAX_BYTES,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    // Outlives a proxy's upstream keepalive, so a proxy never reuses a socket we are closing.
    keepAliveTimeout: 72_000,
    // Our readiness plugin answers requests that arrive during shutdown, with our error body.
    return503OnClosing: false,
    // Bounds how long one request (a slow upload included) may hold a socket. Node's default is
    // disabled by Fastify; nginx's own timeouts are shorter still.
    requestTimeout: 120_000,
    // X-Forwarded-For is believed only from the listed proxies (nginx), so a client cannot forge
    // its address to escape a per-IP rate limit.
    trustProxy: listOf(config.TRUST_PROXY) ?? false,
  });
  // JSON only: a text/plain body would otherwise reach the JSON schemas as a string.
  app.removeContentTypeParser('text/plain');
  registerJsonBodyParser(app, config.BATCH_MAX_BYTES);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    request.log.debug(
      { method: request.method, url: request.url, statusCode: reply.statusCode },
      'request done',
    );
  });

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'ingestd',
        description: 'Document ingestion: REST in, chunks in Postgres out.',
        version: '0.1.0',
      },
      components: {
        securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'an ingestd API key' } },
      },
      security: [{ apiKey: [] }],
    },
    transform: jsonSchemaTransform,
  });
  // staticCSP: the UI's own pages carry a CSP that allows its scripts; helmet's covers the rest.
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
  await app.register(securityHeadersPlugin);
  // Closed unless origins are listed; never `*` with credentials.
  const origins = listOf(config.CORS_ORIGINS);
  if (origins) {
    await app.register(cors, {
      origin: origins,
      methods: ['GET', 'POST', 'DELETE'],
      allowedHeaders: ['authorization', 'content-type', 'idempotency-key', 'x-api-key', 'x-request-id'],
      exposedHeaders: ['location', 'retry-after', 'x-request-id'],
      maxAge: 600,
    });
  }

  await app.register(errorHandlerPlugin);
  await app.register(readinessPlugin);
  await app.register(metricsPlugin, { metrics: options.metrics });
  await app.register(dbPlugin, { connectionString: config.DATABASE_URL, max: config.PG_POOL_MAX });
  await app.register(queuePlugin, { redisUrl: config.REDIS_URL, prefix: config.QUEUE_PREFIX });
  await app.register(handoffPlugin);
  await app.register(authPlugin, {
    required: config.AUTH_REQUIRED,
    cacheMs: config.API_KEY_CACHE_MS,
    // Failed lookups are failed attempts: they share the budget of callers without a key.
    missesPerIpPerMinute:
      config.RATE_LIMIT_PER_MINUTE === 0 ? undefined : config.RATE_LIMIT_ANONYMOUS_PER_MINUTE,
  });
  await app.register(rateLimitPlugin, {
    perKeyPerMinute: config.RATE_LIMIT_PER_MINUTE,
    perIpPerMinute: config.RATE_LIMIT_ANONYMOUS_PER_MINUTE,
    prefix: config.QUEUE_PREFIX,
    authRequired: config.AUTH_REQUIRED,
  });
  await app.register(tenantQuotaPlugin, { maxUnfinished: config.TENANT_MAX_UNFINISHED });

  await app.register(backpressurePlugin, {
    maxEventLoopDelayMs: config.MAX_EVENT_LOOP_DELAY_MS,
    maxHeapUsedBytes: config.MAX_HEAP_USED_MB * 1024 * 1024,
    maxQueueWaiting: config.QUEUE_MAX_WAITING,
  });
  await app.register(pipelinePlugin, { timeoutMs: 10_000, heapMb: 256 });

  await app.register(healthRoutes, { readyTimeoutMs: config.READY_TIMEOUT_MS });
  // With API_METRICS_PORT set, scrapes go to an internal listener instead (see server.ts).
  if (config.API_METRICS_PORT === 0) await app.register(metricsRoutes);
  await app.register(documentRoutes, { prefix: '/api/v1/documents', config });
  await app.register(chunkPreviewRoutes, { config });
  await app.register(dlqRoutes);
  await app.register(statsRoutes, { operatorTenant: config.OPERATOR_TENANT });
  return app;
}
