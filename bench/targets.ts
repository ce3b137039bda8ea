/**
 * The targets every figure is judged against: the design guide's (the floor the project started
 * from) and issue 7's (two orders of magnitude above it, on this 2-core machine).
 */

/**
 * The design guide's "Performance Targets": the standard column, with the high-volume column's
 * throughput and P95 where it relaxes them.
 */
export const GUIDE = {
  /** 100 docs/min. */
  throughputPerSec: 100 / 60,
  /** 1000+ docs/min. */
  highVolumeThroughputPerSec: 1000 / 60,
  p95Ms: 5_000,
  /** The P95 the guide allows at high volume. */
  highVolumeP95Ms: 10_000,
  maxErrorRate: 0.01,
  maxMemoryMb: 2048,
} as const;

/** Issue 7's targets (1,000-word plain-text documents, words chunking 500/50, durable commits). */
export const ISSUE7 = {
  /** Accepted and completed, sustained for sustainSeconds, 0 errors, 0 lost. */
  docsPerSec: 1000,
  sustainSeconds: 60,
  /** The offered rate at which the latency targets hold. */
  latencyRatePerSec: 500,
  postP99Ms: 50,
  acceptToCompletedP95Ms: 1000,
  /** Batch endpoint, 100 documents a request: documents accepted per second. */
  batchDocsPerSec: 5000,
  batchSize: 100,
  /** Peak RSS of each API and worker process. */
  maxRssMb: 300,
  /** Single-document accept rate / the reference server's. */
  referenceRatio: 0.7,
  /** Chunk rows through ingestd's insert path / a plain COPY of the same rows. */
  copyRatio: 0.5,
  /** words chunker MB/s / LangChain RecursiveCharacterTextSplitter MB/s. */
  chunkerRatio: 5,
} as const;

/** met, not met, or not judged by this run (the figure is shown, the condition of the target is not met). */
export type Status = 'met' | 'not met' | 'not judged';

/** One figure checked against one target. */
export interface Check {
  source: 'design guide' | 'issue 7';
  /** The figure checked (set by checksOf from its row). */
  figure?: string;
  /** What is checked, e.g. "accepted >= 1,000 docs/s". */
  target: string;
  status: Status;
  /** Why it was not judged, or what qualifies the judgement. */
  note?: string;
}

export function check(source: Check['source'], target: string, met: boolean | null, note?: string): Check {
  return {
    source,
    target,
    status: met === null ? 'not judged' : met ? 'met' : 'not met',
    ...(note ? { note } : {}),
  };
}

/** A table row: a figure, its value, and the targets it is judged against. */
export interface Row {
  figure: string;
  measured: string;
  guide?: Check;
  issue?: Check;
  /** Not judged, but shown beside the judged rows in `all`'s table (what explains them). */
  context?: boolean;
}

/** Every check of some rows, in order. */
export function checksOf(rows: readonly Row[]): Check[] {
  return rows.flatMap((row) =>
    [row.guide, row.issue].flatMap((check) => (check ? [{ ...check, figure: row.figure.trim() }] : [])),
  );
}

/**
 * One line of verdict: per source, how many judged targets were met and which were not; plus the
 * correctness problems, which fail a run whatever the speed.
 */
export function verdictLine(
  checks: readonly Check[],
  problems: readonly string[],
  options: { listMissed: boolean } = { listMissed: true },
): string {
  const part = (source: Check['source']) => {
    const judged = checks.filter((check) => check.source === source && check.status !== 'not judged');
    if (judged.length === 0) return `${source}: nothing judged`;
    const missed = judged.filter((check) => check.status === 'not met');
    if (missed.length === 0) return `${source}: all ${judged.length} met`;
    if (!options.listMissed) return `${source}: ${judged.length - missed.length} of ${judged.length} met`;
    return `${source}: ${judged.length - missed.length} of ${judged.length} met (not met: ${[
      ...new Set(missed.map((check) => (check.figure ? `${check.figure} ${check.target}` : check.target))),
    ].join('; ')})`;
  };
  const correctness = problems.length === 0 ? 'no errors, nothing lost' : problems.join('; ');
  const pass = problems.length === 0 ? 'PASS' : 'FAIL';
  return `VERDICT: ${pass}: ${correctness}. ${part('design guide')}. ${part('issue 7')}.`;
}
