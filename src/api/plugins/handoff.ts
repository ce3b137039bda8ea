import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { Handoff } from '../../queue/handoff.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Commits accepted documents and enqueues their jobs behind the answer (see Handoff). */
    handoff: Handoff;
  }
}

const handoffPlugin: FastifyPluginAsync = async (app) => {
  const handoff = new Handoff({
    pool: app.db,
    queue: app.documentQueue,
    metrics: app.metrics,
    logger: app.log,
  });
  app.decorate('handoff', handoff);
  // onClose hooks run last-registered first: this one runs before the queue's connection closes.
  app.addHook('onClose', () => handoff.settled());
};

export default fp(handoffPlugin, {
  name: 'handoff',
  fastify: '5.x',
  dependencies: ['db', 'queue', 'metrics'],
});
