import { type ChunkSpan, checkBudget, type Measure } from './span.js';
import { skipWhitespaceBackward, skipWhitespaceForward } from './whitespace.js';

export type { Measure } from './span.js';

export interface RecursiveBudget {
  /** Most units a chunk may hold. */
  size: number;
  /** Most units a chunk may share with the one before (whole pieces only). */
  overlap: number;
  measure: Measure;
}

/** UTF-16 code units: `text.length`, what LangChain's JavaScript splitter measures too. */
export const measureCharacters: Measure = (start, end) => end - start;

/**
 * Separator levels, coarsest first, as in LangChain's RecursiveCharacterTextSplitter
 * (["\n\n", "\n", ". ", " ", ""]), with two changes that make chunks read better:
 * - sentences end at any of . ! ? … (and closing quotes or brackets after them) followed by
 *   whitespace, or at a CJK full stop, not only at ". ";
 * - a separator stays with the text before it ("end." | "Next"), where LangChain's JavaScript
 *   splitter starts the next piece with it (". Next"); chunk edges are then trimmed of whitespace.
 * Each level is searched in a slice of the range being split, so a search never runs past it.
 */
const SEPARATOR_LEVELS: readonly RegExp[] = [
  /\n[^\S\n]*\n\s*/g, // a blank line: paragraphs
  /\n\s*/g, // lines
  /[.!?\u2026]+["'\u2019\u201d)\]]*\s+|[\u3002\uff01\uff1f]+["'\u2019\u201d\u300d\u300f)\]]*\s*/g, // sentences
  /\s+/g, // words
];
/** The last resort: between any two code points. */
const CHARACTER_LEVEL = SEPARATOR_LEVELS.length;

/**
 * Cuts text[from, to) the way LangChain's RecursiveCharacterTextSplitter does, on offsets:
 * split at the coarsest separator present; pieces within the budget are merged greedily into
 * chunks, each next chunk starting with the previous chunk's trailing pieces worth at most
 * `overlap` units (and leaving room for the next piece); a piece over the budget is split
 * recursively with the finer separators, down to single code points.
 *
 * Guarantees: every chunk measures at most `size` (measured exactly on its final, trimmed text;
 * the only exception is one code point worth more than `size`: an astral character at size 1, or
 * a character costing more tokens than `size`); chunks are trimmed of whitespace and non-empty;
 * starts and ends strictly increase; every non-whitespace character of the range is in a chunk;
 * two chunks overlap only when merged from the same run of pieces, by at most `overlap` units,
 * and the overlap is whole pieces.
 */
export function recursiveSpans(text: string, from: number, to: number, budget: RecursiveBudget): ChunkSpan[] {
  checkBudget(budget.size, budget.overlap);
  const splitter = new RecursiveSplitter(text, budget);
  const spans: ChunkSpan[] = [];
  if (splitter.fits(from, to)) splitter.pushTrimmed(from, to, spans);
  else splitter.split(from, to, 0, spans);
  return spans;
}

class RecursiveSplitter {
  constructor(
    private readonly text: string,
    private readonly budget: RecursiveBudget,
  ) {}

  /** Measure of text[start, end) trimmed of whitespace, as the chunk would be stored. */
  trimmedMeasure(start: number, end: number): number {
    const first = skipWhitespaceForward(this.text, start, end);
    if (first === end) return 0;
    return this.budget.measure(first, skipWhitespaceBackward(this.text, first, end));
  }

  fits(start: number, end: number): boolean {
    return this.trimmedMeasure(start, end) <= this.budget.size;
  }

  pushTrimmed(start: number, end: number, spans: ChunkSpan[]): void {
    const first = skipWhitespaceForward(this.text, start, end);
    if (first < end) spans.push({ start: first, end: skipWhitespaceBackward(this.text, first, end) });
  }

  /** Splits text[start, end), which does not fit, at the first level from `level` present in it. */
  split(start: number, end: number, level: number, spans: ChunkSpan[]): void {
    let used = level;
    let bounds = this.cuts(start, end, used);
    while (bounds.length === 2 && used < CHARACTER_LEVEL) {
      used++;
      bounds = this.cuts(start, end, used);
    }
    // Runs of pieces that fit are merged; a piece that does not is split further on its own.
    let runStart = 0;
    for (let piece = 0; piece < bounds.length - 1; piece++) {
      const pieceStart = bounds[piece] as number;
      const pieceEnd = bounds[piece + 1] as number;
      if (this.fits(pieceStart, pieceEnd)) continue;
      if (runStart < piece) this.merge(bounds, runStart, piece, spans);
      // At the last level a piece is one code point: it goes alone, even over the budget.
      if (used === CHARACTER_LEVEL) this.pushTrimmed(pieceStart, pieceEnd, spans);
      else this.split(pieceStart, pieceEnd, used + 1, spans);
      runStart = piece + 1;
    }
    if (runStart < bounds.length - 1) this.merge(bounds, runStart, bounds.length - 1, spans);
  }

  /** `start`, the cut points strictly inside (start, end) at `level`, then `end`. */
  private cuts(start: number, end: number, level: number): number[] {
    const bounds = [start];
    const text = this.text;
    if (level === CHARACTER_LEVEL) {
      for (let at = start + 1; at < end; at++) {
        const code = text.charCodeAt(at);
        const afterHigh = text.charCodeAt(at - 1);
        // Never between the two halves of a surrogate pair.
        if (code >= 0xdc00 && code <= 0xdfff && afterHigh >= 0xd800 && afterHigh <= 0xdbff) continue;
        bounds.push(at);
      }
    } else {
      const separator = SEPARATOR_LEVELS[level] as RegExp;
      const slice = text.slice(start, end);
      separator.lastIndex = 0;
      for (let match = separator.exec(slice); match !== null; match = separator.exec(slice)) {
        if (match[0].length === 0) {
          separator.lastIndex++;
          continue;
        }
        const cut = start + match.index + match[0].length;
        if (cut < end && cut > (bounds.at(-1) as number)) bounds.push(cut);
      }
    }
    bounds.push(end);
    return bounds;
  }

  /**
   * Merges pieces first..last-1 (bounds[first] to bounds[last]), each of which fits, into
   * chunks: each chunk takes as many pieces as fit, found by galloping then bisecting (exact for
   * characters, whose trimmed measure grows with the range; for tokens it finds a fitting end, the
   * measure being only nearly monotone), then the next chunk starts at the earliest piece whose
   * tail is at most `overlap` and still leaves room for the piece after the chunk.
   */
  private merge(bounds: readonly number[], first: number, last: number, spans: ChunkSpan[]): void {
    const at = (i: number) => bounds[i] as number;
    const { size, overlap } = this.budget;
    let start = first;
    while (start < last) {
      let fitting = start + 1; // one piece always fits
      let failing = last + 1;
      for (let step = 1; fitting < last; step *= 2) {
        const probe = Math.min(fitting + step, last);
        if (this.trimmedMeasure(at(start), at(probe)) <= size) fitting = probe;
        else {
          failing = probe;
          break;
        }
      }
      while (failing - fitting > 1) {
        const middle = (fitting + failing) >>> 1;
        if (this.trimmedMeasure(at(start), at(middle)) <= size) fitting = middle;
        else failing = middle;
      }
      const end = fitting;
      this.pushTrimmed(at(start), at(end), spans);
      if (end === last) return;
      // The next chunk starts at the smallest piece index in (start, end] whose tail up to `end`
      // fits in the overlap and, with the next piece, in a chunk. `end` itself always qualifies.
      let low = start + 1;
      let high = end;
      while (low < high) {
        const middle = (low + high) >>> 1;
        const carried =
          this.trimmedMeasure(at(middle), at(end)) <= overlap &&
          this.trimmedMeasure(at(middle), at(end + 1)) <= size;
        if (carried) high = middle;
        else low = middle + 1;
      }
      start = low;
    }
  }
}
