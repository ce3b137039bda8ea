import { timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import {
  type ApiKeyScope,
  apiKeyPrefix,
  findApiKeyByPrefix,
  hashApiKey,
  type StoredApiKey,
  touchApiKey,
} from '../../store/api-keys.js';
import { sendError } from './error-handler.js';

/** The tenant of every request when authentication is off (development and tests). */
export const DEFAULT_TENANT = 'default';

/** Who is calling: a verified key, nobody (public routes, or auth off), or a key that failed. */
export type Caller =
  | { kind: 'key'; keyId: string; prefix: string; tenantId: string; scopes: readonly ApiKeyScope[] }
  | { kind: 'anonymous' }
  | { kind: 'rejected'; reason: string }
  /** Its address has made too many lookups of unknown keys this minute: not looked up. */
  | { kind: 'throttled'; retryAfterSeconds: number };

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller's tenant; every query a handler makes is scoped to it. */
    tenantId: string;
    /** Set for every request by the auth plugin's first hook. */
    caller: Caller | null;
  }
}

export interface AuthPluginOptions {
  /** false: no keys needed, every caller is the default tenant with every scope. */
  required: boolean;
  /** How long a looked-up key (or a miss) is trusted before Postgres is asked again, in ms. */
  cacheMs: number;
  /**
   * Lookups of unknown keys one client address may make a minute on this node; beyond it, keys
   * not in the cache answer 429 without a lookup, so a flood of made-up keys cannot turn into as
   * many Postgres queries. Default: unlimited (rate limiting off)
   */
  missesPerIpPerMinute?: number;
}

/** Query parameters that look like credentials: a key in a URL ends up in logs and histories. */
const CREDENTIAL_PARAMS = new Set(['api_key', 'apikey', 'api-key', 'key', 'token', 'access_token']);
const FOUND_CACHE_LIMIT = 10_000;
const MISSED_CACHE_LIMIT = 1_000;
const MISS_WINDOW_MS = 60_000;

/**
 * The scope a route needs, from one table so the whole policy reads in one place. Routes outside
 * /api are public (probes, metrics, docs); an /api route missing here needs `admin` (fail closed).
 */
export function requiredScope(method: string, routeUrl: string | undefined): ApiKeyScope | 'public' {
  if (!routeUrl?.startsWith('/api/')) return 'public';
  if (routeUrl.startsWith('/api/v1/documents'))
    return method === 'GET' || method === 'HEAD' ? 'read' : 'ingest';
  if (routeUrl === '/api/v1/chunk-preview') return 'ingest';
  return 'admin';
}

/** The key a request presents: `Authorization: Bearer <key>` or `x-api-key: <key>`. */
function presentedKey(request: FastifyRequest): string | undefined {
  const authorization = request.headers.authorization;
  if (typeof authorization === 'string') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    return match?.[1] ?? '';
  }
  const header = request.headers['x-api-key'];
  return typeof header === 'string' ? header.trim() : undefined;
}

/**
 * API keys: identifies the caller in onRequest (the rate limiter, a route-level onRequest hook,
 * keys on it) and enforces in preParsing, after the rate limiter and before any body is read,
 * so failed attempts count against the per-IP budget and an unauthenticated upload is refused
 * unread. A made-up key costs one indexed lookup by prefix (misses are cached too), up to
 * `missesPerIpPerMinute` an address. Keys are cached briefly in-process: a revoked key stops
 * working within `cacheMs`.
 */
const authPlugin: FastifyPluginAsync<AuthPluginOptions> = async (app, options) => {
  app.decorateRequest('tenantId', DEFAULT_TENANT);
  app.decorateRequest('caller', null);
  // Found keys and misses are cached apart: a flood of made-up prefixes can only churn the
  // small miss cache, never push real keys out and send every genuine request to Postgres.
  const found = new Map<string, { key: StoredApiKey; expires: number }>();
  const missed = new Map<string, number>();
  const touched = new Map<string, number>();
  // Misses per client address in the current window; the whole map starts over each window.
  const missesPerIp = options.missesPerIpPerMinute ?? Number.POSITIVE_INFINITY;
  let misses = new Map<string, number>();
  let missWindowEnds = 0;

  const remember = <V>(cache: Map<string, V>, limit: number, prefix: string, value: V) => {
    if (cache.size >= limit) cache.delete(cache.keys().next().value as string);
    cache.set(prefix, value);
  };

  /** The stored key, undefined for none, or 'throttled' when `ip` may not look up more now. */
  const lookUp = async (prefix: string, ip: string): Promise<StoredApiKey | undefined | 'throttled'> => {
    const now = Date.now();
    const hit = found.get(prefix);
    if (hit && hit.expires > now) return hit.key;
    if ((missed.get(prefix) ?? 0) > now) return undefined;
    if (now >= missWindowEnds) {
      misses = new Map();
      missWindowEnds = now + MISS_WINDOW_MS;
    }
    const missesSoFar = misses.get(ip) ?? 0;
    if (missesSoFar >= missesPerIp) return 'throttled';
    const key = await findApiKeyByPrefix(app.db, prefix);
    const expires = Date.now() + options.cacheMs;
    if (key) remember(found, FOUND_CACHE_LIMIT, prefix, { key, expires });
    else {
      remember(missed, MISSED_CACHE_LIMIT, prefix, expires);
      misses.set(ip, missesSoFar + 1);
    }
    return key;
  };

  const identify = async (request: FastifyRequest): Promise<Caller> => {
    const presented = presentedKey(request);
    if (presented === undefined) return { kind: 'anonymous' };
    const prefix = apiKeyPrefix(presented);
    if (!prefix) return { kind: 'rejected', reason: 'the API key is malformed' };
    const stored = await lookUp(prefix, request.ip);
    if (stored === 'throttled') {
      return {
        kind: 'throttled',
        retryAfterSeconds: Math.max(1, Math.ceil((missWindowEnds - Date.now()) / 1000)),
      };
    }
    if (!stored || !timingSafeEqual(hashApiKey(presented), stored.keyHash)) {
      return { kind: 'rejected', reason: 'the API key is not valid' };
    }
    if (stored.revokedAt) return { kind: 'rejected', reason: 'the API key has been revoked' };
    if (Date.now() - (touched.get(stored.id) ?? 0) > 60_000) {
      touched.set(stored.id, Date.now());
      touchApiKey(app.db, stored.id).catch((error: unknown) =>
        request.log.debug({ err: error }, 'recording key use failed'),
      );
    }
    return { kind: 'key', keyId: stored.id, prefix, tenantId: stored.tenantId, scopes: stored.scopes };
  };

  app.addHook('onRequest', async (request) => {
    // Public routes never touch the key store: probes must answer while Postgres is down.
    if (!options.required || requiredScope(request.method, request.routeOptions.url) === 'public') {
      request.caller = { kind: 'anonymous' };
      return;
    }
    request.caller = await identify(request);
    if (request.caller.kind === 'key') request.tenantId = request.caller.tenantId;
  });
  app.addHook('preParsing', enforceAuth(options.required));
};

/** Answers 400 for keys in the URL, 401 without a valid key, 403 without the route's scope. */
function enforceAuth(required: boolean) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const query = request.query as Record<string, unknown> | undefined;
    if (query && Object.keys(query).some((name) => CREDENTIAL_PARAMS.has(name.toLowerCase()))) {
      return sendError(
        reply,
        400,
        'credentials_in_query',
        'API keys are not accepted in the URL; send them as Authorization: Bearer <key>',
      );
    }
    if (!required) return;
    const scope = requiredScope(request.method, request.routeOptions.url);
    if (scope === 'public') return;
    const caller = request.caller ?? { kind: 'anonymous' };
    if (caller.kind === 'throttled') {
      reply.header('retry-after', String(caller.retryAfterSeconds));
      return sendError(
        reply,
        429,
        'rate_limited',
        'too many unknown API keys from this address; retry later',
        { retryAfterSeconds: caller.retryAfterSeconds },
      );
    }
    if (caller.kind !== 'key') {
      reply.header('www-authenticate', 'Bearer');
      const message =
        caller.kind === 'rejected' ? caller.reason : 'an API key is required: Authorization: Bearer <key>';
      return sendError(reply, 401, 'unauthorized', message);
    }
    if (!caller.scopes.includes(scope) && !caller.scopes.includes('admin')) {
      return sendError(reply, 403, 'forbidden', `this API key lacks the "${scope}" scope`, {
        required: scope,
        granted: caller.scopes,
      });
    }
  };
}

export default fp(authPlugin, { name: 'auth', fastify: '5.x', dependencies: ['db'] });
