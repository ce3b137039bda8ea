import { isIP } from 'node:net';
import { type Allowlist, parseAllowlist, refusalReason } from './address-policy.js';

/** Which URLs may be fetched at all. Shared by the API (400 at request time) and the fetcher (every hop). */
export interface FetchPolicy {
  /**
   * Hosts opened even though private: hostnames, `*.suffix` wildcards, IPs, CIDRs; matched
   * against the host the URL names (see `parseAllowlist`). Default: none
   */
  allow?: readonly string[];
  /** Ports a URL may name, explicitly or by its scheme's default. Default [80, 443] */
  allowedPorts?: readonly number[];
  /** Longest URL accepted, in characters. Default 2048 */
  maxUrlLength?: number;
}

export const defaultAllowedPorts: readonly number[] = [80, 443];
export const defaultMaxUrlLength = 2048;

/** Why a URL was refused; stable, so the API can return it as the error code. */
export type FetchUrlProblem =
  | 'invalid_url'
  | 'url_too_long'
  | 'scheme_not_allowed'
  | 'credentials_in_url'
  | 'port_not_allowed'
  | 'forbidden_address';

export type FetchUrlCheck = { ok: true; url: URL } | { ok: false; problem: FetchUrlProblem; message: string };

const defaultPorts: Record<string, number> = { 'http:': 80, 'https:': 443 };

/**
 * Checks what can be known without the network: length, that it parses, http(s) only, no
 * `user:pass@`, an allowed port, and an IP-literal host (in any spelling WHATWG URL parsing
 * normalises: 2130706433, 0177.0.0.1, 0x7f.1, [::ffff:7f00:1]) that is not forbidden. Names are
 * not resolved here; the connector checks what they resolve to at connect time. Pure.
 *
 * `allowlist` may be passed pre-parsed to avoid re-parsing `policy.allow` on every call.
 * The returned URL has its fragment removed (it is never sent).
 */
export function validateFetchUrl(
  input: string | URL,
  policy: FetchPolicy = {},
  allowlist: Allowlist = parseAllowlist(policy.allow ?? []),
): FetchUrlCheck {
  const text = typeof input === 'string' ? input : input.href;
  const maxLength = policy.maxUrlLength ?? defaultMaxUrlLength;
  if (text.length > maxLength) {
    return refuse('url_too_long', `the URL is ${text.length} characters; the limit is ${maxLength}`);
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return refuse('invalid_url', 'not a valid absolute URL');
  }
  const defaultPort = defaultPorts[url.protocol];
  if (defaultPort === undefined) {
    return refuse('scheme_not_allowed', `${url.protocol} URLs may not be fetched; use http: or https:`);
  }
  // Credentials would be sent to whatever the URL (or a redirect) points at: refuse rather than strip.
  if (url.username !== '' || url.password !== '') {
    return refuse('credentials_in_url', 'URLs with a user name or password may not be fetched');
  }
  const port = url.port === '' ? defaultPort : Number(url.port);
  const allowedPorts = policy.allowedPorts ?? defaultAllowedPorts;
  if (!allowedPorts.includes(port)) {
    return refuse('port_not_allowed', `port ${port} may not be fetched; allowed: ${allowedPorts.join(', ')}`);
  }
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  if (isIP(host) !== 0) {
    const range = refusalReason(host, host, allowlist);
    if (range !== undefined) {
      return refuse('forbidden_address', `${host} may not be fetched (range: ${range})`);
    }
  }
  url.hash = '';
  return { ok: true, url };
}

function refuse(problem: FetchUrlProblem, message: string): FetchUrlCheck {
  return { ok: false, problem, message };
}
