import { describe, expect, it } from 'vitest';
import type { DocumentOutcome } from '../../bench/completion.js';
import {
  type AnalysisInput,
  analyze,
  correctnessProblems,
  type EndToEndSettings,
  endToEndRows,
} from '../../bench/end-to-end-report.js';
import type { LoadResult } from '../../bench/load.js';

const settings = (overrides: Partial<EndToEndSettings> = {}): EndToEndSettings => ({
  scenario: 'sustained',
  docs: 100,
  concurrency: 256,
  rate: 500,
  durationSeconds: 60,
  words: 1000,
  chunkSize: 500,
  chunkOverlap: 50,
  batchSize: 100,
  bigDocumentMb: null,
  warmupDocs: 0,
  holdWorkers: false,
  timeoutMs: 300_000,
  ...overrides,
});

/** `accepted` documents accepted over `seconds`, each POST taking `postMs`, each completed `e2eMs` later. */
function run(options: {
  accepted: number;
  seconds: number;
  postMs: number;
  e2eMs: number;
  finished?: number;
}) {
  const startWallMs = 1_700_000_000_000;
  const ids = Array.from({ length: options.accepted }, (_, i) => `doc-${i}`);
  const load: LoadResult = {
    requests: options.accepted,
    posted: options.accepted,
    accepted: ids.map((id, i) => ({
      id,
      request: i,
      acceptedAtNs: BigInt(Math.round(((i * options.seconds) / options.accepted) * 1e9)),
    })),
    postLatenciesMs: ids.map(() => options.postMs),
    errors: new Map(),
    firstPostAtNs: 0n,
    firstPostWallMs: startWallMs,
    lastAcceptAtNs: BigInt(Math.round(options.seconds * 1e9)),
    schedule: {
      offeredPerSec: options.accepted / options.seconds,
      scheduled: options.accepted,
      sent: options.accepted,
      lateSends: 0,
      maxLateMs: 0,
      lateThresholdMs: 10,
      queuedAtClient: 0,
    },
  };
  const finished = options.finished ?? options.accepted;
  const outcomes: DocumentOutcome[] = ids.slice(0, finished).map((id, i) => {
    const acceptedAtMs = startWallMs + (i * options.seconds * 1000) / options.accepted;
    return {
      id,
      status: 'completed',
      acceptToCompletedMs: options.e2eMs,
      processingMs: 20,
      acceptedAtMs,
      completedAtMs: acceptedAtMs + options.e2eMs,
      chunkCount: 3,
      chunkRows: 3,
      error: null,
    };
  });
  return { load, outcomes };
}

function input(overrides: Partial<AnalysisInput> & Pick<AnalysisInput, 'load' | 'outcomes'>): AnalysisInput {
  return {
    settings: settings(),
    local: true,
    memory: null,
    roles: new Map(),
    cpu: null,
    walBytes: null,
    disk: null,
    timedOut: false,
    formatsById: undefined,
    ...overrides,
  };
}

const issueStatus = (rows: ReturnType<typeof endToEndRows>, figure: string) =>
  rows.find((row) => row.figure.startsWith(figure))?.issue?.status;

describe('analyze and endToEndRows', () => {
  it('gives the write-ahead log per completed document, and no row without it', () => {
    const { load, outcomes } = run({ accepted: 2_000, finished: 1_600, seconds: 4, postMs: 20, e2eMs: 400 });
    const result = analyze(input({ load, outcomes, walBytes: 1_600 * 12.5 * 1024 }));
    expect(result.walKbPerDoc).toBeCloseTo(12.5, 6);
    const row = endToEndRows(result).find((r) => r.figure.startsWith('Postgres WAL per document'));
    expect(row?.measured).toMatch(/^12\.5 KB/);
    const without = analyze(input({ load, outcomes }));
    expect(without.walKbPerDoc).toBeNull();
    expect(endToEndRows(without).some((r) => r.figure.startsWith('Postgres WAL'))).toBe(false);
  });

  it("shows the data disk's flush latency beside the POST latency, and no row without it", () => {
    const { load, outcomes } = run({ accepted: 1_000, seconds: 2, postMs: 20, e2eMs: 400 });
    const flushMs = { count: 40, p50: 0.31, p95: 0.9, p99: 2.4, max: 152 };
    const disk = { directory: '/tmp/x', intervalMs: 50, flushMs, stalls: 2 };
    const row = (result: ReturnType<typeof analyze>) =>
      endToEndRows(result).find((candidate) => candidate.figure.includes('data disk'));
    const result = analyze(input({ load, outcomes, disk }));
    expect(result.disk).toEqual(disk);
    expect(row(result)?.measured).toBe(
      '8 KB write + fdatasync every 50 ms: p50/p99 0.310 / 2.40 ms, max 152 ms; 2 of 40 over 50 ms (each holds every commit behind it)',
    );
    expect(row(analyze(input({ load, outcomes })))).toBeUndefined();
  });

  it('does not judge accept->completed against the design guide when the workers were held back', () => {
    const { load, outcomes } = run({ accepted: 2_000, seconds: 2, postMs: 20, e2eMs: 12_000 });
    const row = (held: boolean) =>
      endToEndRows(analyze(input({ load, outcomes, settings: settings({ holdWorkers: held }) }))).find(
        (candidate) => candidate.figure === 'accept->completed p50/p95/p99',
      );
    expect(row(false)?.guide?.status).toBe('not met');
    expect(row(true)?.guide).toBeUndefined();
    expect(row(true)?.measured).toMatch(/\(workers held back: not judged\)$/);
  });

  it('judges the latency targets at 500/s offered', () => {
    const { load, outcomes } = run({ accepted: 30_000, seconds: 60, postMs: 20, e2eMs: 400 });
    const result = analyze(input({ load, outcomes }));
    expect(result.acceptedPerSec).toBeCloseTo(500, 0);
    expect(result.lost).toBe(0);
    expect(result.chunks?.mismatched).toBe(0);
    const rows = endToEndRows(result);
    expect(issueStatus(rows, 'POST')).toBe('met');
    expect(issueStatus(rows, 'accept->completed')).toBe('met');
    // 500/s offered is below the 1,000/s throughput target's condition.
    expect(issueStatus(rows, 'accepted docs/s')).toBe('not judged');
    expect(correctnessProblems(result)).toEqual([]);
  });

  it('counts a latency target met at a higher rate, and does not fail it there', () => {
    const fast = run({ accepted: 60_000, seconds: 60, postMs: 20, e2eMs: 400 });
    const slow = run({ accepted: 60_000, seconds: 60, postMs: 200, e2eMs: 4000 });
    const at1000 = settings({ rate: 1000 });
    expect(issueStatus(endToEndRows(analyze(input({ ...fast, settings: at1000 }))), 'POST')).toBe('met');
    expect(issueStatus(endToEndRows(analyze(input({ ...slow, settings: at1000 }))), 'POST')).toBe(
      'not judged',
    );
  });

  it('judges 1,000/s sustained only for a run of 60 s at 1,000/s or more', () => {
    const { load, outcomes } = run({ accepted: 60_000, seconds: 60, postMs: 20, e2eMs: 100 });
    const rows = endToEndRows(analyze(input({ load, outcomes, settings: settings({ rate: 1000 }) })));
    expect(issueStatus(rows, 'accepted docs/s')).toBe('met');
    const short = run({ accepted: 10_000, seconds: 10, postMs: 20, e2eMs: 100 });
    const shortRows = endToEndRows(
      analyze(input({ ...short, settings: settings({ rate: 1000, durationSeconds: 10 }) })),
    );
    expect(issueStatus(shortRows, 'accepted docs/s')).toBe('not judged');
  });

  it('reports accepted documents that never finished as lost, and fails the run', () => {
    const { load, outcomes } = run({ accepted: 100, seconds: 1, postMs: 5, e2eMs: 50, finished: 97 });
    const result = analyze(input({ load, outcomes }));
    expect(result.lost).toBe(3);
    expect(correctnessProblems(result)).toContain(
      '3 accepted document(s) lost (neither completed nor failed)',
    );
    expect(issueStatus(endToEndRows(result), 'lost')).toBe('not met');
  });
});
