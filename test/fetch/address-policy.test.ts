import { describe, expect, it } from 'vitest';
import { forbiddenRange, parseAllowlist, refusalReason } from '../../src/fetch/address-policy.js';

describe('forbiddenRange', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'linkLocal'], // cloud metadata
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['192.0.0.8', 'reserved'],
    ['192.0.2.1', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'linkLocal'],
    ['fc00::1', 'uniqueLocal'],
    ['fd12:3456::1', 'uniqueLocal'],
    ['ff02::1', 'multicast'],
    ['fec0::1', 'deprecatedSiteLocal'],
    ['::ffff:127.0.0.1', 'loopback'], // IPv4-mapped
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:169.254.169.254', 'linkLocal'],
    ['::7f00:1', 'notGlobalUnicast'], // IPv4-compatible ::127.0.0.1
    ['::ffff:0:7f00:1', 'rfc6145'], // IPv4-translated
    ['64:ff9b::7f00:1', 'loopback'], // NAT64 of 127.0.0.1
    ['64:ff9b::a00:1', 'private'], // NAT64 of 10.0.0.1
    ['64:ff9b::a9fe:a9fe', 'linkLocal'], // NAT64 of 169.254.169.254
    ['64:ff9b:1::a00:1', 'rfc6052'], // local-use NAT64: refused whole
    ['2002:7f00:1::1', '6to4'],
    ['2002:808:808::1', '6to4'],
    ['2001:0:4136:e378::1', 'teredo'],
    ['2001:db8::1', 'reserved'],
    ['100::1', 'discard'],
    ['localhost', 'invalid'],
    ['0x7f.1', 'invalid'], // only canonical forms are addresses here
  ])('refuses %s (%s)', (address, range) => {
    expect(forbiddenRange(address)).toBe(range);
  });

  it.each([
    '8.8.8.8',
    '1.1.1.1',
    '93.184.215.14',
    '172.32.0.1', // just past 172.16/12
    '100.128.0.1', // just past 100.64/10
    '2606:4700:4700::1111',
    '2a00:1450:4001:81c::200e',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808', // NAT64 of a public address
  ])('allows the public address %s', (address) => {
    expect(forbiddenRange(address)).toBeUndefined();
  });
});

describe('parseAllowlist', () => {
  const allowlist = parseAllowlist([
    '127.0.0.1',
    '10.20.0.0/16',
    'fd00::/8',
    '[::1]',
    'Wiki.Corp.Example.',
    '*.intra.example',
  ]);

  it('matches IP literals against addresses and networks, IPv4-mapped forms included', () => {
    expect(allowlist.allowsHost('127.0.0.1')).toBe(true);
    expect(allowlist.allowsHost('127.0.0.2')).toBe(false);
    expect(allowlist.allowsHost('10.20.3.4')).toBe(true);
    expect(allowlist.allowsHost('10.21.0.1')).toBe(false);
    expect(allowlist.allowsHost('[fd00::5]')).toBe(true);
    expect(allowlist.allowsHost('::1')).toBe(true);
    expect(allowlist.allowsHost('[::ffff:a14:304]')).toBe(true);
    expect(allowlist.allowsHost('::2')).toBe(false);
  });

  it('matches names case-insensitively, with a trailing dot, and wildcards for subdomains only', () => {
    expect(allowlist.allowsHost('wiki.corp.example')).toBe(true);
    expect(allowlist.allowsHost('WIKI.corp.example.')).toBe(true);
    expect(allowlist.allowsHost('evil-wiki.corp.example')).toBe(false);
    expect(allowlist.allowsHost('docs.intra.example')).toBe(true);
    expect(allowlist.allowsHost('a.b.intra.example')).toBe(true);
    expect(allowlist.allowsHost('intra.example')).toBe(false);
    expect(allowlist.allowsHost('evilintra.example')).toBe(false);
  });

  it('opens what a URL names, not what a name resolves to', () => {
    expect(refusalReason('127.0.0.1', '127.0.0.1', allowlist)).toBeUndefined();
    expect(refusalReason('evil.test', '127.0.0.1', allowlist)).toBe('loopback');
    expect(refusalReason('wiki.corp.example', '10.99.0.1', allowlist)).toBeUndefined();
  });

  it.each([
    '10.0.0.0/33',
    '10.0.0.0/x',
    '10.0.0.0/8/8',
    '::1/129',
    '2130706433', // a name URL parsing turns into 127.0.0.1
    '0x7f.1',
    'host:8080',
    'user@host',
    'a b',
    'http://host/',
    '',
  ])('refuses the entry %j at boot', (entry) => {
    expect(() => parseAllowlist([entry])).toThrow(/invalid allowlist entry/);
  });
});
