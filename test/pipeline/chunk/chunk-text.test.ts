import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chunkText } from '../../../src/pipeline/chunk/index.js';
import { type ChunkingSettings, chunkingSettings } from '../../../src/pipeline/chunk/settings.js';
import { chunkByWords } from '../../../src/pipeline/chunk/words.js';
import { numberedWords } from '../../helpers/context.js';
import { pagesFor, proseText, sectionedDocument } from './arbitraries.js';
import { expectChunkInvariants } from './invariants.js';

// Three pages of a PDF-like document, a form feed between pages (in no page).
const pageTexts = ['Page one text. It goes on.', 'Page two is here.', 'Three.'];
const paged = (() => {
  let text = '';
  const pages = pageTexts.map((pageText, i) => {
    if (i > 0) text += '\f';
    const start = text.length;
    text += pageText;
    return { page: i + 1, start, end: text.length };
  });
  return { text, pages, headings: [{ level: 1, title: 'Report', start: 0 }] };
})();

const everyStrategy: ChunkingSettings[] = [
  { strategy: 'words', size: 4, overlap: 1 },
  { strategy: 'tokens', size: 6, overlap: 2, tokenizer: 'cl100k_base' },
  { strategy: 'recursive', size: 20, overlap: 5, unit: 'characters', tokenizer: 'cl100k_base' },
  { strategy: 'structure', size: 8, overlap: 2, unit: 'tokens', tokenizer: 'o200k_base' },
];

describe('chunkText', () => {
  it('gives every strategy the pages each chunk overlaps and its heading path', () => {
    for (const settings of everyStrategy) {
      const chunks = chunkText(paged, settings);
      expect(chunks.length).toBeGreaterThan(1);
      expectChunkInvariants(paged, settings, chunks);
      expect(chunks.every((chunk) => chunk.headingPath.join() === 'Report')).toBe(true);
      expect(new Set(chunks.flatMap((chunk) => chunk.pages))).toEqual(new Set([1, 2, 3]));
    }
  });

  it('lists a chunk across a page break under both pages, and no pages for unpaged text', () => {
    const [first, second] = chunkText(paged, { strategy: 'words', size: 6, overlap: 0 });
    expect(first).toMatchObject({ text: 'Page one text. It goes on.', pages: [1] });
    expect(second).toMatchObject({ text: 'Page two is here.\fThree.', pages: [2, 3] });
    const plain = chunkText(
      { text: 'no pages here', headings: [], pages: [] },
      everyStrategy[0] as ChunkingSettings,
    );
    expect(plain[0]?.pages).toEqual([]);
  });

  it('keeps the words strategy as it was: chunks at words 0, 450 and 900 for 1,000 words at 500/50', () => {
    const text = numberedWords(1000);
    const settings = chunkingSettings.parse({ strategy: 'words', size: 500, overlap: 50 });
    const chunks = chunkText({ text, headings: [], pages: [] }, settings);
    expect(chunks.map((c) => c.text.split(' ')[0])).toEqual(['w0', 'w450', 'w900']);
    expect(chunks).toEqual(chunkByWords(text, 500, 50));
  });

  it('gives no chunks for an empty or blank text, whatever the strategy', () => {
    for (const settings of everyStrategy) {
      expect(chunkText({ text: '', headings: [], pages: [] }, settings)).toEqual([]);
      expect(chunkText({ text: ' \n\t\u00a0 ', headings: [], pages: [] }, settings)).toEqual([]);
    }
  });

  it('property: every strategy keeps the shared invariants on documents with headings and pages', () => {
    const settings = fc.oneof(
      fc.record({ strategy: fc.constant('words'), size: fc.integer({ min: 1, max: 30 }) }),
      fc.record({
        strategy: fc.constantFrom('tokens', 'recursive', 'structure'),
        size: fc.integer({ min: 1, max: 60 }),
        unit: fc.constantFrom('characters', 'tokens'),
        tokenizer: fc.constantFrom('cl100k_base', 'o200k_base'),
      }),
    );
    const documents = fc.oneof(
      sectionedDocument,
      proseText(100).map((text) => ({ text, headings: [], pages: [] })),
    );
    fc.assert(
      fc.property(
        documents,
        settings,
        fc.double({ min: 0, max: 0.5, noNaN: true }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 5 }),
        (document, partial, overlapRatio, pageCuts) => {
          const raw: Record<string, unknown> = {
            ...partial,
            overlap: Math.floor(partial.size * overlapRatio),
          };
          if (raw.strategy === 'tokens') delete raw.unit;
          const parsed = chunkingSettings.parse(raw);
          const doc = { ...document, pages: pagesFor(document.text, pageCuts) };
          expectChunkInvariants(doc, parsed, chunkText(doc, parsed));
        },
      ),
      { numRuns: 200 },
    );
  });
});
