import { corrupt } from './failures.js';
import { readRelationships, relationshipId } from './ooxml.js';
import { formatHeaderRow, rowFormatter } from './rows.js';
import { TextWriter } from './text-writer.js';
import type { ExtractLimits, Extractor } from './types.js';
import { attribute, parseXml } from './xml.js';
import { readZip } from './zip.js';

// Why not exceljs or SheetJS: SheetJS on npm (xlsx 0.18.5) is unmaintained with known CVEs, and
// exceljs reads the archive itself with an unbounded inflater, builds a full object model with
// styles and drags in archiver, unzipper and tmp. Text extraction needs four XML parts, which the
// capped zip reader and a streaming XML parser handle in one pass each, under the same limits as
// every other format.

const workbookPart = 'xl/workbook.xml';
const neededPart =
  /^xl\/(workbook\.xml|_rels\/workbook\.xml\.rels|sharedStrings\.xml|styles\.xml|worksheets\/[^/]+\.xml)$/;

/** Built-in number formats that display dates or times (ECMA-376 18.8.30, plus the CJK ones). */
const builtinDateFormats = new Set([
  14, 15, 16, 17, 18, 19, 20, 21, 22, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 45, 46, 47, 50, 51, 52, 53, 54,
  55, 56, 57, 58,
]);

const maxColumns = 16_384;
const worksheetPath = /^xl\/worksheets\/sheet(\d+)\.xml$/;

interface Workbook {
  sheets: { name: string; part: string }[];
  date1904: boolean;
}

/**
 * Excel workbooks: each sheet in workbook order becomes a level-1 heading (the sheet name, also
 * written as a line), then one line per row of "header: value" pairs, the first non-empty row
 * being the headers. Cached formula results are used; dates are written as ISO dates.
 */
export const extractXlsx: Extractor = async (bytes, limits) => {
  const files = readZip(bytes, limits, (name) => neededPart.test(name));
  const workbook = readWorkbook(files, limits);
  const sharedStrings = readSharedStrings(files.get('xl/sharedStrings.xml'), limits);
  const dateStyles = readDateStyles(files.get('xl/styles.xml'), limits);
  const writer = new TextWriter(limits.maxTextChars);
  for (const sheet of workbook.sheets) {
    const sheetBytes = files.get(sheet.part);
    if (sheetBytes === undefined) continue;
    let headers: (string | undefined)[] | undefined;
    let formatRow: ((cells: (string | undefined)[]) => string) | undefined;
    let dataRows = 0;
    readRows(sheetBytes, sheet.part, limits, (cells) => {
      const values = cells.map(
        (cell) => cell && cellText(cell, sharedStrings, dateStyles, workbook.date1904),
      );
      if (!values.some((value) => value !== undefined && value.trim() !== '')) return;
      if (headers === undefined || formatRow === undefined) {
        headers = values;
        formatRow = rowFormatter(headers, columnLetters);
        writer.markHeading(1, sheet.name);
        writer.write(sheet.name);
        writer.breakParagraph();
        return;
      }
      writer.write(formatRow(values));
      writer.breakLine();
      dataRows++;
    });
    if (headers !== undefined && dataRows === 0) writer.write(formatHeaderRow(headers));
    writer.breakParagraph();
  }
  return writer.finish();
};

interface RawCell {
  /** The `t` attribute: s (shared string), inlineStr, str, b, e, d, or n (the default). */
  type: string;
  style: number;
  value: string;
}

function readWorkbook(files: ReadonlyMap<string, Uint8Array>, limits: ExtractLimits): Workbook {
  const bytes = files.get(workbookPart);
  if (bytes === undefined) throw corrupt(`the workbook has no ${workbookPart}`);
  const targets = readRelationships(files, workbookPart, limits);
  const workbook: Workbook = { sheets: [], date1904: false };
  parseXml(bytes, workbookPart, limits, {
    open(element) {
      if (element.local === 'workbookPr') {
        const flag = attribute(element, 'date1904');
        workbook.date1904 = flag === '1' || flag === 'true';
      } else if (element.local === 'sheet') {
        const part = targets.get(relationshipId(element) ?? '');
        if (part !== undefined) workbook.sheets.push({ name: attribute(element, 'name') ?? part, part });
      }
    },
  });
  if (workbook.sheets.length === 0) {
    // No usable sheet list (a damaged or minimal file): fall back to the numbering of the parts.
    workbook.sheets = [...files.keys()]
      .filter((name) => worksheetPath.test(name))
      .sort((a, b) => Number(worksheetPath.exec(a)?.[1]) - Number(worksheetPath.exec(b)?.[1]))
      .map((part) => ({ name: `Sheet${worksheetPath.exec(part)?.[1]}`, part }));
  }
  return workbook;
}

/** Shared strings by index; rich text runs joined, phonetic guides (rPh) left out. */
function readSharedStrings(bytes: Uint8Array | undefined, limits: ExtractLimits): string[] {
  const strings: string[] = [];
  if (bytes === undefined) return strings;
  let current: string[] | undefined;
  let inText = false;
  let inPhonetic = false;
  parseXml(bytes, 'xl/sharedStrings.xml', limits, {
    open(element) {
      if (element.local === 'si') current = [];
      else if (element.local === 'rPh') inPhonetic = true;
      else if (element.local === 't') inText = true;
    },
    close(element) {
      if (element.local === 'si') {
        strings.push(current?.join('') ?? '');
        current = undefined;
      } else if (element.local === 'rPh') inPhonetic = false;
      else if (element.local === 't') inText = false;
    },
    text(text) {
      if (inText && !inPhonetic) current?.push(text);
    },
  });
  return strings;
}

/** Indexes of the cell styles (cellXfs) whose number format shows a date or a time. */
function readDateStyles(bytes: Uint8Array | undefined, limits: ExtractLimits): Set<number> {
  const dateStyles = new Set<number>();
  if (bytes === undefined) return dateStyles;
  const customDateFormats = new Set<number>();
  let inCellXfs = false;
  let styleIndex = 0;
  parseXml(bytes, 'xl/styles.xml', limits, {
    open(element) {
      if (element.local === 'numFmt') {
        const id = Number(attribute(element, 'numFmtId'));
        if (isDateFormatCode(attribute(element, 'formatCode') ?? '')) customDateFormats.add(id);
      } else if (element.local === 'cellXfs') {
        inCellXfs = true;
      } else if (element.local === 'xf' && inCellXfs) {
        const id = Number(attribute(element, 'numFmtId') ?? '0');
        if (builtinDateFormats.has(id) || customDateFormats.has(id)) dateStyles.add(styleIndex);
        styleIndex++;
      }
    },
    close(element) {
      if (element.local === 'cellXfs') inCellXfs = false;
    },
  });
  return dateStyles;
}

/** A custom format shows a date when, outside quoted text, escapes and [colour] tags, it has d, m, y, h or s. */
export function isDateFormatCode(code: string): boolean {
  const section = code.split(';', 1)[0] ?? '';
  const unquoted = section.replace(/"[^"]*"/g, '').replace(/\\./g, '');
  if (/\[(h+|m+|s+)\]/i.test(unquoted)) return true;
  return /[dmyhs]/i.test(unquoted.replace(/\[[^\]]*\]/g, ''));
}

/** Streams a worksheet's rows; each row's cells are placed at their column (from `r="C7"`). */
function readRows(
  bytes: Uint8Array,
  part: string,
  limits: ExtractLimits,
  onRow: (cells: (RawCell | undefined)[]) => void,
): void {
  let row: (RawCell | undefined)[] | undefined;
  let cell: RawCell | undefined;
  let column = 0;
  let inValue = false;
  let inPhonetic = false;
  parseXml(bytes, part, limits, {
    open(element) {
      switch (element.local) {
        case 'row':
          row = [];
          column = 0;
          break;
        case 'c': {
          const reference = attribute(element, 'r');
          if (reference !== undefined) column = columnIndex(reference);
          cell = {
            type: attribute(element, 't') ?? 'n',
            style: Number(attribute(element, 's') ?? '0'),
            value: '',
          };
          break;
        }
        case 'v':
        case 't':
          inValue = true;
          break;
        case 'rPh':
          inPhonetic = true;
          break;
      }
    },
    close(element) {
      switch (element.local) {
        case 'row':
          if (row !== undefined) onRow(row);
          row = undefined;
          break;
        case 'c':
          // Excel has 16,384 columns; a reference past them would make a sparse row of billions.
          if (row !== undefined && cell !== undefined && column < maxColumns) row[column] = cell;
          cell = undefined;
          column++;
          break;
        case 'v':
        case 't':
          inValue = false;
          break;
        case 'rPh':
          inPhonetic = false;
          break;
      }
    },
    text(text) {
      if (inValue && !inPhonetic && cell !== undefined) cell.value += text;
    },
  });
}

function cellText(
  cell: RawCell,
  sharedStrings: readonly string[],
  dateStyles: ReadonlySet<number>,
  date1904: boolean,
): string {
  switch (cell.type) {
    case 's':
      return sharedStrings[Number(cell.value)] ?? '';
    case 'b':
      return cell.value === '1' ? 'TRUE' : 'FALSE';
    case 'inlineStr':
    case 'str':
    case 'e':
    case 'd':
      return cell.value;
    default: {
      const number = Number(cell.value);
      if (cell.value.trim() === '' || !Number.isFinite(number)) return cell.value;
      if (dateStyles.has(cell.style)) return excelDate(number, date1904);
      // Excel shows 15 significant digits; the file often stores 17 (0.30000000000000004).
      return String(Number(number.toPrecision(15)));
    }
  }
}

/** An Excel serial date as ISO 8601: a date, a time of day, or both. */
export function excelDate(serial: number, date1904: boolean): string {
  // Serials count days from 1899-12-31 with a phantom 1900-02-29 (Lotus' bug, kept by Excel),
  // so from March 1900 on they are days since 1899-12-30; the 1904 system counts from 1904-01-01.
  const days = date1904 ? serial + 1462 : serial < 60 ? serial + 1 : serial;
  const milliseconds = Math.round((days - 25569) * 86_400) * 1000;
  // Beyond ±100,000,000 days a Date is invalid (and toISOString throws): not a date Excel shows.
  if (serial < 0 || !(Math.abs(milliseconds) <= 8.64e15)) return String(serial);
  const iso = new Date(milliseconds).toISOString();
  const date = iso.slice(0, 10);
  const time = iso.slice(11, 19);
  if (serial < 1) return time;
  return time === '00:00:00' ? date : `${date} ${time}`;
}

/** "C7" -> 2 (zero-based). */
function columnIndex(reference: string): number {
  let index = 0;
  for (const char of reference) {
    const code = char.toUpperCase().charCodeAt(0);
    if (code < 65 || code > 90) break;
    index = index * 26 + (code - 64);
  }
  return Math.max(index - 1, 0);
}

/** 2 -> "C", 26 -> "AA": how Excel names a column without a header. */
function columnLetters(column: number): string {
  let name = '';
  for (let rest = column + 1; rest > 0; rest = Math.floor((rest - 1) / 26)) {
    name = String.fromCharCode(65 + ((rest - 1) % 26)) + name;
  }
  return name;
}
