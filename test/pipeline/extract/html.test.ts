import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { extractorFor } from '../../../src/pipeline/extract/index.js';
import { readFixture } from '../../fixtures/read-fixture.js';
import { expectDocumentError, limits, timed } from './helpers.js';

const extractHtml = extractorFor('text/html');

describe('extractHtml', () => {
  it('keeps visible text only, in blocks, with entities decoded and h1..h6 as headings', async () => {
    const result = await extractHtml(readFixture('page.html'), limits());
    expect(result.text).toBe(
      'Fish & Chips\n\nA classic dish, served hot with salt.\n\nIngredients\n\nCod\nPotatoes <peeled>\n\n' +
        'Step Time\nFry 8 min\n\nline one\n  indented line\n\nLine\nbreak',
    );
    expect(result.headings).toEqual([
      { level: 1, title: 'Fish & Chips', start: 0 },
      { level: 2, title: 'Ingredients', start: 53 },
    ]);
    expect(result.text.startsWith('Ingredients', 53)).toBe(true);
  });

  it('reads the charset a <meta> declares', async () => {
    const bytes = iconv.encode('<meta charset="iso-8859-1"><p>Crème brûlée</p>', 'latin1');
    expect((await extractHtml(bytes, limits())).text).toBe('Crème brûlée');
  });

  it('gets through 50,000 nested elements, closed or not, without recursion', async () => {
    const closed = `<div>${'<div>'.repeat(50_000)}deep${'</div>'.repeat(50_000)}</div><h1>After</h1>`;
    const { ms, outcome } = await timed(() => extractHtml(Buffer.from(closed), limits()));
    expect(outcome).toMatchObject({ status: 'fulfilled', value: { text: 'deep\n\nAfter' } });
    expect(ms).toBeLessThan(5_000);
    const unclosed = `${'<span><b>'.repeat(50_000)}still here`;
    expect((await extractHtml(Buffer.from(unclosed), limits())).text).toBe('still here');
  });

  it('closes a heading at the next heading, and caps the title of one never closed', async () => {
    const result = await extractHtml(Buffer.from(`<h1>One<h2>Two</h2><h3>${'word '.repeat(1000)}`), limits());
    expect(result.headings.map((heading) => [heading.level, heading.title.length])).toEqual([
      [1, 3],
      [2, 3],
      [3, 1000],
    ]);
  });

  it('fails a page with no visible text as empty and an oversized one as too_large', async () => {
    await expectDocumentError(
      extractHtml(Buffer.from('<script>alert(1)</script><p> </p>'), limits()),
      'empty',
    );
    await expectDocumentError(
      extractHtml(Buffer.from(`<p>${'word '.repeat(100)}</p>`), limits({ maxTextChars: 50 })),
      'too_large',
    );
  });
});
