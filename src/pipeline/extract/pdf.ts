import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DocumentError } from '../../errors.js';
import { corrupt, encrypted, textTooLong } from './failures.js';
import type { ExtractedText, ExtractLimits, Extractor, Heading, PageSpan } from './types.js';

type PdfJs = typeof import('pdfjs-dist/legacy/build/pdf.mjs');
type PdfDocument = Awaited<ReturnType<PdfJs['getDocument']>['promise']>;
type OutlineNode = Awaited<ReturnType<PdfDocument['getOutline']>>[number];

/** Most outline entries resolved to pages: each costs a round trip to pdf.js's worker side. */
const maxOutlineEntries = 10_000;

// pdf.js is large; only documents that are PDFs pay for loading it. The legacy build is the one
// meant for Node. Its "worker" runs in this thread (there is no workerSrc in Node), which is what we
// want: the caller already runs extraction off the main event loop.
let pdfjs: Promise<PdfJs> | undefined;
function loadPdfJs(): Promise<PdfJs> {
  pdfjs ??= import('pdfjs-dist/legacy/build/pdf.mjs');
  return pdfjs;
}

// Data files pdf.js reads from disk in Node: glyph maps for the 14 standard fonts and the CMaps
// that CJK text needs to become Unicode. Without them such text comes out empty or garbled.
const pdfjsRoot = dirname(createRequire(import.meta.url).resolve('pdfjs-dist/package.json'));
const standardFontDataUrl = `${join(pdfjsRoot, 'standard_fonts')}/`;
const cMapUrl = `${join(pdfjsRoot, 'cmaps')}/`;

/**
 * PDF: each page's text in page order, pages separated by a blank line, each page's span kept so
 * chunks can cite page numbers. The outline (bookmarks), when present, becomes the headings, each
 * starting where its target page starts. A password-protected file fails as `encrypted`; a
 * truncated or unreadable one as `corrupt`.
 */
export const extractPdf: Extractor = async (bytes, limits) => {
  // Acrobat requires %%EOF within the last 1024 bytes; without it the file was cut short, and
  // pdf.js would quietly return whatever pages it could reconstruct.
  if (!hasEndMarker(bytes)) throw corrupt('the PDF is truncated (no %%EOF at its end)');
  const { getDocument, VerbosityLevel } = await loadPdfJs();
  const task = getDocument({
    // A plain Uint8Array copy: pdf.js refuses Buffers and may detach the buffer it is given.
    data: new Uint8Array(bytes),
    isEvalSupported: false,
    disableFontFace: true,
    useSystemFonts: false,
    enableXfa: false,
    standardFontDataUrl,
    cMapUrl,
    cMapPacked: true,
    verbosity: VerbosityLevel.ERRORS,
  });
  try {
    let document: PdfDocument;
    try {
      document = await task.promise;
    } catch (error) {
      throw openFailure(error);
    }
    try {
      return await readDocument(document, limits);
    } catch (error) {
      if (error instanceof DocumentError) throw error;
      throw corrupt('the PDF cannot be read', error);
    }
  } finally {
    await task.destroy();
  }
};

async function readDocument(document: PdfDocument, limits: ExtractLimits): Promise<ExtractedText> {
  const parts: string[] = [];
  const pages: PageSpan[] = [];
  let length = 0;
  for (let page = 1; page <= document.numPages; page++) {
    const text = await pageText(document, page);
    if (text.length > 0 && length > 0) {
      parts.push('\n\n');
      length += 2;
    }
    const start = length;
    parts.push(text);
    length += text.length;
    if (length > limits.maxTextChars) throw textTooLong(limits.maxTextChars);
    pages.push({ page, start, end: length });
  }
  if (length === 0) {
    throw new DocumentError('empty', 'the PDF has no text (a scan without a text layer?)', false);
  }
  const text = parts.join('');
  return { text, headings: await outlineHeadings(document, text, pages, limits), pages };
}

/** A page's text: pdf.js's runs joined, its line ends kept, spaces and blank lines tidied. */
async function pageText(document: PdfDocument, pageNumber: number): Promise<string> {
  const page = await document.getPage(pageNumber);
  try {
    const content = await page.getTextContent();
    const runs: string[] = [];
    for (const item of content.items) {
      if (!('str' in item)) continue;
      runs.push(item.str, item.hasEOL ? '\n' : '');
    }
    return runs
      .join('')
      .replaceAll('\u0000', '')
      .split('\n')
      .map((line) => line.replace(/[^\S\n]+/g, ' ').trim())
      .join('\n')
      .replace(/\n{3,}/g, '\n\n')
      .trim();
  } finally {
    page.cleanup();
  }
}

/**
 * Outline entries as headings, in document order; unresolvable ones skipped. An entry starts where
 * its title appears on its target page (searching on from the previous heading on that page), or
 * at the page's start when the title is not in the page's text.
 */
async function outlineHeadings(
  document: PdfDocument,
  text: string,
  pages: PageSpan[],
  limits: ExtractLimits,
): Promise<Heading[]> {
  const outline = await document.getOutline().catch(() => null);
  if (outline === null) return [];
  const headings: Heading[] = [];
  // Depth-first with an explicit stack, children pushed in reverse to pop in order.
  const stack: { node: OutlineNode; level: number }[] = [...outline]
    .reverse()
    .map((node) => ({ node, level: 1 }));
  let visited = 0;
  for (let item = stack.pop(); item !== undefined && visited < maxOutlineEntries; item = stack.pop()) {
    visited++;
    const { node, level } = item;
    const pageIndex = await destinationPage(document, node.dest);
    const span = pageIndex === undefined ? undefined : pages[pageIndex];
    const title = node.title.replace(/\s+/g, ' ').trim();
    if (span !== undefined && title !== '') headings.push({ level, title, start: span.start });
    if (level < limits.maxNestingDepth) {
      const children = (node.items ?? []) as OutlineNode[];
      for (let index = children.length - 1; index >= 0; index--) {
        const child = children[index];
        if (child !== undefined) stack.push({ node: child, level: level + 1 });
      }
    }
  }
  // Outlines need not follow page order; headings must. The sort is stable, so entries on one page keep theirs.
  headings.sort((a, b) => a.start - b.start);
  const searchFrom = new Map<number, number>();
  for (const heading of headings) {
    const page = pages.find((span) => span.start === heading.start);
    if (!page) continue;
    const found = text.indexOf(heading.title, searchFrom.get(page.page) ?? page.start);
    if (found !== -1 && found + heading.title.length <= page.end) {
      heading.start = found;
      searchFrom.set(page.page, found + heading.title.length);
    }
  }
  return headings.sort((a, b) => a.start - b.start);
}

async function destinationPage(
  document: PdfDocument,
  dest: OutlineNode['dest'],
): Promise<number | undefined> {
  try {
    const explicit = typeof dest === 'string' ? await document.getDestination(dest) : dest;
    const target: unknown = explicit?.[0];
    if (typeof target === 'number') return target; // some writers give a page index, not a reference
    if (target !== null && typeof target === 'object') {
      return await document.getPageIndex(target as Parameters<PdfDocument['getPageIndex']>[0]);
    }
  } catch {
    // A dangling destination only costs its heading.
  }
  return undefined;
}

function openFailure(error: unknown): DocumentError {
  const name = (error as { name?: unknown })?.name;
  if (name === 'PasswordException') return encrypted('the PDF is protected by a password');
  if (name === 'InvalidPDFException') return corrupt('the file is not a readable PDF', error);
  return corrupt(`the PDF cannot be opened: ${(error as Error)?.message ?? String(error)}`, error);
}

function hasEndMarker(bytes: Uint8Array): boolean {
  // Acrobat looks in the last 1 KB; writers that append junk push it further, so look in 64 KB.
  const tail = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).subarray(-64 * 1024);
  return tail.includes('%%EOF', 0, 'latin1');
}
