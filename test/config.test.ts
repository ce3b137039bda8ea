import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

describe('loadConfig', () => {
  it('applies the documented defaults to an empty environment', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      PORT: 8080,
      HOST: '0.0.0.0',
      DATA_DIR: './.ingestd',
      CHUNK_SIZE: 500,
      CHUNK_OVERLAP: 50,
      QUEUE_PREFIX: 'ingestd',
      AUTH_REQUIRED: true,
      CORS_ORIGINS: '',
      TRUST_PROXY: '',
      METRICS_RETENTION_DAYS: 90,
    });
    // Unset: the worker picks it from the machine (see worker/concurrency.ts).
    expect(config.WORKER_CONCURRENCY).toBeUndefined();
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.REDIS_URL).toBeUndefined();
  });

  it('coerces numbers and treats empty strings as unset', () => {
    const config = loadConfig({ PORT: '9000', DATABASE_URL: '', WORKER_CONCURRENCY: '32' });
    expect(config.PORT).toBe(9000);
    expect(config.WORKER_CONCURRENCY).toBe(32);
    expect(config.DATABASE_URL).toBeUndefined();
  });

  it('reads AUTH_REQUIRED as a boolean word', () => {
    expect(loadConfig({ AUTH_REQUIRED: 'false' }).AUTH_REQUIRED).toBe(false);
    expect(loadConfig({ AUTH_REQUIRED: 'true' }).AUTH_REQUIRED).toBe(true);
    expect(() => loadConfig({ AUTH_REQUIRED: 'maybe' })).toThrow(/AUTH_REQUIRED/);
  });

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['DATABASE_URL', 'mysql://localhost/db'],
    ['REDIS_URL', 'not a url'],
    ['LOG_LEVEL', 'loud'],
    ['QUEUE_PREFIX', 'has space'],
    ['WORKER_CONCURRENCY', '0'],
    ['CHUNK_SIZE', '100000'],
    // A batch goes to Postgres in one message: over 256 MiB it nears Postgres' 1 GB limit.
    ['BATCH_MAX_BYTES', String(256 * 1024 ** 2 + 1)],
  ])('names %s when it is %j', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrowError(
      new RegExp(`^invalid configuration:[\\s\\S]*${name}:`),
    );
  });

  it('refuses an overlap of more than half the chunk size', () => {
    expect(() => loadConfig({ CHUNK_SIZE: '100', CHUNK_OVERLAP: '51' })).toThrowError(ConfigError);
    expect(() => loadConfig({ CHUNK_SIZE: '100', CHUNK_OVERLAP: '51' })).toThrowError(/CHUNK_OVERLAP/);
    expect(loadConfig({ CHUNK_SIZE: '100', CHUNK_OVERLAP: '50' }).CHUNK_OVERLAP).toBe(50);
  });
});
