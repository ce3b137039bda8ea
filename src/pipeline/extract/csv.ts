import { parse } from 'csv-parse/sync';
import { decodeDocumentText } from './decode.js';
import { corrupt, emptyDocument } from './failures.js';
import { formatHeaderRow, rowFormatter } from './rows.js';
import { TextWriter } from './text-writer.js';
import type { Extractor } from './types.js';

const candidateDelimiters = [',', ';', '\t', '|'] as const;

/**
 * CSV: the first row is the headers; every other row becomes one line of "header: value" pairs
 * (see formatRow). The delimiter is the candidate most frequent in the header line, since
 * spreadsheets in many locales write semicolons and tab-separated files come as text/csv too.
 * Quoted fields, doubled quotes and line breaks inside quotes are csv-parse's job; ragged rows
 * and stray quotes are tolerated because real exports have them.
 */
export const extractCsv: Extractor = async (bytes, limits, hints) => {
  const text = decodeDocumentText(bytes, limits, hints);
  if (text.trim().length === 0) throw emptyDocument();
  let records: string[][];
  try {
    records = parse(text, {
      delimiter: guessDelimiter(text),
      relax_column_count: true,
      relax_quotes: true,
      skip_empty_lines: true,
      bom: true,
    });
  } catch (error) {
    throw corrupt(`the CSV cannot be parsed: ${(error as Error).message}`, error);
  }
  const [headers, ...rows] = records;
  if (headers === undefined) throw emptyDocument();
  const writer = new TextWriter(limits.maxTextChars);
  const formatRow = rowFormatter(headers, (column) => `column ${column + 1}`);
  for (const row of rows) {
    writer.write(formatRow(row));
    writer.breakLine();
  }
  if (rows.length === 0) writer.write(formatHeaderRow(headers));
  return writer.finish();
};

/** The candidate delimiter seen most often outside quotes in the first line; a comma by default. */
export function guessDelimiter(text: string): string {
  const counts = new Map<string, number>();
  let quoted = false;
  for (const char of text.slice(0, 64 * 1024)) {
    if (char === '"') quoted = !quoted;
    else if (!quoted && char === '\n') break;
    else if (!quoted && (candidateDelimiters as readonly string[]).includes(char)) {
      counts.set(char, (counts.get(char) ?? 0) + 1);
    }
  }
  let best = ',';
  for (const delimiter of candidateDelimiters) {
    if ((counts.get(delimiter) ?? 0) > (counts.get(best) ?? 0)) best = delimiter;
  }
  return best;
}
