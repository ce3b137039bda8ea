/** Zips that lie and bombs that explode: the hostile archives the extract tests feed the readers. */
import { constants, crc32, deflateRawSync } from 'node:zlib';

let megabyteOfZeros: Buffer | undefined;

/**
 * A raw deflate stream of `megabytes` MiB of zeros, built in milliseconds: one MiB deflated once
 * and ended with a sync flush (byte-aligned, not final), repeated, then an empty final block.
 * Every copy only refers back into itself, so the concatenation is one valid stream.
 * 500 MiB deflate to about 500 KB.
 */
export function deflatedZeros(megabytes: number): Buffer {
  megabyteOfZeros ??= deflateRawSync(Buffer.alloc(1 << 20), {
    level: 9,
    finishFlush: constants.Z_SYNC_FLUSH,
  });
  const finalEmptyBlock = Buffer.from([0x03, 0x00]);
  return Buffer.concat([
    ...Array.from({ length: megabytes }, () => megabyteOfZeros as Buffer),
    finalEmptyBlock,
  ]);
}

export interface RawZipEntry {
  name: string;
  /** The bytes as stored in the archive: already deflated when `method` is 8. */
  data: Uint8Array;
  method: 0 | 8;
  /** The uncompressed size the headers claim: may lie. */
  declaredSize: number;
  crc?: number;
  flags?: number;
}

/**
 * A zip whose headers say whatever the test wants: sizes that lie, pre-deflated bombs, encrypted
 * flags. writeZip in src only writes honest archives.
 */
export function rawZip(entries: RawZipEntry[]): Uint8Array {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name, 'utf8');
    const crc = entry.crc ?? 0;
    const local = Buffer.alloc(30 + name.length);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(entry.flags ?? 0, 6);
    local.writeUInt16LE(entry.method, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(entry.data.length, 18);
    local.writeUInt32LE(entry.declaredSize, 22);
    local.writeUInt16LE(name.length, 26);
    name.copy(local, 30);
    const central = Buffer.alloc(46 + name.length);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(entry.flags ?? 0, 8);
    central.writeUInt16LE(entry.method, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(entry.data.length, 20);
    central.writeUInt32LE(entry.declaredSize, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    name.copy(central, 46);
    locals.push(local, Buffer.from(entry.data));
    centrals.push(central);
    offset += local.length + entry.data.length;
  }
  const centralSize = centrals.reduce((sum, part) => sum + part.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, ...centrals, end]);
}

/** A stored entry with a correct size and CRC. */
export function storedEntry(name: string, text: string): RawZipEntry {
  const data = Buffer.from(text, 'utf8');
  return { name, data, method: 0, declaredSize: data.length, crc: crc32(data) };
}
