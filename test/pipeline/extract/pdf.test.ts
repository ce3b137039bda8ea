import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { extractorFor } from '../../../src/pipeline/extract/index.js';
import { assemblePdf } from '../../fixtures/build-fixtures.js';
import { readFixture } from '../../fixtures/read-fixture.js';
import { expectDocumentError, limits, timed } from './helpers.js';

const extractPdf = extractorFor('application/pdf');

describe('extractPdf', () => {
  it('reads each page, keeps page spans and turns the outline into headings', async () => {
    const result = await extractPdf(readFixture('report.pdf'), limits());
    const page1 = 'Introduction\nThe first page explains the goal.\nIt has two lines of body text.';
    const page2 = 'Results\nThe second page reports the results.';
    expect(result.text).toBe(`${page1}\n\n${page2}`);
    expect(result.pages).toEqual([
      { page: 1, start: 0, end: page1.length },
      { page: 2, start: page1.length + 2, end: page1.length + 2 + page2.length },
    ]);
    expect(result.headings).toEqual([
      { level: 1, title: 'Introduction', start: 0 },
      { level: 2, title: 'Goal', start: 0 },
      { level: 1, title: 'Results', start: page1.length + 2 },
    ]);
  });

  it('does not change the bytes it is given', async () => {
    const bytes = readFixture('report.pdf');
    const copy = Buffer.from(bytes);
    await extractPdf(bytes, limits());
    expect(Buffer.compare(Buffer.from(bytes), copy)).toBe(0);
  });

  it('fails a password-protected PDF as encrypted', async () => {
    await expectDocumentError(extractPdf(readFixture('encrypted.pdf'), limits()), 'encrypted');
  });

  it('fails a truncated PDF as corrupt', async () => {
    const bytes = readFixture('report.pdf');
    await expectDocumentError(extractPdf(bytes.subarray(0, bytes.length / 2), limits()), 'corrupt');
  });

  it('fails random bytes after a PDF header as corrupt, quickly', async () => {
    const { ms } = await timed(async () => {
      const garbage = Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(64 * 1024)]);
      await expectDocumentError(extractPdf(garbage, limits()), 'corrupt');
      // With an end marker too, so that pdf.js itself has to give up.
      await expectDocumentError(
        extractPdf(Buffer.concat([garbage, Buffer.from('\n%%EOF\n')]), limits()),
        'corrupt',
      );
    });
    expect(ms).toBeLessThan(5_000);
  });

  it('fails a PDF without a text layer as empty', async () => {
    const blank = assemblePdf([
      '<< /Type /Catalog /Pages 2 0 R >>',
      '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
      '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>',
    ]);
    await expectDocumentError(extractPdf(blank, limits()), 'empty');
  });

  it('fails text longer than maxTextChars as too_large', async () => {
    await expectDocumentError(
      extractPdf(readFixture('report.pdf'), limits({ maxTextChars: 50 })),
      'too_large',
    );
  });
});
