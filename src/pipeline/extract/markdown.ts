import { decodeDocumentText } from './decode.js';
import { emptyDocument } from './failures.js';
import type { Extractor, Heading } from './types.js';

/**
 * Markdown is kept as written (it reads well as text, and chunkers see its structure); only its
 * headings are recorded. See markdownHeadings for why a line scanner and not a Markdown parser.
 */
export const extractMarkdown: Extractor = async (bytes, limits, hints) => {
  const text = decodeDocumentText(bytes, limits, hints);
  if (text.trim().length === 0) throw emptyDocument();
  return { text, headings: markdownHeadings(text), pages: [] };
};

const fenceOpen = /^(`{3,})[^`]*$|^(~{3,})/;
const atxHeading = /^(#{1,6})(?:[ \t]+|$)/;
const setextUnderline = /^(=+|-+)[ \t]*$/;
const thematicBreak = /^(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,})$/;
const listItem = /^(?:[-+*]|\d{1,9}[.)])(?:([ \t]+)|$)/;
const htmlUntilBlankLine = /^<(?:\/?[a-zA-Z][\w-]*(?:[\s/>]|$)|![A-Z])/;
const htmlWithEndMarker: ReadonlyArray<{ start: RegExp; end: RegExp }> = [
  { start: /^<(?:script|pre|style|textarea)(?:[\s>]|$)/i, end: /<\/(?:script|pre|style|textarea)>/i },
  { start: /^<!--/, end: /-->/ },
  { start: /^<\?/, end: /\?>/ },
  { start: /^<!\[CDATA\[/, end: /\]\]>/ },
];

/** What the lines before the current one opened and the current one may continue. */
type Block =
  | { kind: 'none' }
  | { kind: 'paragraph'; start: number; lines: string[] }
  | { kind: 'fence'; marker: string }
  | { kind: 'html'; end: RegExp | undefined }
  /** A list item or block quote: later lines belong to it while indented past `indent`, or lazily. */
  | { kind: 'container'; indent: number };

/**
 * Top-level ATX (`## Title`) and setext (`Title` over `===` or `---`) headings, `start` being the
 * offset of the heading's first line. A line scanner following CommonMark's block rules: headings
 * inside fenced or indented code, HTML blocks, block quotes and list items are not sections of the
 * document, and `---` under a list item or after a blank line is a thematic break.
 *
 * Not a Markdown parser because they recurse into nested block quotes and lists: marked took 8.5 s
 * on a line of a million `>` and ran out of memory on 3,000 nested list items. This scan is linear
 * in the text and allocates one string per line.
 */
export function markdownHeadings(text: string): Heading[] {
  const headings: Heading[] = [];
  let block: Block = { kind: 'none' };
  let previousBlank = true;
  for (let lineStart = frontMatterEnd(text); lineStart <= text.length; ) {
    const newline = text.indexOf('\n', lineStart);
    const lineEnd = newline === -1 ? text.length : newline;
    const line = text.slice(lineStart, lineEnd);
    block = scanLine(line, lineStart, block, previousBlank, headings);
    previousBlank = line.trim() === '';
    if (newline === -1) break;
    lineStart = newline + 1;
  }
  return headings;
}

/** Where YAML front matter (`---` ... `---` at the very start, as static site generators write it) ends. */
function frontMatterEnd(text: string): number {
  if (!text.startsWith('---\n')) return 0;
  const end = /^(?:---|\.\.\.)[ \t]*$/m.exec(text.slice(4));
  if (end === null) return 0;
  const after = text.indexOf('\n', 4 + end.index);
  return after === -1 ? text.length : after + 1;
}

function scanLine(
  line: string,
  offset: number,
  block: Block,
  previousBlank: boolean,
  headings: Heading[],
): Block {
  if (block.kind === 'fence') {
    return closesFence(line, block.marker) ? { kind: 'none' } : block;
  }
  if (block.kind === 'html') {
    if (block.end === undefined) return line.trim() === '' ? { kind: 'none' } : block;
    return block.end.test(line) ? { kind: 'none' } : block;
  }
  if (line.trim() === '') return block.kind === 'container' ? block : { kind: 'none' };

  const indent = indentWidth(line);
  if (
    block.kind === 'container' &&
    (indent >= block.indent || (!previousBlank && isLazyContinuation(line)))
  ) {
    return block; // inside a list item or quote: not a top-level line
  }
  const content = stripIndent(line, 3);
  if (content === undefined) {
    // Four or more spaces: indented code, or the continuation of an open paragraph.
    if (block.kind === 'paragraph') block.lines.push(line);
    return block.kind === 'paragraph' ? block : { kind: 'none' };
  }
  if (block.kind === 'paragraph') {
    const underline = setextUnderline.exec(content);
    if (underline?.[1] !== undefined) {
      pushHeading(headings, underline[1][0] === '=' ? 1 : 2, block.lines.join(' '), block.start);
      return { kind: 'none' };
    }
  }
  const fence = fenceOpen.exec(content);
  if (fence !== null) return { kind: 'fence', marker: fence[1] ?? fence[2] ?? '```' };
  const atx = atxHeading.exec(content);
  if (atx?.[1] !== undefined) {
    // The closing sequence (`## Title ##`) is not part of the title.
    const title = content.slice(atx[0].length).replace(/(?:^|[ \t]+)#+[ \t]*$/, '');
    pushHeading(headings, atx[1].length, title, offset);
    return { kind: 'none' };
  }
  if (thematicBreak.test(content)) return { kind: 'none' };
  if (content.startsWith('>')) return { kind: 'container', indent: indent + 2 };
  const item = listItem.exec(content);
  if (item !== null) return { kind: 'container', indent: indent + item[0].length };
  for (const html of htmlWithEndMarker) {
    if (html.start.test(content))
      return html.end.test(content) ? { kind: 'none' } : { kind: 'html', end: html.end };
  }
  // Other HTML blocks cannot interrupt a paragraph; they end at a blank line.
  if (block.kind !== 'paragraph' && htmlUntilBlankLine.test(content)) return { kind: 'html', end: undefined };
  if (block.kind === 'paragraph') {
    block.lines.push(line);
    return block;
  }
  return { kind: 'paragraph', start: offset, lines: [line] };
}

/** A closing fence: the opening's character, at least as many, nothing after but spaces. */
function closesFence(line: string, marker: string): boolean {
  const content = stripIndent(line, 3)?.trimEnd();
  if (content === undefined || content.length < marker.length) return false;
  for (const char of content) if (char !== marker[0]) return false;
  return true;
}

/** A line that continues the paragraph of a list item or quote without its indentation or `>`. */
function isLazyContinuation(line: string): boolean {
  const content = stripIndent(line, 3);
  if (content === undefined) return true;
  return !(
    fenceOpen.test(content) ||
    atxHeading.test(content) ||
    thematicBreak.test(content) ||
    content.startsWith('>') ||
    listItem.test(content) ||
    htmlWithEndMarker.some((html) => html.start.test(content))
  );
}

function pushHeading(headings: Heading[], level: number, raw: string, start: number): void {
  const title = inlineText(raw);
  if (title !== '') headings.push({ level, title, start });
}

/**
 * A heading's readable text: `*em*` -> `em`, `[link](url)` -> `link`, images by alt text, code
 * spans and escapes unwrapped, tags dropped. Titles are capped first so these patterns stay cheap.
 */
function inlineText(raw: string): string {
  return raw
    .slice(0, 1000)
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/!?\[([^\]]*)\]\[[^\]]*\]/g, '$1')
    .replace(/<(https?:[^>\s]*)>/g, '$1')
    .replace(/<\/?[a-zA-Z][^>]*>/g, '')
    .replace(/`+([^`]*)`+/g, '$1')
    .replace(/(\*{1,3}|_{1,3}|~~)(?=\S)([^*_~]*?\S)\1/g, '$2')
    .replace(/\\([!-/:-@[-`{-~])/g, '$1')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Columns of leading whitespace, a tab reaching the next multiple of 4. */
function indentWidth(line: string): number {
  let width = 0;
  for (const char of line) {
    if (char === ' ') width++;
    else if (char === '\t') width += 4 - (width % 4);
    else break;
  }
  return width;
}

/** The line without up to `max` columns of indentation, or undefined if it is indented more. */
function stripIndent(line: string, max: number): string | undefined {
  if (indentWidth(line) > max) return undefined;
  return line.trimStart();
}
