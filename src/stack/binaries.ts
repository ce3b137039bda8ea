import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** The server programs the local stack, tests and the native cluster run. */
export type Tool = 'postgres' | 'redis' | 'nginx' | 'promtool' | 'prometheus';

/** Debian package that provides each tool. */
const debianPackages: Record<Tool, string> = {
  postgres: 'postgresql',
  redis: 'redis-server',
  nginx: 'nginx',
  promtool: 'prometheus',
  prometheus: 'prometheus',
};

const extraDirs = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Finds a program on PATH or in the usual system directories (sbin is often off a user's PATH). */
export function findExecutable(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), ...extraDirs];
  for (const dir of dirs) {
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/**
 * The directory holding initdb and postgres: $PG_BIN_DIR, else the newest
 * /usr/lib/postgresql/<major>/bin (Debian keeps them off PATH), else PATH.
 */
export function findPostgresBinDir(): string | undefined {
  const hasServer = (dir: string) =>
    isExecutable(path.join(dir, 'postgres')) && isExecutable(path.join(dir, 'initdb'));
  const fromEnv = process.env.PG_BIN_DIR;
  if (fromEnv) return hasServer(fromEnv) ? fromEnv : undefined;
  const debianRoot = '/usr/lib/postgresql';
  if (existsSync(debianRoot)) {
    const majors = readdirSync(debianRoot)
      .filter((entry) => /^\d+$/.test(entry))
      .sort((a, b) => Number(b) - Number(a));
    for (const major of majors) {
      const dir = path.join(debianRoot, major, 'bin');
      if (hasServer(dir)) return dir;
    }
  }
  const initdb = findExecutable('initdb');
  return initdb && hasServer(path.dirname(initdb)) ? path.dirname(initdb) : undefined;
}

export function isToolInstalled(tool: Tool): boolean {
  switch (tool) {
    case 'postgres':
      return findPostgresBinDir() !== undefined;
    case 'redis':
      return findExecutable('redis-server') !== undefined;
    case 'nginx':
      return findExecutable('nginx') !== undefined;
    case 'promtool':
      return findExecutable('promtool') !== undefined;
    case 'prometheus':
      return findExecutable('prometheus') !== undefined;
  }
}

export const allTools: readonly Tool[] = ['postgres', 'redis', 'nginx', 'promtool', 'prometheus'];

export function missingTools(tools: readonly Tool[] = allTools): Tool[] {
  return tools.filter((tool) => !isToolInstalled(tool));
}

/** The exact command that installs `tools` on Debian or Ubuntu. */
export function installCommand(tools: readonly Tool[]): string {
  // promtool and prometheus share a package: name it once.
  const packages = [...new Set(tools.map((tool) => debianPackages[tool]))].join(' ');
  return `apt-get update && apt-get install -y --no-install-recommends ${packages}`;
}

export class SetupError extends Error {
  override readonly name = 'SetupError';
}

/**
 * Installs the missing tools with apt-get when this is a Debian-like machine and we are root;
 * otherwise throws a SetupError carrying the command to run. Services the packages would start
 * are kept from starting (policy-rc.d) and no system Postgres cluster is made: ingestd runs its own.
 */
export function installTools(tools: readonly Tool[], print: (line: string) => void): void {
  const missing = missingTools(tools);
  if (missing.length === 0) return;
  const command = installCommand(missing);
  const isRoot = process.getuid?.() === 0;
  if (!isRoot || !findExecutable('apt-get')) {
    throw new SetupError(
      `missing ${missing.join(', ')}. Install with (as root on Debian/Ubuntu):\n  ${command}\n` +
        'or point ingestd at existing servers with DATABASE_URL and REDIS_URL.',
    );
  }
  print(`ingestd setup: installing ${missing.join(', ')}: ${command}`);
  const policyFile = '/usr/sbin/policy-rc.d';
  const hadPolicy = existsSync(policyFile);
  if (!hadPolicy) writeFileSync(policyFile, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  if (missing.includes('postgres') && !existsSync('/etc/postgresql-common/createcluster.conf')) {
    execFileSync('mkdir', ['-p', '/etc/postgresql-common']);
    writeFileSync('/etc/postgresql-common/createcluster.conf', 'create_main_cluster = false\n');
  }
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    for (const args of [
      ['update'],
      ['install', '-y', '--no-install-recommends', ...new Set(missing.map((tool) => debianPackages[tool]))],
    ]) {
      const result = spawnSync('apt-get', args, { stdio: 'inherit', env });
      if (result.status !== 0)
        throw new SetupError(`apt-get ${args.join(' ')} failed (exit ${result.status})`);
    }
  } finally {
    if (!hadPolicy) spawnSync('rm', ['-f', policyFile]);
  }
  const stillMissing = missingTools(missing);
  if (stillMissing.length > 0)
    throw new SetupError(`still missing after install: ${stillMissing.join(', ')}`);
}
