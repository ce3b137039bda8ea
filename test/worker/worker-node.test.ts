import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { findExecutable } from '../../src/stack/binaries.js';
import { freePort } from '../../src/stack/ports.js';
import { startWorkerNode } from '../../src/worker/worker-node.js';
import { createTestConfig, silentLogger } from '../helpers/context.js';

describe('a worker process', () => {
  it('serves /metrics (valid for promtool), /health and a JSON 404 on its own port', async () => {
    const port = await freePort();
    const config = await createTestConfig({ WORKER_METRICS_PORT: String(port) });
    const node = await startWorkerNode({ config, logger: silentLogger, role: 'processor' });
    try {
      expect(node.metricsPort).toBe(port);
      const metrics = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(metrics.status).toBe(200);
      const text = await metrics.text();
      expect(text).toContain('ingestd_documents_completed_total');
      expect(text).toMatch(/^ingestd_queue_jobs\{state="waiting"\} 0$/m);
      const promtool = spawnSync(findExecutable('promtool') as string, ['check', 'metrics'], {
        input: text,
        encoding: 'utf8',
      });
      expect(promtool.stdout + promtool.stderr).toBe('');
      expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
      const missing = await fetch(`http://127.0.0.1:${port}/other`);
      expect(missing.status).toBe(404);
      expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('not_found');
    } finally {
      await node.close();
    }
  });

  it('fails to start, leaving nothing open, when its metrics port is taken', async () => {
    const port = await freePort();
    const config = await createTestConfig({ WORKER_METRICS_PORT: String(port) });
    const first = await startWorkerNode({ config, logger: silentLogger, role: 'processor' });
    try {
      await expect(startWorkerNode({ config, logger: silentLogger, role: 'processor' })).rejects.toThrow(
        /EADDRINUSE/,
      );
    } finally {
      await first.close();
    }
  });
});
