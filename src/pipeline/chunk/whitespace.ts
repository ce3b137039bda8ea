/**
 * Whitespace exactly as JavaScript's `\s` defines it (ECMAScript WhiteSpace and LineTerminator).
 * Word counts (`/\S+/`), chunk trimming and the tokenizers' split patterns all use `\s`, so
 * one definition keeps them in agreement. Every `\s` character is in the BMP, so a table over
 * UTF-16 code units is exact; it is also several times faster than comparisons or a regex.
 */
export const WHITESPACE: Readonly<Uint8Array> = new Uint8Array(0x10000);
for (const code of [
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff,
]) {
  (WHITESPACE as Uint8Array)[code] = 1;
}
(WHITESPACE as Uint8Array).fill(1, 0x2000, 0x200b);

/** Hot loops index WHITESPACE directly: a call per character is not always inlined. */
export function isWhitespaceCode(code: number): boolean {
  return WHITESPACE[code] === 1;
}

/** First offset in [start, end) that is not whitespace, or `end`. */
export function skipWhitespaceForward(text: string, start: number, end: number): number {
  let at = start;
  while (at < end && WHITESPACE[text.charCodeAt(at)] === 1) at++;
  return at;
}

/** One past the last non-whitespace offset in [start, end), or `start`. */
export function skipWhitespaceBackward(text: string, start: number, end: number): number {
  let at = end;
  while (at > start && WHITESPACE[text.charCodeAt(at - 1)] === 1) at--;
  return at;
}
