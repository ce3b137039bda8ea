import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import type { Redis } from 'ioredis';
import { createRedis } from '../../queue/connection.js';
import { DocumentQueue } from '../../queue/producer.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Producer side of the processing queue. */
    documentQueue: DocumentQueue;
    /** The producer's fail-fast Redis connection, also used by the readiness probe. */
    redis: Redis;
  }
}

export interface QueuePluginOptions {
  redisUrl: string;
  prefix: string;
}

const STARTUP_CONNECT_WAIT_MS = 2_000;

function waitUntilConnected(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      redis.off('ready', done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    redis.once('ready', done);
  });
}

const queuePlugin: FastifyPluginAsync<QueuePluginOptions> = async (app, options) => {
  const redis = createRedis(options.redisUrl, 'producer', app.log);
  const documentQueue = new DocumentQueue(redis, options.prefix, app.log);
  app.decorate('redis', redis);
  app.decorate('documentQueue', documentQueue);
  app.metrics.watchQueue(() => documentQueue.snapshot());
  // Give Redis a moment so a node that starts beside a healthy Redis starts ready; if Redis is
  // down the node starts anyway (documents are still accepted) and /ready says why.
  await waitUntilConnected(redis, STARTUP_CONNECT_WAIT_MS);
  app.addHook('onClose', async () => {
    await documentQueue.close().catch((error) => app.log.warn({ err: error }, 'closing queue failed'));
    redis.disconnect();
  });
};

export default fp(queuePlugin, { name: 'queue', fastify: '5.x', dependencies: ['metrics'] });
