import { describe, expect, it } from 'vitest';
import { startApiNode } from '../../src/api/server.js';
import { createTestConfig, silentLogger } from '../helpers/context.js';

describe('shutting down an API node', () => {
  it('answers /ready 503 and turns new requests away with our 503 body while draining, then stops listening', async () => {
    const config = await createTestConfig({ SHUTDOWN_DRAIN_MS: '400' });
    const node = await startApiNode({ config, logger: silentLogger });
    expect((await fetch(`${node.url}/ready`)).status).toBe(200);

    const closing = node.close();
    expect(node.close()).toBe(closing); // a second call waits for the same shutdown
    const ready = await fetch(`${node.url}/ready`);
    expect(ready.status).toBe(503);
    expect((await ready.json()) as unknown).toEqual({
      status: 'unavailable',
      checks: { shutdown: 'in progress' },
    });
    const post = await fetch(`${node.url}/api/v1/documents`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ content: 'late' }),
    });
    expect(post.status).toBe(503);
    expect(post.headers.get('retry-after')).toBe('1');
    expect(((await post.json()) as { error: { code: string } }).error.code).toBe('shutting_down');
    expect((await fetch(`${node.url}/health`)).status).toBe(200);

    await closing;
    await expect(fetch(`${node.url}/health`)).rejects.toThrow();
  });
});
