import type { Duplex } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BinaryCopyWriter } from '../../src/store/binary-copy.js';
import { copyInWhole } from '../../src/store/copy-in.js';
import { inTransaction, type Pool, type PoolClient } from '../../src/store/pool.js';
import { createTestPool } from '../helpers/context.js';

let pool: Pool;
beforeAll(async () => {
  pool = await createTestPool();
  await pool.query('CREATE TABLE numbers (n int PRIMARY KEY, t text NOT NULL)');
});
beforeEach(async () => {
  await pool.query('TRUNCATE numbers');
});
afterAll(async () => {
  await pool?.end();
});

const COPY_NUMBERS = 'COPY numbers (n, t) FROM STDIN (FORMAT binary)';

function rowsOf(...numbers: number[]): Buffer {
  const writer = new BinaryCopyWriter(64);
  for (const n of numbers) writer.row(2).int32(n).text(`row ${n}`);
  return writer.finish();
}

async function stored(): Promise<number[]> {
  const { rows } = await pool.query<{ n: number }>('SELECT n FROM numbers ORDER BY n');
  return rows.map((row) => row.n);
}

/** The socket under a pool client: pg's Connection keeps it as `stream`. */
function socketOf(client: PoolClient): Duplex {
  return (client as unknown as { connection: { stream: Duplex } }).connection.stream;
}

describe('copyInWhole', () => {
  it('copies the rows, sending query, data and end in one socket write', async () => {
    const client = await pool.connect();
    const socket = socketOf(client) as Duplex & {
      _write: (...args: unknown[]) => void;
      _writev: (...args: unknown[]) => void;
    };
    const own = { write: socket._write, writev: socket._writev };
    let writes = 0;
    socket._write = (...args) => {
      writes++;
      own.write.apply(socket, args);
    };
    socket._writev = (...args) => {
      writes++;
      own.writev.apply(socket, args);
    };
    try {
      expect(await copyInWhole(client, COPY_NUMBERS, rowsOf(1, 2, 3))).toBe(3);
      // pg-copy-streams takes four: the query, then (after the server's answer) the data's
      // header, the data and the end.
      expect(writes).toBe(1);
    } finally {
      socket._write = own.write;
      socket._writev = own.writev;
      client.release();
    }
    expect(await stored()).toEqual([1, 2, 3]);
  });

  it('commits the caller transaction with `; COMMIT`, which inTransaction then does not repeat', async () => {
    const statements: string[] = [];
    const client = await pool.connect();
    const query = client.query;
    // Counts what inTransaction sends, on the one client it is given.
    client.query = ((config: unknown, ...rest: unknown[]) => {
      if (typeof config === 'string') statements.push(config);
      return (query as (...args: unknown[]) => unknown).call(client, config, ...rest);
    }) as typeof client.query;
    const single = { connect: async () => client } as unknown as Pool;
    try {
      await inTransaction(single, async (inside) => {
        await inside.query('INSERT INTO numbers VALUES (0, $1)', ['before']);
        await copyInWhole(inside, `${COPY_NUMBERS}; COMMIT`, rowsOf(1, 2));
        expect(inside.getTransactionStatus()).toBe('I');
      });
    } finally {
      client.query = query;
    }
    expect(statements[0]).toMatch(/^BEGIN/);
    expect(statements).not.toContain('COMMIT');
    expect(await stored()).toEqual([0, 1, 2]);
  });

  it('rejects when the COPY fails, skips the COMMIT after it, and leaves the connection usable', async () => {
    await pool.query(`INSERT INTO numbers VALUES (2, 'already there')`);
    const failure = inTransaction(pool, async (client) => {
      await client.query(`INSERT INTO numbers VALUES (0, 'in the transaction')`);
      await copyInWhole(client, `${COPY_NUMBERS}; COMMIT`, rowsOf(1, 2, 3));
    });
    await expect(failure).rejects.toThrow(/duplicate key/);
    // Rolled back whole: neither the row before the COPY nor any copied row was committed.
    expect(await stored()).toEqual([2]);
    const client = await pool.connect();
    try {
      expect(client.getTransactionStatus()).toBe('I');
      expect((await client.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      client.release();
    }
  });

  it('leaves the connection in step when the COPY cannot start: the data sent with it is ignored', async () => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await expect(client.query('SELECT 1 / 0')).rejects.toThrow(/division by zero/);
      // The transaction is aborted, so the COPY fails before reading any data; the server drops
      // the CopyData and CopyDone that came with it.
      await expect(copyInWhole(client, COPY_NUMBERS, rowsOf(1))).rejects.toThrow(/aborted/);
      await client.query('ROLLBACK');
      expect(await copyInWhole(client, COPY_NUMBERS, rowsOf(4))).toBe(1);
    } finally {
      client.release();
    }
    expect(await stored()).toEqual([4]);
  });
});

describe('inTransaction', () => {
  it('refuses to commit a transaction that failed while its work did not throw', async () => {
    const outcome = inTransaction(pool, async (client) => {
      await client.query(`INSERT INTO numbers VALUES (9, 'lost')`);
      await client.query('SELECT 1 / 0').catch(() => undefined);
    });
    await expect(outcome).rejects.toThrow(/failed/);
    expect(await stored()).toEqual([]);
  });
});
