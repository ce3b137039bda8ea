import { describe, expect, it } from 'vitest';
import { extractorFor } from '../../../src/pipeline/extract/index.js';
import { markdownHeadings } from '../../../src/pipeline/extract/markdown.js';
import { readFixture } from '../../fixtures/read-fixture.js';
import { expectDocumentError, limits, timed } from './helpers.js';

const extractMarkdown = extractorFor('text/markdown');
const titles = (markdown: string): string[] => markdownHeadings(markdown).map((heading) => heading.title);

describe('extractMarkdown', () => {
  it('keeps the text as written and records ATX and setext headings, not # lines in code', async () => {
    const bytes = readFixture('guide.md');
    const result = await extractMarkdown(bytes, limits());
    expect(result.text).toBe(new TextDecoder().decode(bytes));
    expect(result.headings).toEqual([
      { level: 1, title: 'Install guide', start: 0 },
      { level: 2, title: 'Requirements', start: 35 },
      { level: 2, title: 'Running the server', start: 128 },
      { level: 3, title: 'Ports & links', start: 202 },
    ]);
    // Each start is the offset of the heading's own line.
    const lines = result.headings.map((heading) => result.text.slice(heading.start).split('\n', 1)[0]);
    expect(lines).toEqual([
      '# Install guide',
      '## Requirements',
      'Running *the* server',
      '### Ports & [links](https://example.org)',
    ]);
  });

  it('counts offsets after CRLF line ends are normalised', async () => {
    const result = await extractMarkdown(Buffer.from('intro\r\n\r\n# One\r\ntext\r\n'), limits());
    expect(result.text).toBe('intro\n\n# One\ntext\n');
    expect(result.headings).toEqual([{ level: 1, title: 'One', start: 7 }]);
  });

  it('fails an empty document as empty', async () => {
    await expectDocumentError(extractMarkdown(Buffer.from('\n\n  \n'), limits()), 'empty');
  });
});

describe('markdownHeadings', () => {
  it('reads levels, closing sequences, indentation up to three spaces and multi-line setext titles', () => {
    expect(
      markdownHeadings('# A #\n   ###### B ###\n#NoSpace\n####### seven\n\nC\ncontinued\n===\n'),
    ).toEqual([
      { level: 1, title: 'A', start: 0 },
      { level: 6, title: 'B', start: 6 },
      { level: 1, title: 'C continued', start: 46 },
    ]);
    // Without a blank line, the lines that are not headings are one paragraph, underlined as a whole.
    expect(titles('#NoSpace\nC\n---\n')).toEqual(['#NoSpace C']);
  });

  it('ignores headings in indented code, HTML blocks, quotes and list items', () => {
    const markdown = [
      '    # indented code',
      '',
      '<pre>',
      '',
      '# in pre',
      '</pre>',
      '<div>',
      '# in html block',
      '</div>',
      '',
      '> # quoted',
      '',
      '- item',
      '',
      '  # in item',
      '- item',
      'lazy',
      '---',
      '',
      '# Top',
    ].join('\n');
    expect(titles(markdown)).toEqual(['Top']);
  });

  it('tells a setext underline from a thematic break and a list item', () => {
    expect(titles('Para\n- item\n\n---\n\nText\n- - -\n\nReal\n---\n')).toEqual(['Real']);
  });

  it('closes fences only with the same character, at least as long', () => {
    expect(titles('````\n```\n# in code\n~~~\n````\n# After\n')).toEqual(['After']);
  });

  it('skips YAML front matter', () => {
    expect(markdownHeadings('---\ntitle: x\n---\n# Real\n')).toEqual([
      { level: 1, title: 'Real', start: 17 },
    ]);
  });

  it('unwraps inline markup in titles', () => {
    expect(titles('# *Bold* `code` [link](x) ![alt](y) <b>tag</b> \\#1\n')).toEqual([
      'Bold code link alt tag #1',
    ]);
  });

  it('stays linear on hostile nesting: a million > and 3,000 nested list items', async () => {
    const quotes = `# Title\n\n${'>'.repeat(1_000_000)} deep\n`;
    const lists = Array.from({ length: 3_000 }, (_, index) => `${' '.repeat(2 * index)}- item`).join('\n');
    const { ms } = await timed(async () => {
      expect(titles(quotes)).toEqual(['Title']);
      expect(titles(lists)).toEqual([]);
    });
    expect(ms).toBeLessThan(1_000);
  });
});
