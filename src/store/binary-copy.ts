/**
 * Rows in Postgres' binary COPY format (https://www.postgresql.org/docs/current/sql-copy.html),
 * written into one buffer that grows as needed. Postgres reads such fields by their lengths,
 * where CSV makes it scan every character of every field for quotes and delimiters.
 */

/** PGCOPY's signature, then its flags and header extension length (both 0). */
const HEADER = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)]);
/** The end of a binary COPY: a field count of -1. */
export const BINARY_COPY_TRAILER = Buffer.from([0xff, 0xff]);
const INT4_OID = 23;

export class BinaryCopyWriter {
  private buffer: Buffer;
  private length = 0;

  constructor(expectedBytes = 16 * 1024) {
    this.buffer = Buffer.allocUnsafe(Math.max(expectedBytes, HEADER.length + 64));
    HEADER.copy(this.buffer);
    this.length = HEADER.length;
  }

  /** Starts a row of `fields` fields. */
  row(fields: number): this {
    this.reserve(2);
    this.length = this.buffer.writeInt16BE(fields, this.length);
    return this;
  }

  uuid(id: string): this {
    this.reserve(20);
    const written = this.buffer.write(id.replaceAll('-', ''), this.length + 4, 16, 'hex');
    // A short write would shift every field after it: refuse it here, not in Postgres.
    if (written !== 16) throw new TypeError(`not a UUID: ${id}`);
    this.length = this.buffer.writeInt32BE(16, this.length) + 16;
    return this;
  }

  int32(value: number): this {
    if (!Number.isInteger(value)) throw new TypeError(`not an integer: ${value}`);
    this.reserve(8);
    this.length = this.buffer.writeInt32BE(4, this.length);
    this.length = this.buffer.writeInt32BE(value, this.length);
    return this;
  }

  text(value: string): this {
    // A UTF-16 unit takes at most 3 bytes: write first, then the length in front (one pass).
    this.reserve(4 + value.length * 3);
    const size = this.buffer.write(value, this.length + 4, 'utf8');
    this.buffer.writeInt32BE(size, this.length);
    this.length += 4 + size;
    return this;
  }

  bytes(value: Uint8Array): this {
    this.reserve(4 + value.length);
    this.length = this.buffer.writeInt32BE(value.length, this.length);
    this.buffer.set(value, this.length);
    this.length += value.length;
    return this;
  }

  /** jsonb's binary form: a version byte (1), then the JSON text. */
  jsonb(json: string): this {
    this.reserve(5 + json.length * 3);
    const size = this.buffer.write(json, this.length + 5, 'utf8');
    this.buffer.writeInt32BE(size + 1, this.length);
    this.buffer[this.length + 4] = 1;
    this.length += 5 + size;
    return this;
  }

  /** An int[] of one dimension (none when empty), lower bound 1, no NULLs. */
  int32Array(values: readonly number[]): this {
    const dimensions = values.length === 0 ? 0 : 1;
    const size = 12 + dimensions * 8 + values.length * 8;
    this.reserve(4 + size);
    let at = this.buffer.writeInt32BE(size, this.length);
    at = this.buffer.writeInt32BE(dimensions, at);
    at = this.buffer.writeInt32BE(0, at); // no NULLs
    at = this.buffer.writeInt32BE(INT4_OID, at);
    if (dimensions === 1) {
      at = this.buffer.writeInt32BE(values.length, at);
      at = this.buffer.writeInt32BE(1, at);
      for (const value of values) {
        at = this.buffer.writeInt32BE(4, at);
        at = this.buffer.writeInt32BE(value, at);
      }
    }
    this.length = at;
    return this;
  }

  null(): this {
    this.reserve(4);
    this.length = this.buffer.writeInt32BE(-1, this.length);
    return this;
  }

  /** A field's length only: its `size` bytes follow outside this buffer (see copyVersionRow). */
  fieldLength(size: number): this {
    this.reserve(4);
    this.length = this.buffer.writeInt32BE(size, this.length);
    return this;
  }

  /** What was written so far: the header and the rows, without the trailer. */
  written(): Buffer {
    return this.buffer.subarray(0, this.length);
  }

  /** The whole COPY data: the rows and the trailer. */
  finish(): Buffer {
    this.reserve(2);
    BINARY_COPY_TRAILER.copy(this.buffer, this.length);
    this.length += 2;
    return this.written();
  }

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + bytes));
    this.buffer.copy(bigger, 0, 0, this.length);
    this.buffer = bigger;
  }
}
