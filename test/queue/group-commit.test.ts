import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GroupCommit, type GroupCommitOptions } from '../../src/queue/group-commit.js';
import { Handoff } from '../../src/queue/handoff.js';
import { PROCESS_VERSIONS_JOB } from '../../src/queue/jobs.js';
import type { NewDocument } from '../../src/store/documents.js';
import { createTestApp, newTestDocument, silentLogger, type TestContext } from '../helpers/context.js';
import { queuedDocumentIds } from '../helpers/queued-versions.js';

let context: TestContext;
beforeAll(async () => {
  context = await createTestApp();
});
afterAll(async () => context?.close());
/** Every test's handoffs, settled after it: no enqueue outlives its test. */
const handoffs: Handoff[] = [];
afterEach(async () => {
  await Promise.all(handoffs.splice(0).map((handoff) => handoff.settled()));
});

function document(content: string, metadata: Record<string, unknown> = {}): NewDocument {
  return newTestDocument(content, { metadata, contentText: content });
}

/** A GroupCommit (and its Handoff) on the test app whose every query is shown to `watch` first. */
function watchedGroupCommit(
  options: GroupCommitOptions,
  watch: (args: unknown[]) => void = () => {},
): { commit: GroupCommit; handoff: Handoff } {
  const pool = context.app.db;
  const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
  const watched = new Proxy(pool, {
    get(target, property, receiver) {
      if (property !== 'query') return Reflect.get(target, property, receiver);
      return (...args: unknown[]) => {
        watch(args);
        return query(...args);
      };
    },
  });
  const handoff = new Handoff({
    pool: watched,
    queue: context.app.documentQueue,
    metrics: context.app.metrics,
    logger: silentLogger,
  });
  handoffs.push(handoff);
  return { commit: new GroupCommit(handoff, options), handoff };
}

describe('group commit', () => {
  it('commits concurrent documents in groups, each answered with its own outcome, jobs enqueued', async () => {
    const statements: string[] = [];
    // The defaults: one commit in flight.
    const { commit, handoff } = watchedGroupCommit({}, (args) =>
      statements.push(String(args[0]).slice(0, 40)),
    );
    const documents = Array.from({ length: 50 }, (_, i) => document(`text ${i} ünïcode`));
    const outcomes = await Promise.all(documents.map((d) => commit.submit(d)));
    // Each answer came once its row was durable; the jobs are enqueued behind the answers.
    await handoff.settled();
    expect(outcomes.map((o) => o.id)).toEqual(documents.map((d) => d.id));
    expect(outcomes.every((o) => o.version === 1 && !o.duplicate)).toBe(true);
    // The first goes alone (nothing was in flight), the other 49 together.
    expect(statements).toHaveLength(2);

    const { rows } = await context.pool.query<{ raw: Buffer; id: string }>(
      'SELECT document_id AS id, raw_content AS raw FROM document_versions WHERE document_id = ANY($1::uuid[])',
      [documents.map((d) => d.id)],
    );
    const byId = new Map(rows.map((row) => [row.id, row.raw]));
    for (const d of documents) expect(byId.get(d.id)?.equals(d.content)).toBe(true);
    // Each version is in exactly one job: the first its own, the 49 in three group jobs of 16 and
    // one of its own; each grouped version records its group job's id.
    const queued = await queuedDocumentIds(context.app.documentQueue.queue);
    expect(documents.map((d) => queued.get(d.id))).toEqual(documents.map(() => 1));
    const groups = await context.app.documentQueue.queue.getJobs(['waiting']);
    const sizes = groups
      .filter((job) => job.name === PROCESS_VERSIONS_JOB && documents.some((d) => job.id?.startsWith(d.id)))
      .map((job) => ('versions' in job.data ? job.data.versions.length : 1))
      .sort((a, b) => b - a);
    expect(sizes).toEqual([16, 16, 16]);
    const recorded = await context.pool.query<{ id: string; job: string | null }>(
      'SELECT document_id AS id, queue_job_id AS job FROM document_versions WHERE document_id = ANY($1::uuid[])',
      [documents.map((d) => d.id)],
    );
    const jobOf = new Map(recorded.rows.map((row) => [row.id, row.job]));
    for (const job of groups.filter((g) => g.name === PROCESS_VERSIONS_JOB)) {
      if (!('versions' in job.data)) continue;
      for (const v of job.data.versions)
        if (jobOf.has(v.documentId)) expect(jobOf.get(v.documentId)).toBe(job.id);
    }
    expect([...jobOf.values()].filter((job) => job === null)).toHaveLength(2);
  });

  it('starts a second commit while one is in flight when allowed two', async () => {
    const statements: string[] = [];
    const { commit } = watchedGroupCommit({ maxInFlight: 2 }, (args) => statements.push(String(args[0])));
    const documents = Array.from({ length: 20 }, (_, i) => document(`two in flight ${i}`));
    const outcomes = await Promise.all(documents.map((d) => commit.submit(d)));
    expect(outcomes.map((o) => o.id)).toEqual(documents.map((d) => d.id));
    // The first two go alone, one on each slot; the other 18 wait and go together.
    expect(statements).toHaveLength(3);
  });

  it('under load, lets a document wait up to lingerMs for others to share its commit', async () => {
    const statements: string[] = [];
    const lingerMs = 300;
    const { commit } = watchedGroupCommit({ lingerMs, lingerDocuments: 4 }, (args) =>
      statements.push(String(args[0])),
    );
    const timed = async (d: NewDocument) => {
      const started = performance.now();
      await commit.submit(d);
      return performance.now() - started;
    };
    // Quiet: the last group had one document, so the next goes at once.
    expect(await timed(document('quiet'))).toBeLessThan(lingerMs / 2);
    // Busy: three at once make a group of two after the first...
    await Promise.all(['a', 'b', 'c'].map((name) => commit.submit(document(`busy ${name}`))));
    statements.length = 0;
    // ...so a document now waits for company: a second one 50 ms later joins its commit.
    const first = timed(document('waits'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const second = timed(document('joins'));
    const [waited] = await Promise.all([first, second]);
    expect(waited).toBeGreaterThanOrEqual(45);
    expect(statements).toHaveLength(1);
    // Right after that busy group, a document alone waits lingerMs, no longer.
    const alone = await timed(document('alone'));
    expect(alone).toBeGreaterThanOrEqual(lingerMs - 20);
    expect(alone).toBeLessThan(lingerMs + 200);
    // A busy group long ago says nothing of now: after a pause, one goes at once.
    await Promise.all(['x', 'y', 'z'].map((name) => commit.submit(document(`busy once ${name}`))));
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(await timed(document('after a pause'))).toBeLessThan(lingerMs / 2);
    // lingerDocuments waiting end the wait at once.
    await Promise.all(['d', 'e', 'f'].map((name) => commit.submit(document(`busy again ${name}`))));
    const four = Array.from({ length: 4 }, (_, i) => timed(document(`four ${i}`)));
    expect(Math.max(...(await Promise.all(four)))).toBeLessThan(lingerMs / 2);
  });

  it('retries a group the database refuses one by one, so only the bad document fails', async () => {
    const { commit } = watchedGroupCommit({ maxInFlight: 1 });
    // jsonb cannot hold \u0000: Postgres refuses that row's data (22P05).
    const bad = document('bad', { note: 'nul \u0000 here' });
    const good = [document('good 1'), document('good 2'), document('good 3')];
    const first = commit.submit(document('opener'));
    const results = await Promise.allSettled([...good, bad].map((d) => commit.submit(d)));
    await first;
    expect(results.slice(0, 3).every((r) => r.status === 'fulfilled')).toBe(true);
    expect(results[3]?.status).toBe('rejected');
    const { rows } = await context.pool.query('SELECT 1 FROM documents WHERE id = ANY($1::uuid[])', [
      good.map((d) => d.id),
    ]);
    expect(rows).toHaveLength(3);
  });

  it('caps a group by bytes, and commits big documents and binary uploads on their own', async () => {
    const statements: number[] = [];
    const { commit } = watchedGroupCommit({ maxInFlight: 1, maxBytes: 1024 * 1024 }, (args) => {
      const values = (args[1] ?? (args[0] as { values?: unknown[] }).values ?? []) as unknown[];
      statements.push(Array.isArray(values[0]) ? values[0].length : 1);
    });
    const medium = Array.from({ length: 12 }, (_, i) => document(`${'m'.repeat(200 * 1024)} ${i}`));
    const big = document('b'.repeat(300 * 1024));
    const binary = { ...document('binary'), contentText: undefined };
    await Promise.all([...medium, big, binary].map((d) => commit.submit(d)));
    // 14 documents: the first medium alone, the rest of them in groups of at most 1 MiB (5 each),
    // the big and the binary one alone.
    expect(statements.reduce((sum, n) => sum + n, 0)).toBe(14);
    expect(Math.max(...statements)).toBeLessThanOrEqual(5);
    expect(statements.filter((n) => n === 1).length).toBeGreaterThanOrEqual(3);
  });
});
