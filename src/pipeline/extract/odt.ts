import { corrupt } from './failures.js';
import { TextWriter } from './text-writer.js';
import type { Extractor } from './types.js';
import { attribute, parseXml, type XmlElement } from './xml.js';
import { readZip } from './zip.js';

const officeNs = 'urn:oasis:names:tc:opendocument:xmlns:office:1.0';
const textNs = 'urn:oasis:names:tc:opendocument:xmlns:text:1.0';

/**
 * Subtrees whose text is not part of the running text: deleted text kept for change tracking,
 * comments, and footnotes (whose bodies sit in the middle of the sentence that cites them).
 */
const skippedTextElements = new Set(['tracked-changes', 'note']);

/**
 * OpenDocument text: paragraphs and headings of content.xml in document order; text:h with its
 * outline level becomes a heading. ODF collapses whitespace like HTML (text:s and text:tab stand
 * for spaces), which TextWriter does.
 */
export const extractOdt: Extractor = async (bytes, limits) => {
  const content = readZip(bytes, limits, (name) => name === 'content.xml').get('content.xml');
  if (content === undefined) throw corrupt('the OpenDocument file has no content.xml');
  const writer = new TextWriter(limits.maxTextChars);
  let inBody = false;
  let skippedDepth = 0;
  parseXml(content, 'content.xml', limits, {
    open(element) {
      if (element.uri === officeNs && element.local === 'body') inBody = true;
      if (!inBody) return;
      if (skippedDepth > 0 || isSkipped(element)) {
        skippedDepth++;
        return;
      }
      if (element.uri !== textNs) return;
      if (element.local === 'h') {
        const level = Number.parseInt(attribute(element, 'outline-level', textNs) ?? '1', 10);
        writer.openHeading(Number.isFinite(level) && level >= 1 ? level : 1);
      } else if (element.local === 'p') {
        writer.breakParagraph();
      } else if (element.local === 'line-break') {
        writer.breakLine();
      } else if (element.local === 's' || element.local === 'tab') {
        writer.space();
      }
    },
    close(element) {
      if (element.uri === officeNs && element.local === 'body') inBody = false;
      if (skippedDepth > 0) {
        skippedDepth--;
        return;
      }
      if (element.uri !== textNs) return;
      if (element.local === 'h') writer.closeHeading();
      else if (element.local === 'p') writer.breakParagraph();
    },
    text(text) {
      if (inBody && skippedDepth === 0) writer.write(text);
    },
  });
  return writer.finish();
};

function isSkipped(element: XmlElement): boolean {
  if (element.uri === officeNs) return element.local === 'annotation';
  return element.uri === textNs && skippedTextElements.has(element.local);
}
