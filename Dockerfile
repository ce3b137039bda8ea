# ingestd image: one image for every role. The command picks the role:
#   docker run ingestd                     -> api (default CMD)
#   docker run ingestd migrate             -> apply migrations, then exit
#   docker run ingestd worker --role processor --concurrency 8
# Configuration is environment only (see src/config.ts); nothing is baked in.

ARG NODE_IMAGE=node:20-bookworm-slim

# ---------------------------------------------------------------------------
# build: full dependency tree (TypeScript), compile to dist/
# ---------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app

# Manifests first so the dependency layer is cached until they change.
# --ignore-scripts: package.json's `prepare` would run the build before the sources are copied,
# and allowScripts denies the esbuild / msgpackr-extract install scripts anyway (neither is needed
# to compile: tsc is pure JS, msgpackr falls back to its JS decoder or the prebuilt addon).
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund

COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build


# ---------------------------------------------------------------------------
# runtime: production dependencies, compiled JS and SQL migrations only
# ---------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime

# tini as PID 1: forwards SIGTERM/SIGINT to node (which shuts down gracefully on its own, see
# src/shutdown.ts) and reaps zombies.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*

ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    WORKER_METRICS_PORT=9464

WORKDIR /app

# Owned by root and read-only to the app user: the process never needs to write its own code.
COPY package.json package-lock.json ./
# --ignore-scripts: no install scripts run in production (allowScripts denies the only two; the
# optional msgpackr-extract addon loads from its prebuilt package or msgpackr uses plain JS).
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force

COPY --from=build /app/dist ./dist
COPY migrations ./migrations

# The base image's unprivileged `node` user, by number: Kubernetes' runAsNonRoot can only verify
# a numeric USER (a name makes the kubelet refuse to start the pod).
USER 1000:1000

# 8080: API (PORT). 9464: worker /metrics and /health (WORKER_METRICS_PORT).
EXPOSE 8080 9464

# Liveness of an API node: /health touches no dependency, so a Postgres or Redis outage never
# marks the container unhealthy. No curl in the slim image, so node's fetch does the probe.
# Other roles override it (compose: the worker probes :9464/health, migrate disables it);
# HEALTHCHECK_URL overrides the URL without rebuilding.
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch(process.env.HEALTHCHECK_URL || 'http://127.0.0.1:' + (process.env.PORT || 8080) + '/health', { signal: AbortSignal.timeout(2500) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/dist/src/cli.js"]
CMD ["api"]
