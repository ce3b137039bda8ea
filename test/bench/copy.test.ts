import { describe, expect, it } from 'vitest';
import { copyLine, copyTextField } from '../../bench/copy.js';

describe('COPY text format', () => {
  it('escapes backslash, newline, carriage return and tab', () => {
    expect(copyTextField('a\\b\nc\rd\te')).toBe('a\\\\b\\nc\\rd\\te');
    expect(copyTextField('plain text, "quotes" and {braces}')).toBe('plain text, "quotes" and {braces}');
  });

  it('writes one line per chunk, columns tab-separated, arrays and JSON as Postgres reads them', () => {
    const line = copyLine('0190c0de-0000-7000-8000-000000000001', 1, 'abc123', {
      index: 2,
      text: 'line one\nline\ttwo',
      start: 10,
      end: 28,
      wordCount: 4,
      tokenCount: 6,
      pages: [1, 2],
      headingPath: ['A "quoted" \\ title'],
    });
    expect(line.endsWith('\n')).toBe(true);
    expect(line.slice(0, -1).split('\t')).toEqual([
      '0190c0de-0000-7000-8000-000000000001',
      '1',
      'bench',
      'abc123',
      '2',
      'line one\\nline\\ttwo',
      '10',
      '28',
      '4',
      '6',
      '{1,2}',
      '["A \\\\"quoted\\\\" \\\\\\\\ title"]',
    ]);
  });
});
