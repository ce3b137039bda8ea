import type { Connection, Submittable } from 'pg';
import type { PoolClient } from './pool.js';

/*
 * `COPY ... FROM STDIN` of data already whole in memory, sent with its query in one write.
 *
 * pg-copy-streams waits for the server's CopyInResponse before it sends any data, then writes
 * each chunk's CopyData header, the chunk and the CopyDone as separate writes: four socket writes
 * and two round trips for a group's chunks. On this machine a write to a local socket costs ~0.1
 * ms of CPU (it wakes the reader), so the group completion's socket writes were a fifth of the
 * worker's CPU. Postgres allows the data to follow the query at once: it reads the messages in
 * order, and when the COPY fails before it starts (an aborted transaction, say) it ignores
 * CopyData and CopyDone outside a COPY, as the protocol lets a client send them late. (pg-copy-
 * streams stays for large content, which it streams with backpressure: copyVersionRow.)
 */

const COPY_DONE = Buffer.from([0x63, 0, 0, 0, 4]);

/** A CopyData message's header: 'd', then the length of the message without its type byte. */
function copyDataHeader(bytes: number): Buffer {
  const header = Buffer.allocUnsafe(5);
  header[0] = 0x64;
  header.writeUInt32BE(bytes + 4, 1);
  return header;
}

class WholeCopyIn implements Submittable {
  readonly done: Promise<number>;
  private rows = 0;
  private resolve!: (rows: number) => void;
  private reject!: (error: Error) => void;

  constructor(
    private readonly sql: string,
    private readonly data: Buffer,
  ) {
    this.done = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  /** pg replaces this to clear its query_timeout timer, if one is set: called when settled. */
  callback(): void {}

  submit(connection: Connection): Error | undefined {
    let header: Buffer;
    try {
      // Made before anything is written: a query sent without its data would leave the server
      // waiting in COPY. An Error returned is pg's way to fail a submittable.
      header = copyDataHeader(this.data.length);
    } catch (error) {
      return error as Error;
    }
    const stream = connection.stream;
    // Corked, the four buffers leave in one writev when uncorked, the data without a copy.
    stream.cork();
    try {
      connection.query(this.sql);
      stream.write(header);
      stream.write(this.data);
      stream.write(COPY_DONE);
    } finally {
      stream.uncork();
    }
    return undefined;
  }

  /** The data is already on its way. */
  handleCopyInResponse(): void {}

  handleCommandComplete(message: { text?: string }): void {
    const copied = /^COPY (\d+)/.exec(message.text ?? '');
    if (copied) this.rows = Number(copied[1]);
  }

  /** Statements after the COPY return no rows; should one, its rows are dropped, not a crash. */
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}

  handleError(error: Error): void {
    this.callback();
    this.reject(error);
  }

  handleReadyForQuery(): void {
    this.callback();
    this.resolve(this.rows);
  }
}

/**
 * Runs `sql`, a `COPY ... FROM STDIN` (optionally followed by more statements, such as
 * `; COMMIT`), with `data` as its whole input. Returns the rows copied. A statement after the
 * COPY is skipped when the COPY fails, which rejects.
 */
export function copyInWhole(client: PoolClient, sql: string, data: Buffer): Promise<number> {
  const copy = new WholeCopyIn(sql, data);
  client.query(copy);
  return copy.done;
}
