import { Tokenizer } from 'htmlparser2';
import { decodeDocumentText } from './decode.js';
import { TextWriter } from './text-writer.js';
import type { ExtractedText, ExtractLimits, Extractor } from './types.js';

/** Elements whose content a reader never sees: code, styling, metadata, fallbacks for no-script and plugins. */
const hiddenElements = new Set([
  'title',
  'script',
  'style',
  'noscript',
  'template',
  'iframe',
  'object',
  'canvas',
  'datalist',
]);

/** Elements that start a new paragraph (rendered with a blank line around them). */
const paragraphElements = new Set([
  'address',
  'article',
  'aside',
  'blockquote',
  'body',
  'details',
  'dialog',
  'div',
  'dl',
  'fieldset',
  'figcaption',
  'figure',
  'footer',
  'form',
  'header',
  'hgroup',
  'hr',
  'main',
  'menu',
  'nav',
  'ol',
  'p',
  'pre',
  'section',
  'summary',
  'table',
  'ul',
]);

/** Elements that start a new line but not a new paragraph. */
const lineElements = new Set(['br', 'caption', 'dd', 'dt', 'li', 'option', 'tr']);

/** Elements whose neighbours need a space between them even without whitespace in the source. */
const spacedElements = new Set(['td', 'th', 'img', 'input', 'button', 'select', 'textarea', 'label']);

/** Elements without content: a `hidden` attribute on them hides nothing after them. */
const voidElements = new Set([
  'area',
  'base',
  'br',
  'col',
  'embed',
  'hr',
  'img',
  'input',
  'link',
  'meta',
  'source',
  'track',
  'wbr',
]);

/** Elements that an opening sibling closes (`<li>a<li>b`), so a second one is not nested in the first. */
const siblingClosedElements = new Set(['p', 'li', 'dt', 'dd', 'option', 'tr', 'td', 'th']);

/** HTML: the visible text laid out in blocks, with h1..h6 as headings. See htmlToText. */
export const extractHtml: Extractor = async (bytes, limits, hints) => {
  const charset = hints?.charset ?? metaCharset(bytes);
  const html = decodeDocumentText(bytes, limits, charset === undefined ? {} : { charset });
  return htmlToText(html, limits);
};

/**
 * The text a reader sees in an HTML document: no script, style, title or hidden elements; block
 * elements become line breaks or blank lines; whitespace collapses except in <pre>; entities are
 * decoded; h1..h6 become headings.
 *
 * Built on htmlparser2's Tokenizer rather than its Parser: the Parser keeps its open elements in an
 * array it unshifts on every start tag, which costs O(depth) each time, so 50,000 nested elements
 * took seconds and 500,000 would take minutes. Text extraction needs no tree: a few counters
 * (inside a hidden element, a <pre>, a heading, a table cell) make this linear whatever the nesting,
 * and nothing here recurses.
 */
export function htmlToText(html: string, limits: Pick<ExtractLimits, 'maxTextChars'>): ExtractedText {
  const writer = new TextWriter(limits.maxTextChars);
  /** The hidden element being skipped and how many of its name are open inside it. */
  let hidden: { name: string; depth: number } | undefined;
  let preDepth = 0;
  let inHeading = false;
  let inCell = false;

  const breakFor = (name: string): void => {
    if (paragraphElements.has(name) || lineElements.has(name)) {
      // A table row is one line: inside a cell (mammoth wraps every cell's text in <p>), a block boundary is a space.
      if (inCell && name !== 'tr' && name !== 'table') writer.space();
      else if (paragraphElements.has(name)) writer.breakParagraph();
      else writer.breakLine();
    } else if (spacedElements.has(name)) {
      writer.space();
    }
  };

  const open = (name: string, isHidden: boolean, alt: string | undefined): void => {
    if (hidden !== undefined) {
      if (name === hidden.name && !siblingClosedElements.has(name)) hidden.depth++;
      return;
    }
    if (hiddenElements.has(name) || (isHidden && !voidElements.has(name))) {
      hidden = { name, depth: 1 };
      return;
    }
    const level = headingLevel(name);
    if (level > 0) {
      // As in browsers, a heading opened inside another closes it.
      writer.openHeading(level);
      inHeading = true;
      return;
    }
    if (name === 'td' || name === 'th') inCell = true;
    else if (name === 'tr' || name === 'table') inCell = false;
    breakFor(name);
    if (name === 'pre') preDepth++;
    if (name === 'img' && alt) writer.write(alt);
  };

  const close = (name: string): void => {
    if (hidden !== undefined) {
      if (name === hidden.name && --hidden.depth === 0) hidden = undefined;
      return;
    }
    if (headingLevel(name) > 0) {
      if (inHeading) writer.closeHeading();
      inHeading = false;
      return;
    }
    if (name === 'td' || name === 'th' || name === 'tr' || name === 'table') inCell = false;
    if (name === 'pre' && preDepth > 0) preDepth--;
    breakFor(name);
  };

  const text = (data: string): void => {
    if (hidden === undefined) writer.write(data, preDepth > 0);
  };

  // The tokenizer reports positions in `html`; a start tag's parts arrive one by one.
  let tagName = '';
  let attributeName = '';
  let attributeValue = '';
  let isHidden = false;
  let alt: string | undefined;
  const tokenizer = new Tokenizer(
    { decodeEntities: true },
    {
      onopentagname(start, end) {
        tagName = html.slice(start, end).toLowerCase();
        isHidden = false;
        alt = undefined;
      },
      onattribname(start, end) {
        attributeName = html.slice(start, end).toLowerCase();
        attributeValue = '';
      },
      onattribdata(start, end) {
        attributeValue += html.slice(start, end);
      },
      onattribentity(codepoint) {
        attributeValue += String.fromCodePoint(codepoint);
      },
      onattribend() {
        if (attributeName === 'hidden') isHidden = true;
        else if (attributeName === 'alt') alt ??= attributeValue;
      },
      onopentagend() {
        open(tagName, isHidden, alt);
      },
      // `<x/>`: HTML ignores the slash on non-void elements, but authors who write it (SVG,
      // XHTML) mean "empty", and reading it so keeps a stray one from hiding the rest of the page.
      onselfclosingtag() {
        open(tagName, isHidden, alt);
        close(tagName);
      },
      onclosetag(start, end) {
        close(html.slice(start, end).toLowerCase());
      },
      ontext(start, end) {
        text(html.slice(start, end));
      },
      ontextentity(codepoint) {
        text(String.fromCodePoint(codepoint));
      },
      oncdata() {},
      oncomment() {},
      ondeclaration() {},
      onprocessinginstruction() {},
      onend() {},
    },
  );
  tokenizer.write(html);
  tokenizer.end();
  return writer.finish();
}

function headingLevel(name: string): number {
  return name.length === 2 && name[0] === 'h' && name[1] !== undefined && name[1] >= '1' && name[1] <= '6'
    ? Number(name[1])
    : 0;
}

/** The charset a `<meta>` in the first 1024 bytes declares, as browsers prescan for it. */
function metaCharset(bytes: Uint8Array): string | undefined {
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, 1024)).toString('latin1');
  const match = /<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)/i.exec(head);
  return match?.[1];
}
