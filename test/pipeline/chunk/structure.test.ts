import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chunkText } from '../../../src/pipeline/chunk/index.js';
import { tokenizerNames } from '../../../src/pipeline/chunk/settings.js';
import type { ExtractedText } from '../../../src/pipeline/extract/types.js';
import { pagesFor, proseText, sectionedDocument } from './arbitraries.js';
import { expectChunkInvariants } from './invariants.js';
import { referenceTokens } from './oracles.js';

const structure = (size: number, overlap: number, unit: 'characters' | 'tokens' = 'characters') =>
  ({ strategy: 'structure', size, overlap, unit, tokenizer: 'cl100k_base' }) as const;

/** A Markdown document and its headings, offsets found by searching for each heading line. */
function markdown(text: string, headings: [level: number, title: string][]): ExtractedText {
  let from = 0;
  return {
    text,
    pages: [],
    headings: headings.map(([level, title]) => {
      const start = text.indexOf(`${'#'.repeat(level)} ${title}\n`, from);
      expect(start).toBeGreaterThanOrEqual(0);
      from = start + 1;
      return { level, title, start };
    }),
  };
}

describe('structure strategy', () => {
  const guide = markdown(
    [
      'Read this first.',
      '',
      '# Guide',
      '',
      'What the guide covers.',
      '',
      '## Install',
      '',
      'Pick your system.',
      '',
      '### Linux',
      '',
      'Run apt install ingestd. Then start it.',
      '',
      '## Use',
      '',
      'Push documents.',
      '',
    ].join('\n'),
    [
      [1, 'Guide'],
      [2, 'Install'],
      [3, 'Linux'],
      [2, 'Use'],
    ],
  );

  it('chunks each section on its own and records the heading path', () => {
    const chunks = chunkText(guide, structure(200, 0));
    expect(chunks.map((c) => [c.text, c.headingPath])).toEqual([
      ['Read this first.', []],
      ['# Guide\n\nWhat the guide covers.', ['Guide']],
      ['## Install\n\nPick your system.', ['Guide', 'Install']],
      ['### Linux\n\nRun apt install ingestd. Then start it.', ['Guide', 'Install', 'Linux']],
      ['## Use\n\nPush documents.', ['Guide', 'Use']],
    ]);
  });

  it('splits a long section like recursive, overlapping only inside it', () => {
    const chunks = chunkText(guide, structure(24, 12));
    const linux = chunks.filter((c) => c.headingPath.at(-1) === 'Linux');
    expect(linux.map((c) => c.text)).toEqual(['### Linux', 'Run apt install ingestd.', 'Then start it.']);
    for (const chunk of chunks) expect(chunk.text.length).toBeLessThanOrEqual(24);
  });

  it('behaves exactly like recursive when the document has no headings', () => {
    const text = 'Alpha beta gamma. Delta epsilon.\n\nZeta eta theta iota kappa lambda mu.';
    const doc = { text, headings: [], pages: [] };
    const recursive = chunkText(doc, { ...structure(20, 8), strategy: 'recursive' });
    expect(chunkText(doc, structure(20, 8))).toEqual(recursive);
  });

  it('ignores headings outside the text and tolerates ones out of order', () => {
    const text = 'intro\n\n# A\n\nbody a\n\n# B\n\nbody b';
    const a = text.indexOf('# A');
    const b = text.indexOf('# B');
    const doc = {
      text,
      pages: [],
      headings: [
        { level: 1, title: 'B', start: b },
        { level: 1, title: 'A', start: a },
        { level: 1, title: 'Nowhere', start: text.length + 10 },
      ],
    };
    expect(chunkText(doc, structure(100, 0)).map((c) => [c.text, c.headingPath])).toEqual([
      ['intro', []],
      ['# A\n\nbody a', ['A']],
      ['# B\n\nbody b', ['B']],
    ]);
  });

  const cases = fc.record({
    document: fc.oneof(
      { weight: 4, arbitrary: sectionedDocument },
      {
        weight: 1,
        arbitrary: proseText(150).map((text): ExtractedText => ({ text, headings: [], pages: [] })),
      },
    ),
    size: fc.integer({ min: 1, max: 80 }),
    overlapRatio: fc.double({ min: 0, max: 0.5, noNaN: true }),
    unit: fc.constantFrom('characters', 'tokens'),
    tokenizer: fc.constantFrom(...tokenizerNames),
    pageCuts: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 4 }),
  });

  it('property: never straddles a section, heading paths right, budgets and overlaps kept', () => {
    fc.assert(
      fc.property(cases, ({ document, size, overlapRatio, unit, tokenizer, pageCuts }) => {
        const overlap = Math.floor(size * overlapRatio);
        const doc = { ...document, pages: pagesFor(document.text, pageCuts) };
        const settings = { strategy: 'structure', size, overlap, unit, tokenizer } as const;
        const chunks = chunkText(doc, settings);
        expectChunkInvariants(doc, settings, chunks); // includes the heading path at each start
        const measure = (text: string) =>
          unit === 'characters' ? text.length : referenceTokens(text, tokenizer);
        const starts = doc.headings.map((heading) => heading.start);
        const sectionOf = (offset: number) => starts.filter((start) => start <= offset).length;
        chunks.forEach((chunk, k) => {
          // No section starts strictly inside a chunk.
          expect(starts.filter((start) => chunk.start < start && start < chunk.end)).toEqual([]);
          if ([...chunk.text].length > 1) expect(measure(chunk.text)).toBeLessThanOrEqual(size);
          const previous = chunks[k - 1];
          if (previous && chunk.start < previous.end) {
            expect(sectionOf(chunk.start)).toBe(sectionOf(previous.start));
            expect(measure(doc.text.slice(chunk.start, previous.end))).toBeLessThanOrEqual(overlap);
          }
        });
        if (doc.headings.length === 0) {
          expect(chunks).toEqual(chunkText(doc, { ...settings, strategy: 'recursive' }));
        }
      }),
      { numRuns: 300 },
    );
  });
});
