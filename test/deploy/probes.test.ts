import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiNode, startApiNode } from '../../src/api/server.js';
import type { ConnectedConfig } from '../../src/commands/shared.js';
import { freePort } from '../../src/stack/ports.js';
import {
  startWorkerNode,
  type WorkerNode,
  type WorkerRole,
  workerRoles,
} from '../../src/worker/worker-node.js';
import { createTestConfig, silentLogger } from '../helpers/context.js';
import { healthcheckCommand, readYaml } from './deploy-files.js';
import { all, deployment, loadManifests, roleOf } from './k8s-manifests.js';

// The probes and health checks of the Dockerfile, compose and Kubernetes files, run against real
// processes: an API node and one worker of every role, on their own database and queue prefix.

let config: ConnectedConfig;
let api: ApiNode;
const workers = new Map<WorkerRole, { node: WorkerNode; port: number }>();

beforeAll(async () => {
  // One pipeline thread is plenty for answering probes.
  config = await createTestConfig({ PIPELINE_THREADS: '1' });
  api = await startApiNode({ config, logger: silentLogger });
  for (const role of workerRoles) {
    const port = await freePort();
    const node = await startWorkerNode({
      config: { ...config, WORKER_METRICS_PORT: port },
      logger: silentLogger,
      role,
    });
    workers.set(role, { node, port });
  }
}, 60_000);

afterAll(async () => {
  await Promise.allSettled([api?.close(), ...[...workers.values()].map(({ node }) => node.close())]);
});

/** Where the process of a role (api or a worker role) listens, on this machine. */
function livePort(role: string): number {
  if (role === 'api') return Number(new URL(api.url).port);
  const worker = workers.get(role as WorkerRole);
  if (!worker) throw new Error(`no worker role ${role} (workerRoles: ${workerRoles.join(', ')})`);
  return worker.port;
}

/**
 * Runs the image's HEALTHCHECK command with `env` and resolves to its exit code. Asynchronous on
 * purpose: the processes it probes live in this test's own event loop.
 */
function runHealthcheck(env: Record<string, string>): Promise<number> {
  const [program, ...args] = healthcheckCommand();
  expect(program).toBe('node');
  return new Promise((resolve) => {
    const child = execFile(process.execPath, args, {
      env: { PATH: process.env.PATH, ...env },
      timeout: 10_000,
    });
    child.on('exit', (code) => resolve(code ?? -1));
  });
}

async function statusOf(port: number, path: string): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5_000) });
  await response.arrayBuffer();
  return response.status;
}

describe('health checks against live processes', () => {
  it("passes the image's HEALTHCHECK on an API node (PORT), and fails it when nothing listens", async () => {
    expect(await runHealthcheck({ PORT: String(livePort('api')) })).toBe(0);
    expect(await runHealthcheck({ PORT: String(await freePort()) })).toBe(1);
  });

  it("passes the image's HEALTHCHECK on every worker role with the HEALTHCHECK_URL compose gives it", async () => {
    const compose = readYaml('docker-compose.yml') as {
      services: Record<string, { command?: string[]; environment?: Record<string, unknown> }>;
    };
    const roles = Object.values(compose.services).flatMap((s) =>
      s.command?.[0] === 'worker'
        ? [[s.command[2] ?? '', String(s.environment?.HEALTHCHECK_URL)] as const]
        : [],
    );
    expect(roles.map(([role]) => role).sort()).toEqual([...workerRoles].sort());
    for (const [role, composeUrl] of roles) {
      // The compose URL, pointed at the port this test's worker got.
      const url = new URL(composeUrl);
      url.port = String(livePort(role));
      expect(await runHealthcheck({ HEALTHCHECK_URL: url.href }), role).toBe(0);
    }
  });

  it('answers every Kubernetes probe with 200 on the process it probes', async () => {
    const deployments = all(loadManifests(), deployment, 'Deployment');
    expect(deployments.length).toBe(1 + workerRoles.length);
    for (const d of deployments) {
      const [container] = d.spec.template.spec.containers;
      if (!container) throw new Error(`${d.metadata.name}: no container`);
      const role = roleOf(container);
      for (const probe of [container.startupProbe, container.livenessProbe, container.readinessProbe]) {
        if (!probe) continue;
        expect(await statusOf(livePort(role), probe.httpGet.path), `${role} ${probe.httpGet.path}`).toBe(200);
      }
    }
  });

  it('serves /metrics, where Prometheus scrapes it, on every process', async () => {
    for (const role of ['api', ...workerRoles]) {
      expect(await statusOf(livePort(role), '/metrics'), role).toBe(200);
    }
  });
});
