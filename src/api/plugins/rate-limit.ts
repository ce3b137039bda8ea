import rateLimit from '@fastify/rate-limit';
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { RequestError } from '../../errors.js';
import { BatchedRateLimitStore } from './batched-rate-limit-store.js';

export interface RateLimitPluginOptions {
  /** Requests per minute per API key; 0 turns rate limiting off. */
  perKeyPerMinute: number;
  /** Requests per minute per client IP for callers without a valid key. */
  perIpPerMinute: number;
  /** Redis key prefix, so deployments sharing a Redis keep separate counters. */
  prefix: string;
  /** Whether keys are required; without them every caller gets the per-key budget, per IP. */
  authRequired: boolean;
}

/** Probes and scrapes are never limited: a throttled /ready would take a healthy node out. */
const UNLIMITED = new Set(['/health', '/ready', '/metrics']);

/**
 * Per-key limits (per IP for callers without a valid key), counted in each node and added up in
 * Redis every few milliseconds (BatchedRateLimitStore), so every API node shares one budget per
 * key. A Redis outage leaves each node counting alone rather than failing requests.
 */
const rateLimitPlugin: FastifyPluginAsync<RateLimitPluginOptions> = async (app, options) => {
  if (options.perKeyPerMinute === 0) return;
  let store: BatchedRateLimitStore | undefined;
  // The last counts go to Redis before the node closes.
  app.addHook('onClose', async () => store?.close());
  await app.register(rateLimit, {
    global: true,
    store: BatchedRateLimitStore.using(app.redis, `${options.prefix}:rate-limit:`, (created) => {
      store = created;
    }),
    timeWindow: 60_000,
    max: (request) =>
      request.caller?.kind === 'key' || !options.authRequired
        ? options.perKeyPerMinute
        : options.perIpPerMinute,
    // request.ip honours X-Forwarded-For only from TRUST_PROXY addresses, so a forged header
    // from anyone else does not buy a fresh budget.
    keyGenerator: (request) =>
      request.caller?.kind === 'key' ? `key:${request.caller.keyId}` : `ip:${request.ip}`,
    allowList: (request) => UNLIMITED.has(request.routeOptions.url ?? ''),
    skipOnError: true,
    errorResponseBuilder: (_request, context) =>
      new RequestError(
        429,
        'rate_limited',
        `rate limit of ${context.max} requests a minute exceeded; retry in ${context.after}`,
        {
          limit: context.max,
          retryAfterSeconds: Math.ceil(context.ttl / 1000),
        },
      ),
  });
};

export default fp(rateLimitPlugin, { name: 'rate-limit', fastify: '5.x', dependencies: ['queue', 'auth'] });
