import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { findExecutable } from '../../src/stack/binaries.js';
import { type NodeRole, nodeFlags } from '../../src/stack/node-process.js';
import { workerRoles } from '../../src/worker/worker-node.js';
import {
  checkPromqlSyntax,
  configKeys,
  exportedSeriesNames,
  metricNamesIn,
  parseYaml,
  readRepoFile,
  readYaml,
  repoPath,
  run,
} from './deploy-files.js';
import {
  all,
  type Container,
  configMap,
  containerPort,
  deployment,
  environmentOf,
  horizontalPodAutoscaler,
  job,
  k8sDir,
  kustomizationDirs,
  listedManifestFiles,
  loadManifests,
  manifest,
  manifestFilesOnDisk,
  only,
  podDisruptionBudget,
  podMonitor,
  preStopSeconds,
  readKustomization,
  roleOf,
  scaledObject,
  selects,
  service,
} from './k8s-manifests.js';

const manifests = loadManifests();
const deployments = all(manifests, deployment, 'Deployment');
const configMaps = all(manifests, configMap, 'ConfigMap');

function containerOf(workload: { spec: { template: { spec: { containers: Container[] } } } }): Container {
  const [container] = workload.spec.template.spec.containers;
  if (!container) throw new Error('no container');
  return container;
}

/** Deployments by the role their container runs: api, processor, dlq, monitor. */
const byRole = new Map(deployments.map((d) => [roleOf(containerOf(d)), d]));
const base = readKustomization('base');
// Connection strings come from the Secret, which the operator creates (deploy/README.md).
const secretEnv = {
  DATABASE_URL: 'postgres://ingestd@postgres:5432/ingestd',
  REDIS_URL: 'redis://redis:6379',
};

function deploymentFor(role: string) {
  const found = byRole.get(role);
  if (!found) throw new Error(`no Deployment runs ${role}`);
  return found;
}

describe('deploy/k8s', () => {
  it('lists every manifest in a kustomization, and each names its apiVersion, kind and name', () => {
    expect(manifestFilesOnDisk().sort()).toEqual(listedManifestFiles().sort());
    expect(manifests.length).toBeGreaterThan(10);
    for (const { file, document } of manifests) {
      expect(manifest.safeParse(document).success, file).toBe(true);
    }
    expect(readKustomization('keda').resources).toContain('../base');
    for (const dir of kustomizationDirs) {
      expect(readKustomization(dir).namespace, dir).toBe('ingestd');
    }
  });

  describe.skipIf(findExecutable('kubectl') === undefined)('built with kubectl kustomize', () => {
    it('builds every kustomization, with every object in the ingestd namespace', () => {
      for (const dir of kustomizationDirs) {
        const result = run(findExecutable('kubectl') as string, ['kustomize', repoPath(k8sDir, dir)]);
        expect(result.status, `${dir}: ${result.output}`).toBe(0);
        for (const document of result.output.split(/^---$/m)) {
          const { kind, metadata } = manifest.parse(parseYaml(document, `kubectl kustomize ${dir}`));
          if (kind !== 'Namespace')
            expect(metadata.namespace, `${dir}: ${kind} ${metadata.name}`).toBe('ingestd');
          expect(document, `${dir}: image`).not.toMatch(/^\s+image: ingestd$/m);
        }
      }
    });

    it('leaves the worker count to KEDA in the keda overlay', () => {
      const result = run(findExecutable('kubectl') as string, ['kustomize', repoPath(k8sDir, 'keda')]);
      const workers = result.output
        .split(/^---$/m)
        .map((text) => manifest.parse(parseYaml(text, 'kubectl kustomize keda')))
        .find((m) => m.kind === 'Deployment' && m.metadata.name === 'ingestd-worker');
      expect(workers).toBeDefined();
      expect(deployment.parse(workers).spec.replicas).toBeUndefined();
    });
  });

  it('runs the API and one Deployment per worker role; dlq and monitor as one replica each', () => {
    expect([...byRole.keys()].sort()).toEqual(['api', ...workerRoles].sort());
    expect(deploymentFor('dlq').spec.replicas).toBe(1);
    expect(deploymentFor('monitor').spec.replicas).toBe(1);
    // The HPA owns the API's replica count; a fixed one would reset it on every apply.
    expect(deploymentFor('api').spec.replicas).toBeUndefined();
    for (const d of deployments) {
      const podLabels = d.spec.template.metadata.labels;
      expect(selects(d.spec.selector, podLabels), d.metadata.name).toBe(true);
      expect(podLabels['app.kubernetes.io/component'], d.metadata.name).toBe(
        roleOf(containerOf(d)) === 'processor' ? 'worker' : roleOf(containerOf(d)),
      );
    }
  });

  it('runs the image the kustomization names, as the non-root user the Dockerfile sets', () => {
    const imageNames = (base.images ?? []).map((image) => image.name);
    const user = /^USER\s+(\d+):(\d+)\s*$/m.exec(readRepoFile('Dockerfile'));
    expect(user).not.toBeNull();
    for (const d of [...deployments, only(manifests, job, 'Job')]) {
      expect(imageNames, d.metadata.name).toEqual([containerOf(d).image]);
      expect(d.spec.template.spec.securityContext.runAsUser, d.metadata.name).toBe(Number(user?.[1]));
    }
  });

  it('probes /ready and /health on the ports the processes listen on', () => {
    for (const [role, d] of byRole) {
      const container = containerOf(d);
      const config = loadConfig({ ...environmentOf(container, configMaps), ...secretEnv });
      const listening = role === 'api' ? config.PORT : config.WORKER_METRICS_PORT;
      const probes = {
        startup: container.startupProbe,
        liveness: container.livenessProbe,
        readiness: container.readinessProbe,
      };
      expect(probes.liveness?.httpGet.path, role).toBe('/health');
      // Only the API has a /ready (Postgres and Redis answer, not shutting down); workers have no Service.
      expect(probes.readiness?.httpGet.path, role).toBe(role === 'api' ? '/ready' : '/health');
      for (const [kind, probe] of Object.entries(probes)) {
        if (probe) expect(containerPort(container, probe.httpGet.port), `${role} ${kind}`).toBe(listening);
      }
    }
  });

  it('sets only variables ingestd reads, with values it accepts, and takes secrets from ingestd-secrets', () => {
    for (const map of configMaps) {
      for (const key of Object.keys(map.data)) expect(configKeys, `ConfigMap ${key}`).toContain(key);
    }
    for (const d of [...deployments, only(manifests, job, 'Job')]) {
      const container = containerOf(d);
      for (const variable of container.env ?? []) {
        if (variable.name === 'NODE_OPTIONS') continue; // Node's, checked below
        expect(configKeys, `${d.metadata.name}`).toContain(variable.name);
      }
      expect(
        () => loadConfig({ ...environmentOf(container, configMaps), ...secretEnv }),
        d.metadata.name,
      ).not.toThrow();
      expect(container.envFrom, d.metadata.name).toContainEqual({ secretRef: { name: 'ingestd-secrets' } });
    }
    const readme = readRepoFile('deploy/README.md');
    expect(readme).toMatch(/create secret generic ingestd-secrets[\s\S]*DATABASE_URL[\s\S]*REDIS_URL/);
  });

  it('starts worker roles with the heap limit ingestd gives its own worker processes, the API without', () => {
    for (const [role, d] of byRole) {
      const nodeOptions = containerOf(d).env?.find((variable) => variable.name === 'NODE_OPTIONS')?.value;
      expect(nodeOptions?.split(' ') ?? [], role).toEqual(nodeFlags(role as NodeRole));
    }
  });

  it('stops every process within its pod grace period, the API after endpoints drop', () => {
    for (const d of deployments) {
      const container = containerOf(d);
      const config = loadConfig({ ...environmentOf(container, configMaps), ...secretEnv });
      const podGraceMs = (d.spec.template.spec.terminationGracePeriodSeconds ?? 30) * 1000;
      // preStop runs before SIGTERM, inside the same grace period.
      const neededMs = preStopSeconds(container) * 1000 + config.SHUTDOWN_GRACE_MS;
      expect(podGraceMs, d.metadata.name).toBeGreaterThan(neededMs);
    }
    const api = containerOf(deploymentFor('api'));
    const config = loadConfig({ ...environmentOf(api, configMaps), ...secretEnv });
    expect(preStopSeconds(api)).toBeGreaterThanOrEqual(3);
    expect(config.SHUTDOWN_DRAIN_MS).toBeGreaterThan(0);
    expect(config.SHUTDOWN_DRAIN_MS).toBeLessThan(config.SHUTDOWN_GRACE_MS);
  });

  it('exposes the API through a Service on its named port, kept at two pods through disruptions', () => {
    const api = deploymentFor('api');
    const svc = only(manifests, service, 'Service', 'ingestd-api');
    expect(selects({ matchLabels: svc.spec.selector }, api.spec.template.metadata.labels)).toBe(true);
    for (const port of svc.spec.ports) expect(containerPort(containerOf(api), port.targetPort)).toBeDefined();
    for (const d of deployments.filter((d) => d !== api)) {
      expect(selects({ matchLabels: svc.spec.selector }, d.spec.template.metadata.labels)).toBe(false);
    }
    const pdb = only(manifests, podDisruptionBudget, 'PodDisruptionBudget', 'ingestd-api');
    expect(selects(pdb.spec.selector, api.spec.template.metadata.labels)).toBe(true);
    const hpa = only(manifests, horizontalPodAutoscaler, 'HorizontalPodAutoscaler', 'ingestd-api');
    expect(pdb.spec.minAvailable).toBeLessThan(hpa.spec.minReplicas);
  });

  it('scales the API on CPU, between at least three replicas and more', () => {
    const hpa = only(manifests, horizontalPodAutoscaler, 'HorizontalPodAutoscaler', 'ingestd-api');
    expect(hpa.spec.scaleTargetRef).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: 'ingestd-api',
    });
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(3);
    expect(hpa.spec.maxReplicas).toBeGreaterThan(hpa.spec.minReplicas);
    // Utilization is measured against the request, so the container must have one.
    expect(containerOf(deploymentFor('api')).resources.requests.cpu).toBeTruthy();
  });

  it('runs migrations in a one-shot Job', () => {
    const migrate = only(manifests, job, 'Job', 'ingestd-migrate');
    expect(containerOf(migrate).args).toEqual(['migrate']);
    expect(['Never', 'OnFailure']).toContain(migrate.spec.template.spec.restartPolicy);
    expect(migrate.spec.backoffLimit).toBeGreaterThan(0);
  });

  describe('KEDA', () => {
    let exported: Set<string>;
    beforeAll(async () => {
      exported = await exportedSeriesNames();
    });

    it('scales the processor workers on queue depth, never to zero', () => {
      const scaler = only(manifests, scaledObject, 'ScaledObject', 'ingestd-worker');
      expect(scaler.spec.scaleTargetRef.name).toBe(deploymentFor('processor').metadata.name);
      expect(scaler.spec.minReplicaCount).toBeGreaterThanOrEqual(1);
      expect(scaler.spec.maxReplicaCount).toBeGreaterThan(scaler.spec.minReplicaCount);
      const [trigger] = scaler.spec.triggers;
      expect(trigger?.metadata.query).toMatch(/ingestd_queue_jobs\{[^}]*state=~"[^"]*\bwaiting\b/);
      expect(Number(trigger?.metadata.threshold)).toBeGreaterThan(0);
      for (const name of metricNamesIn(trigger?.metadata.query ?? '')) expect(exported).toContain(name);
      const syntax = checkPromqlSyntax([trigger?.metadata.query ?? '']);
      expect(syntax.status, syntax.output).toBe(0);
    });

    it('takes the fixed replica count off the workers it scales', () => {
      expect(readKustomization('keda').patches).toEqual([
        {
          target: expect.objectContaining({ kind: 'Deployment', name: 'ingestd-worker' }),
          patch: expect.stringMatching(/op: remove\s+path: \/spec\/replicas/),
        },
      ]);
    });
  });

  it('scrapes every process with the job names the compose Prometheus uses', () => {
    const monitors = all(manifests, podMonitor, 'PodMonitor');
    const compose = readYaml('deploy/prometheus.yml') as { scrape_configs: { job_name: string }[] };
    const composeJobs = compose.scrape_configs.map((j) => j.job_name).filter((n) => n.startsWith('ingestd-'));
    const jobs = new Set<string>();
    for (const d of deployments) {
      const podLabels = d.spec.template.metadata.labels;
      const scraping = monitors.filter((m) => selects(m.spec.selector, podLabels));
      expect(scraping, d.metadata.name).toHaveLength(1);
      for (const endpoint of scraping[0]?.spec.podMetricsEndpoints ?? []) {
        expect(endpoint.path).toBe('/metrics');
        const config = loadConfig({ ...environmentOf(containerOf(d), configMaps), ...secretEnv });
        const listening = roleOf(containerOf(d)) === 'api' ? config.PORT : config.WORKER_METRICS_PORT;
        expect(containerPort(containerOf(d), endpoint.port), d.metadata.name).toBe(listening);
        const jobLabel = endpoint.relabelings.find((r) => r.targetLabel === 'job')?.replacement;
        jobs.add(jobLabel ?? '');
        expect(endpoint.relabelings.some((r) => r.targetLabel === 'service')).toBe(true);
      }
    }
    expect([...jobs].sort()).toEqual(composeJobs.sort());
  });
});
