import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { createPool, type Pool } from '../../store/pool.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The node's Postgres pool; closed when the app closes. */
    db: Pool;
  }
}

export interface DbPluginOptions {
  connectionString: string;
  /** Most connections this node holds. */
  max: number;
}

const dbPlugin: FastifyPluginAsync<DbPluginOptions> = async (app, options) => {
  const pool = createPool(
    { connectionString: options.connectionString, max: options.max, applicationName: 'ingestd-api' },
    app.log,
  );
  app.decorate('db', pool);
  app.addHook('onClose', async () => {
    await pool.end();
  });
};

export default fp(dbPlugin, { name: 'db', fastify: '5.x' });
