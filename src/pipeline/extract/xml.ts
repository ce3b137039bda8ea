import { SaxesParser, type SaxesTagNS } from 'saxes';
import { DocumentError } from '../../errors.js';
import { corrupt, tooLarge } from './failures.js';
import type { ExtractLimits } from './types.js';

// The XML parts of DOCX, XLSX, PPTX and ODT are read with saxes: a streaming, non-recursive,
// namespace-aware parser that expands no DTD entities (no billion laughs, no external entities).
// Elements are matched by namespace URI and local name, not by prefix, since prefixes are the
// writer's choice even if every office suite uses the same ones.

export type XmlElement = SaxesTagNS;

export interface XmlHandlers {
  open?(element: XmlElement): void;
  close?(element: XmlElement): void;
  /** Character data, CDATA included, entities decoded. Whitespace between elements included. */
  text?(text: string): void;
}

/**
 * Streams one XML part through `handlers`. Fails with `too_large` when elements nest deeper than
 * `maxNestingDepth` (libraries that walk the tree afterwards recurse) and `corrupt` when the part
 * is not well-formed. `part` names the part in messages.
 */
export function parseXml(
  bytes: Uint8Array,
  part: string,
  limits: Pick<ExtractLimits, 'maxNestingDepth'>,
  handlers: XmlHandlers,
): void {
  const parser = new SaxesParser({ xmlns: true, position: false });
  let depth = 0;
  parser.on('opentag', (element) => {
    if (++depth > limits.maxNestingDepth) {
      throw tooLarge(`${part} nests elements deeper than ${limits.maxNestingDepth} levels`);
    }
    handlers.open?.(element);
  });
  parser.on('closetag', (element) => {
    depth--;
    handlers.close?.(element);
  });
  if (handlers.text !== undefined) {
    parser.on('text', handlers.text);
    parser.on('cdata', handlers.text);
  }
  try {
    parser.write(decodeXml(bytes)).close();
  } catch (error) {
    if (error instanceof DocumentError) throw error;
    throw corrupt(`${part} is not well-formed XML`, error);
  }
}

/** The value of the attribute with this local name (and namespace, when given). */
export function attribute(element: XmlElement, local: string, uri?: string): string | undefined {
  for (const candidate of Object.values(element.attributes)) {
    if (candidate.local === local && (uri === undefined || candidate.uri === uri)) return candidate.value;
  }
  return undefined;
}

/** XML parts are UTF-8 unless a UTF-16 byte order mark says otherwise (XML 1.0, appendix F). */
function decodeXml(bytes: Uint8Array): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes);
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes);
  return new TextDecoder('utf-8').decode(bytes);
}
