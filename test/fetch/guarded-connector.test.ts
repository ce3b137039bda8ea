import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllowlist } from '../../src/fetch/address-policy.js';
import {
  createGuardedConnector,
  ForbiddenAddressError,
  type Resolver,
} from '../../src/fetch/guarded-connector.js';
import { startTestServer, type TestServer } from './test-server.js';

// The connector on its own, without fetchDocument's URL validation in front of it: each layer
// must refuse by itself.

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer((_req, res) => res.end('ok'));
});
afterAll(async () => {
  await server.close();
});

const loopbackDns: Resolver = async () => [{ address: '127.0.0.1', family: 4 }];

function connectTo(hostname: string, allow: string[]): Promise<Socket> {
  const connect = createGuardedConnector({
    allowlist: parseAllowlist(allow),
    resolve: loopbackDns,
    timeoutMs: 2_000,
  });
  return new Promise((resolve, reject) => {
    connect({ hostname, protocol: 'http:', port: String(server.port) }, (...result) => {
      if (result[0] === null) resolve(result[1]);
      else reject(result[0]);
    });
  });
}

describe('createGuardedConnector', () => {
  it.each([
    ['127.0.0.1', []],
    ['::1', []],
    ['::ffff:127.0.0.1', []],
    ['evil.test', []],
    ['evil.test', ['127.0.0.1']],
  ])('refuses %s (allowlist %j) before connecting', async (hostname, allow) => {
    const before = server.connections();
    await expect(connectTo(hostname, allow)).rejects.toBeInstanceOf(ForbiddenAddressError);
    expect(server.connections()).toBe(before);
  });

  it.each([
    ['127.0.0.1', ['127.0.0.1']],
    ['127.0.0.1', ['127.0.0.0/8']],
    ['docs.test', ['docs.test']],
    ['docs.test', ['*.test']],
  ])('connects to %s allowlisted as %j', async (hostname, allow) => {
    const socket = await connectTo(hostname, allow);
    expect(socket.remoteAddress).toBe('127.0.0.1');
    socket.destroy();
  });
});
