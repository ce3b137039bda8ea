/**
 * The mixed-formats scenario's documents: the committed fixtures of test/fixtures/real (written by
 * LibreOffice) and test/fixtures/files (made by our builders), every format ingestd extracts.
 * Fixtures that are meant to fail (an encrypted PDF) are left out: their failures would read as
 * the system's.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Fixture {
  /** e.g. real/guide.pdf */
  name: string;
  bytes: Buffer;
  contentType: string;
  /** The format as the report names it: PDF, DOCX, ... */
  format: string;
  /** JSON must go as multipart: a raw application/json body is read as a JSON document request. */
  multipartOnly: boolean;
}

const typesByExtension: Record<string, { contentType: string; format: string }> = {
  '.pdf': { contentType: 'application/pdf', format: 'PDF' },
  '.docx': {
    contentType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    format: 'DOCX',
  },
  '.xlsx': {
    contentType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    format: 'XLSX',
  },
  '.pptx': {
    contentType: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
    format: 'PPTX',
  },
  '.odt': { contentType: 'application/vnd.oasis.opendocument.text', format: 'ODT' },
  '.html': { contentType: 'text/html', format: 'HTML' },
  '.md': { contentType: 'text/markdown', format: 'MD' },
  '.csv': { contentType: 'text/csv', format: 'CSV' },
  '.json': { contentType: 'application/json', format: 'JSON' },
  '.txt': { contentType: 'text/plain', format: 'text' },
};

/** Fixtures that exist to be refused or to fail. */
const EXCLUDED = new Set(['files/encrypted.pdf']);

/** The repository root: dist/bench/ or bench/ -> the nearest directory above with test/fixtures. */
function fixturesRoot(): string {
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'test', 'fixtures');
    try {
      readdirSync(path.join(candidate, 'real'));
      return candidate;
    } catch {
      if (dir === path.dirname(dir)) throw new Error('test/fixtures not found above the bench');
    }
  }
}

/** Every usable fixture, in a fixed order (real/ first, then files/, each by name). */
export function loadFixtures(): Fixture[] {
  const root = fixturesRoot();
  const fixtures: Fixture[] = [];
  for (const folder of ['real', 'files']) {
    for (const file of readdirSync(path.join(root, folder)).sort()) {
      const name = `${folder}/${file}`;
      const type = typesByExtension[path.extname(file).toLowerCase()];
      if (!type || EXCLUDED.has(name)) continue;
      fixtures.push({
        name,
        bytes: readFileSync(path.join(root, folder, file)),
        ...type,
        multipartOnly: type.contentType === 'application/json',
      });
    }
  }
  return fixtures;
}
