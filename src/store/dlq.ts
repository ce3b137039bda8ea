import type { ProcessVersionPayload } from '../queue/jobs.js';
import { inTransaction, type Pool } from './pool.js';

export const dlqStatuses = ['pending', 'retrying', 'resolved', 'discarded'] as const;
export type DlqStatus = (typeof dlqStatuses)[number];

export interface DlqItem {
  id: string;
  documentId: string | null;
  version: number | null;
  priority: number;
  status: DlqStatus;
  errorCode: string;
  errorMessage: string;
  errorStack: string | null;
  attempts: number;
  retryable: boolean;
  redrives: number;
  needsHuman: boolean;
  payload: unknown;
  firstFailedAt: Date;
  lastFailedAt: Date;
  updatedAt: Date;
}

export interface DlqFilter {
  tenantId: string;
  status?: DlqStatus | undefined;
  priority?: number | undefined;
  code?: string | undefined;
}

const columns = `id::text, document_id AS "documentId", version, priority, status, error_code AS "errorCode",
  error_message AS "errorMessage", error_stack AS "errorStack", attempts, retryable, redrives,
  needs_human AS "needsHuman", payload,
  first_failed_at AS "firstFailedAt", last_failed_at AS "lastFailedAt", updated_at AS "updatedAt"`;

const filterSql = `tenant_id = $1 AND ($2::text IS NULL OR status = $2) AND ($3::int IS NULL OR priority = $3)
  AND ($4::text IS NULL OR error_code = $4)`;

const filterParams = (filter: DlqFilter) => [
  filter.tenantId,
  filter.status ?? null,
  filter.priority ?? null,
  filter.code ?? null,
];

/**
 * The tail of a re-drive: after a `redriven` CTE (the dead letters just marked retrying), queue
 * their failed versions again and return the job payloads. Versions completed or deleted
 * meanwhile are skipped.
 */
const requeueRedriven = `, requeued AS (
    UPDATE document_versions v SET status = 'queued', error_code = NULL, error_message = NULL, updated_at = now()
    FROM redriven r WHERE v.document_id = r.document_id AND v.version = r.version AND v.status = 'failed'
    RETURNING v.document_id, v.version, v.tenant_id
  ), document AS (
    UPDATE documents d SET status = 'queued', updated_at = now()
    FROM requeued q WHERE d.id = q.document_id AND d.latest_version = q.version
  )
  SELECT document_id AS "documentId", version, tenant_id AS "tenantId" FROM requeued`;

/** Newest first, keyset-paginated on the id. */
export async function listDlqItems(
  pool: Pool,
  filter: DlqFilter & { beforeId?: string | undefined; limit: number },
): Promise<DlqItem[]> {
  const { rows } = await pool.query<DlqItem>(
    `SELECT ${columns} FROM dlq_items
     WHERE ${filterSql} AND ($5::bigint IS NULL OR id < $5)
     ORDER BY id DESC LIMIT $6`,
    [...filterParams(filter), filter.beforeId ?? null, filter.limit],
  );
  return rows;
}

export async function findDlqItem(pool: Pool, tenantId: string, id: string): Promise<DlqItem | undefined> {
  const { rows } = await pool.query<DlqItem>(
    `SELECT ${columns} FROM dlq_items WHERE tenant_id = $1 AND id = $2`,
    [tenantId, id],
  );
  return rows[0];
}

/**
 * Puts dead letters back to work: each open item (pending) matching `ids` or the filter becomes
 * retrying, and its version queued again, in one transaction. Returns the job payloads to enqueue.
 * Versions completed or deleted meanwhile are skipped.
 */
export async function redriveDlqItems(
  pool: Pool,
  selection: { tenantId: string; ids: string[] } | (DlqFilter & { limit: number }),
): Promise<ProcessVersionPayload[]> {
  return inTransaction(pool, async (client) => {
    const byIds = 'ids' in selection;
    const { rows } = await client.query<{ documentId: string; version: number; tenantId: string }>(
      `WITH chosen AS (
         SELECT id FROM dlq_items
         WHERE ${byIds ? 'tenant_id = $1 AND id = ANY($2::bigint[])' : filterSql}
           AND status = 'pending' AND document_id IS NOT NULL
         ORDER BY priority DESC, id
         ${byIds ? '' : 'LIMIT $5'}
         FOR UPDATE SKIP LOCKED
       ), redriven AS (
         UPDATE dlq_items d SET status = 'retrying', redrives = d.redrives + 1, updated_at = now()
         FROM chosen WHERE d.id = chosen.id
         RETURNING d.document_id, d.version, d.tenant_id
       )
       ${requeueRedriven}`,
      byIds ? [selection.tenantId, selection.ids] : [...filterParams(selection), selection.limit],
    );
    return rows;
  });
}

/** Discards a dead letter: its row stays as the audit trail, marked discarded. */
export async function discardDlqItem(pool: Pool, tenantId: string, id: string): Promise<boolean> {
  const { rowCount } = await pool.query(
    `UPDATE dlq_items SET status = 'discarded', updated_at = now()
     WHERE tenant_id = $1 AND id = $2 AND status IN ('pending', 'retrying')`,
    [tenantId, id],
  );
  return rowCount === 1;
}

/**
 * The dlq role's round: pending, retryable dead letters whose backoff has passed are re-driven
 * (by priority); one that has used up `maxRedrives` is marked as needing a human instead.
 * Returns the job payloads to enqueue and how many were given up on.
 */
export async function redriveDueDeadLetters(
  pool: Pool,
  options: { maxRedrives: number; backoffMs: number; limit: number },
): Promise<{ payloads: ProcessVersionPayload[]; gaveUp: number }> {
  return inTransaction(pool, async (client) => {
    const gaveUp = await client.query(
      `UPDATE dlq_items SET needs_human = true, updated_at = now()
       WHERE status = 'pending' AND retryable AND NOT needs_human AND redrives >= $1`,
      [options.maxRedrives],
    );
    const { rows } = await client.query<{ documentId: string; version: number; tenantId: string }>(
      `WITH chosen AS (
         SELECT id FROM dlq_items
         WHERE status = 'pending' AND retryable AND NOT needs_human AND redrives < $1
           AND (next_redrive_at IS NULL OR next_redrive_at <= now()) AND document_id IS NOT NULL
         ORDER BY priority DESC, id
         LIMIT $3
         FOR UPDATE SKIP LOCKED
       ), redriven AS (
         UPDATE dlq_items d
         SET status = 'retrying', redrives = d.redrives + 1, updated_at = now(),
             next_redrive_at = now() + make_interval(secs => $2 / 1000.0 * power(4, d.redrives))
         FROM chosen WHERE d.id = chosen.id
         RETURNING d.document_id, d.version, d.tenant_id
       )
       ${requeueRedriven}`,
      [options.maxRedrives, options.backoffMs, options.limit],
    );
    return { payloads: rows, gaveUp: gaveUp.rowCount ?? 0 };
  });
}

export interface DlqCounts {
  byStatus: Record<DlqStatus, number>;
  /** Pending dead letters the dlq role gave up on. */
  needsHuman: number;
}

/** Dead letters by status across all tenants: the monitor's DLQ size. */
export async function countDlqItems(pool: Pool): Promise<DlqCounts> {
  const { rows } = await pool.query<{ status: DlqStatus; count: number; needs_human: number }>(
    `SELECT status, count(*)::int AS count,
            count(*) FILTER (WHERE needs_human AND status = 'pending')::int AS needs_human
     FROM dlq_items GROUP BY status`,
  );
  const byStatus = Object.fromEntries(dlqStatuses.map((status) => [status, 0])) as Record<DlqStatus, number>;
  let needsHuman = 0;
  for (const row of rows) {
    byStatus[row.status] = row.count;
    needsHuman += row.needs_human;
  }
  return { byStatus, needsHuman };
}
