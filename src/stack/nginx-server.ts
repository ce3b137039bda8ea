import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findExecutable, SetupError } from './binaries.js';
import { stopChild } from './child-process.js';
import { deriveNativeNginxConfig, NginxConfigError } from './nginx-config.js';
import { freePort, waitForPort } from './ports.js';

/** The repo's nginx.conf (the one docker-compose.yml mounts): the nearest above this module, from src/ or dist/src/. */
export function shippedNginxConfigPath(): string {
  const start = path.dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'nginx.conf');
    if (existsSync(path.join(dir, 'package.json')) && existsSync(candidate)) return candidate;
    if (dir === path.dirname(dir)) throw new SetupError(`no nginx.conf at the package root above ${start}`);
  }
}

export interface NginxServerOptions {
  /** Private directory: derived config, pid file, logs, temp files. Made when missing. */
  runDir: string;
  /** Ports of the API nodes on 127.0.0.1. */
  upstreamPorts: readonly number[];
  /** Port on 127.0.0.1. Default: a free one. */
  port?: number;
  /** The config to derive from. Default: the repo's nginx.conf. */
  shippedConfig?: string;
  /** Own process group, so a terminal's Ctrl-C reaches only the owner, which stops things in order. Default false */
  detached?: boolean;
}

/** Unprivileged identity for nginx's worker processes when we are root (nginx needs one then). */
const ROOT_WORKER_USER = { name: 'nobody', group: 'nogroup' };

/**
 * A private nginx run from the machine's binary, configured from the repo's nginx.conf (see
 * deriveNativeNginxConfig), in front of API nodes on 127.0.0.1. The owner calls stop().
 */
export class NginxServer {
  private child: ChildProcess | undefined;
  private upstreams: readonly number[];

  private constructor(
    readonly port: number,
    readonly runDir: string,
    private readonly binary: string,
    private readonly shippedConfig: string,
    upstreamPorts: readonly number[],
    private readonly detached: boolean,
  ) {
    this.upstreams = [...upstreamPorts];
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The derived config in use. */
  get configFile(): string {
    return path.join(this.runDir, 'nginx.conf');
  }

  /** One JSON object per request (the shipped `ingestd_json` format). */
  get accessLog(): string {
    return path.join(this.runDir, 'access.log');
  }

  get errorLog(): string {
    return path.join(this.runDir, 'error.log');
  }

  get upstreamPorts(): readonly number[] {
    return this.upstreams;
  }

  /** Process id of the master, while it runs. */
  get pid(): number | undefined {
    return this.isRunning() ? this.child?.pid : undefined;
  }

  static async start(options: NginxServerOptions): Promise<NginxServer> {
    const binary = findExecutable('nginx');
    if (!binary) throw new SetupError('nginx not found; run `ingestd setup`');
    const runDir = path.resolve(options.runDir);
    mkdirSync(runDir, { recursive: true });
    const user = workerUser();
    if (user) {
      // nginx makes its temp dirs here for the worker user, who must be able to reach them.
      chmodSync(runDir, 0o755);
      if (spawnSync('test', ['-x', runDir], { uid: user.uid, gid: user.gid }).status !== 0) {
        throw new SetupError(
          `nginx's worker user ${ROOT_WORKER_USER.name} cannot reach ${runDir} (a parent directory is closed to it); ` +
            'use a data directory under /tmp or /var/lib',
        );
      }
    }
    const shipped = readFileSync(options.shippedConfig ?? shippedNginxConfigPath(), 'utf8');
    const port = options.port ?? (await freePort());
    const server = new NginxServer(
      port,
      runDir,
      binary,
      shipped,
      options.upstreamPorts,
      options.detached ?? false,
    );
    server.writeValidatedConfig(options.upstreamPorts);
    await server.launch();
    return server;
  }

  /**
   * Points the upstream at a new set of API nodes: the new config is validated first, then the
   * master is sent SIGHUP (what `nginx -s reload` does). Resolves once workers with the new config
   * run; the old ones finish what they hold and leave on their own, so a client connection that
   * was already open may see the old upstreams for a request or two more.
   */
  async reload(upstreamPorts: readonly number[]): Promise<void> {
    const master = this.child;
    if (!master?.pid || !this.isRunning()) throw new Error('nginx is not running');
    this.writeValidatedConfig(upstreamPorts);
    const before = new Set(childPids(master.pid));
    master.kill('SIGHUP');
    const deadline = Date.now() + 10_000;
    while (!childPids(master.pid).some((pid) => !before.has(pid))) {
      if (Date.now() > deadline) throw new Error(`nginx did not reload within 10 s (see ${this.errorLog})`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /**
   * Graceful stop (SIGQUIT: requests in progress finish), forced after 10 s. Workers outlive a
   * master killed that way and would keep the port: they are killed too. Safe to call twice.
   */
  async stop(): Promise<void> {
    const master = this.child;
    if (!master?.pid) return;
    const workers = childPids(master.pid);
    await stopChild(master, 'SIGQUIT', 10_000);
    if (master.signalCode !== 'SIGKILL') return;
    for (const pid of workers) {
      // Checked by name: after the master's death a pid may already belong to someone else.
      if (readCommandLine(pid).startsWith('nginx: worker process')) process.kill(pid, 'SIGKILL');
    }
  }

  private isRunning(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Derives the config for `upstreamPorts`, checks it with `nginx -t`, and only then puts it in place. */
  private writeValidatedConfig(upstreamPorts: readonly number[]): void {
    const user = workerUser();
    const derived = deriveNativeNginxConfig(this.shippedConfig, {
      listenPort: this.port,
      upstreamPorts,
      runDir: this.runDir,
      user: user ? `${ROOT_WORKER_USER.name} ${ROOT_WORKER_USER.group}` : undefined,
    });
    const candidate = path.join(this.runDir, 'nginx.next.conf');
    writeFileSync(candidate, derived);
    const test = spawnSync(this.binary, ['-t', '-q', ...this.pathArgs(candidate)], { encoding: 'utf8' });
    if (test.status !== 0) {
      throw new NginxConfigError(`nginx -t rejected ${candidate}: ${(test.stderr || test.stdout).trim()}`);
    }
    renameSync(candidate, this.configFile);
    this.upstreams = [...upstreamPorts];
  }

  /** -p keeps relative paths private; -e sends errors from before the config is read to our log. */
  private pathArgs(configFile: string): string[] {
    return ['-p', this.runDir, '-c', configFile, '-e', this.errorLog];
  }

  private async launch(): Promise<void> {
    const child = spawn(this.binary, this.pathArgs(this.configFile), {
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: this.detached,
    });
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (text: string) => {
      stderr = (stderr + text).slice(-4_000);
    });
    this.child = child;
    try {
      await waitForPort(this.port, 10_000, () => child.exitCode === null);
    } catch (error) {
      await this.stop();
      throw new Error(`nginx did not start (see ${this.errorLog}): ${(error as Error).message} ${stderr}`, {
        cause: error,
      });
    }
  }
}

/** The worker processes' identity when we are root: nginx refuses to run them as root silently. */
function workerUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(spawnSync('id', ['-u', ROOT_WORKER_USER.name], { encoding: 'utf8' }).stdout.trim());
  const gid = Number(
    spawnSync('getent', ['group', ROOT_WORKER_USER.group], { encoding: 'utf8' }).stdout.split(':')[2],
  );
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) {
    throw new SetupError(
      `running as root, but there is no ${ROOT_WORKER_USER.name}:${ROOT_WORKER_USER.group} to run nginx's workers as`,
    );
  }
  return { uid, gid };
}

function readCommandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

/** Process ids whose parent is `parentPid` (nginx's workers), read from /proc. */
function childPids(parentPid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Fields after the parenthesised command name: state, then ppid.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parentPid) pids.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}
