import { crc32, deflateRawSync, inflateRawSync } from 'node:zlib';
import { corrupt, encrypted, tooLarge } from './failures.js';
import type { ExtractLimits } from './types.js';

// DOCX, XLSX, PPTX and ODT are zip archives. This module reads them defensively: the central
// directory is parsed and checked against the limits before a single byte is inflated, and
// inflation is capped at each entry's declared size by zlib itself (maxOutputLength), so an entry
// whose header lies about its size fails after at most one zlib chunk past the lie. node:zlib is
// native and stops on the cap without ever buffering the bomb; no zip library offers that hard cap.

/** One file in a zip's central directory. Sizes are as declared: only inflation proves them. */
export interface ZipEntry {
  name: string;
  /** 0 stored, 8 deflate; anything else is unsupported. */
  method: number;
  /** General purpose flags; bit 0 means the entry is encrypted. */
  flags: number;
  crc32: number;
  compressedSize: number;
  /** Declared uncompressed size. */
  size: number;
  localHeaderOffset: number;
}

const localHeaderSignature = 0x04034b50;
const centralHeaderSignature = 0x02014b50;
const endOfCentralDirectorySignature = 0x06054b50;
const zip64LocatorSignature = 0x07064b50;
const zip64EndSignature = 0x06064b50;

/**
 * Entries this small cannot be bombs whatever their ratio (64 KiB of blank XML compresses 500:1),
 * so the ratio cap applies only above it.
 */
const ratioExemptBytes = 64 * 1024;

/** True when the bytes start like a zip archive (a local file header, or an empty archive). */
export function isZip(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 4 &&
    bytes[0] === 0x50 &&
    bytes[1] === 0x4b &&
    ((bytes[2] === 0x03 && bytes[3] === 0x04) || (bytes[2] === 0x05 && bytes[3] === 0x06))
  );
}

/**
 * The central directory: what the archive says it holds. Fails with `too_large` when it claims
 * more than `maxZipEntries` entries (checked before reading them) and `corrupt` when it cannot be read.
 */
export function listZipEntries(bytes: Uint8Array, limits: Pick<ExtractLimits, 'maxZipEntries'>): ZipEntry[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = findEndOfCentralDirectory(view);
  if (end.count > limits.maxZipEntries) {
    throw tooLarge(`the archive has ${end.count} entries, more than ${limits.maxZipEntries}`);
  }
  const entries: ZipEntry[] = [];
  let at = end.offset;
  for (let index = 0; index < end.count; index++) {
    if (at + 46 > view.byteLength || view.getUint32(at, true) !== centralHeaderSignature) {
      throw corrupt('the zip central directory is damaged');
    }
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    const next = at + 46 + nameLength + extraLength + commentLength;
    if (next > view.byteLength) throw corrupt('the zip central directory is damaged');
    const entry: ZipEntry = {
      name: new TextDecoder().decode(bytes.subarray(at + 46, at + 46 + nameLength)),
      flags: view.getUint16(at + 8, true),
      method: view.getUint16(at + 10, true),
      crc32: view.getUint32(at + 16, true),
      compressedSize: view.getUint32(at + 20, true),
      size: view.getUint32(at + 24, true),
      localHeaderOffset: view.getUint32(at + 42, true),
    };
    readZip64Extra(view, at + 46 + nameLength, extraLength, entry);
    entries.push(entry);
    at = next;
  }
  // Entries whose data overlap (many headers pointing at one deflate stream) multiply a small
  // file into gigabytes while each entry looks honest; honest archives store each entry once.
  const stored = entries.reduce((sum, entry) => sum + entry.compressedSize, 0);
  if (stored > bytes.byteLength)
    throw corrupt('the zip entries overlap (their data is larger than the file)');
  const starts = new Set(entries.map((entry) => entry.localHeaderOffset));
  if (starts.size < entries.length) throw corrupt('the zip entries overlap (two share one local header)');
  return entries;
}

/**
 * Inflates the entries `select` picks, after checking them against the limits: total declared size
 * at most `maxInflatedBytes`, each entry's ratio at most `maxCompressionRatio`. Every entry is
 * inflated with a hard cap at its declared size and checked against its CRC.
 * Fails with `too_large`, `encrypted` or `corrupt`.
 */
export function readZip(
  bytes: Uint8Array,
  limits: Pick<ExtractLimits, 'maxZipEntries' | 'maxInflatedBytes' | 'maxCompressionRatio'>,
  select: (name: string) => boolean = () => true,
): Map<string, Uint8Array> {
  const entries = listZipEntries(bytes, limits).filter(
    (entry) => !entry.name.endsWith('/') && select(entry.name),
  );
  let declaredTotal = 0;
  for (const entry of entries) {
    declaredTotal += entry.size;
    const ratio = entry.size / Math.max(entry.compressedSize, 1);
    if (entry.size > ratioExemptBytes && ratio > limits.maxCompressionRatio) {
      throw tooLarge(
        `zip entry ${entry.name} would inflate ${Math.round(ratio)}:1, more than ${limits.maxCompressionRatio}:1`,
      );
    }
  }
  if (declaredTotal > limits.maxInflatedBytes) {
    throw tooLarge(
      `the archive would inflate to ${declaredTotal} bytes, more than ${limits.maxInflatedBytes}`,
    );
  }
  const files = new Map<string, Uint8Array>();
  for (const entry of entries) {
    // Two entries with one name let two readers see two documents; refuse rather than pick one.
    if (files.has(entry.name)) throw corrupt(`the archive holds ${entry.name} twice`);
    files.set(entry.name, readZipEntry(bytes, entry));
  }
  return files;
}

/** One entry's bytes, inflated with a hard cap at its declared size and checked against its CRC. */
export function readZipEntry(bytes: Uint8Array, entry: ZipEntry): Uint8Array {
  if ((entry.flags & 1) !== 0) throw encrypted(`zip entry ${entry.name} is encrypted`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const at = entry.localHeaderOffset;
  if (at + 30 > view.byteLength || view.getUint32(at, true) !== localHeaderSignature) {
    throw corrupt(`zip entry ${entry.name} has no local header`);
  }
  const dataStart = at + 30 + view.getUint16(at + 26, true) + view.getUint16(at + 28, true);
  const dataEnd = dataStart + entry.compressedSize;
  if (dataEnd > view.byteLength) throw corrupt(`zip entry ${entry.name} is truncated`);
  const data = bytes.subarray(dataStart, dataEnd);
  let content: Uint8Array;
  if (entry.method === 0) {
    content = data;
  } else if (entry.method === 8) {
    content = inflateCapped(data, entry);
  } else {
    throw corrupt(`zip entry ${entry.name} uses compression method ${entry.method}, which is not supported`);
  }
  if (content.length !== entry.size) {
    throw corrupt(`zip entry ${entry.name} holds ${content.length} bytes, not the ${entry.size} it declares`);
  }
  if (crc32(content) !== entry.crc32) throw corrupt(`zip entry ${entry.name} fails its CRC check`);
  return content;
}

function inflateCapped(data: Uint8Array, entry: ZipEntry): Uint8Array {
  try {
    // maxOutputLength must be positive; a declared size of 0 with output of 1 byte still fails below.
    return inflateRawSync(data, { maxOutputLength: Math.max(entry.size, 1) });
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw tooLarge(`zip entry ${entry.name} inflates past the ${entry.size} bytes it declares`);
    }
    throw corrupt(`zip entry ${entry.name} cannot be inflated`, error);
  }
}

function findEndOfCentralDirectory(view: DataView): { count: number; offset: number } {
  // The record is 22 bytes plus a comment of at most 65,535 bytes, at the very end.
  const lowest = Math.max(0, view.byteLength - 22 - 0xffff);
  for (let at = view.byteLength - 22; at >= lowest; at--) {
    if (view.getUint32(at, true) !== endOfCentralDirectorySignature) continue;
    let count = view.getUint16(at + 10, true);
    let offset = view.getUint32(at + 16, true);
    if (count === 0xffff || offset === 0xffffffff) {
      const zip64 = readZip64End(view, at);
      count = zip64.count;
      offset = zip64.offset;
    }
    if (offset > view.byteLength) throw corrupt('the zip central directory lies outside the file');
    return { count, offset };
  }
  throw corrupt('not a complete zip archive (no end of central directory record)');
}

function readZip64End(view: DataView, endRecordAt: number): { count: number; offset: number } {
  const locatorAt = endRecordAt - 20;
  if (locatorAt < 0 || view.getUint32(locatorAt, true) !== zip64LocatorSignature) {
    throw corrupt('the zip64 end of central directory locator is missing');
  }
  const recordAt = safeNumber(view.getBigUint64(locatorAt + 8, true));
  if (recordAt + 56 > view.byteLength || view.getUint32(recordAt, true) !== zip64EndSignature) {
    throw corrupt('the zip64 end of central directory record is damaged');
  }
  return {
    count: safeNumber(view.getBigUint64(recordAt + 32, true)),
    offset: safeNumber(view.getBigUint64(recordAt + 48, true)),
  };
}

/** Sizes and offsets too large for 32 bits live in the zip64 extra field, in this order. */
function readZip64Extra(view: DataView, at: number, length: number, entry: ZipEntry): void {
  const needs = [
    entry.size === 0xffffffff,
    entry.compressedSize === 0xffffffff,
    entry.localHeaderOffset === 0xffffffff,
  ];
  if (!needs.some(Boolean)) return;
  const end = at + length;
  while (at + 4 <= end) {
    const id = view.getUint16(at, true);
    const size = view.getUint16(at + 2, true);
    if (id === 0x0001) {
      let field = at + 4;
      const next = (): number => {
        if (field + 8 > at + 4 + size) throw corrupt(`zip entry ${entry.name} has a short zip64 field`);
        const value = safeNumber(view.getBigUint64(field, true));
        field += 8;
        return value;
      };
      if (needs[0]) entry.size = next();
      if (needs[1]) entry.compressedSize = next();
      if (needs[2]) entry.localHeaderOffset = next();
      return;
    }
    at += 4 + size;
  }
  throw corrupt(`zip entry ${entry.name} lacks its zip64 sizes`);
}

function safeNumber(value: bigint): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt('a zip64 size or offset is out of range');
  return Number(value);
}

/**
 * Writes a zip archive (no zip64, no encryption). Used to hand libraries that read archives
 * themselves (mammoth) only entries this module already inflated under the caps, stored
 * uncompressed so the library has nothing left to inflate. `compress` picks entries to deflate
 * (for test fixtures that look like what office suites write).
 */
export function writeZip(
  files: Iterable<[string, Uint8Array]>,
  options: { compress?: (name: string) => boolean } = {},
): Uint8Array {
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  let count = 0;
  for (const [name, content] of files) {
    const nameBytes = new TextEncoder().encode(name);
    const compress = options.compress?.(name) ?? false;
    const data = compress ? deflateRawSync(content, { level: 9 }) : content;
    const method = compress ? 8 : 0;
    const checksum = crc32(content);
    const local = new Uint8Array(30 + nameBytes.length);
    const localView = new DataView(local.buffer);
    localView.setUint32(0, localHeaderSignature, true);
    localView.setUint16(4, 20, true); // version needed: 2.0
    localView.setUint16(6, 0x0800, true); // names are UTF-8
    localView.setUint16(8, method, true);
    localView.setUint16(12, 0x21, true); // 1980-01-01, so archives are byte-for-byte reproducible
    localView.setUint32(14, checksum, true);
    localView.setUint32(18, data.length, true);
    localView.setUint32(22, content.length, true);
    localView.setUint16(26, nameBytes.length, true);
    local.set(nameBytes, 30);
    const central = new Uint8Array(46 + nameBytes.length);
    const centralView = new DataView(central.buffer);
    centralView.setUint32(0, centralHeaderSignature, true);
    centralView.setUint16(4, 20, true);
    centralView.setUint16(6, 20, true);
    centralView.setUint16(8, 0x0800, true);
    centralView.setUint16(10, method, true);
    centralView.setUint16(14, 0x21, true);
    centralView.setUint32(16, checksum, true);
    centralView.setUint32(20, data.length, true);
    centralView.setUint32(24, content.length, true);
    centralView.setUint16(28, nameBytes.length, true);
    centralView.setUint32(42, offset, true);
    central.set(nameBytes, 46);
    locals.push(local, data);
    centrals.push(central);
    offset += local.length + data.length;
    count++;
  }
  const centralSize = centrals.reduce((sum, part) => sum + part.length, 0);
  const end = new Uint8Array(22);
  const endView = new DataView(end.buffer);
  endView.setUint32(0, endOfCentralDirectorySignature, true);
  endView.setUint16(8, count, true);
  endView.setUint16(10, count, true);
  endView.setUint32(12, centralSize, true);
  endView.setUint32(16, offset, true);
  return Buffer.concat([...locals, ...centrals, end]);
}
