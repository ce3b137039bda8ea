import { createRequire } from 'node:module';
import { DEFAULT_TOKENIZER, type TokenizerName } from './chunk/settings.js';
import { WHITESPACE } from './chunk/whitespace.js';

/*
 * Token counts for OpenAI's BPE tokenizers, through gpt-tokenizer, with three rules:
 *
 * 1. Special-token strings in a document ("<|endoftext|>", "<|fim_prefix|>", ...) are plain text.
 *    gpt-tokenizer throws on them by default, and with `allowedSpecial: 'all'` it recognises one
 *    only at the very start of the text (its special-token regex is sticky), so "<|endoftext|>"
 *    counted 1 at offset 0 and 7 anywhere else. `disallowedSpecial: new Set()` encodes every
 *    occurrence as ordinary text, which is what a document is.
 *
 * 2. Counting is done here, piece by piece: the tokenizer's own split pattern cuts the text into
 *    pieces, each piece is byte-pair encoded on its own, so a text's count is the sum of its
 *    pieces' counts. Pieces repeat (words), so their counts are cached: this is several times
 *    faster than gpt-tokenizer's countTokens and gives the same numbers (tested against it).
 *    `TokenizedText` goes further: it tokenizes a document once and then counts any range of it
 *    exactly, in logarithmic time plus a few pieces at its edges, so chunk token counts (and
 *    token budgets) cost one pass over the document instead of one pass per chunk.
 *
 * 3. A piece longer than LONG_PIECE characters (a run of spaces, of letters, of CJK characters
 *    without punctuation) is merged here in O(n log n), where gpt-tokenizer is quadratic.
 *
 * gpt-tokenizer's split patterns, vocabularies and UTF-8 check are read from its modules
 * (encodingParams/constants, bpeRanks/*, utfUtil: public paths of its package exports, but not
 * its documented API); the tests pin what this file assumes of them, against gpt-tokenizer itself.
 * The encodings load on first use (o200k_base's table is 2.4 MB of source, cl100k_base's 1.2 MB),
 * synchronously through require, because chunking is synchronous.
 */

type Encoding = typeof import('gpt-tokenizer/encoding/cl100k_base');
type RanksModule = typeof import('gpt-tokenizer/bpeRanks/cl100k_base');
type SplitPatterns = typeof import('gpt-tokenizer/encodingParams/constants');
type UtfUtil = typeof import('gpt-tokenizer/utfUtil');

const requireModule = createRequire(import.meta.url);

/** Encode options that make special-token strings ordinary text (see rule 1 above). */
const PLAIN_TEXT = { disallowedSpecial: new Set<string>() };

/** Longer pieces are rare and unlikely to repeat; caching them would only hold memory. */
const MAX_CACHED_PIECE_LENGTH = 64;
/**
 * Slots of the piece table (powers of two). It is kept dense, because every lookup of a piece
 * costs a cache line, and a worker's caches are shared with Postgres and the API: the table
 * starts small, doubles when FULL of its slots are used, and starts over, small again, when the
 * largest table fills. (A fixed table of the largest size held the bench's ~9,700 pieces one a
 * cache line, 620 KB of lines: chunking after an 8 MB cache sweep took 15-25% longer.)
 */
const FIRST_TABLE_SLOTS = 1 << 12;
const LARGEST_TABLE_SLOTS = 1 << 17;
/** Linear probing stays short up to this load: ~1.8 slots to find a piece, ~4 to miss one. */
const FULL = 5 / 8;
/**
 * Int32s per slot: the piece's hash (0: free), its length and tokens (length << 8 | tokens), then
 * its characters, two UTF-16 units an Int32, when it has at most INLINE_UNITS of them, or else
 * its offset in the arena. A cached piece has at most 64 units, so at most 192 UTF-8 bytes and as
 * many tokens: 8 bits hold them.
 */
const SLOT_WIDTH = 8;
const INLINE_UNITS = (SLOT_WIDTH - 2) * 2;

export interface PieceTableFill {
  slots: number;
  used: number;
}

class PieceTable {
  private slots = new Int32Array(FIRST_TABLE_SLOTS * SLOT_WIDTH);
  private mask = FIRST_TABLE_SLOTS - 1;
  /** Every cached piece's characters, one after another. */
  private arena = new Uint16Array(1 << 16);
  private arenaUsed = 0;
  /** Token ends inside multi-token pieces, by slot: only the `tokens` strategy asks for them. */
  private cuts = new Map<number, Int32Array>();
  private used = 0;
  /** The piece tokens() last looked up (slot, text, range), for tokenCuts() right after it. */
  private last = -1;
  private lastText = '';
  private lastStart = -1;
  private lastEnd = -1;

  constructor(
    private readonly countOf: (piece: string) => number,
    private readonly cutsOf: (piece: string) => Int32Array,
  ) {}

  /** Tokens of the piece text[start, end), which the split pattern matched as one piece. */
  tokens(text: string, start: number, end: number): number {
    if (end - start > MAX_CACHED_PIECE_LENGTH) return this.countOf(text.slice(start, end));
    this.last = this.slotOf(text, start, end);
    this.lastText = text;
    this.lastStart = start;
    this.lastEnd = end;
    return (this.slots[this.last * SLOT_WIDTH + 1] as number) & 0xff;
  }

  /** Where each token of a piece of several tokens ends but the last (see cutsOfPiece). */
  tokenCuts(text: string, start: number, end: number): Int32Array {
    if (end - start > MAX_CACHED_PIECE_LENGTH) return this.cutsOf(text.slice(start, end));
    // Usually asked right after tokens() for the same piece: skip the second lookup. (Offsets
    // first: comparing two equal texts that are different strings would read them whole.)
    const same = start === this.lastStart && end === this.lastEnd && text === this.lastText;
    const slot = same ? this.last : this.slotOf(text, start, end);
    let cuts = this.cuts.get(slot);
    if (cuts === undefined) {
      cuts = this.cutsOf(text.slice(start, end));
      this.cuts.set(slot, cuts);
    }
    return cuts;
  }

  /** The piece's slot, counting and inserting it when absent. */
  private slotOf(text: string, start: number, end: number): number {
    const length = end - start;
    let hash = 0x811c9dc5;
    for (let at = start; at < end; at++) hash = Math.imul(hash ^ text.charCodeAt(at), 0x01000193);
    hash |= 1; // never 0, which marks a free slot
    const mask = this.mask;
    const slots = this.slots;
    const arena = this.arena;
    let slot = homeOf(hash, mask);
    for (let base = slot * SLOT_WIDTH; slots[base] !== 0; base = slot * SLOT_WIDTH) {
      if (slots[base] === hash && (slots[base + 1] as number) >>> 8 === length) {
        let at = 0;
        if (length <= INLINE_UNITS) {
          while (
            at < length &&
            (((slots[base + 2 + (at >>> 1)] as number) >>> ((at & 1) << 4)) & 0xffff) ===
              text.charCodeAt(start + at)
          )
            at++;
        } else {
          const offset = slots[base + 2] as number;
          while (at < length && arena[offset + at] === text.charCodeAt(start + at)) at++;
        }
        if (at === length) return slot;
      }
      slot = (slot + 1) & mask;
    }
    if (this.used >= (mask + 1) * FULL) {
      if (mask + 1 < LARGEST_TABLE_SLOTS) {
        this.rehash((mask + 1) * 2);
      } else {
        // The largest table is full: start over rather than grow without bound.
        this.slots = new Int32Array(FIRST_TABLE_SLOTS * SLOT_WIDTH);
        this.mask = FIRST_TABLE_SLOTS - 1;
        this.arenaUsed = 0;
        this.cuts.clear();
        this.used = 0;
      }
      this.lastText = '';
      return this.slotOf(text, start, end);
    }
    const base = slot * SLOT_WIDTH;
    slots[base] = hash;
    slots[base + 1] = (length << 8) | this.countOf(text.slice(start, end));
    if (length <= INLINE_UNITS) {
      for (let at = 0; at < length; at += 2) {
        const high = at + 1 < length ? text.charCodeAt(start + at + 1) << 16 : 0;
        slots[base + 2 + (at >>> 1)] = high | text.charCodeAt(start + at);
      }
    } else {
      slots[base + 2] = this.store(text, start, end);
    }
    this.used++;
    return slot;
  }

  /** The table's size and how many pieces it holds (for tests of its growth). */
  fill(): PieceTableFill {
    return { slots: this.mask + 1, used: this.used };
  }

  /** Moves every piece into a table of `size` slots (arena offsets stay valid). */
  private rehash(size: number): void {
    const old = this.slots;
    const slots = new Int32Array(size * SLOT_WIDTH);
    const mask = size - 1;
    const cuts = new Map<number, Int32Array>();
    for (let from = 0; from < old.length; from += SLOT_WIDTH) {
      const hash = old[from] as number;
      if (hash === 0) continue;
      let slot = homeOf(hash, mask);
      while (slots[slot * SLOT_WIDTH] !== 0) slot = (slot + 1) & mask;
      slots.set(old.subarray(from, from + SLOT_WIDTH), slot * SLOT_WIDTH);
      const pieceCuts = this.cuts.get(from / SLOT_WIDTH);
      if (pieceCuts !== undefined) cuts.set(slot, pieceCuts);
    }
    this.slots = slots;
    this.mask = mask;
    this.cuts = cuts;
  }

  /** Copies text[start, end) into the arena, growing it when full; returns where it went. */
  private store(text: string, start: number, end: number): number {
    const offset = this.arenaUsed;
    if (offset + (end - start) > this.arena.length) {
      const bigger = new Uint16Array(this.arena.length * 2);
      bigger.set(this.arena.subarray(0, offset));
      this.arena = bigger;
    }
    const arena = this.arena;
    for (let at = start; at < end; at++) arena[offset + at - start] = text.charCodeAt(at);
    this.arenaUsed = offset + (end - start);
    return offset;
  }
}

/** The slot a hash probes first. */
function homeOf(hash: number, mask: number): number {
  return (hash ^ (hash >>> 17)) & mask;
}

interface Tokenizer {
  readonly encoding: Encoding;
  /** The encoding's split pattern, sticky: matches exactly at lastIndex, allocating nothing. */
  readonly sticky: RegExp;
  /** The same pattern, global: finds the next match after text the pattern does not match. */
  readonly search: RegExp;
  readonly pieces: PieceTable;
}

const modulesOf: Record<TokenizerName, { encoding: string; ranks: string; split: keyof SplitPatterns }> = {
  cl100k_base: {
    encoding: 'gpt-tokenizer/encoding/cl100k_base',
    ranks: 'gpt-tokenizer/bpeRanks/cl100k_base',
    split: 'CL100K_TOKEN_SPLIT_REGEX',
  },
  o200k_base: {
    encoding: 'gpt-tokenizer/encoding/o200k_base',
    ranks: 'gpt-tokenizer/bpeRanks/o200k_base',
    split: 'O200K_TOKEN_SPLIT_REGEX',
  },
};

const loaded = new Map<TokenizerName, Tokenizer>();

function tokenizerNamed(name: TokenizerName): Tokenizer {
  let tokenizer = loaded.get(name);
  if (tokenizer === undefined) {
    const modules = modulesOf[name];
    const patterns = requireModule('gpt-tokenizer/encodingParams/constants') as SplitPatterns;
    const source = patterns[modules.split].source;
    const encoding = requireModule(modules.encoding) as Encoding;
    tokenizer = {
      encoding,
      sticky: new RegExp(source, 'uy'),
      search: new RegExp(source, 'gu'),
      pieces: new PieceTable(
        (piece) =>
          piece.length > LONG_PIECE
            ? encodeLongPiece(vocabularyOf(modules.ranks), piece).length
            : encoding.countTokens(piece, PLAIN_TEXT),
        (piece) => cutsOfPiece(encoding, modules.ranks, piece),
      ),
    };
    loaded.set(name, tokenizer);
  }
  return tokenizer;
}

/** The size and fill of a tokenizer's piece table, for tests of its growth. */
export function pieceTableFill(tokenizer: TokenizerName = DEFAULT_TOKENIZER): PieceTableFill {
  return tokenizerNamed(tokenizer).pieces.fill();
}

/** The split pattern of a tokenizer, for tests that pin the assumptions TokenizedText relies on. */
export function splitPatternOf(tokenizer: TokenizerName): RegExp {
  return tokenizerNamed(tokenizer).search;
}

/** End of the piece the split pattern matches at `at`, or -1 if it matches nothing there. */
function pieceEnd(tokenizer: Tokenizer, text: string, at: number): number {
  const sticky = tokenizer.sticky;
  sticky.lastIndex = at;
  return sticky.test(text) && sticky.lastIndex > at ? sticky.lastIndex : -1;
}

/**
 * Where the next piece starts after `at`, where the pattern matched nothing. gpt-tokenizer skips
 * such text (encodes none of it); these patterns match every character, so this never runs, but
 * a future pattern that did not would still be counted like gpt-tokenizer counts it.
 */
function nextPieceStart(tokenizer: Tokenizer, text: string, at: number): number {
  const search = tokenizer.search;
  search.lastIndex = at;
  const match = search.exec(text);
  return match === null ? text.length : Math.max(match.index, at + 1);
}

/** Tokens of a whole string, encoded on its own, piece by piece. */
function countPieces(tokenizer: Tokenizer, text: string): number {
  const counts = tokenizer.pieces;
  let count = 0;
  let at = 0;
  while (at < text.length) {
    const end = pieceEnd(tokenizer, text, at);
    if (end < 0) {
      at = nextPieceStart(tokenizer, text, at);
      continue;
    }
    count += counts.tokens(text, at, end);
    at = end;
  }
  return count;
}

/**
 * Tokens of `text` under `tokenizer` (cl100k_base is the tokenizer of text-embedding-3).
 * Special-token strings such as "<|endoftext|>" count as plain text.
 */
export function countTokens(text: string, tokenizer: TokenizerName = DEFAULT_TOKENIZER): number {
  return countPieces(tokenizerNamed(tokenizer), text);
}

/** Token ids of `text`, special-token strings encoded as plain text. */
export function encodeTokens(text: string, tokenizer: TokenizerName = DEFAULT_TOKENIZER): number[] {
  const named = tokenizerNamed(tokenizer);
  const ids: number[] = [];
  let at = 0;
  while (at < text.length) {
    const end = pieceEnd(named, text, at);
    if (end < 0) {
      at = nextPieceStart(named, text, at);
      continue;
    }
    const pieceIds = encodePiece(named.encoding, modulesOf[tokenizer].ranks, text.slice(at, end));
    for (const id of pieceIds) ids.push(id);
    at = end;
  }
  return ids;
}

/** UTF-8 length of every token, by vocabulary module, built on first need (`tokens` only). */
const tokenBytesByVocabulary = new Map<string, Uint8Array>();

function tokenBytesOf(ranksModule: string): Uint8Array {
  let bytes = tokenBytesByVocabulary.get(ranksModule);
  if (bytes === undefined) {
    const ranks = (requireModule(ranksModule) as RanksModule).default;
    const lengths = new Uint8Array(ranks.length);
    // A rank is the token's text, or its bytes when they are not valid UTF-8 on their own.
    ranks.forEach((rank, id) => {
      lengths[id] = typeof rank === 'string' ? Buffer.byteLength(rank, 'utf8') : rank.length;
    });
    tokenBytesByVocabulary.set(ranksModule, lengths);
    bytes = lengths;
  }
  return bytes;
}

const isHighSurrogate = (code: number) => code >= 0xd800 && code <= 0xdbff;
const isLowSurrogate = (code: number) => code >= 0xdc00 && code <= 0xdfff;
/** True when `offset` falls between the two halves of a surrogate pair. */
const insidePair = (text: string, offset: number) =>
  isLowSurrogate(text.charCodeAt(offset)) && isHighSurrogate(text.charCodeAt(offset - 1));

/** UTF-8 bytes of the code point at `at`, as the tokenizer's TextEncoder sees it. */
function utf8Length(code: number, next: number): number {
  if (code < 0x80) return 1;
  if (code < 0x800) return 2;
  if (isHighSurrogate(code) && isLowSurrogate(next)) return 4;
  return 3; // the rest of the BMP, and lone surrogates (encoded as U+FFFD)
}

/**
 * Pieces longer than this (UTF-16 units) are byte-pair encoded here rather than by gpt-tokenizer,
 * whose merge loop rescans the whole piece after every merge: quadratic, half a second for a run
 * of 30,000 spaces and minutes for a few hundred thousand (a padded PDF, a blank spreadsheet
 * area). Same merges, same tokens (tested against it), in O(n log n).
 */
const LONG_PIECE = 256;

interface Vocabulary {
  /** Token ranks by their bytes, as latin1 strings: the tokens gpt-tokenizer can find by bytes. */
  rankOf: Map<string, number>;
  /** Bytes in the longest token: longer spans cannot be a token. */
  longest: number;
}

const vocabularies = new Map<string, Vocabulary>();

function vocabularyOf(ranksModule: string): Vocabulary {
  let vocabulary = vocabularies.get(ranksModule);
  if (vocabulary === undefined) {
    const ranks = (requireModule(ranksModule) as RanksModule).default;
    const { tryConvertToString } = requireModule('gpt-tokenizer/utfUtil') as UtfUtil;
    const rankOf = new Map<string, number>();
    let longest = 0;
    ranks.forEach((rank, id) => {
      // gpt-tokenizer looks a byte span up by its text when the bytes are valid UTF-8, else among
      // the byte tokens: keep exactly the tokens that lookup can reach, under their bytes.
      let bytes: Buffer;
      if (typeof rank === 'string') {
        if (!rank.isWellFormed()) return;
        bytes = Buffer.from(rank, 'utf8');
      } else {
        bytes = Buffer.from(rank);
        if (tryConvertToString(bytes) !== undefined) return;
      }
      rankOf.set(bytes.toString('latin1'), id);
      longest = Math.max(longest, bytes.length);
    });
    vocabulary = { rankOf, longest };
    vocabularies.set(ranksModule, vocabulary);
  }
  return vocabulary;
}

/**
 * Byte-pair encodes one piece as gpt-tokenizer does (merge the adjacent pair of lowest rank, the
 * leftmost on ties, until no pair is a token), with a heap of candidate pairs instead of a scan.
 * A pair is keyed rank * 2^32 + start, so the heap's minimum is also the leftmost one; entries
 * made stale by a merge next to them are skipped when they surface.
 */
function encodeLongPiece(vocabulary: Vocabulary, piece: string): number[] {
  const bytes = Buffer.from(piece, 'utf8'); // lone surrogates become U+FFFD, as in TextEncoder
  const size = bytes.length;
  const { rankOf, longest } = vocabulary;
  const rank = (start: number, end: number) =>
    end - start > longest ? undefined : rankOf.get(bytes.toString('latin1', start, end));
  // Parts are byte ranges [start, next[start]); next[size] is unused.
  const next = new Int32Array(size + 1);
  const previous = new Int32Array(size + 1);
  const alive = new Uint8Array(size + 1).fill(1);
  for (let at = 0; at <= size; at++) {
    next[at] = at + 1;
    previous[at] = at - 1;
  }
  const heap = new MinHeap();
  const offer = (start: number) => {
    const middle = next[start] as number;
    if (middle >= size) return;
    const end = next[middle] as number;
    const pairRank = rank(start, end);
    if (pairRank !== undefined) heap.push(pairRank * 2 ** 32 + start, end);
  };
  for (let at = 0; at + 1 < size; at++) offer(at);
  while (heap.size > 0) {
    const { key, end } = heap.pop();
    const start = key % 2 ** 32;
    const middle = next[start] as number;
    // Stale: the left part was merged away, or either part has grown since.
    if (alive[start] === 0 || middle >= size || next[middle] !== end) continue;
    alive[middle] = 0;
    next[start] = end;
    if (end <= size) previous[end] = start;
    offer(start);
    if (start > 0) offer(previous[start] as number);
  }
  const ids: number[] = [];
  for (let at = 0; at < size; at = next[at] as number) {
    const id = rank(at, next[at] as number);
    if (id === undefined) throw new Error('a part of a piece is not in the vocabulary'); // single bytes always are
    ids.push(id);
  }
  return ids;
}

/** A binary min-heap of (key, end) pairs in typed arrays. */
class MinHeap {
  private keys = new Float64Array(64);
  private ends = new Int32Array(64);
  size = 0;

  push(key: number, end: number): void {
    if (this.size === this.keys.length) {
      const keys = new Float64Array(this.size * 2);
      keys.set(this.keys);
      this.keys = keys;
      const ends = new Int32Array(this.size * 2);
      ends.set(this.ends);
      this.ends = ends;
    }
    let at = this.size++;
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if ((this.keys[parent] as number) <= key) break;
      this.keys[at] = this.keys[parent] as number;
      this.ends[at] = this.ends[parent] as number;
      at = parent;
    }
    this.keys[at] = key;
    this.ends[at] = end;
  }

  pop(): { key: number; end: number } {
    const top = { key: this.keys[0] as number, end: this.ends[0] as number };
    const key = this.keys[--this.size] as number;
    const end = this.ends[this.size] as number;
    let at = 0;
    for (;;) {
      let child = 2 * at + 1;
      if (child >= this.size) break;
      if (child + 1 < this.size && (this.keys[child + 1] as number) < (this.keys[child] as number)) child++;
      if ((this.keys[child] as number) >= key) break;
      this.keys[at] = this.keys[child] as number;
      this.ends[at] = this.ends[child] as number;
      at = child;
    }
    this.keys[at] = key;
    this.ends[at] = end;
    return top;
  }
}

/** Token ids of one piece. */
function encodePiece(encoding: Encoding, ranksModule: string, piece: string): number[] {
  return piece.length > LONG_PIECE
    ? encodeLongPiece(vocabularyOf(ranksModule), piece)
    : encoding.encode(piece, PLAIN_TEXT);
}

/**
 * Where each token of a multi-token piece ends, relative to the piece, except the last (which
 * ends with the piece). A token that ends inside a character (byte tokens of a CJK character or
 * an emoji) is stored as ~offset of that character's start, so it is never taken for a cut.
 */
function cutsOfPiece(encoding: Encoding, ranksModule: string, piece: string): Int32Array {
  const ids = encodePiece(encoding, ranksModule, piece);
  const tokenBytes = tokenBytesOf(ranksModule);
  const cuts = new Int32Array(Math.max(ids.length - 1, 0));
  let unit = 0; // UTF-16 offset of the next character
  let byte = 0; // UTF-8 offset of the same character
  let target = 0;
  for (let token = 0; token < cuts.length; token++) {
    target += tokenBytes[ids[token] as number] as number;
    while (unit < piece.length) {
      const code = piece.charCodeAt(unit);
      const bytes = utf8Length(code, unit + 1 < piece.length ? piece.charCodeAt(unit + 1) : 0);
      if (byte + bytes > target) break;
      byte += bytes;
      unit += bytes === 4 ? 2 : 1;
    }
    cuts[token] = byte === target ? unit : ~unit;
  }
  return cuts;
}

/** The document's token boundaries in UTF-16 offsets, for cutting between tokens. */
export interface TokenBoundaries {
  /** `offsets[i]` is where token i starts (and token i - 1 ends); `offsets[count]` is the end. */
  offsets: Uint32Array;
  /**
   * 1 where boundary i falls inside a character (a token holding part of its UTF-8 bytes); then
   * `offsets[i]` is that character's start. Such a boundary is not a valid cut.
   */
  insideCharacter: Uint8Array;
  /** Tokens in the document. */
  count: number;
}

function grow(array: Uint32Array): Uint32Array {
  const bigger = new Uint32Array(Math.max(array.length * 2, 16));
  bigger.set(array);
  return bigger;
}

function growBytes(array: Uint8Array, length: number): Uint8Array {
  const bigger = new Uint8Array(length);
  bigger.set(array);
  return bigger;
}

/** Records the boundaries inside a piece of several tokens, its first token being `first`. */
function writeCuts(
  cuts: Int32Array,
  pieceStart: number,
  first: number,
  offsets: Uint32Array,
  inside: Uint8Array,
) {
  for (let i = 0; i < cuts.length; i++) {
    const cut = cuts[i] as number;
    const boundary = first + i + 1;
    if (cut >= 0) {
      offsets[boundary] = pieceStart + cut;
    } else {
      offsets[boundary] = pieceStart + ~cut;
      inside[boundary] = 1;
    }
  }
}

/**
 * A document tokenized once, whose ranges can then be counted exactly:
 * `count(start, end) === countTokens(text.slice(start, end), tokenizer)` for every range.
 *
 * Why that holds without re-encoding the range: a range's own tokens are its own pieces, each
 * encoded alone. Its pieces are the document's pieces wherever the split pattern cannot tell
 * the range from the document. The patterns have no look-behind, so from a piece boundary on
 * the range splits like the document; their only look-aheads (`\s+(?!\S)`, `\s+$`) read past a
 * match only at the end of a whitespace run, so the range's pieces stay the document's until the
 * range's trailing whitespace. Only the edges are re-split: a range starting inside a piece is
 * re-split until it falls back on the document's boundaries; the last pieces (those reaching
 * past the range or starting in its trailing whitespace) are re-encoded. The middle is a
 * difference of prefix sums. The tests check the identity on random texts and ranges.
 */
export class TokenizedText {
  /** Tokens in the whole text. */
  readonly tokenCount: number;
  private readonly tokenizer: Tokenizer;
  /** Start of piece i; `pieceStarts[pieces]` is the text's length. */
  private readonly pieceStarts: Uint32Array;
  /** Tokens in pieces before piece i. */
  private readonly tokensBefore: Uint32Array;
  private readonly pieces: number;
  private boundaries: TokenBoundaries | null = null;

  /**
   * Tokenizes `text` once. With `boundaries`, also records every token boundary in the same pass
   * (what the `tokens` strategy cuts at); tokenBoundaries() otherwise computes them on first call.
   */
  constructor(
    readonly text: string,
    readonly tokenizerName: TokenizerName = DEFAULT_TOKENIZER,
    options: { boundaries?: boolean } = {},
  ) {
    const tokenizer = tokenizerNamed(tokenizerName);
    this.tokenizer = tokenizer;
    // Prose averages four to five characters a piece; start near that and double when short.
    let starts: Uint32Array = new Uint32Array((text.length >>> 2) + 16);
    let before: Uint32Array = new Uint32Array(starts.length);
    const keepBoundaries = options.boundaries === true;
    let offsets: Uint32Array = new Uint32Array(keepBoundaries ? starts.length : 0);
    let inside: Uint8Array = new Uint8Array(offsets.length);
    let pieces = 0;
    let tokens = 0;
    let position = 0;
    const counts = tokenizer.pieces;
    while (position < text.length) {
      let end = pieceEnd(tokenizer, text, position);
      const skipped = end < 0; // text the pattern does not match: a piece of no tokens
      if (skipped) end = nextPieceStart(tokenizer, text, position);
      if (pieces + 2 >= starts.length) {
        starts = grow(starts);
        before = grow(before);
      }
      starts[pieces] = position;
      before[pieces++] = tokens;
      const pieceTokens = skipped ? 0 : counts.tokens(text, position, end);
      if (keepBoundaries && pieceTokens > 0) {
        while (tokens + pieceTokens + 1 >= offsets.length) {
          offsets = grow(offsets);
          inside = growBytes(inside, offsets.length);
        }
        if (pieceTokens > 1) {
          writeCuts(counts.tokenCuts(text, position, end), position, tokens, offsets, inside);
        }
        offsets[tokens + pieceTokens] = end;
      }
      tokens += pieceTokens;
      position = end;
    }
    starts[pieces] = text.length; // sentinel: the end, with every token before it
    before[pieces] = tokens;
    this.pieces = pieces;
    this.pieceStarts = starts;
    this.tokensBefore = before;
    this.tokenCount = tokens;
    if (keepBoundaries) {
      offsets[tokens] = text.length;
      this.boundaries = {
        offsets: offsets.subarray(0, tokens + 1),
        insideCharacter: inside.subarray(0, tokens + 1),
        count: tokens,
      };
    }
  }

  /** Tokens of text[start, end) encoded on its own, as countTokens(text.slice(start, end)). */
  count(start: number, end: number): number {
    const text = this.text;
    const from = Math.max(0, start);
    const to = Math.min(text.length, end);
    if (to <= from) return 0;
    const tokenizer = this.tokenizer;
    const whitespace = WHITESPACE;
    let lastText = to;
    while (lastText > from && whitespace[text.charCodeAt(lastText - 1)] === 1) lastText--;
    // All whitespace: nothing in the range splits like the document (see above); or an end
    // inside a surrogate pair: the range has a lone surrogate the document does not, which the
    // split pattern classes differently. Chunk edges are never inside pairs: count those alone.
    if (lastText === from || insidePair(text, from) || insidePair(text, to)) {
      return countPieces(tokenizer, text.slice(from, to));
    }

    const starts = this.pieceStarts;
    let total = 0;
    let at = from;
    let piece = this.pieceAtOrBefore(at);
    if (starts[piece] !== at) {
      // Starting inside a piece: split from here, as the range itself would, until a split
      // lands on a boundary of the document's pieces.
      for (;;) {
        // Inside a document piece that reaches past the range (a long word, a run of spaces or
        // of CJK characters), re-encode the rest: matching from here would scan the whole run.
        if (at >= lastText || (starts[piece + 1] as number) > to) {
          return total + countPieces(tokenizer, text.slice(at, to));
        }
        const end = pieceEnd(tokenizer, text, at);
        if (end < 0 || end > to) return total + countPieces(tokenizer, text.slice(at, to));
        total += tokenizer.pieces.tokens(text, at, end);
        at = end;
        while (piece < this.pieces && (starts[piece + 1] as number) <= at) piece++;
        if (starts[piece] === at) break;
      }
    }
    // Whole document pieces that end within the range and start before its trailing whitespace.
    const endsInside = this.pieceAtOrBefore(to);
    const beforeTrailing = this.firstPieceAtOrAfter(lastText);
    const last = Math.min(endsInside, beforeTrailing);
    if (last > piece) {
      total += (this.tokensBefore[last] as number) - (this.tokensBefore[piece] as number);
      at = starts[last] as number;
    }
    if (at < to) total += countPieces(tokenizer, text.slice(at, to));
    return total;
  }

  /** Every token boundary of the text (computed on first call, then kept). */
  tokenBoundaries(): TokenBoundaries {
    if (this.boundaries !== null) return this.boundaries;
    const count = this.tokenCount;
    const offsets = new Uint32Array(count + 1);
    const insideCharacter = new Uint8Array(count + 1);
    const starts = this.pieceStarts;
    const before = this.tokensBefore;
    let boundary = 0;
    for (let piece = 0; piece < this.pieces; piece++) {
      const tokens = (before[piece + 1] as number) - (before[piece] as number);
      if (tokens === 0) continue;
      const start = starts[piece] as number;
      const end = starts[piece + 1] as number;
      if (tokens > 1) {
        writeCuts(
          this.tokenizer.pieces.tokenCuts(this.text, start, end),
          start,
          boundary,
          offsets,
          insideCharacter,
        );
        boundary += tokens - 1;
      }
      boundary++;
      offsets[boundary] = end;
    }
    offsets[count] = this.text.length; // as in the constructor: trailing skipped text included
    this.boundaries = { offsets, insideCharacter, count };
    return this.boundaries;
  }

  /** Largest piece index whose start is at or before `offset` (the sentinel counts). */
  private pieceAtOrBefore(offset: number): number {
    const starts = this.pieceStarts;
    let low = 0;
    let high = this.pieces;
    while (low < high) {
      const middle = (low + high + 1) >>> 1;
      if ((starts[middle] as number) <= offset) low = middle;
      else high = middle - 1;
    }
    return low;
  }

  /** Smallest piece index whose start is at or after `offset` (the sentinel counts). */
  private firstPieceAtOrAfter(offset: number): number {
    const starts = this.pieceStarts;
    let low = 0;
    let high = this.pieces;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((starts[middle] as number) >= offset) high = middle;
      else low = middle + 1;
    }
    return low;
  }
}
