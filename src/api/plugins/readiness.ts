import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { sendError } from './error-handler.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Flipped when shutdown begins: /ready turns 503 and new requests are turned away. */
    readiness: { shuttingDown: boolean };
  }
}

/**
 * Once shutdown begins, requests already running finish, and new ones (arriving on kept-alive
 * connections) get our 503 error body with Retry-After, so clients retry on another node.
 * /health and /ready still answer: a balancer must see the node leave, not time out on it.
 */
const readinessPlugin: FastifyPluginAsync = async (app) => {
  app.decorate('readiness', { shuttingDown: false });
  app.addHook('preClose', async () => {
    app.readiness.shuttingDown = true;
  });
  app.addHook('onRequest', (request, reply, done) => {
    if (!app.readiness.shuttingDown || request.url === '/health' || request.url === '/ready') return done();
    reply.header('retry-after', '1').header('connection', 'close');
    sendError(reply, 503, 'shutting_down', 'this node is shutting down; retry the request');
  });
};

export default fp(readinessPlugin, { name: 'readiness', fastify: '5.x', dependencies: ['error-handler'] });
