import { describe, expect, it } from 'vitest';
import { extractorFor } from '../../../src/pipeline/extract/index.js';
import { readFixture } from '../../fixtures/read-fixture.js';
import { limits } from './helpers.js';
import { rawZip, storedEntry } from './hostile-zips.js';

const extractPptx = extractorFor('application/vnd.openxmlformats-officedocument.presentationml.presentation');

describe('extractPptx', () => {
  it('reads slides in show order, each a heading named by its title, title first', async () => {
    const result = await extractPptx(readFixture('deck.pptx'), limits());
    expect(result.text).toBe(
      'Welcome\n\nIngestion for everyone\n\nNext steps\n\nFirst\npoint\nSecond & last point',
    );
    expect(result.headings).toEqual([
      { level: 1, title: 'Welcome', start: 0 },
      { level: 1, title: 'Next steps', start: 33 },
    ]);
  });

  it('falls back to file numbering and "Slide N" when there is no slide list or title', async () => {
    const slide = (text: string): string =>
      `<p:sld xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"><p:cSld><p:spTree><p:sp><p:txBody><a:p><a:r><a:t>${text}</a:t></a:r></a:p></p:txBody></p:sp></p:spTree></p:cSld></p:sld>`;
    const pptx = rawZip([
      storedEntry(
        'ppt/presentation.xml',
        '<p:presentation xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"/>',
      ),
      storedEntry('ppt/slides/slide10.xml', slide('ten')),
      storedEntry('ppt/slides/slide2.xml', slide('two')),
    ]);
    expect(await extractPptx(pptx, limits())).toEqual({
      text: 'two\n\nten',
      headings: [
        { level: 1, title: 'Slide 1', start: 0 },
        { level: 1, title: 'Slide 2', start: 5 },
      ],
      pages: [],
    });
  });
});
