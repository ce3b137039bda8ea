import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * Which IP addresses a fetch may reach. Default deny: an address is fetchable only when it is
 * ordinary public unicast, judged by ipaddr.js's range tables (RFC 6890 and friends) rather than
 * hand-written prefixes.
 */

type Network = [ipaddr.IPv4 | ipaddr.IPv6, number];

// Every routable IPv6 address lives here (RFC 4291 2.4); anything outside — ::/96 IPv4-compatible
// forms like ::7f00:1, 100::/64 discard, ... — is never a legitimate document server.
const ipv6GlobalUnicast = ipaddr.IPv6.parseCIDR('2000::/3');
// The well-known NAT64 prefix: the last 32 bits are an IPv4 address the gateway will connect to.
const nat64WellKnown = ipaddr.IPv6.parseCIDR('64:ff9b::/96');

/**
 * Why `address` may not be fetched — an ipaddr.js range name such as `loopback`, `private`,
 * `linkLocal` (169.254.169.254, the cloud metadata service, is one), `carrierGradeNat`, `6to4` —
 * or undefined for a public unicast address. IPv4 embedded in IPv6 (`::ffff:127.0.0.1`,
 * `64:ff9b::7f00:1`) is judged as the IPv4 address the packets would reach. Not an IP: `invalid`.
 */
export function forbiddenRange(address: string): string | undefined {
  if (isIP(address) === 0) return 'invalid';
  const parsed = ipaddr.parse(address);
  return parsed.kind() === 'ipv4'
    ? ipv4Forbidden(parsed as ipaddr.IPv4)
    : ipv6Forbidden(parsed as ipaddr.IPv6);
}

function ipv4Forbidden(address: ipaddr.IPv4): string | undefined {
  const range = address.range();
  return range === 'unicast' ? undefined : range;
}

function ipv6Forbidden(address: ipaddr.IPv6): string | undefined {
  const range = address.range();
  if (range === 'ipv4Mapped') return ipv4Forbidden(address.toIPv4Address());
  if (range === 'rfc6052' && address.match(nat64WellKnown)) return ipv4Forbidden(embeddedIPv4(address));
  // Everything else that is not plain unicast is refused whole, including tunnels whose far end is
  // an IPv4 address (6to4 2002::/16, Teredo 2001::/32) and the local-use NAT64 prefix 64:ff9b:1::/48,
  // whose IPv4 placement depends on the operator: none of them is worth the parsing risk.
  if (range !== 'unicast') return range;
  return address.match(ipv6GlobalUnicast) ? undefined : 'notGlobalUnicast';
}

function embeddedIPv4(address: ipaddr.IPv6): ipaddr.IPv4 {
  const high = address.parts[6] ?? 0;
  const low = address.parts[7] ?? 0;
  return new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
}

/** The hosts an operator opened on purpose (intranet sources, test servers). */
export interface Allowlist {
  /** True when a URL naming `hostname` (a name, or an IP literal, brackets optional) is allowed whatever it resolves to. */
  allowsHost(hostname: string): boolean;
}

/**
 * Parses allowlist entries: a hostname (`wiki.corp.example`), a wildcard for its subdomains
 * (`*.corp.example`, not the apex), an IP (`10.1.2.3`, `::1`) or a CIDR (`10.20.0.0/16`).
 * Throws naming the first entry that is none of these, so a bad setting stops the process at boot.
 *
 * Entries match the host the URL names, never what a name resolves to: listing `127.0.0.1` opens
 * `http://127.0.0.1/` but not `http://evil.example/` resolving there. Otherwise anyone who controls
 * a DNS record could aim it at an opened address and hide the target behind an innocent name.
 * A listed name is trusted with whatever its DNS answers.
 */
export function parseAllowlist(entries: readonly string[]): Allowlist {
  const names = new Set<string>();
  const suffixes: string[] = [];
  const networks: Network[] = [];
  for (const raw of entries) {
    const entry = raw.trim();
    const network = parseNetwork(entry);
    if (network) {
      networks.push(network);
    } else if (entry.startsWith('*.')) {
      suffixes.push(`.${canonicalName(entry.slice(2), raw)}`);
    } else {
      names.add(canonicalName(entry, raw));
    }
  }
  return {
    allowsHost(hostname) {
      const host = unbracket(hostname);
      if (isIP(host) !== 0) {
        const address = ipaddr.process(host); // ::ffff:10.1.2.3 matches 10.0.0.0/8
        return networks.some(([base, bits]) => base.kind() === address.kind() && address.match(base, bits));
      }
      const name = host.toLowerCase().replace(/\.$/, '');
      return names.has(name) || suffixes.some((suffix) => name.endsWith(suffix));
    },
  };
}

function parseNetwork(entry: string): Network | undefined {
  const [address = '', bits, ...rest] = unbracket(entry).split('/');
  // isIP insists on the canonical dotted form; ipaddr.js alone would also take 0x7f.1 and friends.
  if (isIP(address) === 0 || rest.length > 0) return undefined;
  if (bits === undefined) {
    const parsed = ipaddr.parse(address);
    return [parsed, parsed.kind() === 'ipv4' ? 32 : 128];
  }
  if (!/^\d{1,3}$/.test(bits) || !ipaddr.isValidCIDR(`${address}/${bits}`)) {
    throw new Error(`invalid allowlist entry "${entry}": not a CIDR`);
  }
  return ipaddr.parseCIDR(`${address}/${bits}`);
}

/** The name as WHATWG URL parsing spells it (lower case, punycode), so it compares with `URL.hostname`. */
function canonicalName(name: string, raw: string): string {
  let hostname: string;
  try {
    hostname = new URL(`http://${name}/`).hostname;
  } catch {
    throw new Error(`invalid allowlist entry "${raw}": not a hostname, IP or CIDR`);
  }
  // A name that URL parsing turns into an address (2130706433, 127.1) must be listed as the address.
  if (hostname !== name.toLowerCase() && isIP(unbracket(hostname)) !== 0) {
    throw new Error(`invalid allowlist entry "${raw}": write the address as ${hostname}`);
  }
  if (hostname === '' || name.includes('/') || name.includes('@') || name.includes(':')) {
    throw new Error(`invalid allowlist entry "${raw}": not a hostname, IP or CIDR`);
  }
  return hostname.replace(/\.$/, '');
}

function unbracket(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/**
 * The reason a connection to `address`, reached for a URL naming `hostname`, must not be made,
 * or undefined when it may. Allowlisted hosts pass whatever they resolve to.
 */
export function refusalReason(hostname: string, address: string, allowlist: Allowlist): string | undefined {
  if (allowlist.allowsHost(hostname)) return undefined;
  return forbiddenRange(address);
}
