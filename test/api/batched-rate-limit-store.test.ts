import { Redis, type RedisOptions } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { BatchedRateLimitStore } from '../../src/api/plugins/batched-rate-limit-store.js';
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

  it('answers every request of a new window, even when the window ends during the round trip', async () => {
    // A Redis whose window has 1 ms left and whose replies take 5 ms: requests arrive while the
    // first flush is on its way, and the next ones after the window has ended.
    let shared = 0;
    const slowRedis = {
      defineCommand: () => {},
      pipeline: () => {
        const added: number[] = [];
        return {
          rateLimitAddRequests: (_key: string, requests: number) => added.push(requests),
          exec: () =>
            new Promise((resolve) =>
              setTimeout(() => {
                resolve(
                  added.map((requests) => {
                    shared += requests;
                    return [null, [shared, 1]];
                  }),
                );
              }, 5),
            ),
        };
      },
    } as unknown as Redis;
    const store = new BatchedRateLimitStore(slowRedis, 'slow:');
    const first = incr(store, 'k');
    await new Promise((resolve) => setTimeout(resolve, 1));
    const during = incr(store, 'k');
    await first;
    // Busy for 3 ms (so no timer runs): the next request comes after the window has ended.
    const until = Date.now() + 3;
    while (Date.now() < until);
    const after = incr(store, 'k');
    const answers = await Promise.race([
      Promise.all([first, during, after]),
      new Promise((resolve) => setTimeout(() => resolve('a request was never answered'), 1_000)),
    ]);
    expect(answers).toEqual([1, 2, expect.any(Number)]);
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
