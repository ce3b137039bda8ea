import type { LookupAddress } from 'node:dns';
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP, type LookupFunction } from 'node:net';
import { rootCertificates } from 'node:tls';
import { buildConnector } from 'undici';
import { type Allowlist, refusalReason } from './address-policy.js';

/** Resolves a hostname to every address it has, like `dns.lookup(hostname, { all: true })`. */
export type Resolver = (hostname: string) => Promise<readonly LookupAddress[]>;

/** The system resolver (getaddrinfo, so /etc/hosts counts), every address in the order it gives them. */
export const systemResolver: Resolver = (hostname) => dnsLookup(hostname, { all: true });

/** A connection refused because of where it would go; never retried. */
export class ForbiddenAddressError extends Error {
  override readonly name = 'ForbiddenAddressError';
  readonly code = 'ERR_FORBIDDEN_ADDRESS';
  constructor(
    readonly hostname: string,
    readonly address: string,
    readonly range: string,
  ) {
    super(
      hostname === address
        ? `${address} may not be fetched (range: ${range})`
        : `${hostname} resolves to ${address}, which may not be fetched (range: ${range})`,
    );
  }
}

export interface GuardedConnectorOptions {
  allowlist: Allowlist;
  resolve: Resolver;
  /** Most milliseconds from starting to resolve to a connected (TLS: handshaken) socket. */
  timeoutMs: number;
  /** Extra PEM certificates trusted for https, added to Node's bundled roots. */
  ca?: readonly string[];
}

/**
 * An undici connector that checks the address at connect time. Names are resolved by a `lookup`
 * that net.connect itself calls, so the addresses checked are exactly the ones the socket then
 * connects to: a DNS answer cannot change between check and use (no rebinding window). IP
 * literals never reach `lookup`, so they are checked here before connecting; and once connected,
 * the socket's remote address is checked again as a backstop for any path that skipped both.
 */
export function createGuardedConnector(options: GuardedConnectorOptions): buildConnector.connector {
  const { allowlist, resolve } = options;

  const lookup: LookupFunction = (hostname, lookupOptions, callback) => {
    const family = familyNumber(lookupOptions.family);
    resolve(hostname).then(
      (found) => {
        const addresses = found.filter((entry) => family === 0 || entry.family === family);
        // Every address is checked, not only the first: with autoSelectFamily net.connect tries them all.
        const refused = addresses
          .map((entry) => ({ entry, range: refusalReason(hostname, entry.address, allowlist) }))
          .find(({ range }) => range !== undefined);
        // process.nextTick: an exception thrown by net's callback must not land in this promise chain.
        process.nextTick(() => {
          if (refused?.range !== undefined) {
            callback(new ForbiddenAddressError(hostname, refused.entry.address, refused.range), '');
          } else if (addresses[0] === undefined) {
            callback(notFound(hostname), '');
          } else if (lookupOptions.all) {
            callback(
              null,
              addresses.map(({ address, family }) => ({ address, family })),
            );
          } else {
            callback(null, addresses[0].address, addresses[0].family);
          }
        });
      },
      (error: unknown) => {
        process.nextTick(() => callback(asErrnoException(error), ''));
      },
    );
  };

  const connect = buildConnector({
    timeout: options.timeoutMs,
    lookup,
    allowH2: false,
    // Node's `ca` replaces the bundled roots; a private CA must add to them, not narrow them.
    ...(options.ca?.length ? { ca: [...rootCertificates, ...options.ca] } : {}),
  });

  return (connectOptions, callback) => {
    const { hostname } = connectOptions; // undici has already stripped an IPv6 literal's brackets
    if (isIP(hostname) !== 0) {
      const range = refusalReason(hostname, hostname, allowlist);
      if (range !== undefined) {
        callback(new ForbiddenAddressError(hostname, hostname, range), null);
        return;
      }
    }
    connect(connectOptions, (...result) => {
      if (result[0] !== null) {
        callback(result[0], null);
        return;
      }
      const socket = result[1];
      const remote = socket.remoteAddress ?? '';
      const range = refusalReason(hostname, remote, allowlist);
      if (range !== undefined) {
        socket.destroy();
        callback(new ForbiddenAddressError(hostname, remote, range), null);
        return;
      }
      callback(null, socket);
    });
  };
}

function familyNumber(family: number | string | undefined): number {
  if (family === 'IPv4' || family === 4) return 4;
  if (family === 'IPv6' || family === 6) return 6;
  return 0;
}

function notFound(hostname: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), {
    code: 'ENOTFOUND',
    hostname,
  });
}

function asErrnoException(error: unknown): NodeJS.ErrnoException {
  return error instanceof Error ? error : new Error(String(error), { cause: error });
}
