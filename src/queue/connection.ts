import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../logger.js';

/**
 * A Redis connection for BullMQ. Workers need `maxRetriesPerRequest: null` (blocking commands
 * wait across reconnects); producers fail fast instead, so an API request never hangs on a
 * Redis that is down: the document is already durable in Postgres by then.
 */
export function createRedis(url: string, role: 'producer' | 'worker', logger: Logger): Redis {
  const options: RedisOptions =
    role === 'worker'
      ? { maxRetriesPerRequest: null, enableReadyCheck: true }
      : { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2_000, commandTimeout: 5_000 };
  const redis = new Redis(url, {
    ...options,
    lazyConnect: false,
    retryStrategy: (attempt) => Math.min(100 * 2 ** attempt, 2_000),
  });
  let lastLogged = 0;
  redis.on('error', (error) => {
    // ioredis emits an error on every failed reconnect; one line a few seconds is enough.
    if (Date.now() - lastLogged > 5_000) {
      lastLogged = Date.now();
      logger.warn({ err: error, role }, 'redis connection error');
    }
  });
  return redis;
}
