import path from 'node:path';

/** What differs when the shipped nginx.conf runs natively instead of in its container. */
export interface NativeNginxSettings {
  /** Port nginx listens on, on 127.0.0.1. */
  listenPort: number;
  /** Ports of the API nodes on 127.0.0.1: one upstream `server` line each. At least one. */
  upstreamPorts: readonly number[];
  /** Private directory for the pid file, logs and temp files. */
  runDir: string;
  /** `user` for the worker processes; only meaningful (and required by nginx) when run as root. */
  user?: string | undefined;
}

export class NginxConfigError extends Error {
  override readonly name = 'NginxConfigError';
}

/** The upstream the shipped config proxies to; its server lines are the only ones replaced. */
const UPSTREAM_NAME = 'ingestd_api';

/**
 * Rewrites the repo's nginx.conf for a private, native nginx, touching only what cannot be the
 * same outside the container: upstream addresses, the listen address, file paths, `user`, and
 * running in the foreground. Everything else (timeouts, retries, buffering, keepalive, error
 * bodies) stays as shipped, so what the tests exercise is the config that ships.
 *
 * Each rewrite must find what it expects; if the shipped config changes shape, this throws
 * instead of quietly testing something else.
 */
export function deriveNativeNginxConfig(shipped: string, settings: NativeNginxSettings): string {
  if (settings.upstreamPorts.length === 0) throw new NginxConfigError('at least one API node is needed');
  const file = (name: string) => path.join(settings.runDir, name);
  let config = shipped;

  config = replaceDirective(config, 'pid', 1, () => `pid ${file('nginx.pid')};`);
  // The level (and anything after the path) is kept; only where the log goes changes.
  config = replaceDirective(config, 'error_log', 'some', (args) => {
    const [, ...rest] = args;
    return `error_log ${[file('error.log'), ...rest].join(' ')};`;
  });
  config = replaceDirective(
    config,
    'access_log',
    'some',
    (args) => {
      const [, ...format] = args;
      return `access_log ${[file('access.log'), ...format].join(' ')};`;
    },
    (args) => args[0] !== 'off',
  );
  config = replaceDirective(config, 'listen', 1, (args) => {
    const [address, ...parameters] = args;
    // Only the port of an address like 80, *:80 or 0.0.0.0:80 is meaningful; native means loopback.
    if (!address || !/^(?:[\w.*[\]:]+:)?\d+$/.test(address)) {
      throw new NginxConfigError(`unexpected listen address "${address}"`);
    }
    return `listen ${[`127.0.0.1:${settings.listenPort}`, ...parameters].join(' ')};`;
  });
  config = replaceUpstreamServers(config, settings.upstreamPorts);
  config = replaceDirective(config, 'user', 'any', () => '');

  // Temp files (large bodies and responses) go to the private directory, not /var/lib/nginx.
  const temps = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((kind) => `    ${kind}_temp_path ${file(`${kind}_temp`)};`)
    .join('\n');
  const httpBlock = /^http\s*\{[^\n]*\n/m;
  if (!httpBlock.test(config)) throw new NginxConfigError('no http block found');
  config = config.replace(httpBlock, (opening) => `${opening}${temps}\n`);

  const header = [
    '# Derived from the repo nginx.conf by src/stack/nginx-config.ts for a private native nginx.',
    '# Changed: upstream servers, listen address, pid/log/temp paths, user, foreground master.',
    'daemon off;',
    'master_process on;',
    ...(settings.user ? [`user ${settings.user};`] : []),
  ].join('\n');
  return `${header}\n\n${config}`;
}

/** A directive's arguments, split on whitespace (the shipped config quotes none of these). */
type Rewrite = (args: string[]) => string;

/**
 * Replaces every `name args;` statement (not in a comment) with `rewrite(args)`, checking the count:
 * exactly `expected`, at least one (`some`) or any number (`any`).
 */
function replaceDirective(
  config: string,
  name: string,
  expected: number | 'some' | 'any',
  rewrite: Rewrite,
  applies: (args: string[]) => boolean = () => true,
): string {
  const statement = new RegExp(`^([ \\t]*)${name}[ \\t]+([^;#\\n]*);`, 'gm');
  let count = 0;
  const result = config.replace(statement, (whole, indent: string, rawArgs: string) => {
    const args = rawArgs.trim().split(/\s+/);
    if (!applies(args)) return whole;
    count++;
    return `${indent}${rewrite(args)}`;
  });
  const ok = expected === 'any' || (expected === 'some' ? count > 0 : count === expected);
  if (!ok) {
    throw new NginxConfigError(
      `expected ${expected === 'some' ? 'at least one' : expected} "${name}" directive(s), found ${count}`,
    );
  }
  return result;
}

/**
 * Replaces the `server` lines of the API upstream with one line per port, each with the first
 * line's parameters (max_fails, fail_timeout...), so passive health checks stay as shipped.
 */
function replaceUpstreamServers(config: string, ports: readonly number[]): string {
  const block = new RegExp(`^([ \\t]*)upstream[ \\t]+${UPSTREAM_NAME}[ \\t]*\\{([^}]*)\\}`, 'm');
  const match = block.exec(config);
  if (!match) throw new NginxConfigError(`no "upstream ${UPSTREAM_NAME}" block found`);
  const body = match[2] ?? '';
  const serverLine = /^([ \t]*)server[ \t]+(\S+)([^;#\n]*);[ \t]*\n?/gm;
  const servers = [...body.matchAll(serverLine)];
  const first = servers[0];
  if (!first) throw new NginxConfigError(`"upstream ${UPSTREAM_NAME}" has no server line`);
  const indent = first[1] ?? '';
  const parameters = first[3] ?? '';
  const replacement = ports.map((port) => `${indent}server 127.0.0.1:${port}${parameters};\n`).join('');
  let placed = false;
  const newBody = body.replace(serverLine, () => {
    if (placed) return '';
    placed = true;
    return replacement;
  });
  return config.replace(block, (whole) => whole.replace(body, () => newBody));
}
