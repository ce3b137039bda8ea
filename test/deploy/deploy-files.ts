import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, parseDocument } from 'yaml';
import { z } from 'zod';
import { configSchema } from '../../src/config.js';
import { Metrics } from '../../src/metrics.js';
import { findExecutable } from '../../src/stack/binaries.js';

/** Helpers shared by the tests of the deployment files (Dockerfile, compose, deploy/). */

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export function repoPath(...parts: string[]): string {
  return path.join(repoRoot, ...parts);
}

export function readRepoFile(relativePath: string): string {
  return readFileSync(repoPath(relativePath), 'utf8');
}

/** One YAML document, merge keys (`<<`) resolved as Docker Compose resolves them; any YAML error throws. */
export function parseYaml(text: string, source = 'YAML'): unknown {
  const document = parseDocument(text, { merge: true });
  if (document.errors.length > 0) {
    throw new Error(`${source}: ${document.errors.map((error) => error.message).join('; ')}`);
  }
  return document.toJS();
}

export function readYaml(relativePath: string): unknown {
  return parseYaml(readRepoFile(relativePath), relativePath);
}

/** Every document of a multi-document YAML file (`---` separated), skipping empty ones. */
export function readYamlDocuments(relativePath: string): unknown[] {
  const documents = parseAllDocuments(readRepoFile(relativePath));
  if (!Array.isArray(documents)) throw new Error(`${relativePath}: not a YAML stream`);
  const errors = documents.flatMap((document) => document.errors.map((error) => error.message));
  if (errors.length > 0) throw new Error(`${relativePath}: ${errors.join('; ')}`);
  return documents.map((document) => document.toJS()).filter((value) => value !== null);
}

/** The environment variables ingestd reads (src/config.ts). */
export const configKeys: ReadonlySet<string> = new Set(Object.keys(configSchema.shape));

export interface ProcessResult {
  status: number | null;
  /** stdout and stderr together. */
  output: string;
}

export function run(
  command: string,
  args: string[],
  options: { cwd?: string; input?: string } = {},
): ProcessResult {
  const result = spawnSync(command, args, {
    cwd: options.cwd ?? repoRoot,
    input: options.input,
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (result.error) throw result.error;
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** Runs promtool (installed by the test setup: Debian package prometheus). */
export function promtool(args: string[], cwd = repoRoot): ProcessResult {
  const binary = findExecutable('promtool');
  if (!binary)
    throw new Error('promtool is not installed (`ingestd setup` installs the Debian package prometheus)');
  return run(binary, args, { cwd });
}

/**
 * Checks the syntax of PromQL expressions with promtool, by writing each as a recording rule into
 * a scratch rules file. Grafana's interval variables are replaced by a fixed range first.
 */
export function checkPromqlSyntax(expressions: readonly string[]): ProcessResult {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ingestd-promql-'));
  try {
    const rules = expressions.map((expr, index) => ({
      record: `ingestd_check:expression_${index}`,
      expr: expr.replace(/\$__(?:rate_interval|interval|range)\b/g, '5m'),
    }));
    const file = path.join(dir, 'rules.yml');
    // JSON is YAML: promtool reads it as a rules file.
    writeFileSync(file, JSON.stringify({ groups: [{ name: 'check', rules }] }));
    return promtool(['check', 'rules', file]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Series that Prometheus makes itself for every target, not exported by ingestd. */
export const prometheusOwnSeries: ReadonlySet<string> = new Set(['up', 'scrape_duration_seconds']);

/**
 * Every series name a scrape of an ingestd process can show: each metric of a fresh `Metrics`
 * registry, plus the series Prometheus reads from histograms (_bucket, _sum, _count) and
 * summaries (_sum, _count).
 */
export async function exportedSeriesNames(): Promise<Set<string>> {
  const names = new Set<string>();
  for (const metric of await new Metrics().registry.getMetricsAsJSON()) {
    names.add(metric.name);
    // prom-client's typings call `type` a numeric enum; at run time it is the type's name.
    const type = String(metric.type);
    if (type === 'histogram')
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(metric.name + suffix);
    if (type === 'summary') for (const suffix of ['_sum', '_count']) names.add(metric.name + suffix);
  }
  return names;
}

const promqlKeywords = new Set(['and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan']);

/**
 * The metric names a PromQL expression selects. Strings, label matchers, ranges and grouping
 * label lists (`by (le)`) are removed first; a word followed by `(` is a function. Enough for
 * the expressions in this repository; promtool checks their syntax separately.
 */
export function metricNamesIn(expr: string): Set<string> {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\w+/g, ' ');
  const names = new Set<string>();
  for (const match of stripped.matchAll(/(?<![\w:.])[A-Za-z_:][\w:]*/g)) {
    const word = match[0];
    const rest = stripped.slice(match.index + word.length).trimStart();
    if (rest.startsWith('(') || promqlKeywords.has(word.toLowerCase())) continue;
    names.add(word);
  }
  return names;
}

/** `${VAR:-default}`, `${VAR-default}`, `${VAR}` and `$$`, interpolated as Compose does, from `env`. */
export function interpolate(value: string, env: Record<string, string | undefined> = {}): string {
  return value.replace(
    /\$\$|\$\{([A-Za-z_]\w*)(?:(:?-)([^}]*))?\}/g,
    (whole, name: string | undefined, operator: string | undefined, fallback: string | undefined) => {
      if (whole === '$$') return '$';
      const current = env[name as string];
      if (operator === ':-') return current ? current : (fallback ?? '');
      if (operator === '-') return current ?? fallback ?? '';
      return current ?? '';
    },
  );
}

/** The `${NAME:-default}` defaults written in a string, by variable name. */
export function interpolationDefaults(value: string): Map<string, string> {
  const defaults = new Map<string, string>();
  for (const match of value.matchAll(/\$\{([A-Za-z_]\w*):?-([^}]*)\}/g)) {
    defaults.set(match[1] as string, match[2] as string);
  }
  return defaults;
}

export interface DockerInstruction {
  /** Upper-case keyword: FROM, RUN, COPY, ... */
  keyword: string;
  /** The rest of the instruction, continuation lines joined. */
  args: string;
  /** Index of the build stage (FROM) it belongs to; ARGs before the first FROM get -1. */
  stage: number;
}

/** The Dockerfile's instructions: comment lines dropped, `\` continuations joined. */
export function dockerfileInstructions(text = readRepoFile('Dockerfile')): DockerInstruction[] {
  const instructions: DockerInstruction[] = [];
  let pending = '';
  let stage = -1;
  for (const line of text.split('\n')) {
    if (/^\s*#/.test(line)) continue;
    pending += pending ? ` ${line.trim()}` : line.trim();
    if (pending.endsWith('\\')) {
      pending = pending.slice(0, -1).trimEnd();
      continue;
    }
    const match = /^(\w+)\s+([\s\S]*)$/.exec(pending);
    pending = '';
    if (!match) continue;
    const keyword = (match[1] as string).toUpperCase();
    if (keyword === 'FROM') stage += 1;
    instructions.push({ keyword, args: match[2] as string, stage });
  }
  return instructions;
}

/** The exec-form command of the image's HEALTHCHECK (`CMD [...]`). */
export function healthcheckCommand(instructions = dockerfileInstructions()): string[] {
  const healthcheck = instructions.find((instruction) => instruction.keyword === 'HEALTHCHECK');
  const json = healthcheck ? /\bCMD\s+(\[.*\])\s*$/.exec(healthcheck.args)?.[1] : undefined;
  if (!json) throw new Error('the Dockerfile has no exec-form HEALTHCHECK CMD');
  return z.array(z.string()).min(1).parse(JSON.parse(json));
}
