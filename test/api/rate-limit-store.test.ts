import { Redis, type RedisOptions } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { BatchedRateLimitStore } from '../../src/api/plugins/rate-limit-store.js';
import { freePort } from '../../src/stack/ports.js';
import { uniqueName } from '../helpers/context.js';

const WINDOW_MS = 60_000;

/** incr as a promise of the count it answers. */
function incr(store: BatchedRateLimitStore, key: string): Promise<number> {
  return new Promise((resolve, reject) =>
    store.incr(
      key,
      (error, result) => (error || !result ? reject(error) : resolve(result.current)),
      WINDOW_MS,
    ),
  );
}

describe('BatchedRateLimitStore', () => {
  const clients: Redis[] = [];
  const client = (url: string, options: RedisOptions = {}) => {
    const redis = new Redis(url, { lazyConnect: true, ...options });
    redis.on('error', () => {});
    clients.push(redis);
    return redis;
  };
  afterAll(() => {
    for (const redis of clients) redis.disconnect();
  });

  it("numbers each request in its window, across stores sharing a Redis, and sets the window's expiry", async () => {
    const prefix = `${uniqueName('rl')}:`;
    const redis = client(inject('redisUrl'));
    const first = new BatchedRateLimitStore(redis, prefix);
    const second = new BatchedRateLimitStore(client(inject('redisUrl')), prefix);
    // Concurrent first requests of a window all wait for the shared count, and are numbered in order.
    expect(await Promise.all([incr(first, 'k'), incr(first, 'k'), incr(first, 'k')])).toEqual([1, 2, 3]);
    expect(await Promise.all([incr(second, 'k'), incr(second, 'k')])).toEqual([4, 5]);
    // Later requests are answered at once from the node's count; keys are separate.
    expect(await incr(second, 'k')).toBe(6);
    expect(await incr(second, 'other')).toBe(1);
    const ttl = await redis.pttl(`${prefix}k`);
    expect(ttl).toBeGreaterThan(WINDOW_MS - 5_000);
    expect(ttl).toBeLessThanOrEqual(WINDOW_MS);
    // The answered-at-once request reaches Redis with the next flush.
    await expect.poll(() => redis.get(`${prefix}k`)).toBe('6');
  });

  it('counts on its own while Redis is away, without holding requests', async () => {
    const nobody = `redis://127.0.0.1:${await freePort()}`;
    const store = new BatchedRateLimitStore(
      client(nobody, { enableOfflineQueue: false, maxRetriesPerRequest: 0 }),
      'away:',
    );
    expect(await Promise.all([incr(store, 'k'), incr(store, 'k')])).toEqual([1, 2]);
    expect(await incr(store, 'k')).toBe(3);
  });
});
