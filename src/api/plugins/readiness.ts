import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyInstance {
    /** Flipped when shutdown begins so /ready turns 503 before the listener closes. */
    readiness: { shuttingDown: boolean };
  }
}

const readinessPlugin: FastifyPluginAsync = async (app) => {
  app.decorate('readiness', { shuttingDown: false });
  app.addHook('preClose', async () => {
    app.readiness.shuttingDown = true;
  });
};

export default fp(readinessPlugin, { name: 'readiness', fastify: '5.x' });
