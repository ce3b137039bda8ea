import type { TokenizedText } from '../tokenize.js';
import { type ChunkSpan, checkBudget } from './span.js';

/**
 * Cuts a tokenized text into windows of `size` tokens, each starting `overlap` tokens before the
 * previous one ends. Cuts fall only between the document's tokens, and only where that is also
 * between characters (code points): a token holding part of a character's UTF-8 bytes (rare CJK
 * characters, emoji) cannot end a chunk, or `text.slice(start, end)` would hold half a character.
 *
 * Guarantees, in document tokens (the document encoded once):
 * - consecutive windows cover every token, in order;
 * - a window holds at most `size` tokens;
 * - the next window starts exactly `overlap` tokens before the previous one's end when that is
 *   a valid cut (always, for text whose characters each encode to whole tokens), else at the
 *   nearest valid cut before it (more overlap, never less); it always starts after the previous
 *   window's start and ends after its end (when a window starting there could not reach past
 *   the previous end, because the characters ahead are worth many tokens, it starts at that end);
 * and on the chunk's own text, which is what an embedding model sees:
 * - `countTokens(chunk.text) <= size`: BPE at a cut can differ from the document's (a chunk that
 *   starts inside a word re-encodes that word's tail on its own), so each window is re-counted
 *   and shortened by whole tokens until it fits.
 * The one exception to both bounds: a window that cannot be cut smaller (no valid cut inside it)
 * is kept whole even over `size`: a character worth more than `size` tokens (only when size < 4,
 * a character being at most four bytes, unless byte tokens straddle several characters).
 * Windows without a word (whitespace only) are dropped with the other strategies' (finishChunks).
 */
export function tokenSpans(
  tokens: Pick<TokenizedText, 'count' | 'tokenBoundaries'>,
  size: number,
  overlap: number,
): ChunkSpan[] {
  checkBudget(size, overlap);
  const { offsets, insideCharacter, count } = tokens.tokenBoundaries();
  const valid = (boundary: number) => insideCharacter[boundary] === 0;
  const offset = (boundary: number) => offsets[boundary] as number;
  let ownTokens = 0; // the last window's own token count, measured by windowEnd
  /** The end of the window starting at valid boundary `start`. */
  const windowEnd = (start: number) => {
    let end = Math.min(start + size, count);
    while (end > start && !valid(end)) end--;
    if (end === start) {
      // Not even one character fits: take the shortest span that can be cut, whole.
      end = start + 1;
      while (!valid(end)) end++;
    }
    ownTokens = tokens.count(offset(start), offset(end));
    while (ownTokens > size) {
      let shorter = end - 1;
      while (shorter > start && !valid(shorter)) shorter--;
      if (shorter === start) break;
      end = shorter;
      ownTokens = tokens.count(offset(start), offset(end));
    }
    return end;
  };
  const spans: ChunkSpan[] = [];
  let start = 0;
  let previousEnd = 0;
  while (start < count) {
    let end = windowEnd(start);
    if (end <= previousEnd) {
      // The overlap leaves no room to reach past the previous window (characters worth many
      // tokens ahead): a window inside the previous one would add nothing, so drop the overlap.
      start = previousEnd;
      end = windowEnd(start);
    }
    spans.push({ start: offset(start), end: offset(end), tokenCount: ownTokens });
    if (end === count) break;
    previousEnd = end;
    let next = end - overlap;
    while (next > start && !valid(next)) next--;
    if (next <= start) {
      next = start + 1;
      while (!valid(next)) next++;
    }
    start = next;
  }
  return spans;
}
