import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { installTools } from '../../src/stack/binaries.js';
import { deriveNativeNginxConfig, NginxConfigError } from '../../src/stack/nginx-config.js';
import { NginxServer, shippedNginxConfigPath } from '../../src/stack/nginx-server.js';
import { createTestConfig, eventually } from '../helpers/context.js';

const shipped = readFileSync(shippedNginxConfigPath(), 'utf8');
const settings = { listenPort: 18_080, upstreamPorts: [4001, 4002], runDir: '/run/private' };

/** Directive lines the derivation may rewrite; everything else must come through untouched. */
const rewritable = /^\s*(pid|error_log|listen|user)\s|^\s*access_log\s+(?!off)|^\s*server\s+api:/;

describe('the native nginx config, derived from the shipped nginx.conf', () => {
  it('keeps every other line of the shipped config, in order', () => {
    const derived = deriveNativeNginxConfig(shipped, settings).split('\n');
    let position = 0;
    for (const line of shipped.split('\n').filter((each) => !rewritable.test(each))) {
      const found = derived.indexOf(line, position);
      expect(found, `shipped line kept: ${line}`).toBeGreaterThanOrEqual(position);
      position = found + 1;
    }
  });

  it('points the upstream at the API nodes, with the shipped passive health checks', () => {
    const derived = deriveNativeNginxConfig(shipped, settings);
    const shippedServer = /^\s*server\s+api:\d+(.*);$/m.exec(shipped)?.[1];
    expect(shippedServer).toContain('max_fails');
    expect(derived).toContain(`server 127.0.0.1:4001${shippedServer};`);
    expect(derived).toContain(`server 127.0.0.1:4002${shippedServer};`);
    expect(derived).not.toMatch(/^\s*server\s+api:/m);
    expect(derived).toMatch(/^\s*listen 127\.0\.0\.1:18080 default_server;$/m);
    expect(derived).toContain('pid /run/private/nginx.pid;');
    expect(derived).toMatch(/^error_log \/run\/private\/error\.log warn;$/m);
    expect(derived).toContain('access_log /run/private/access.log ingestd_json;');
    expect(derived).toContain('proxy_temp_path /run/private/proxy_temp;');
    expect(derived).toMatch(/^daemon off;$/m);
    expect(derived).not.toMatch(/^user /m);
    expect(deriveNativeNginxConfig(shipped, { ...settings, user: 'nobody nogroup' })).toMatch(
      /^user nobody nogroup;$/m,
    );
  });

  it('refuses a config whose shape it does not know, rather than test something else', () => {
    expect(() =>
      deriveNativeNginxConfig(shipped.replace('upstream ingestd_api', 'upstream other'), settings),
    ).toThrow(NginxConfigError);
    expect(() =>
      deriveNativeNginxConfig(
        shipped.replace(/listen 80 default_server;/, 'listen 80;\n listen 81;'),
        settings,
      ),
    ).toThrow(NginxConfigError);
    expect(() => deriveNativeNginxConfig(shipped, { ...settings, upstreamPorts: [] })).toThrow(
      NginxConfigError,
    );
  });

  it("keeps Node's keepAliveTimeout above nginx's upstream keepalive_timeout (no reuse of a closing socket)", async () => {
    const upstream = /upstream\s+ingestd_api\s*\{([^}]*)\}/.exec(shipped)?.[1] ?? '';
    const nginxSeconds = Number(/^\s*keepalive_timeout\s+(\d+)s;/m.exec(upstream)?.[1]);
    expect(nginxSeconds).toBeGreaterThan(0);
    const app = await buildApp({ config: await createTestConfig() });
    try {
      await app.ready();
      expect(app.server.keepAliveTimeout).toBeGreaterThan(nginxSeconds * 1000);
    } finally {
      await app.close();
    }
  });
});

describe('NginxServer', () => {
  const upstreams: http.Server[] = [];
  let runDir: string;
  let nginx: NginxServer | undefined;

  /** A stand-in API node that answers with its own port. */
  async function startUpstream(): Promise<number> {
    const server = http.createServer((_request, response) => {
      const address = server.address();
      response.end(String(typeof address === 'object' && address ? address.port : 0));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    upstreams.push(server);
    const address = server.address();
    return typeof address === 'object' && address ? address.port : 0;
  }

  /** Which upstream ports answered `count` requests through nginx, and every status seen. */
  async function spread(count: number): Promise<{ ports: Set<number>; statuses: Set<number> }> {
    const ports = new Set<number>();
    const statuses = new Set<number>();
    for (let i = 0; i < count; i++) {
      const response = await fetch(`${(nginx as NginxServer).url}/anything`);
      statuses.add(response.status);
      if (response.ok) ports.add(Number(await response.text()));
      else await response.body?.cancel();
    }
    return { ports, statuses };
  }

  beforeAll(() => {
    installTools(['nginx'], (line) => console.log(line));
    runDir = mkdtempSync(path.join(os.tmpdir(), 'ingestd-nginx-'));
  });

  afterAll(async () => {
    await nginx?.stop();
    for (const server of upstreams) {
      server.closeAllConnections();
      server.close();
    }
    rmSync(runDir, { recursive: true, force: true });
  });

  it('proxies to the API nodes, reloads for a new one, retries a refused connection, and stops', async () => {
    const [a, b, c] = [await startUpstream(), await startUpstream(), await startUpstream()];
    nginx = await NginxServer.start({ runDir, upstreamPorts: [a, b] });
    expect((await spread(10)).ports).toEqual(new Set([a, b]));

    // A new API node: validated, SIGHUP, and the new workers send it traffic.
    await nginx.reload([a, b, c]);
    expect(nginx.upstreamPorts).toEqual([a, b, c]);
    // Connections already open may still be served by the old workers for a moment.
    await eventually(async () => ((await spread(6)).ports.has(c) ? true : undefined), 5_000, 'the new node');
    expect((await spread(15)).ports).toEqual(new Set([a, b, c]));

    // Node `a` goes away: connections to it are refused, and nginx retries them on another node.
    const gone = upstreams[0] as http.Server;
    gone.closeAllConnections();
    await new Promise((resolve) => gone.close(resolve));
    const afterLoss = await spread(15);
    expect(afterLoss.statuses).toEqual(new Set([200]));
    expect(afterLoss.ports).toEqual(new Set([b, c]));

    // nginx's own answers still use the shipped JSON error bodies.
    const metrics = await fetch(`${nginx.url}/metrics`);
    expect(metrics.status).toBe(404);
    expect(((await metrics.json()) as { error: { code: string } }).error.code).toBe('not_found');

    // nginx logs a request after answering it: the entry may trail the response by a moment.
    const server = nginx;
    const entries = await eventually(async () => {
      const lines = readFileSync(server.accessLog, 'utf8').trim().split('\n');
      const parsed = lines.map((line) => JSON.parse(line) as { status: number; uri: string });
      return parsed.some((entry) => entry.uri === '/metrics' && entry.status === 404) ? parsed : undefined;
    });
    expect(entries.length).toBeGreaterThanOrEqual(40);

    const pid = nginx.pid as number;
    await nginx.stop();
    expect(existsSync(`/proc/${pid}`)).toBe(false);
    expect(await fetch(nginx.url).catch(() => 'refused')).toBe('refused');
  });
});
