import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pool } from '../../src/store/pool.js';
import { createTestPool } from '../helpers/context.js';

let pool: Pool;
beforeAll(async () => {
  pool = await createTestPool();
});
afterAll(async () => {
  await pool?.end();
});

describe('createPool', () => {
  it('survives a connection ended by the server while a client is checked out between statements', async () => {
    const client = await pool.connect();
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    // As a Postgres shutdown does to every session: the error arrives while no query runs on the
    // client. Without a listener of the pool's own it is thrown from the socket's handler, and
    // the run fails with an unhandled error.
    await pool.query('SELECT pg_terminate_backend($1)', [rows[0]?.pid]);
    await sleep(500);
    const failed = await client.query('SELECT 1').then(
      () => undefined,
      (error: Error) => error,
    );
    expect(failed).toBeInstanceOf(Error);
    client.release(failed);
    const after = await pool.query<{ one: number }>('SELECT 1 AS one');
    expect(after.rows).toEqual([{ one: 1 }]);
  });
});

describe('the private Postgres server', () => {
  it('makes its clusters with 4 MB WAL segments, so a segment switch stalls commits briefly', async () => {
    const { rows } = await pool.query<{ size: string }>("SELECT current_setting('wal_segment_size') AS size");
    expect(rows[0]?.size).toBe('4MB');
  });
});
