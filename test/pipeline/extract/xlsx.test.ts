import { describe, expect, it } from 'vitest';
import { extractorFor } from '../../../src/pipeline/extract/index.js';
import { excelDate, isDateFormatCode } from '../../../src/pipeline/extract/xlsx.js';
import { readFixture } from '../../fixtures/read-fixture.js';
import { expectDocumentError, limits } from './helpers.js';
import { rawZip, storedEntry } from './hostile-zips.js';

const extractXlsx = extractorFor('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');

describe('extractXlsx', () => {
  it('writes each sheet as a heading and its rows as header: value lines', async () => {
    const result = await extractXlsx(readFixture('sales.xlsx'), limits());
    const sales = [
      'Sales',
      '',
      'Region: North; Units: 120; Since: 2024-01-01; Active: TRUE; Checked: 2024-01-01 12:00:00',
      'Region: South; Units: 80.3; Since: 2024-02-01; Active: FALSE',
      'Region: East; Units: 200.3',
    ].join('\n');
    expect(result.text).toBe(`${sales}\n\nNotes\n\nRemember the & sign; rich text`);
    expect(result.headings).toEqual([
      { level: 1, title: 'Sales', start: 0 },
      { level: 1, title: 'Notes', start: sales.length + 2 },
    ]);
  });

  it('converts Excel serial dates in both date systems', () => {
    expect(excelDate(45292, false)).toBe('2024-01-01');
    expect(excelDate(45292.75, false)).toBe('2024-01-01 18:00:00');
    expect(excelDate(0.5, false)).toBe('12:00:00');
    expect(excelDate(1, false)).toBe('1900-01-01');
    expect(excelDate(43830, true)).toBe('2024-01-01');
    expect(excelDate(1e12, false)).toBe('1000000000000');
  });

  it('tells date formats from number formats', () => {
    for (const code of ['yyyy-mm-dd', 'd/m/yy', '[h]:mm:ss', 'mmm d, yyyy;@', '[$-409]mmmm d']) {
      expect(isDateFormatCode(code), code).toBe(true);
    }
    for (const code of ['0.00', '#,##0 "days"', '[Red]0.0', 'General', '0%']) {
      expect(isDateFormatCode(code), code).toBe(false);
    }
  });

  it('fails a workbook that is not well-formed XML as corrupt', async () => {
    const broken = rawZip([storedEntry('xl/workbook.xml', '<workbook><sheets>')]);
    await expectDocumentError(extractXlsx(broken, limits()), 'corrupt');
  });
});
