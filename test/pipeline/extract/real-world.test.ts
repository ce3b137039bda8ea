import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { detectContentType } from '../../../src/pipeline/detect.js';
import { extractorFor } from '../../../src/pipeline/extract/index.js';
import { defaultExtractLimits } from '../../../src/pipeline/extract/types.js';

// Files written by LibreOffice (see test/fixtures/real/README.md): what users actually upload,
// with the quirks of a real writer rather than of our own fixture builders.
const read = (name: string) => readFileSync(new URL(`../../fixtures/real/${name}`, import.meta.url));

async function extract(name: string, declared = 'application/octet-stream') {
  const bytes = read(name);
  const type = await detectContentType(bytes, declared, name);
  return { type, ...(await extractorFor(type)(bytes, defaultExtractLimits)) };
}

const sections = ['Installing', 'On Debian', 'Monitoring', 'Recovering'];

describe('documents written by a real office suite', () => {
  it.each([
    ['guide.docx', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'],
    ['guide.pdf', 'application/pdf'],
    ['guide.html', 'text/html'],
  ])('%s: detected, with the section headings at the offsets of their titles', async (name, type) => {
    const {
      type: detected,
      text,
      headings,
    } = await extract(name, name.endsWith('.html') ? 'text/html' : undefined);
    expect(detected).toBe(type);
    expect(headings.map((h) => h.title)).toEqual(expect.arrayContaining(sections));
    for (const heading of headings)
      expect(text.slice(heading.start).startsWith(heading.title), heading.title).toBe(true);
    expect(text).toContain('Grüße aus Köln');
    expect(text).not.toContain('tracking');
  });

  it('guide.pdf: one page, spanning the whole text', async () => {
    const { text, pages } = await extract('guide.pdf');
    expect(pages).toEqual([{ page: 1, start: 0, end: expect.any(Number) }]);
    expect(pages[0]?.end).toBeGreaterThan(text.length - 5);
  });

  it('guide.odt: headings of level 2 and 3 in order', async () => {
    const { type, headings } = await extract('guide.odt');
    expect(type).toBe('application/vnd.oasis.opendocument.text');
    expect(headings.map((h) => [h.level, h.title])).toEqual([
      [2, 'Installing'],
      [3, 'On Debian'],
      [2, 'Monitoring'],
      [2, 'Recovering'],
    ]);
  });

  it('guide.pptx: the slide text in order', async () => {
    const { type, text } = await extract('guide.pptx');
    expect(type).toBe('application/vnd.openxmlformats-officedocument.presentationml.presentation');
    const positions = ['Operations guide', 'Monitoring', 'Recovering'].map((word) => text.indexOf(word));
    expect(positions.every((position) => position >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });

  it('people.xlsx: rows with their headers', async () => {
    const { type, text } = await extract('people.xlsx');
    expect(type).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    expect(text).toContain('name: Grace Hopper; team: Ingestion');
  });

  it('latin1.txt: converted from Latin-1', async () => {
    const { text } = await extract('latin1.txt', 'text/plain');
    expect(text.trim()).toBe('Latin-1 text: café crème brûlée, à bientôt');
  });
});
