import underPressure from '@fastify/under-pressure';
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { sendError } from './error-handler.js';

export interface BackpressureOptions {
  /** Event loop delay beyond which new work is refused, in ms (0: not checked). */
  maxEventLoopDelayMs: number;
  /** Heap use beyond which new work is refused, in bytes (0: not checked). */
  maxHeapUsedBytes: number;
  /** Jobs waiting in the queue beyond which new work is refused (0: not checked). */
  maxQueueWaiting: number;
}

/** How often the queue depth is read: once a second per node, never per request. */
const QUEUE_CHECK_INTERVAL_MS = 1_000;

/**
 * Overload gets a polite 503 with Retry-After on requests that add work (POST), never a crash,
 * while reads, probes and scrapes keep answering so operators can see what is going on.
 */
const backpressurePlugin: FastifyPluginAsync<BackpressureOptions> = async (app, options) => {
  let queueWaiting = 0;
  await app.register(underPressure, {
    maxEventLoopDelay: options.maxEventLoopDelayMs,
    maxHeapUsedBytes: options.maxHeapUsedBytes,
    healthCheckInterval: options.maxQueueWaiting > 0 ? QUEUE_CHECK_INTERVAL_MS : -1,
    healthCheck: async () => {
      if (options.maxQueueWaiting <= 0) return true;
      let timer: NodeJS.Timeout | undefined;
      try {
        // BullMQ waits for a connection that may never come: bound the wait.
        const counts = await Promise.race([
          app.documentQueue.queue.getJobCounts('waiting'),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error('queue depth timed out')), QUEUE_CHECK_INTERVAL_MS / 2);
          }),
        ]);
        queueWaiting = counts.waiting ?? 0;
      } catch {
        return true; // Redis down is /ready's business; documents are still durable in Postgres.
      } finally {
        clearTimeout(timer);
      }
      return queueWaiting <= options.maxQueueWaiting;
    },
    // under-pressure would refuse every request; the hook below refuses only new work.
    pressureHandler: () => {},
  });
  app.addHook('onRequest', (request, reply, done) => {
    if (request.method !== 'POST' || !app.isUnderPressure()) return done();
    const { eventLoopDelay, heapUsed } = app.memoryUsage();
    reply.header('retry-after', '5');
    sendError(
      reply,
      503,
      'overloaded',
      `the service is overloaded (event loop delay ${Math.round(eventLoopDelay)} ms, heap ${Math.round(heapUsed / 2 ** 20)} MB, ` +
        `${queueWaiting} jobs waiting); retry shortly`,
    );
  });
};

export default fp(backpressurePlugin, {
  name: 'backpressure',
  fastify: '5.x',
  dependencies: ['queue', 'error-handler'],
});
