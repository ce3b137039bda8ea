import { readdirSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { readYaml, readYamlDocuments, repoPath } from './deploy-files.js';

/**
 * The Kubernetes example (deploy/k8s), loaded and checked against the shapes the tests rely on.
 * Used by k8s.test.ts (static checks) and probes.test.ts (probes against live processes).
 */

const labels = z.record(z.string(), z.string());
const metadata = z.looseObject({
  name: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/),
  namespace: z.string().optional(),
  labels: labels.optional(),
});
export const manifest = z.looseObject({ apiVersion: z.string().min(1), kind: z.string().min(1), metadata });

const httpProbe = z.looseObject({
  httpGet: z.strictObject({
    path: z.string().startsWith('/'),
    port: z.union([z.string(), z.number().int()]),
  }),
});
export type HttpProbe = z.infer<typeof httpProbe>;

const container = z.looseObject({
  name: z.string(),
  image: z.string(),
  args: z.array(z.string()).min(1),
  envFrom: z
    .array(
      z.union([
        z.strictObject({ configMapRef: z.strictObject({ name: z.string() }) }),
        z.strictObject({ secretRef: z.strictObject({ name: z.string() }) }),
      ]),
    )
    .optional(),
  env: z.array(z.strictObject({ name: z.string(), value: z.string() })).optional(),
  ports: z.array(z.strictObject({ name: z.string(), containerPort: z.number().int() })).optional(),
  startupProbe: httpProbe.optional(),
  livenessProbe: httpProbe.optional(),
  readinessProbe: httpProbe.optional(),
  lifecycle: z
    .strictObject({
      preStop: z.union([
        z.strictObject({ exec: z.strictObject({ command: z.tuple([z.literal('sleep'), z.string()]) }) }),
        z.strictObject({ sleep: z.strictObject({ seconds: z.number().int() }) }),
      ]),
    })
    .optional(),
  // Requests for scheduling (and the HPA), a memory limit so one runaway process cannot take the node.
  resources: z.strictObject({
    requests: z.strictObject({ cpu: z.string(), memory: z.string() }),
    limits: z.strictObject({ memory: z.string() }),
  }),
  securityContext: z.looseObject({
    allowPrivilegeEscalation: z.literal(false),
    readOnlyRootFilesystem: z.literal(true),
  }),
});
export type Container = z.infer<typeof container>;

const podTemplate = z.looseObject({
  metadata: z.looseObject({ labels }),
  spec: z.looseObject({
    terminationGracePeriodSeconds: z.number().int().positive().optional(),
    restartPolicy: z.enum(['Always', 'OnFailure', 'Never']).optional(),
    securityContext: z.looseObject({ runAsNonRoot: z.literal(true), runAsUser: z.number().int().positive() }),
    containers: z.array(container).length(1),
  }),
});

const labelSelector = z.strictObject({
  matchLabels: labels,
  matchExpressions: z
    .array(z.strictObject({ key: z.string(), operator: z.literal('In'), values: z.array(z.string()) }))
    .optional(),
});

export const deployment = manifest.extend({
  apiVersion: z.literal('apps/v1'),
  kind: z.literal('Deployment'),
  spec: z.looseObject({
    replicas: z.number().int().optional(),
    selector: labelSelector,
    template: podTemplate,
  }),
});
export type Deployment = z.infer<typeof deployment>;

export const job = manifest.extend({
  apiVersion: z.literal('batch/v1'),
  kind: z.literal('Job'),
  spec: z.looseObject({ backoffLimit: z.number().int(), template: podTemplate }),
});

export const service = manifest.extend({
  apiVersion: z.literal('v1'),
  kind: z.literal('Service'),
  spec: z.looseObject({
    selector: labels,
    ports: z.array(z.looseObject({ name: z.string(), port: z.number().int(), targetPort: z.string() })),
  }),
});

export const configMap = manifest.extend({
  apiVersion: z.literal('v1'),
  kind: z.literal('ConfigMap'),
  data: z.record(z.string(), z.string()),
});

export const horizontalPodAutoscaler = manifest.extend({
  apiVersion: z.literal('autoscaling/v2'),
  kind: z.literal('HorizontalPodAutoscaler'),
  spec: z.looseObject({
    scaleTargetRef: z.strictObject({ apiVersion: z.string(), kind: z.string(), name: z.string() }),
    minReplicas: z.number().int(),
    maxReplicas: z.number().int(),
    metrics: z.array(
      z.looseObject({
        type: z.literal('Resource'),
        resource: z.strictObject({
          name: z.literal('cpu'),
          target: z.strictObject({ type: z.literal('Utilization'), averageUtilization: z.number().int() }),
        }),
      }),
    ),
  }),
});

export const podDisruptionBudget = manifest.extend({
  apiVersion: z.literal('policy/v1'),
  kind: z.literal('PodDisruptionBudget'),
  spec: z.strictObject({ minAvailable: z.number().int(), selector: labelSelector }),
});

export const scaledObject = manifest.extend({
  apiVersion: z.literal('keda.sh/v1alpha1'),
  kind: z.literal('ScaledObject'),
  spec: z.looseObject({
    scaleTargetRef: z.strictObject({ name: z.string() }),
    minReplicaCount: z.number().int(),
    maxReplicaCount: z.number().int(),
    triggers: z.array(
      z.strictObject({
        type: z.literal('prometheus'),
        metadata: z.strictObject({ serverAddress: z.url(), query: z.string(), threshold: z.string() }),
      }),
    ),
  }),
});

export const podMonitor = manifest.extend({
  apiVersion: z.literal('monitoring.coreos.com/v1'),
  kind: z.literal('PodMonitor'),
  spec: z.looseObject({
    selector: labelSelector,
    podMetricsEndpoints: z.array(
      z.looseObject({
        port: z.string(),
        path: z.string(),
        relabelings: z.array(
          z.looseObject({
            targetLabel: z.string(),
            replacement: z.string().optional(),
            sourceLabels: z.array(z.string()).optional(),
          }),
        ),
      }),
    ),
  }),
});

export const kustomization = z.looseObject({
  apiVersion: z.literal('kustomize.config.k8s.io/v1beta1'),
  kind: z.literal('Kustomization'),
  namespace: z.string().optional(),
  resources: z.array(z.string()),
  images: z.array(z.strictObject({ name: z.string(), newName: z.string(), newTag: z.string() })).optional(),
  patches: z
    .array(
      z.strictObject({
        target: z.looseObject({ kind: z.string(), name: z.string() }),
        patch: z.string(),
      }),
    )
    .optional(),
});

export const k8sDir = 'deploy/k8s';
/** The kustomizations, by directory under deploy/k8s. */
export const kustomizationDirs = ['base', 'keda', 'monitoring'] as const;

export function readKustomization(dir: string): z.infer<typeof kustomization> {
  return kustomization.parse(readYaml(`${k8sDir}/${dir}/kustomization.yaml`));
}

/** Manifest files listed by the kustomizations (directories they include are kustomizations themselves). */
export function listedManifestFiles(): string[] {
  return kustomizationDirs.flatMap((dir) =>
    readKustomization(dir)
      .resources.filter((resource) => resource.endsWith('.yaml'))
      .map((resource) => path.posix.join(k8sDir, dir, resource)),
  );
}

/** Every .yaml under deploy/k8s except the kustomizations themselves. */
export function manifestFilesOnDisk(): string[] {
  const entries = readdirSync(repoPath(k8sDir), { recursive: true, encoding: 'utf8' });
  return entries
    .filter((entry) => entry.endsWith('.yaml') && path.basename(entry) !== 'kustomization.yaml')
    .map((entry) => path.posix.join(k8sDir, entry.split(path.sep).join('/')));
}

export interface LoadedManifest {
  file: string;
  document: z.infer<typeof manifest>;
}

export function loadManifests(): LoadedManifest[] {
  return listedManifestFiles().flatMap((file) =>
    readYamlDocuments(file).map((raw) => ({ file, document: manifest.parse(raw) })),
  );
}

/** The one manifest of a kind (and name, when given), parsed with its schema. */
export function only<T>(
  manifests: readonly LoadedManifest[],
  schema: z.ZodType<T>,
  kind: string,
  name?: string,
): T {
  const found = manifests.filter(
    (m) => m.document.kind === kind && (name === undefined || m.document.metadata.name === name),
  );
  if (found.length !== 1) throw new Error(`expected one ${kind} ${name ?? ''}, found ${found.length}`);
  return schema.parse(found[0]?.document);
}

export function all<T>(manifests: readonly LoadedManifest[], schema: z.ZodType<T>, kind: string): T[] {
  return manifests.filter((m) => m.document.kind === kind).map((m) => schema.parse(m.document));
}

/** `api`, a worker role (`worker --role R`) or `migrate`, from a container's args. */
export function roleOf(c: Container): string {
  const [command, flag, role] = c.args;
  if (command === 'worker' && flag === '--role' && role) return role;
  return command ?? '';
}

/** A container's environment as its process sees it: ConfigMaps, then its own env on top. */
export function environmentOf(
  c: Container,
  configMaps: readonly z.infer<typeof configMap>[],
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const source of c.envFrom ?? []) {
    if (!('configMapRef' in source)) continue;
    const map = configMaps.find((m) => m.metadata.name === source.configMapRef.name);
    if (!map) throw new Error(`container ${c.name}: no ConfigMap ${source.configMapRef.name}`);
    Object.assign(env, map.data);
  }
  for (const variable of c.env ?? []) env[variable.name] = variable.value;
  return env;
}

/** The container port a probe or Service names (by port name or number). */
export function containerPort(c: Container, port: string | number): number | undefined {
  if (typeof port === 'number') return c.ports?.some((p) => p.containerPort === port) ? port : undefined;
  return c.ports?.find((p) => p.name === port)?.containerPort;
}

/** Seconds a preStop hook sleeps (0 without one). */
export function preStopSeconds(c: Container): number {
  const preStop = c.lifecycle?.preStop;
  if (!preStop) return 0;
  return 'sleep' in preStop ? preStop.sleep.seconds : Number(preStop.exec.command[1]);
}

export function selects(
  selector: z.infer<typeof labelSelector>,
  podLabels: Readonly<Record<string, string>>,
): boolean {
  const byLabels = Object.entries(selector.matchLabels).every(([key, value]) => podLabels[key] === value);
  const byExpressions = (selector.matchExpressions ?? []).every((expression) =>
    expression.values.includes(podLabels[expression.key] ?? ''),
  );
  return byLabels && byExpressions;
}
