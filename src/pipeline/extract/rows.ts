/**
 * Formats table rows as lines of "header: value" pairs joined by "; ", the form CSV and XLSX rows
 * take in the extracted text: each value keeps its column's name, so a chunk cut from the middle
 * of a table still says what its numbers are. Empty cells are left out; a column without a header
 * is named by `fallbackLabel`. Whitespace inside values (line breaks in quoted CSV fields)
 * collapses to one space so that a row stays one line. Header labels are worked out once per table.
 */
export function rowFormatter(
  headers: ReadonlyArray<string | undefined>,
  fallbackLabel: (column: number) => string,
): (cells: ReadonlyArray<string | undefined>) => string {
  const labels = headers.map(collapse);
  return (cells) => {
    const pairs: string[] = [];
    cells.forEach((cell, column) => {
      const value = collapse(cell);
      if (value === '') return;
      const label = labels[column] || fallbackLabel(column);
      pairs.push(`${label}: ${value}`);
    });
    return pairs.join('; ');
  };
}

/** A header row alone (a table without data rows): its names joined by "; ". */
export function formatHeaderRow(headers: ReadonlyArray<string | undefined>): string {
  return headers
    .map(collapse)
    .filter((header) => header !== '')
    .join('; ');
}

const needsCollapsing = /\s\s|[\t\n\r\f\v\u00a0]/;

function collapse(value: string | undefined): string {
  if (value === undefined) return '';
  const trimmed = value.trim();
  // Most cells have no whitespace to fix; the test is cheaper than the replace.
  return needsCollapsing.test(trimmed) ? trimmed.replace(/\s+/g, ' ') : trimmed;
}
