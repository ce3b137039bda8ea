import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { DocumentError } from '../../src/errors.js';
import { type FetchError, type FetchOptions, fetchDocument } from '../../src/fetch/fetch-document.js';
import { type Resolver, systemResolver } from '../../src/fetch/guarded-connector.js';
import { forbiddenUrlHosts } from './forbidden-hosts.js';
import { closedPort, startTestServer, type TestServer } from './test-server.js';

/** The FetchError a fetch fails with; fails the test if it succeeds. */
async function fetchError(url: string, options: FetchOptions): Promise<FetchError> {
  const error = await fetchDocument(url, options).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error, `expected ${url} to fail`).toBeInstanceOf(DocumentError);
  return error as FetchError;
}

/** A resolver answering from a fixed table, recording what it was asked. */
function fakeDns(table: Record<string, string[]>) {
  return vi.fn<Resolver>(async (hostname) => {
    const addresses = table[hostname];
    if (!addresses)
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  });
}

const MiB = 1024 * 1024;
let server: TestServer;
/** The test server's own origin opened, as an operator would open an intranet host. */
let allowed: FetchOptions;

beforeAll(async () => {
  const gzipBomb = zlib.gzipSync(Buffer.alloc(64 * MiB));
  const brotliBomb = zlib.brotliCompressSync(Buffer.alloc(64 * MiB));
  const text = 'hello from the intranet\n'.repeat(1000);
  server = await startTestServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const hop = /^\/hop\/(\d+)$/.exec(url.pathname);
    if (hop) {
      const left = Number(hop[1]);
      if (left === 0) res.end('arrived');
      else res.writeHead(302, { location: `/hop/${left - 1}` }).end();
      return;
    }
    switch (url.pathname) {
      case '/doc.txt':
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('plain bytes');
        return;
      case '/gzip':
        res.writeHead(200, { 'content-encoding': 'gzip' }).end(zlib.gzipSync(text));
        return;
      case '/br':
        res.writeHead(200, { 'content-encoding': 'br' }).end(zlib.brotliCompressSync(text));
        return;
      case '/gzip-bomb':
        res.writeHead(200, { 'content-encoding': 'gzip', 'content-type': 'text/plain' }).end(gzipBomb);
        return;
      case '/br-bomb':
        res.writeHead(200, { 'content-encoding': 'br' }).end(brotliBomb);
        return;
      case '/not-gzip':
        res.writeHead(200, { 'content-encoding': 'gzip' }).end('this is not gzip at all');
        return;
      case '/zstd':
        res.writeHead(200, { 'content-encoding': 'compress' }).end('whatever');
        return;
      case '/big-declared':
        res.writeHead(200, { 'content-length': String(2 * MiB) }).end(Buffer.alloc(2 * MiB));
        return;
      case '/big-chunked':
        for (let i = 0; i < 32; i += 1) res.write(Buffer.alloc(64 * 1024));
        res.end();
        return;
      case '/exactly-1mib':
        res.end(Buffer.alloc(MiB, 1));
        return;
      case '/drip': {
        res.writeHead(200, { 'content-type': 'text/plain' });
        const timer = setInterval(() => res.write('x'), 50);
        res.on('close', () => clearInterval(timer));
        return;
      }
      case '/silent':
        return; // never answers
      case '/status': {
        const status = Number(url.searchParams.get('code'));
        res.writeHead(status).end(`status ${status}`);
        return;
      }
      case '/redirect': {
        const to = url.searchParams.get('to') ?? '';
        res.writeHead(Number(url.searchParams.get('status') ?? 302), to ? { location: to } : {}).end();
        return;
      }
      case '/named':
        res
          .writeHead(200, {
            'content-type': 'application/pdf',
            'content-disposition': `attachment; filename="fallback.pdf"; filename*=UTF-8''na%C3%AFve%20report.pdf`,
          })
          .end('%PDF-');
        return;
      case '/traversal':
        res.writeHead(200, { 'content-disposition': 'attachment; filename="../../etc/passwd"' }).end('x');
        return;
      default:
        res.writeHead(404).end('not found');
    }
  });
  allowed = { allow: ['127.0.0.1'], allowedPorts: [server.port] };
});

afterAll(async () => {
  await server.close();
});

describe('fetchDocument from an allowed server', () => {
  it('returns the bytes, content type, final URL and filename', async () => {
    const document = await fetchDocument(server.url('/doc.txt?v=1#frag'), allowed);
    expect(document).toEqual({
      bytes: Buffer.from('plain bytes'),
      contentType: 'text/plain; charset=utf-8',
      finalUrl: server.url('/doc.txt?v=1'),
      filename: 'doc.txt',
    });
  });

  it('takes the filename from Content-Disposition, reduced to a base name', async () => {
    expect((await fetchDocument(server.url('/named'), allowed)).filename).toBe('naïve report.pdf');
    expect((await fetchDocument(server.url('/traversal'), allowed)).filename).toBe('passwd');
    expect((await fetchDocument(server.url('/hop/0'), allowed)).filename).toBe('0');
  });

  it('decompresses gzip and brotli bodies', async () => {
    const expected = 'hello from the intranet\n'.repeat(1000);
    expect((await fetchDocument(server.url('/gzip'), allowed)).bytes.toString()).toBe(expected);
    expect((await fetchDocument(server.url('/br'), allowed)).bytes.toString()).toBe(expected);
  });

  it('opens an allowlisted name whatever it resolves to, and sends its Host', async () => {
    const resolve = fakeDns({ 'docs.test': ['127.0.0.1'] });
    const options = { allow: ['docs.test'], allowedPorts: [server.port], resolve };
    const document = await fetchDocument(`http://docs.test:${server.port}/doc.txt`, options);
    expect(document.bytes.toString()).toBe('plain bytes');
    expect(resolve).toHaveBeenCalledWith('docs.test');
    expect(server.hosts.at(-1)).toBe(`docs.test:${server.port}`);
  });
});

describe('fetchDocument refuses forbidden addresses', () => {
  let connectionsBefore: number;
  beforeEach(() => {
    connectionsBefore = server.connections();
  });
  afterEach(() => {
    // None of these may even connect to the server, though it listens on 127.0.0.1 at the port
    // they name: refusing after connecting would still let a URL probe the internal network.
    expect(server.connections()).toBe(connectionsBefore);
  });

  it.each(forbiddenUrlHosts)('refuses http://%s/ before connecting', async (host) => {
    const error = await fetchError(`http://${host}:${server.port}/doc.txt`, { allowedPorts: [server.port] });
    expect(error).toMatchObject({ code: 'fetch_forbidden', retryable: false });
  });

  it('refuses localhost when the system resolver answers loopback, at connect time', async () => {
    const resolve = vi.fn(systemResolver);
    const error = await fetchError(`http://localhost:${server.port}/doc.txt`, {
      allowedPorts: [server.port],
      resolve,
    });
    expect(error).toMatchObject({ code: 'fetch_forbidden', retryable: false });
    expect(error.message).toMatch(
      /^localhost resolves to (127\.0\.0\.1|::1), which may not be fetched \(range: loopback\)$/,
    );
    expect(resolve).toHaveBeenCalledWith('localhost');
  });

  it('refuses a name resolving to loopback while the allowlisted literal passes', async () => {
    const resolve = fakeDns({ 'evil.test': ['127.0.0.1'] });
    const options = { ...allowed, resolve };
    const error = await fetchError(`http://evil.test:${server.port}/doc.txt`, options);
    expect(error).toMatchObject({ code: 'fetch_forbidden', retryable: false });
    expect(error.message).toBe('evil.test resolves to 127.0.0.1, which may not be fetched (range: loopback)');
    // The refusal came from the lookup net.connect made: validation never resolves names.
    expect(resolve).toHaveBeenCalledTimes(1);

    const literal = await fetchDocument(server.url('/doc.txt'), options);
    expect(literal.bytes.toString()).toBe('plain bytes');
    connectionsBefore += 1; // that one was meant to arrive
  });

  it.each([
    ['metadata', ['169.254.169.254']],
    ['private', ['10.0.0.7']],
    ['IPv4-mapped loopback', ['::ffff:127.0.0.1']],
    ['NAT64 loopback', ['64:ff9b::7f00:1']],
    ['a public address beside a private one', ['8.8.8.8', '192.168.0.1']],
    ['garbage', ['not-an-ip']],
  ])('refuses a name resolving to %s', async (_label, addresses) => {
    const resolve = fakeDns({ 'evil.test': addresses });
    const error = await fetchError(`http://evil.test:${server.port}/`, {
      allowedPorts: [server.port],
      resolve,
    });
    expect(error).toMatchObject({ code: 'fetch_forbidden', retryable: false });
  });

  it.each(['file:///etc/passwd', 'ftp://127.0.0.1/', 'gopher://127.0.0.1:70/_x', 'data:text/plain,hello'])(
    'refuses %s',
    async (url) => {
      expect(await fetchError(url, allowed)).toMatchObject({ code: 'fetch_forbidden', retryable: false });
    },
  );

  it('refuses port 22 and credentials, even on an allowlisted host', async () => {
    expect(await fetchError('http://127.0.0.1:22/', allowed)).toMatchObject({ code: 'fetch_forbidden' });
    expect(await fetchError('http://example.com:22/', {})).toMatchObject({ code: 'fetch_forbidden' });
    const withCredentials = `http://user:secret@127.0.0.1:${server.port}/doc.txt`;
    expect(await fetchError(withCredentials, allowed)).toMatchObject({ code: 'fetch_forbidden' });
  });

  it('refuses invalid URLs as fetch_invalid_url', async () => {
    expect(await fetchError('not a url', allowed)).toMatchObject({
      code: 'fetch_invalid_url',
      retryable: false,
    });
  });
});

describe('fetchDocument redirects', () => {
  const redirect = (to: string, status = 302) =>
    server.url(`/redirect?status=${status}&to=${encodeURIComponent(to)}`);

  it('follows relative and absolute redirects on the allowlisted host', async () => {
    for (const status of [301, 302, 303, 307, 308]) {
      const document = await fetchDocument(redirect('/doc.txt', status), allowed);
      expect(document.finalUrl).toBe(server.url('/doc.txt'));
    }
    expect((await fetchDocument(redirect(server.url('/gzip')), allowed)).finalUrl).toBe(server.url('/gzip'));
  });

  it('refuses a redirect to a loopback address that is not allowlisted', async () => {
    const error = await fetchError(redirect(`http://127.0.0.2:${server.port}/doc.txt`), allowed);
    expect(error).toMatchObject({ code: 'fetch_forbidden', retryable: false });
    expect(error.message).toMatch(/^127\.0\.0\.2 may not be fetched \(range: loopback\)$/);
  });

  it.each([
    'http://[::ffff:127.0.0.2]/',
    'http://169.254.169.254/latest/meta-data/',
    'http://2130706434/',
    'file:///etc/passwd',
    'http://127.0.0.1:22/',
    'http://user:pass@127.0.0.1/',
  ])('refuses a redirect to %s', async (target) => {
    expect(await fetchError(redirect(target), { ...allowed, allowedPorts: [server.port, 80] })).toMatchObject(
      {
        code: 'fetch_forbidden',
        retryable: false,
      },
    );
  });

  it('re-checks a redirect to a name at connect time', async () => {
    const resolve = fakeDns({ 'evil.test': ['127.0.0.1'] });
    const connectionsBefore = server.connections();
    const error = await fetchError(redirect(`http://evil.test:${server.port}/doc.txt`), {
      ...allowed,
      resolve,
    });
    expect(error).toMatchObject({ code: 'fetch_forbidden', retryable: false });
    expect(resolve).toHaveBeenCalledWith('evil.test');
    expect(server.connections()).toBe(connectionsBefore + 1); // the first hop's only
  });

  it('follows five redirects and refuses a sixth', async () => {
    expect((await fetchDocument(server.url('/hop/5'), allowed)).bytes.toString()).toBe('arrived');
    expect(await fetchError(server.url('/hop/6'), allowed)).toMatchObject({
      code: 'fetch_too_many_redirects',
      retryable: false,
    });
    expect(await fetchError(server.url('/hop/2'), { ...allowed, maxRedirects: 1 })).toMatchObject({
      code: 'fetch_too_many_redirects',
    });
  });

  it('fails a redirect without Location', async () => {
    expect(await fetchError(server.url('/redirect?status=302'), allowed)).toMatchObject({
      code: 'fetch_failed',
      retryable: false,
      status: 302,
    });
  });
});

describe('fetchDocument limits', () => {
  const capped = () => ({ ...allowed, maxBytes: MiB });

  it('stops a gzip bomb at the cap on inflated bytes', async () => {
    const started = Date.now();
    const error = await fetchError(server.url('/gzip-bomb'), capped());
    expect(error).toMatchObject({ code: 'fetch_too_large', retryable: false });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('stops a brotli bomb at the cap on inflated bytes', async () => {
    expect(await fetchError(server.url('/br-bomb'), capped())).toMatchObject({ code: 'fetch_too_large' });
  });

  it('refuses an oversized body, declared or streamed', async () => {
    expect(await fetchError(server.url('/big-declared'), capped())).toMatchObject({
      code: 'fetch_too_large',
    });
    expect(await fetchError(server.url('/big-chunked'), capped())).toMatchObject({ code: 'fetch_too_large' });
  });

  it('accepts a body of exactly the cap', async () => {
    expect((await fetchDocument(server.url('/exactly-1mib'), capped())).bytes.length).toBe(MiB);
  });

  it('fails bodies that are not what Content-Encoding says, permanently', async () => {
    expect(await fetchError(server.url('/not-gzip'), allowed)).toMatchObject({
      code: 'fetch_failed',
      retryable: false,
    });
    expect(await fetchError(server.url('/zstd'), allowed)).toMatchObject({
      code: 'fetch_failed',
      retryable: false,
    });
  });

  it('stops a drip-feeding server at the time cap', async () => {
    const started = Date.now();
    const error = await fetchError(server.url('/drip'), { ...allowed, timeoutMs: 500 });
    expect(error).toMatchObject({ code: 'fetch_timeout', retryable: true });
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('stops a server that never answers at the time cap', async () => {
    const error = await fetchError(server.url('/silent'), { ...allowed, timeoutMs: 300 });
    expect(error).toMatchObject({ code: 'fetch_timeout', retryable: true });
  });

  it('fails as retryable fetch_aborted when the caller aborts', async () => {
    const error = await fetchError(server.url('/drip'), { ...allowed, signal: AbortSignal.timeout(200) });
    expect(error).toMatchObject({ code: 'fetch_aborted', retryable: true });
  });
});

describe('fetchDocument failures', () => {
  it.each([
    [404, false],
    [403, false],
    [410, false],
    [408, true],
    [429, true],
    [500, true],
    [503, true],
  ])('HTTP %i fails with retryable %s', async (status, retryable) => {
    const error = await fetchError(server.url(`/status?code=${status}`), allowed);
    expect(error).toMatchObject({ code: 'fetch_failed', retryable, status });
    expect(error.message).toContain(`HTTP ${status}`);
  });

  it('keeps the query string out of messages', async () => {
    const error = await fetchError(server.url('/status?code=404&signature=SECRET'), allowed);
    expect(error.message).not.toContain('SECRET');
  });

  it('fails a refused connection as retryable', async () => {
    const port = await closedPort();
    const error = await fetchError(`http://127.0.0.1:${port}/`, {
      allow: ['127.0.0.1'],
      allowedPorts: [port],
    });
    expect(error).toMatchObject({ code: 'fetch_failed', retryable: true });
  });

  it('fails an unknown name as retryable', async () => {
    const resolve = fakeDns({});
    const error = await fetchError('http://nowhere.test/', { resolve });
    expect(error).toMatchObject({ code: 'fetch_failed', retryable: true });
  });
});

function haveOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(!haveOpenssl())('fetchDocument over https', () => {
  let dir: string;
  let tlsServer: TestServer;
  let cert: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'ingestd-fetch-tls-'));
    execFileSync(
      'openssl',
      [
        ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'],
        ...['-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-days', '1'],
        ...['-subj', '/CN=docs.test', '-addext', 'subjectAltName=DNS:docs.test'],
      ],
      { stdio: 'ignore' },
    );
    cert = readFileSync(path.join(dir, 'cert.pem'), 'utf8');
    const key = readFileSync(path.join(dir, 'key.pem'), 'utf8');
    tlsServer = await startTestServer((_req, res) => res.end('secret intranet page'), { key, cert });
  });

  afterAll(async () => {
    await tlsServer?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('connects to the checked address and verifies the certificate for the name', async () => {
    const resolve = fakeDns({ 'docs.test': ['127.0.0.1'] });
    const options = { allow: ['docs.test'], allowedPorts: [tlsServer.port], resolve, ca: [cert] };
    const document = await fetchDocument(`https://docs.test:${tlsServer.port}/page.html`, options);
    expect(document.bytes.toString()).toBe('secret intranet page');
  });

  it('refuses a name resolving to loopback before the handshake', async () => {
    const resolve = fakeDns({ 'evil.test': ['127.0.0.1'] });
    const before = tlsServer.connections();
    const error = await fetchError(`https://evil.test:${tlsServer.port}/`, {
      allowedPorts: [tlsServer.port],
      resolve,
      ca: [cert],
    });
    expect(error).toMatchObject({ code: 'fetch_forbidden', retryable: false });
    expect(tlsServer.connections()).toBe(before);
  });

  it('fails a certificate that does not name the host', async () => {
    const error = await fetchError(tlsServer.url('/'), {
      ...allowed,
      allowedPorts: [tlsServer.port],
      ca: [cert],
    });
    expect(error).toMatchObject({ code: 'fetch_failed' });
    expect(error.cause).toMatchObject({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
  });
});
