import http from 'node:http';
import type { Metrics } from './metrics.js';

/**
 * A minimal listener for Prometheus and liveness probes: a worker's only HTTP surface, and an
 * API node's internal metrics port (API_METRICS_PORT), kept off the public one.
 */
export async function listenForScrapes(metrics: Metrics, host: string, port: number): Promise<http.Server> {
  const server = http.createServer(async (request, response) => {
    if (request.url === '/metrics') {
      try {
        const body = await metrics.registry.metrics();
        response.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body);
      } catch {
        response.writeHead(500).end();
      }
    } else if (request.url === '/health') {
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    } else {
      response.writeHead(404, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          error: { code: 'not_found', message: 'only /metrics and /health here', details: null },
        }),
      );
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
