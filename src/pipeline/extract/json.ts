import { decodeDocumentText } from './decode.js';
import { corrupt, emptyDocument, tooLarge } from './failures.js';
import { TextWriter } from './text-writer.js';
import type { Extractor } from './types.js';

/**
 * JSON: one line per leaf, its key path and value, `order.items[0].sku: A-1`, so every value keeps
 * the names that give it meaning. Nesting deeper than `maxNestingDepth` is refused by a bracket
 * scan before parsing, and the walk uses an explicit stack, so no depth can overflow the call stack.
 * Empty objects and arrays are kept as leaves (`tags: []`); line breaks inside strings become spaces.
 */
export const extractJson: Extractor = async (bytes, limits, hints) => {
  const text = decodeDocumentText(bytes, limits, hints);
  if (text.trim().length === 0) throw emptyDocument();
  const depth = jsonDepth(text);
  if (depth > limits.maxNestingDepth) {
    throw tooLarge(`the JSON nests deeper than ${limits.maxNestingDepth} levels`);
  }
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (error) {
    throw corrupt(`the document is not valid JSON: ${(error as Error).message}`, error);
  }
  const writer = new TextWriter(limits.maxTextChars);
  const stack: { path: string; value: unknown }[] = [{ path: '', value: root }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { path, value } = item;
    const children = childrenOf(path, value);
    if (children === undefined || (children.length === 0 && path !== '')) {
      writer.write(path === '' ? leafText(value) : `${path}: ${leafText(value)}`);
      writer.breakLine();
      continue;
    }
    // Pushed in reverse so that they pop in document order.
    for (let index = children.length - 1; index >= 0; index--) {
      const child = children[index];
      if (child !== undefined) stack.push(child);
    }
  }
  // An empty root object or array writes nothing: the document has no text.
  return writer.finish();
};

/**
 * The deepest bracket nesting outside strings; a linear scan that needs no stack. Strings are
 * skipped with indexOf (vectorised in V8), so a body that is mostly one long text costs a
 * fraction of parsing it; a quote counts as closing when an even number of backslashes precede it.
 */
export function jsonDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code === 0x22) {
      let end = index;
      for (;;) {
        end = text.indexOf('"', end + 1);
        if (end === -1) return deepest; // unterminated: the parser refuses it
        let backslashes = 0;
        while (text.charCodeAt(end - 1 - backslashes) === 0x5c) backslashes++;
        if (backslashes % 2 === 0) break;
      }
      index = end;
    } else if (code === 0x7b || code === 0x5b) {
      if (++depth > deepest) deepest = depth;
    } else if (code === 0x7d || code === 0x5d) {
      depth--;
    }
  }
  return deepest;
}

function childrenOf(path: string, value: unknown): { path: string; value: unknown }[] | undefined {
  if (Array.isArray(value)) return value.map((child, index) => ({ path: `${path}[${index}]`, value: child }));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).map(([key, child]) => ({ path: joinKey(path, key), value: child }));
  }
  return undefined;
}

/** `a.b` for identifier-like keys, `a["odd key"]` for the rest, so paths stay unambiguous. */
function joinKey(path: string, key: string): string {
  if (/^[A-Za-z_$][\w$-]*$/.test(key)) return path === '' ? key : `${path}.${key}`;
  return `${path}[${JSON.stringify(key)}]`;
}

function leafText(value: unknown): string {
  if (Array.isArray(value)) return '[]';
  if (value !== null && typeof value === 'object') return '{}';
  return String(value);
}
