import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import {
  configKeys,
  dockerfileInstructions,
  healthcheckCommand,
  readRepoFile,
  repoPath,
} from './deploy-files.js';

// No Docker engine runs here, so the image is never built in tests: its Dockerfile is read
// instruction by instruction instead, and its HEALTHCHECK command is run for real against live
// processes in probes.test.ts.

const instructions = dockerfileInstructions();
const finalStage = Math.max(...instructions.map((instruction) => instruction.stage));
const runtime = instructions.filter((instruction) => instruction.stage === finalStage);
const defaults = loadConfig({});

function argsOf(keyword: string, within = runtime): string[] {
  return within
    .filter((instruction) => instruction.keyword === keyword)
    .map((instruction) => instruction.args);
}

/** `ENV A=1 B=2` lines of the final stage, as one record. */
function imageEnvironment(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of argsOf('ENV')) {
    for (const pair of line.split(/\s+/)) {
      const [key, ...value] = pair.split('=');
      if (key) env[key] = value.join('=');
    }
  }
  return env;
}

/** Whether a .dockerignore pattern (no `!` exceptions used here) keeps `file` out of the context. */
function ignores(pattern: string, file: string): boolean {
  const body = pattern.replace(/^\/+|\/+$/g, '');
  const regex = new RegExp(
    `^${body
      .split(/(\*\*|\*|\?)/)
      .map(
        (part) =>
          ({ '**': '.*', '*': '[^/]*', '?': '[^/]' })[part] ?? part.replace(/[.+^${}()|[\]\\]/g, '\\$&'),
      )
      .join('')}(/.*)?$`,
  );
  return regex.test(file);
}

describe('Dockerfile', () => {
  it('builds in one stage and ships only production dependencies and compiled code in another', () => {
    const stages = argsOf('FROM', instructions);
    expect(stages).toHaveLength(2);
    expect(stages[0]).toMatch(/ AS build$/);
    expect(stages[1]).toMatch(/ AS runtime$/);
    expect(
      argsOf(
        'RUN',
        instructions.filter((i) => i.stage === 0),
      ).join('\n'),
    ).toMatch(/npm run build/);
    const installs = argsOf('RUN').filter((run) => /\bnpm (ci|install)\b/.test(run));
    expect(installs).toHaveLength(1);
    expect(installs[0]).toMatch(/npm ci --omit=dev\b/);
    // From the build stage only the compiled output, never its node_modules (dev dependencies).
    const fromBuild = argsOf('COPY').filter((copy) => copy.startsWith('--from='));
    expect(fromBuild).toEqual(['--from=build /app/dist ./dist']);
  });

  it('runs as a numeric non-root user, under tini as PID 1', () => {
    const [user] = argsOf('USER');
    expect(user).toMatch(/^[1-9]\d*:[1-9]\d*$/);
    expect(argsOf('RUN').join('\n')).toMatch(/apt-get install .*\btini\b/);
    const [entrypoint] = argsOf('ENTRYPOINT');
    expect(JSON.parse(entrypoint ?? '[]')).toEqual(['/usr/bin/tini', '--', 'node', '/app/dist/src/cli.js']);
    expect(JSON.parse(argsOf('CMD')[0] ?? '[]')).toEqual(['api']);
  });

  it("exposes the API and worker metrics ports at the code's defaults, and sets only variables ingestd reads", () => {
    const env = imageEnvironment();
    expect(Number(env.PORT)).toBe(defaults.PORT);
    expect(Number(env.WORKER_METRICS_PORT)).toBe(defaults.WORKER_METRICS_PORT);
    expect(env.HOST).toBe('0.0.0.0');
    for (const key of Object.keys(env)) expect(configKeys.has(key) || key === 'NODE_ENV', key).toBe(true);
    const exposed = argsOf('EXPOSE')
      .flatMap((line) => line.split(/\s+/))
      .map(Number);
    expect(exposed.sort()).toEqual([defaults.PORT, defaults.WORKER_METRICS_PORT].sort());
  });

  it('checks liveness on /health with node itself (no curl in the slim image)', () => {
    const [program, flag, script] = healthcheckCommand();
    expect([program, flag]).toEqual(['node', '-e']);
    expect(script).toContain("'/health'");
    expect(script).toContain('process.env.HEALTHCHECK_URL');
    expect(script).toContain('process.env.PORT');
  });
});

describe('.dockerignore', () => {
  const patterns = readRepoFile('.dockerignore')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));

  it('keeps local state, build output, secrets and history out of the build context', () => {
    for (const file of [
      'node_modules/x',
      'dist/src/cli.js',
      '.git/HEAD',
      '.env',
      '.env.local',
      '.ingestd/x',
    ]) {
      expect(
        patterns.some((pattern) => ignores(pattern, file)),
        file,
      ).toBe(true);
    }
  });

  it('lets in every file the Dockerfile copies from the context', () => {
    const copied = argsOf('COPY', instructions)
      .filter((copy) => !copy.startsWith('--from='))
      .flatMap((copy) => copy.split(/\s+/).slice(0, -1));
    expect(copied).toEqual(
      expect.arrayContaining(['package.json', 'package-lock.json', 'tsconfig.json', 'src', 'migrations']),
    );
    for (const file of copied) {
      expect(
        patterns.filter((pattern) => ignores(pattern, file)),
        file,
      ).toEqual([]);
    }
  });
});

describe('the build stage', () => {
  it('has every source the compiler needs: nothing in src/ imports from outside it', () => {
    const copied = argsOf(
      'COPY',
      instructions.filter((i) => i.stage === 0),
    ).flatMap((copy) => copy.split(/\s+/));
    expect(copied).toEqual(expect.arrayContaining(['tsconfig.json', 'tsconfig.build.json', 'src']));
    const srcDir = repoPath('src');
    const files = readdirSync(srcDir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(10);
    for (const file of files) {
      const text = readFileSync(path.join(srcDir, file), 'utf8');
      for (const match of text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
        const target = path.resolve(srcDir, path.dirname(file), match[1] as string);
        expect(target.startsWith(`${srcDir}${path.sep}`), `${file} imports ${match[1]}`).toBe(true);
      }
    }
  });
});
