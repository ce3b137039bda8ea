import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import { exited, stopChild } from './child-process.js';

/** What a node of the native cluster runs: an API node or a worker of one role. */
export type NodeRole = 'api' | 'processor' | 'dlq' | 'monitor';

/**
 * Node's heap limit for worker processes, in MB. Below 2 GB, V8 lets the old generation grow 1.3-2x
 * its live size between full collections instead of 4x (its default limit is ~4 GB on a machine
 * with much memory): a worker streaming a 50 MB document beside a 1,000-document batch peaked at
 * 250-266 MB instead of 305-328 MB. The live heap stays far below it. Deployments set the same in
 * NODE_OPTIONS (docker-compose.yml, deploy/k8s); API nodes keep Node's default, since the smaller
 * growth cost them ~15% more CPU a request (README, Performance).
 */
export const WORKER_HEAP_LIMIT_MB = 1536;

/** Node flags for a node of `role` (see WORKER_HEAP_LIMIT_MB). */
export function nodeFlags(role: NodeRole): string[] {
  return role === 'api' ? [] : [`--max-old-space-size=${WORKER_HEAP_LIMIT_MB}`];
}

export interface NodeExit {
  node: NodeProcess;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when we stopped or killed it on purpose; false when it died on its own. */
  expected: boolean;
  /** How long it had run, in ms. */
  ranMs: number;
}

export interface NodeProcessOptions {
  /** e.g. api-1, processor-2: used in logs and as its log file's name. */
  name: string;
  role: NodeRole;
  /** The built command (dist/src/cli.js). */
  cliPath: string;
  /** Environment besides the port, which this class sets (PORT or WORKER_METRICS_PORT). */
  env: NodeJS.ProcessEnv;
  /** The node's HTTP port: the API itself, or a worker's /metrics listener. */
  port: number;
  /** stdout and stderr are appended here. */
  logFile: string;
  /** Own process group, so a terminal's Ctrl-C reaches only the cluster, which stops nodes in order. */
  detached: boolean;
  /** Called on every exit. */
  onExit: (exit: NodeExit) => void;
}

/** How long a node may take from spawn to answering its probe. */
const START_TIMEOUT_MS = 30_000;

/**
 * One ingestd node (`ingestd api` or `ingestd worker --role ...`) as a child process of the
 * native cluster, on a fixed port so it comes back at the same address when restarted.
 */
export class NodeProcess {
  private child: ChildProcess | undefined;
  private startedAt = 0;
  /** Set before we signal the child, so its exit is not reported as a crash. */
  private exitExpected = false;

  constructor(private readonly options: NodeProcessOptions) {}

  get name(): string {
    return this.options.name;
  }

  get role(): NodeRole {
    return this.options.role;
  }

  /** The API port, or the worker's metrics port: where Prometheus scrapes it either way. */
  get port(): number {
    return this.options.port;
  }

  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  get logFile(): string {
    return this.options.logFile;
  }

  /**
   * Spawns the node and resolves once it answers its probe: /ready for an API node (Postgres and
   * Redis reachable), /health for a worker (its listener opens first). A no-op while it runs.
   */
  async start(): Promise<void> {
    if (this.running) return;
    const { role, port } = this.options;
    const args = role === 'api' ? ['api'] : ['worker', '--role', role];
    const portVariable = role === 'api' ? 'PORT' : 'WORKER_METRICS_PORT';
    mkdirSync(path.dirname(this.options.logFile), { recursive: true });
    const logFd = openSync(this.options.logFile, 'a');
    const child = spawn(process.execPath, [...nodeFlags(role), this.options.cliPath, ...args], {
      env: { ...this.options.env, [portVariable]: String(port) },
      // The IPC channel tells the node when this process is gone, however it died (see shutdown.ts).
      stdio: ['ignore', logFd, logFd, 'ipc'],
      detached: this.options.detached,
    });
    closeSync(logFd);
    this.child = child;
    this.exitExpected = false;
    this.startedAt = Date.now();
    child.once('exit', (code, signal) => {
      this.options.onExit({
        node: this,
        code,
        signal,
        expected: this.exitExpected,
        ranMs: Date.now() - this.startedAt,
      });
    });
    try {
      await this.waitUntilAnswering(role === 'api' ? '/ready' : '/health');
    } catch (error) {
      await this.stop(1_000);
      throw new Error(
        `${this.name} did not start (see ${this.options.logFile}): ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
  }

  /** Sends `signal` (SIGKILL, to simulate a crash) and resolves once the process is gone. */
  async kill(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    this.exitExpected = true;
    child.kill(signal);
    await exited(child);
  }

  /** SIGTERM (a graceful shutdown: jobs and requests finish), then SIGKILL after `graceMs`. */
  async stop(graceMs: number): Promise<void> {
    if (!this.child) return;
    this.exitExpected = true;
    await stopChild(this.child, 'SIGTERM', graceMs);
  }

  private async waitUntilAnswering(probePath: string): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (!this.running) throw new Error(`exited with ${this.child?.exitCode ?? this.child?.signalCode}`);
      const response = await fetch(`http://127.0.0.1:${this.port}${probePath}`, {
        signal: AbortSignal.timeout(2_000),
      }).catch(() => undefined);
      await response?.body?.cancel();
      if (response?.status === 200) return;
      if (Date.now() > deadline) throw new Error(`no 200 from ${probePath} within ${START_TIMEOUT_MS} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
