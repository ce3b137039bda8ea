import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { chownSync, closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { findPostgresBinDir, SetupError } from './binaries.js';
import { stopChild } from './child-process.js';
import { freePort, waitForPort } from './ports.js';

export interface PostgresServerOptions {
  /** The cluster's data directory; made with initdb when empty, reused when it holds a cluster. */
  dataDir: string;
  /** TCP port on 127.0.0.1. Default: a free one. */
  port?: number;
  /**
   * false trades crash safety for speed (fsync off), for throwaway test clusters only.
   * Default true.
   */
  durable?: boolean;
  /** Extra `-c name=value` server settings. */
  settings?: Record<string, string | number>;
  /**
   * Own process group, so a terminal's Ctrl-C reaches only the owner, which stops the server
   * after the nodes that use it (`ingestd cluster`). Default false
   */
  detached?: boolean;
}

/** Postgres and initdb refuse to run as root; as root we run them as the `postgres` user. */
function serverIdentity(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    return { uid, gid };
  } catch {
    throw new SetupError('running as root, but there is no "postgres" user to run the Postgres server as');
  }
}

/** Settings of the private server: sized for one machine shared with the app. */
const baseSettings: Record<string, string | number> = {
  listen_addresses: '127.0.0.1',
  unix_socket_directories: '',
  max_connections: 200,
  shared_buffers: '256MB',
  max_wal_size: '2GB',
  wal_compression: 'lz4',
  default_toast_compression: 'lz4',
  log_min_messages: 'warning',
};

/**
 * A private PostgreSQL server run from the machine's binaries: for `ingestd up`, the tests and
 * the native cluster. The owner calls stop().
 */
export class PostgresServer {
  private child: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    readonly dataDir: string,
    private readonly binDir: string,
    private readonly identity: { uid: number; gid: number } | undefined,
    private readonly settings: Record<string, string | number>,
    private readonly detached: boolean,
  ) {}

  /** Superuser connection string for `database`. */
  url(database = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  static async start(options: PostgresServerOptions): Promise<PostgresServer> {
    const binDir = findPostgresBinDir();
    if (!binDir) throw new SetupError('PostgreSQL server binaries not found; run `ingestd setup`');
    const identity = serverIdentity();
    const dataDir = path.resolve(options.dataDir);
    const durable = options.durable ?? true;
    // Parents stay traversable (0755): the server runs as another user when we are root.
    mkdirSync(path.dirname(dataDir), { recursive: true });
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    if (identity) chownSync(dataDir, identity.uid, identity.gid);
    if (identity && spawnSync('test', ['-w', dataDir], { ...identity }).status !== 0) {
      throw new SetupError(
        `the postgres user cannot write ${dataDir} (a parent directory is closed to it); ` +
          'set DATA_DIR to a directory it can reach, such as one under /var/lib or /tmp',
      );
    }

    if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
      const initdb = spawnSync(
        path.join(binDir, 'initdb'),
        [
          '-D',
          dataDir,
          '-U',
          'postgres',
          '--auth=trust',
          '--encoding=UTF8',
          '--locale=C',
          // A WAL segment switch stalls every commit (a new segment is zero-filled and fsynced
          // in the commit path): at 500 docs/s a 16 MB one every 2 s held them all for 100-160
          // ms on the bench machine's disk, the whole of the POST p99. 4 MB stalls are short
          // enough; 1 MB ones cost batch intake 12% in segment switches (docs/capacity.md, M15).
          '--wal-segsize=4',
          ...(durable ? [] : ['--no-sync']),
        ],
        { ...identity, encoding: 'utf8' },
      );
      if (initdb.status !== 0) throw new Error(`initdb failed: ${initdb.stderr || initdb.stdout}`);
    }
    stopStaleServer(binDir, dataDir, identity);

    const port = options.port ?? (await freePort());
    const settings = {
      ...baseSettings,
      ...(durable ? {} : { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' }),
      ...options.settings,
      port,
    };
    const server = new PostgresServer(port, dataDir, binDir, identity, settings, options.detached ?? false);
    await server.restart();
    return server;
  }

  /** Starts the server (again) on the same port and data directory; a no-op while it runs. */
  async restart(): Promise<void> {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) return;
    const args = [
      '-D',
      this.dataDir,
      ...Object.entries(this.settings).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
    ];
    const logFile = path.join(path.dirname(this.dataDir), `${path.basename(this.dataDir)}.log`);
    const logFd = openSync(logFile, 'a');
    const child = spawn(path.join(this.binDir, 'postgres'), args, {
      ...this.identity,
      stdio: ['ignore', logFd, logFd],
      detached: this.detached,
    });
    closeSync(logFd);
    this.child = child;
    try {
      await waitForPort(this.port, 30_000, () => child.exitCode === null);
      await this.waitUntilAcceptingQueries(30_000);
    } catch (error) {
      await this.stop();
      throw new Error(`postgres did not start (see ${logFile}): ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  /** Creates `database` unless it exists. */
  async createDatabase(database: string, template?: string): Promise<void> {
    const client = new pg.Client({ connectionString: this.url() });
    await client.connect();
    try {
      const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
      if (rowCount === 0) {
        const quote = (name: string) => client.escapeIdentifier(name);
        await client.query(
          `CREATE DATABASE ${quote(database)}${template ? ` TEMPLATE ${quote(template)}` : ''}`,
        );
      }
    } finally {
      await client.end();
    }
  }

  private async waitUntilAcceptingQueries(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const client = new pg.Client({ connectionString: this.url() });
      try {
        await client.connect();
        await client.query('SELECT 1');
        return;
      } catch (error) {
        // "the database system is starting up" until recovery ends.
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      } finally {
        await client.end().catch(() => {});
      }
    }
  }

  /** Fast shutdown: open transactions roll back, nothing committed is lost. */
  async stop(): Promise<void> {
    if (this.child) await stopChild(this.child, 'SIGINT', 20_000);
  }
}

/** A server left running by a killed `ingestd up` holds the data dir: stop it so we can start ours. */
function stopStaleServer(
  binDir: string,
  dataDir: string,
  identity: { uid: number; gid: number } | undefined,
): void {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n', 1)[0]);
  let alive = false;
  try {
    process.kill(pid, 0);
    alive = true;
  } catch {
    alive = false; // Postgres removes a stale pid file of a dead server by itself.
  }
  if (alive) {
    spawnSync(path.join(binDir, 'pg_ctl'), ['stop', '-D', dataDir, '-m', 'fast', '-w'], {
      ...identity,
      stdio: 'ignore',
    });
  }
}
