import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';

/** The tenant of every request until API keys exist; all rows already carry it. */
export const DEFAULT_TENANT = 'default';

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller's tenant; every query a handler makes is scoped to it. */
    tenantId: string;
  }
}

const tenancyPlugin: FastifyPluginAsync = async (app) => {
  app.decorateRequest('tenantId', DEFAULT_TENANT);
};

export default fp(tenancyPlugin, { name: 'tenancy', fastify: '5.x' });
