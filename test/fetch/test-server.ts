import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

/** A real HTTP(S) server on 127.0.0.1 and a random port that records what it was asked. */
export interface TestServer {
  port: number;
  /** `http://127.0.0.1:<port><path>` (https for a TLS server). */
  url(path?: string): string;
  /** Paths requested, in order: empty proves a refused fetch never reached the server. */
  requests: string[];
  /** Host headers received, in order. */
  hosts: (string | undefined)[];
  /** TCP connections accepted: unchanged proves a refusal came before connecting, not after. */
  connections(): number;
  close(): Promise<void>;
}

/** Starts a server; `tls` (key and cert PEM) makes it https. Close it in afterEach/afterAll. */
export async function startTestServer(
  handler: http.RequestListener,
  tls?: { key: string; cert: string },
): Promise<TestServer> {
  const requests: string[] = [];
  const hosts: (string | undefined)[] = [];
  const listener: http.RequestListener = (req, res) => {
    requests.push(req.url ?? '');
    hosts.push(req.headers.host);
    handler(req, res);
  };
  const server = tls ? https.createServer(tls, listener) : http.createServer(listener);
  let connections = 0;
  server.on('connection', () => {
    connections += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const scheme = tls ? 'https' : 'http';
  return {
    port,
    url: (path = '/') => `${scheme}://127.0.0.1:${port}${path}`,
    requests,
    hosts,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections(); // drip-feeding handlers would otherwise hold close() open
        server.close(() => resolve());
      }),
  };
}

/** A port on 127.0.0.1 where nothing listens (a server was there a moment ago). */
export async function closedPort(): Promise<number> {
  const server = await startTestServer(() => {});
  await server.close();
  return server.port;
}
