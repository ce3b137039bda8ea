import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import { findExecutable, SetupError } from './binaries.js';
import { stopChild } from './child-process.js';
import { freePort, waitForPort } from './ports.js';

export interface RedisServerOptions {
  /** Working directory: the append-only file lives here. */
  dataDir: string;
  /** TCP port on 127.0.0.1. Default: a free one. */
  port?: number;
  /** Keep data across restarts with an append-only file fsynced every second. Default true. */
  persistent?: boolean;
  /** Own process group, so a terminal's Ctrl-C reaches only the owner (see PostgresServerOptions). Default false */
  detached?: boolean;
}

/**
 * A private Redis run from the machine's redis-server. `noeviction` because BullMQ's keys must
 * never be evicted: a full Redis has to refuse writes, not drop jobs.
 */
export class RedisServer {
  private child: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    private readonly options: RedisServerOptions,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(options: RedisServerOptions): Promise<RedisServer> {
    const server = new RedisServer(options.port ?? (await freePort()), options);
    await server.restart();
    return server;
  }

  /** Starts the server (again) on the same port and data directory. */
  async restart(): Promise<void> {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) return;
    const binary = findExecutable('redis-server');
    if (!binary) throw new SetupError('redis-server not found; run `ingestd setup`');
    const dataDir = path.resolve(this.options.dataDir);
    mkdirSync(dataDir, { recursive: true });
    const persistent = this.options.persistent ?? true;
    // biome-ignore format: flag/value pairs read best in pairs
    const args = [
      '--port', String(this.port),
      '--bind', '127.0.0.1',
      '--dir', dataDir,
      '--maxmemory-policy', 'noeviction',
      '--save', '',
      '--appendonly', persistent ? 'yes' : 'no',
      '--appendfsync', 'everysec',
      '--daemonize', 'no',
      '--loglevel', 'warning',
    ];
    const logFd = openSync(path.join(dataDir, 'redis.log'), 'a');
    const child = spawn(binary, args, {
      stdio: ['ignore', logFd, logFd],
      detached: this.options.detached ?? false,
    });
    closeSync(logFd);
    this.child = child;
    try {
      await waitForPort(this.port, 15_000, () => child.exitCode === null);
    } catch (error) {
      await this.stop();
      throw new Error(`redis did not start (see ${dataDir}/redis.log): ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  /** SIGTERM: Redis flushes its append-only file and exits. */
  async stop(): Promise<void> {
    if (this.child) await stopChild(this.child, 'SIGTERM', 10_000);
  }
}
