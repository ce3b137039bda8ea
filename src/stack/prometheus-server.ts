import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { findExecutable, SetupError } from './binaries.js';
import { stopChild } from './child-process.js';
import { freePort, waitForPort } from './ports.js';

/** One scrape job: a name (the `job` label) and its targets, each with labels of its own. */
export interface ScrapeJob {
  name: string;
  targets: readonly { address: string; labels?: Record<string, string> }[];
}

export interface PrometheusServerOptions {
  /** Config file, TSDB and log live here. Made when missing. */
  dataDir: string;
  jobs: readonly ScrapeJob[];
  /** Scrape (and rule evaluation) interval in seconds. Default 15 */
  scrapeIntervalSeconds?: number;
  /** Port on 127.0.0.1. Default: a free one. */
  port?: number;
}

const sampleSchema = z.object({
  metric: z.record(z.string(), z.string()),
  value: z.tuple([z.number(), z.string()]),
});
/** One series of an instant vector: its labels and value. */
export type PrometheusSample = { labels: Record<string, string>; value: number };

const queryResponse = z.object({
  status: z.literal('success'),
  data: z.object({ resultType: z.literal('vector'), result: z.array(sampleSchema) }),
});

const targetSchema = z.object({
  labels: z.record(z.string(), z.string()),
  scrapeUrl: z.string(),
  health: z.enum(['up', 'down', 'unknown']),
  lastError: z.string(),
});
export type PrometheusTarget = z.infer<typeof targetSchema>;
const targetsResponse = z.object({
  status: z.literal('success'),
  data: z.object({ activeTargets: z.array(targetSchema) }),
});

/**
 * A private Prometheus run from the machine's binary (Debian package `prometheus`), scraping the
 * given jobs, with its own TSDB. For the native cluster and its tests; the owner calls stop().
 */
export class PrometheusServer {
  private child: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    readonly dataDir: string,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  static async start(options: PrometheusServerOptions): Promise<PrometheusServer> {
    const binary = findExecutable('prometheus');
    if (!binary) throw new SetupError('prometheus not found; run `ingestd setup`');
    const dataDir = path.resolve(options.dataDir);
    mkdirSync(dataDir, { recursive: true });
    const configFile = path.join(dataDir, 'prometheus.yml');
    writeFileSync(configFile, prometheusConfig(options.jobs, options.scrapeIntervalSeconds ?? 15));
    const promtool = findExecutable('promtool');
    if (promtool) {
      const check = spawnSync(promtool, ['check', 'config', configFile], { encoding: 'utf8' });
      if (check.status !== 0) {
        throw new Error(`promtool rejected ${configFile}: ${(check.stdout + check.stderr).trim()}`);
      }
    }

    const server = new PrometheusServer(options.port ?? (await freePort()), dataDir);
    const logFile = path.join(dataDir, 'prometheus.log');
    const logFd = openSync(logFile, 'a');
    // biome-ignore format: flag/value pairs read best in pairs
    const args = [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${path.join(dataDir, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${server.port}`,
      '--storage.tsdb.retention.time=1d',
      '--log.level=warn',
    ];
    const child = spawn(binary, args, { stdio: ['ignore', logFd, logFd] });
    closeSync(logFd);
    server.child = child;
    try {
      await waitForPort(server.port, 30_000, () => child.exitCode === null);
      await server.waitUntilReady(30_000);
    } catch (error) {
      await server.stop();
      throw new Error(`prometheus did not start (see ${logFile}): ${(error as Error).message}`, {
        cause: error,
      });
    }
    return server;
  }

  /** Evaluates an instant query (`/api/v1/query`) now; one sample per series. */
  async query(expression: string): Promise<PrometheusSample[]> {
    const response = await fetch(`${this.url}/api/v1/query?${new URLSearchParams({ query: expression })}`);
    if (!response.ok)
      throw new Error(`prometheus query ${expression}: ${response.status} ${await response.text()}`);
    const body = queryResponse.parse(await response.json());
    return body.data.result.map(({ metric, value }) => ({ labels: metric, value: Number(value[1]) }));
  }

  /** The active scrape targets (`/api/v1/targets`), with their health. */
  async targets(): Promise<PrometheusTarget[]> {
    const response = await fetch(`${this.url}/api/v1/targets?state=active`);
    if (!response.ok) throw new Error(`prometheus targets: ${response.status}`);
    return targetsResponse.parse(await response.json()).data.activeTargets;
  }

  /** SIGTERM: Prometheus closes its TSDB and exits. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.child) await stopChild(this.child, 'SIGTERM', 15_000);
  }

  private async waitUntilReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    // Answers 503 while the TSDB opens.
    while (!(await fetch(`${this.url}/-/ready`).catch(() => undefined))?.ok) {
      if (Date.now() > deadline) throw new Error(`not ready within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** prometheus.yml as JSON, which is YAML too: no YAML writer needed. */
function prometheusConfig(jobs: readonly ScrapeJob[], intervalSeconds: number): string {
  const interval = `${intervalSeconds}s`;
  return `${JSON.stringify(
    {
      global: { scrape_interval: interval, evaluation_interval: interval, scrape_timeout: interval },
      scrape_configs: jobs.map((job) => ({
        job_name: job.name,
        static_configs: job.targets.map((target) => ({
          targets: [target.address],
          labels: target.labels ?? {},
        })),
      })),
    },
    null,
    2,
  )}\n`;
}
