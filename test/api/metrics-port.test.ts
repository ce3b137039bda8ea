import { describe, expect, it } from 'vitest';
import { startApiNode } from '../../src/api/server.js';
import { freePort } from '../../src/stack/ports.js';
import { createTestConfig } from '../helpers/context.js';

describe('API_METRICS_PORT', () => {
  it('moves /metrics off the public port onto an internal listener', async () => {
    const metricsPort = await freePort();
    const config = await createTestConfig({ API_METRICS_PORT: String(metricsPort) });
    const node = await startApiNode({ config });
    try {
      const publicScrape = await fetch(`${node.url}/metrics`);
      expect(publicScrape.status).toBe(404);
      const internal = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      expect(internal.status).toBe(200);
      expect(await internal.text()).toContain('ingestd_http_request_duration_seconds');
      expect((await fetch(`${node.url}/health`)).status).toBe(200);
    } finally {
      await node.close();
    }
    // Closed with the node.
    await expect(fetch(`http://127.0.0.1:${metricsPort}/metrics`)).rejects.toThrow();
  });
});
