import { describe, expect, it } from 'vitest';
import { extractorFor } from '../../../src/pipeline/extract/index.js';
import { readFixture } from '../../fixtures/read-fixture.js';
import { expectDocumentError, limits } from './helpers.js';
import { rawZip, storedEntry } from './hostile-zips.js';

const extractOdt = extractorFor('application/vnd.oasis.opendocument.text');

describe('extractOdt', () => {
  it('reads headings with their outline level and paragraphs, without comments, notes or deletions', async () => {
    const result = await extractOdt(readFixture('minutes.odt'), limits());
    expect(result.text).toBe(
      'Meeting minutes\n\nPresent: Ada, Grace and Alan.\n\nDecisions\n\nShip version 2.\n\nHire two people.\n\nFirst line\nsecond line',
    );
    expect(result.headings).toEqual([
      { level: 1, title: 'Meeting minutes', start: 0 },
      { level: 2, title: 'Decisions', start: 48 },
    ]);
  });

  it('fails an archive without content.xml as corrupt', async () => {
    await expectDocumentError(
      extractOdt(rawZip([storedEntry('mimetype', 'application/vnd.oasis.opendocument.text')]), limits()),
      'corrupt',
    );
  });
});
