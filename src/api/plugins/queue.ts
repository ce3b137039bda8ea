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

const queuePlugin: FastifyPluginAsync<QueuePluginOptions> = async (app, options) => {
  const redis = createRedis(options.redisUrl, 'producer', app.log);
  const documentQueue = new DocumentQueue(redis, options.prefix);
  app.decorate('redis', redis);
  app.decorate('documentQueue', documentQueue);
  if (app.hasDecorator('metrics')) app.metrics.watchQueue(() => documentQueue.snapshot());
  app.addHook('onClose', async () => {
    await documentQueue.close().catch((error) => app.log.warn({ err: error }, 'closing queue failed'));
    redis.disconnect();
  });
};

export default fp(queuePlugin, { name: 'queue', fastify: '5.x', dependencies: ['metrics'] });
