import { emptyDocument, textTooLong } from './failures.js';
import type { ExtractedText, Heading, PageSpan } from './types.js';

/** What separates the next text from the last: nothing (0), a line break (1) or a blank line (2). */
type Break = 0 | 1 | 2;
const breakText = ['', '\n', '\n\n'] as const;
/** Longest heading title kept. */
const maxTitleChars = 1000;

/**
 * Builds extracted text from a stream of inline text and block boundaries, the way a browser lays
 * out HTML: runs of whitespace collapse to one space, and breaks and spaces are only written when
 * text follows them, so the result never starts or ends with blank lines and a heading's offset is
 * the offset of its first character. Shared by the HTML, DOCX (via HTML), ODT and PPTX readers.
 * The length is checked on every write, so an oversized document fails as soon as it crosses the limit.
 */
export class TextWriter {
  readonly #parts: string[] = [];
  readonly #headings: Heading[] = [];
  readonly #maxChars: number;
  #length = 0;
  #pendingBreak: Break = 0;
  #pendingSpace = false;
  /** The heading whose start is not known yet because no character followed it so far. */
  #unplacedHeading: Heading | undefined;
  /** The heading whose title is being collected from the text written into it. */
  #openHeading: { heading: Heading; title: string[]; length: number } | undefined;

  constructor(maxChars: number) {
    this.#maxChars = maxChars;
  }

  /** UTF-16 length written so far (pending breaks and spaces not counted). */
  get length(): number {
    return this.#length;
  }

  /** Inline text. Whitespace runs collapse to one space unless `preserve` (for `<pre>`). */
  write(text: string, preserve = false): void {
    const clean = text.includes('\u0000') ? text.replaceAll('\u0000', '') : text;
    if (preserve) {
      if (clean.length > 0) this.#emit(clean.replaceAll('\r\n', '\n'));
      return;
    }
    // One replace and one emit per call, not one per word: rows of CSV and JSON arrive as whole lines.
    const collapsed = clean.replace(/\s+/g, ' ');
    const leading = collapsed.startsWith(' ');
    const trailing = collapsed.length > 1 && collapsed.endsWith(' ');
    const words = collapsed.slice(leading ? 1 : 0, trailing ? -1 : undefined);
    if (leading) this.#pendingSpace = true;
    if (words.length > 0) this.#emit(words);
    if (trailing) this.#pendingSpace = true;
  }

  /** A separator between inline runs that have no whitespace of their own (table cells, `<br>` in titles). */
  space(): void {
    this.#pendingSpace = true;
  }

  /** Ends the current line: `<br>`, a list item, a table row, a slide paragraph. */
  breakLine(): void {
    if (this.#pendingBreak < 1) this.#pendingBreak = 1;
  }

  /** Ends the current block with a blank line: paragraphs, headings, sections. */
  breakParagraph(): void {
    this.#pendingBreak = 2;
  }

  /** Starts a heading whose title is the text written until `closeHeading`. */
  openHeading(level: number): void {
    this.closeHeading();
    this.breakParagraph();
    const heading = { level, title: '', start: -1 };
    this.#openHeading = { heading, title: [], length: 0 };
    this.#unplacedHeading = heading;
  }

  closeHeading(): void {
    const open = this.#openHeading;
    if (open === undefined) return;
    this.#openHeading = undefined;
    if (this.#unplacedHeading === open.heading) this.#unplacedHeading = undefined;
    open.heading.title = open.title.join('').replace(/\s+/g, ' ').trim().slice(0, maxTitleChars);
    // A heading with no text (an empty <h2></h2>) opens no section worth naming.
    if (open.heading.title.length > 0) this.#headings.push(open.heading);
    this.breakParagraph();
  }

  /** Records a heading with a known title (a slide's, a sheet's) at the next character written. */
  markHeading(level: number, title: string): void {
    this.closeHeading();
    this.breakParagraph();
    const heading = { level, title, start: -1 };
    this.#headings.push(heading);
    this.#unplacedHeading = heading;
  }

  /** The text and headings; fails with `empty` when nothing but whitespace was written. */
  finish(pages: PageSpan[] = []): ExtractedText {
    this.closeHeading();
    if (this.#length === 0) throw emptyDocument();
    // A heading marked after the last text has nothing to open.
    const headings = this.#headings.filter((heading) => heading.start >= 0);
    return { text: this.#parts.join(''), headings, pages };
  }

  #emit(text: string): void {
    let separator = '';
    if (this.#length > 0) {
      if (this.#pendingBreak !== 0) separator = breakText[this.#pendingBreak];
      else if (this.#pendingSpace) separator = ' ';
    }
    // An unclosed <h1> would otherwise copy the rest of the document into its title.
    const open =
      this.#openHeading !== undefined && this.#openHeading.length < maxTitleChars
        ? this.#openHeading
        : undefined;
    if (open !== undefined && separator !== '') open.title.push(' ');
    this.#pendingBreak = 0;
    this.#pendingSpace = false;
    if (this.#length + separator.length + text.length > this.#maxChars) throw textTooLong(this.#maxChars);
    if (separator !== '') this.#parts.push(separator);
    this.#length += separator.length;
    if (this.#unplacedHeading !== undefined) {
      this.#unplacedHeading.start = this.#length;
      this.#unplacedHeading = undefined;
    }
    this.#parts.push(text);
    this.#length += text.length;
    if (open !== undefined) {
      open.title.push(text);
      open.length += text.length + 1;
    }
  }
}
