import { countTokens as cl100kCount } from 'gpt-tokenizer/encoding/cl100k_base';
import { countTokens as o200kCount } from 'gpt-tokenizer/encoding/o200k_base';
import type { TokenizerName } from '../../../src/pipeline/chunk/settings.js';
import type { ExtractedText } from '../../../src/pipeline/extract/types.js';

/*
 * Oracles for the chunking tests, deliberately naive and independent of the code under test:
 * gpt-tokenizer itself for token counts, linear scans for pages and heading paths, a regex for
 * words.
 */

const PLAIN = { disallowedSpecial: new Set<string>() };

/** Tokens of `text` according to gpt-tokenizer itself, special-token strings as plain text. */
export function referenceTokens(text: string, tokenizer: TokenizerName): number {
  return tokenizer === 'o200k_base' ? o200kCount(text, PLAIN) : cl100kCount(text, PLAIN);
}

export const wordsOf = (text: string) => text.split(/\s+/).filter(Boolean);

/** Titles of the headings enclosing `offset`, by a linear walk with a stack. */
export function referenceHeadingPath(document: ExtractedText, offset: number): string[] {
  const stack: { level: number; title: string }[] = [];
  for (const heading of document.headings) {
    if (heading.start > offset) break;
    while (stack.length > 0 && (stack.at(-1)?.level ?? 0) >= heading.level) stack.pop();
    stack.push(heading);
  }
  return stack.map((heading) => heading.title);
}

/** Pages sharing at least one character with [start, end). */
export function referencePages(document: ExtractedText, start: number, end: number): number[] {
  return document.pages.filter((page) => page.start < end && page.end > start).map((page) => page.page);
}

/** Not between the halves of a surrogate pair. */
export function isCharacterBoundary(text: string, offset: number): boolean {
  if (offset <= 0 || offset >= text.length) return true;
  const before = text.charCodeAt(offset - 1);
  const after = text.charCodeAt(offset);
  return !(before >= 0xd800 && before <= 0xdbff && after >= 0xdc00 && after <= 0xdfff);
}
