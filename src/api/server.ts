import type { FastifyInstance } from 'fastify';
import { type AppOptions, buildApp } from './app.js';

export interface ApiNode {
  app: FastifyInstance;
  /** Where the node listens, e.g. http://127.0.0.1:8080 */
  url: string;
  /** /ready turns 503, the listener closes, in-flight requests finish, pools close. Safe to call twice. */
  close(): Promise<void>;
}

/** Builds the app and listens on HOST:PORT. */
export async function startApiNode(options: AppOptions): Promise<ApiNode> {
  const app = await buildApp(options);
  await app.listen({ host: options.config.HOST, port: options.config.PORT });
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
    })();
    return closing;
  };
  return { app, url: `http://${host}:${port}`, close };
}
