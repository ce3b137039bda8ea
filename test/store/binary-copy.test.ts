import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BinaryCopyWriter } from '../../src/store/binary-copy.js';
import type { Pool } from '../../src/store/pool.js';
import { createTestPool } from '../helpers/context.js';

let pool: Pool;
beforeAll(async () => {
  pool = await createTestPool();
  await pool.query(`CREATE TABLE copied (id uuid, n int, t text, j jsonb, a int[], b bytea, nothing text)`);
});
afterAll(async () => {
  await pool?.end();
});

async function copy(data: Buffer): Promise<void> {
  const client = await pool.connect();
  try {
    await pipeline(
      Readable.from([data]),
      client.query(copyFrom('COPY copied (id, n, t, j, a, b, nothing) FROM STDIN (FORMAT binary)')),
    );
  } finally {
    client.release();
  }
}

describe('BinaryCopyWriter', () => {
  it('writes rows Postgres reads back as they were, whatever the characters', async () => {
    const rows = [
      {
        id: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
        n: -2_147_483_648,
        t: 'quotes " and \'s, commas, tabs\t, \\ back\\slashes\\N, lines\r\nand 中文 😀',
        j: JSON.stringify([{ level: 1, title: 'Ünïcødé "title"' }]),
        a: [1, 2, 2_147_483_647],
        b: Buffer.from([0, 1, 254, 255]),
      },
      { id: '00000000-0000-0000-0000-000000000000', n: 7, t: '', j: '[]', a: [], b: Buffer.alloc(0) },
    ];
    // A small start, so the buffer has to grow along the way.
    const writer = new BinaryCopyWriter(8);
    for (const row of rows) {
      writer.row(7).uuid(row.id).int32(row.n).text(row.t).jsonb(row.j).int32Array(row.a).bytes(row.b).null();
    }
    await copy(writer.finish());
    const { rows: stored } = await pool.query('SELECT id, n, t, j, a, b, nothing FROM copied ORDER BY n');
    const expected = rows.map((row) => ({ ...row, j: JSON.parse(row.j), nothing: null }));
    expect(stored).toEqual(expected.sort((x, y) => x.n - y.n));
  });
});
