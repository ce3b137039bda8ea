import { describe, expect, it } from 'vitest';
import { validateFetchUrl } from '../../src/fetch/validate-fetch-url.js';
import { forbiddenUrlHosts } from './forbidden-hosts.js';

describe('validateFetchUrl', () => {
  it('accepts an http(s) URL on the default ports and drops its fragment', () => {
    const check = validateFetchUrl('https://example.com/a/b.pdf?x=1#part');
    expect(check).toEqual({ ok: true, url: new URL('https://example.com/a/b.pdf?x=1') });
    expect(validateFetchUrl('http://example.com:80/').ok).toBe(true);
    expect(validateFetchUrl(new URL('https://example.com:443/')).ok).toBe(true);
  });

  it.each([
    'file:///etc/passwd',
    'ftp://example.com/file.txt',
    'gopher://example.com:70/_GET',
    'data:text/plain,hello',
    'javascript:alert(1)',
    'ws://example.com/',
    'blob:https://example.com/uuid',
  ])('refuses the scheme of %s', (url) => {
    expect(validateFetchUrl(url)).toMatchObject({ ok: false, problem: 'scheme_not_allowed' });
  });

  it.each(['http://example.com:22/', 'http://example.com:8080/', 'https://example.com:6379/'])(
    'refuses the port of %s',
    (url) => {
      expect(validateFetchUrl(url)).toMatchObject({ ok: false, problem: 'port_not_allowed' });
    },
  );

  it('honours allowed ports', () => {
    expect(validateFetchUrl('http://example.com:8080/', { allowedPorts: [8080] }).ok).toBe(true);
    // Ports are allowed as ports, whichever scheme speaks on them.
    expect(validateFetchUrl('https://example.com:80/').ok).toBe(true);
    // Listing ports replaces the defaults.
    expect(validateFetchUrl('http://example.com/', { allowedPorts: [8080] })).toMatchObject({
      problem: 'port_not_allowed',
    });
  });

  it.each([
    'http://user:pass@example.com/',
    'http://user@example.com/',
    'http://:pass@example.com/',
    'https://a%40b:c@example.com/',
  ])('refuses credentials in %s', (url) => {
    expect(validateFetchUrl(url)).toMatchObject({ ok: false, problem: 'credentials_in_url' });
  });

  it('refuses what is not a URL, and URLs past the length limit', () => {
    expect(validateFetchUrl('not a url')).toMatchObject({ problem: 'invalid_url' });
    expect(validateFetchUrl('/relative/path')).toMatchObject({ problem: 'invalid_url' });
    expect(validateFetchUrl('http://')).toMatchObject({ problem: 'invalid_url' });
    expect(validateFetchUrl('http://a.0x7f/')).toMatchObject({ problem: 'invalid_url' });
    const long = `https://example.com/${'a'.repeat(2048)}`;
    expect(validateFetchUrl(long)).toMatchObject({ problem: 'url_too_long' });
    expect(validateFetchUrl(long, { maxUrlLength: 4096 }).ok).toBe(true);
  });

  it.each(forbiddenUrlHosts)('refuses the literal host %s', (host) => {
    const check = validateFetchUrl(`http://${host}/`);
    expect(check).toMatchObject({ ok: false, problem: 'forbidden_address' });
  });

  it('accepts public literals, IPv4 spelled oddly included', () => {
    expect(validateFetchUrl('http://8.8.8.8/').ok).toBe(true);
    expect(validateFetchUrl('http://134744072/').ok).toBe(true); // 8.8.8.8
    expect(validateFetchUrl('http://[2606:4700:4700::1111]/').ok).toBe(true);
  });

  it('leaves names to the connect-time check', () => {
    // localhost resolves to loopback, but only the connector may say so: DNS is not consulted here.
    expect(validateFetchUrl('http://localhost/').ok).toBe(true);
  });

  it('opens allowlisted literals and networks only', () => {
    const policy = { allow: ['127.0.0.1', '10.20.0.0/16'] };
    expect(validateFetchUrl('http://127.0.0.1/', policy).ok).toBe(true);
    expect(validateFetchUrl('http://2130706433/', policy).ok).toBe(true); // the same address
    expect(validateFetchUrl('http://10.20.1.2/', policy).ok).toBe(true);
    expect(validateFetchUrl('http://127.0.0.2/', policy)).toMatchObject({ problem: 'forbidden_address' });
    expect(validateFetchUrl('http://10.21.0.1/', policy)).toMatchObject({ problem: 'forbidden_address' });
  });
});
