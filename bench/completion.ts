import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { Pool as HttpPool } from 'undici';

/** Where an accepted document ended up, with the server's own timestamps. */
export interface DocumentOutcome {
  id: string;
  /** 'missing': accepted with a 202, yet the server does not know the document. */
  status: 'queued' | 'processing' | 'completed' | 'failed' | 'missing';
  /** Version created (the commit before the 202) to completed, server clock; null unless completed. */
  acceptToCompletedMs: number | null;
  /** Last attempt's start to completed: the processing alone, without the queue wait. */
  processingMs: number | null;
  /** When the version was created (just before the 202), epoch ms on the server's clock. */
  acceptedAtMs: number | null;
  /** Completion time, epoch ms on the server's clock. */
  completedAtMs: number | null;
  /** Chunks the version records (chunk_count). */
  chunkCount: number | null;
  /** Chunk rows actually stored; null when they cannot be counted (--url). */
  chunkRows: number | null;
  /** The error a failed version records, "code: message". */
  error: string | null;
}

export interface Progress {
  completed: number;
  failed: number;
}

/** Reads how far the accepted documents have got: from Postgres, or through the API with --url. */
export interface CompletionTracker {
  /** What the figures are read from, for the report. */
  readonly source: string;
  /** `sinceMs`: wall clock just before the first of `ids` was sent. */
  progress(ids: readonly string[], sinceMs: number): Promise<Progress>;
  outcomes(ids: readonly string[]): Promise<DocumentOutcome[]>;
}

/** Server and client share a clock here, yet a document's created_at may lag its send a little. */
const SINCE_MARGIN_MS = 1_000;

/**
 * Reads the documents tables directly, for a stack this run started, where every document is the
 * bench's. One dedicated connection, so its backend's CPU can be told apart from ingestd's
 * (see backendPid).
 */
export class DatabaseTracker implements CompletionTracker {
  readonly source = 'Postgres (document_versions timestamps)';
  private pid: number | undefined;

  private constructor(private readonly db: pg.Client) {}

  static async connect(databaseUrl: string): Promise<DatabaseTracker> {
    const client = new pg.Client({ connectionString: databaseUrl, application_name: 'ingestd-bench' });
    // A query that fails says so; an idle connection lost to a stopping server must not crash the bench.
    client.on('error', () => {});
    await client.connect();
    const tracker = new DatabaseTracker(client);
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    tracker.pid = rows[0]?.pid;
    return tracker;
  }

  /** The Postgres backend serving the tracker's queries. */
  get backendPid(): number | undefined {
    return this.pid;
  }

  /**
   * Counts only the unfinished and failed documents created since the run began, through the
   * (status, created_at) index, so a poll costs Postgres little while ingestd is being measured.
   * Completed is inferred; outcomes() checks every id at the end.
   */
  async progress(ids: readonly string[], sinceMs: number): Promise<Progress> {
    const { rows } = await this.db.query<{ unfinished: number; failed: number }>(
      `SELECT count(*) FILTER (WHERE status IN ('queued', 'processing'))::int AS unfinished,
              count(*) FILTER (WHERE status = 'failed')::int AS failed
       FROM documents
       WHERE status IN ('queued', 'processing', 'failed') AND created_at >= $1`,
      [new Date(sinceMs - SINCE_MARGIN_MS)],
    );
    const { unfinished, failed } = rows[0] ?? { unfinished: 0, failed: 0 };
    return { completed: Math.max(0, ids.length - unfinished - failed), failed };
  }

  async outcomes(ids: readonly string[]): Promise<DocumentOutcome[]> {
    const { rows } = await this.db.query<DocumentOutcome>(
      `SELECT d.id, d.status,
              (extract(epoch FROM v.completed_at - v.created_at) * 1000)::float8 AS "acceptToCompletedMs",
              (extract(epoch FROM v.completed_at - v.started_at) * 1000)::float8 AS "processingMs",
              (extract(epoch FROM v.created_at) * 1000)::float8 AS "acceptedAtMs",
              (extract(epoch FROM v.completed_at) * 1000)::float8 AS "completedAtMs",
              v.chunk_count AS "chunkCount",
              (SELECT count(*)::int FROM chunks c
               WHERE c.document_id = v.document_id AND c.version = v.version) AS "chunkRows",
              CASE WHEN v.error_code IS NULL THEN NULL ELSE v.error_code || ': ' || v.error_message END AS error
       FROM documents d JOIN document_versions v ON v.document_id = d.id AND v.version = d.latest_version
       WHERE d.id = ANY($1::uuid[])`,
      [ids],
    );
    return withMissing(ids, rows);
  }

  /** Where Postgres' write-ahead log is now, for walBytesSince. */
  async walPosition(): Promise<string> {
    const { rows } = await this.db.query<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn');
    return (rows[0] as { lsn: string }).lsn;
  }

  /** Bytes of write-ahead log written since `position` (a walPosition), by everyone. */
  async walBytesSince(position: string): Promise<number> {
    const { rows } = await this.db.query<{ bytes: number }>(
      'SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), $1::pg_lsn)::float8 AS bytes',
      [position],
    );
    return (rows[0] as { bytes: number }).bytes;
  }

  /** The server's data directory, or null when this role may not read it. */
  async dataDirectory(): Promise<string | null> {
    try {
      const { rows } = await this.db.query<{ directory: string }>(
        "SELECT current_setting('data_directory') AS directory",
      );
      return rows[0]?.directory ?? null;
    } catch (error) {
      // Superusers and pg_read_all_settings only: without it, no disk row.
      if ((error as { code?: string }).code === '42501') return null;
      throw error;
    }
  }

  /** Postgres version and the durability settings the numbers were measured with. */
  async describeServer(): Promise<string> {
    const { rows } = await this.db.query<{ version: string; fsync: string; synchronousCommit: string }>(
      `SELECT split_part(current_setting('server_version'), ' ', 1) AS version, current_setting('fsync') AS fsync,
              current_setting('synchronous_commit') AS "synchronousCommit"`,
    );
    const row = rows[0];
    return row
      ? `postgres ${row.version} (fsync ${row.fsync}, synchronous_commit ${row.synchronousCommit})`
      : 'postgres';
  }

  close(): Promise<void> {
    return this.db.end();
  }
}

/** The parts of GET /api/v1/documents/:id the benchmark reads. */
interface DocumentBody {
  status: DocumentOutcome['status'];
  chunkCount: number | null;
  error: { code: string; message: string } | null;
  stages: { queuedAt: string; startedAt: string | null; completedAt: string | null };
}

/**
 * Asks the API about each document (GET /api/v1/documents/:id), `concurrency` at a time, and
 * remembers finished ones so later polls only ask about the rest. Timestamps are the server's,
 * with millisecond precision.
 */
export class ApiTracker implements CompletionTracker {
  readonly source = 'the API (GET /api/v1/documents/:id stage times)';
  private readonly finished = new Map<string, DocumentOutcome>();

  constructor(
    private readonly http: HttpPool,
    private readonly documentsPath: string,
    private readonly concurrency: number,
    /** Authorization, sent with every GET. */
    private readonly headers: Record<string, string>,
  ) {}

  async progress(ids: readonly string[]): Promise<Progress> {
    await this.refresh(ids);
    let completed = 0;
    let failed = 0;
    // Only the ids asked about: the cache also holds earlier phases' documents (the warm-up).
    for (const id of ids) {
      const status = this.finished.get(id)?.status;
      if (status === 'completed') completed++;
      else if (status === 'failed') failed++;
    }
    return { completed, failed };
  }

  async outcomes(ids: readonly string[]): Promise<DocumentOutcome[]> {
    const pending = await this.refresh(ids);
    return [...ids.flatMap((id) => this.finished.get(id) ?? []), ...pending];
  }

  /** Fetches every document not yet finished; returns those still unfinished. */
  private async refresh(ids: readonly string[]): Promise<DocumentOutcome[]> {
    const unfinished = ids.filter((id) => !this.finished.has(id));
    const pending: DocumentOutcome[] = [];
    let next = 0;
    const lane = async () => {
      for (let index = next++; index < unfinished.length; index = next++) {
        const outcome = await this.fetch(unfinished[index] as string);
        if (outcome.status === 'completed' || outcome.status === 'failed')
          this.finished.set(outcome.id, outcome);
        else pending.push(outcome);
      }
    };
    await Promise.all(Array.from({ length: this.concurrency }, lane));
    return pending;
  }

  private async fetch(id: string): Promise<DocumentOutcome> {
    const response = await this.http.request({
      method: 'GET',
      path: `${this.documentsPath}/${id}`,
      headers: this.headers,
    });
    if (response.statusCode === 404) {
      await response.body.dump();
      return missingOutcome(id);
    }
    if (response.statusCode !== 200) {
      const text = await response.body.text();
      throw new Error(
        `GET ${this.documentsPath}/${id} answered ${response.statusCode}: ${text.slice(0, 200)}`,
      );
    }
    const body = (await response.body.json()) as DocumentBody;
    const time = (iso: string | null) => (iso === null ? null : Date.parse(iso));
    const queuedAt = time(body.stages.queuedAt);
    const startedAt = time(body.stages.startedAt);
    const completedAt = body.status === 'completed' ? time(body.stages.completedAt) : null;
    return {
      id,
      status: body.status,
      acceptToCompletedMs: completedAt !== null && queuedAt !== null ? completedAt - queuedAt : null,
      processingMs: completedAt !== null && startedAt !== null ? completedAt - startedAt : null,
      acceptedAtMs: queuedAt,
      completedAtMs: completedAt,
      chunkCount: body.chunkCount,
      chunkRows: null,
      error: body.error ? `${body.error.code}: ${body.error.message}` : null,
    };
  }
}

function missingOutcome(id: string): DocumentOutcome {
  return {
    id,
    status: 'missing',
    acceptToCompletedMs: null,
    processingMs: null,
    acceptedAtMs: null,
    completedAtMs: null,
    chunkCount: null,
    chunkRows: null,
    error: null,
  };
}

/** Adds a 'missing' outcome for every id the server returned no row for. */
function withMissing(ids: readonly string[], found: DocumentOutcome[]): DocumentOutcome[] {
  const known = new Set(found.map((outcome) => outcome.id));
  return [...found, ...ids.filter((id) => !known.has(id)).map(missingOutcome)];
}

export interface WaitOptions {
  /** Wall clock just before the first document was sent. */
  sinceMs: number;
  timeoutMs: number;
  pollMs: number;
  signal: AbortSignal;
  onProgress?: (progress: Progress) => void;
}

/** Polls until every id is completed or failed; resolves with the last progress and whether time ran out. */
export async function waitForCompletion(
  tracker: CompletionTracker,
  ids: readonly string[],
  options: WaitOptions,
): Promise<Progress & { timedOut: boolean }> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const progress = await tracker.progress(ids, options.sinceMs);
    options.onProgress?.(progress);
    if (progress.completed + progress.failed >= ids.length) return { ...progress, timedOut: false };
    if (Date.now() >= deadline) return { ...progress, timedOut: true };
    await sleep(options.pollMs, undefined, { signal: options.signal });
  }
}
