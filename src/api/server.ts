import type { FastifyInstance } from 'fastify';
import { listenForScrapes } from '../metrics-listener.js';
import { type AppOptions, buildApp } from './app.js';

export interface ApiNode {
  app: FastifyInstance;
  /** Where the node listens, e.g. http://127.0.0.1:8080 */
  url: string;
  /**
   * /ready turns 503, the listener closes, in-flight requests finish, enqueues under way reach
   * Redis (or are left to the sweeper), pools close. Safe to call twice.
   */
  close(): Promise<void>;
}

/** Builds the app and listens on HOST:PORT. */
export async function startApiNode(options: AppOptions): Promise<ApiNode> {
  const app = await buildApp(options);
  const { config } = options;
  const scrapes =
    config.API_METRICS_PORT > 0
      ? await listenForScrapes(app.metrics, config.HOST, config.API_METRICS_PORT).catch(async (error) => {
          await app.close();
          throw error;
        })
      : undefined;
  try {
    await app.listen({ host: config.HOST, port: config.PORT });
  } catch (error) {
    scrapes?.close();
    await app.close();
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.config.PORT;
  const host = ['0.0.0.0', '::'].includes(options.config.HOST) ? '127.0.0.1' : options.config.HOST;
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      app.readiness.shuttingDown = true;
      if (options.config.SHUTDOWN_DRAIN_MS > 0) {
        app.log.info({ drainMs: options.config.SHUTDOWN_DRAIN_MS }, 'draining: /ready answers 503');
        await new Promise((resolve) => setTimeout(resolve, options.config.SHUTDOWN_DRAIN_MS));
      }
      await app.close();
      await new Promise<void>((resolve) => (scrapes ? scrapes.close(() => resolve()) : resolve()));
    })();
    return closing;
  };
  return { app, url: `http://${host}:${port}`, close };
}
