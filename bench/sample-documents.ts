/**
 * Realistic documents of every supported format, of any size, for the extraction scenario. Built
 * by hand from the formats' specifications with the techniques of test/fixtures/build-fixtures.ts
 * (which bench/ cannot import: test/ is not compiled into dist/), scaled up: many paragraphs,
 * rows, pages and slides of generated prose, with the markup real writers add (run properties in
 * Word, styles in HTML, FlateDecode content streams in PDF). Zip-based formats hold the parts
 * their extractor reads plus the package files, not the themes and images real files also carry,
 * so their input MB/s is if anything understated per byte of text.
 */
import { deflateSync } from 'node:zlib';
import iconv from 'iconv-lite';
import type { SupportedContentType } from '../src/pipeline/detect.js';
import { writeZip } from '../src/pipeline/extract/zip.js';
import { Prose } from './prose.js';

/** One format the scenario measures: how a client declares it and how to build it at any size. */
export interface SampleFormat {
  label: string;
  /** The Content-Type a client would send. */
  declared: string;
  /** What detectContentType must find; a different answer fails the run. */
  expected: SupportedContentType;
  /** What one unit of `build` is: paragraphs, rows, pages... */
  unit: string;
  build(units: number, seed: number): Uint8Array;
}

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
const xml = (body: string): Uint8Array =>
  utf8(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n${body}`);
const escapeXml = (text: string): string =>
  text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
/** Office suites deflate every part. */
const deflateAll = (): boolean => true;

/** Words of `text` re-flowed into lines of at most `width` characters. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line.length > 0 && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line.length === 0 ? word : `${line} ${word}`;
    }
  }
  if (line.length > 0) lines.push(line);
  return lines;
}

// ---------------------------------------------------------------- text formats

/** Paragraphs hard-wrapped at 78 columns, blank lines between them, as plain text files are written. */
function plainText(units: number, prose: Prose, newline: string): string {
  const paragraphs: string[] = [];
  for (let i = 0; i < units; i++) paragraphs.push(wrap(prose.paragraph(), 78).join(newline));
  return `${paragraphs.join(newline + newline)}${newline}`;
}

function buildUtf8Text(units: number, seed: number): Uint8Array {
  return utf8(plainText(units, new Prose({ seed, accented: 0.02 }), '\n'));
}

/** windows-1252 with CRLF line ends, as Windows editors save "ANSI"; no charset declared. */
function buildLatin1Text(units: number, seed: number): Uint8Array {
  return iconv.encode(plainText(units, new Prose({ seed, accented: 0.04 }), '\r\n'), 'windows-1252');
}

/** Sections: a heading, paragraphs with emphasis and links, now and then a list or a code block. */
export function markdownText(units: number, seed: number): string {
  const prose = new Prose({ seed });
  const parts: string[] = [`# ${prose.title()}`, prose.paragraph()];
  for (let i = 0; i < units; i++) {
    parts.push(`${'#'.repeat(prose.int(2, 3))} ${prose.title()}`);
    for (let p = prose.int(1, 4); p > 0; p--) {
      const sentences = [prose.sentence(), `**${prose.sentence()}**`, prose.sentence()];
      if (prose.random() < 0.4)
        sentences.push(`See [the ${prose.word()} notes](https://example.org/${i}/${p}).`);
      parts.push(sentences.join(' '));
    }
    if (prose.random() < 0.3) {
      parts.push(Array.from({ length: prose.int(3, 6) }, () => `- ${prose.sentence()}`).join('\n'));
    }
    if (prose.random() < 0.1) {
      parts.push(
        [
          '```sh',
          `# ${prose.sentence()}`,
          `ingestd push ./docs-${i} --url http://localhost:3000`,
          '```',
        ].join('\n'),
      );
    }
  }
  return `${parts.join('\n\n')}\n`;
}

function buildMarkdown(units: number, seed: number): Uint8Array {
  return utf8(markdownText(units, seed));
}

/** A web page: a head with style and script, navigation, sections of headings, paragraphs, lists, tables. */
function buildHtml(units: number, seed: number): Uint8Array {
  const prose = new Prose({ seed });
  const inline = () =>
    `${prose.sentence()} <a href="/articles/${prose.int(1, 9999)}">${prose.title()}</a> ${prose.sentence()} ` +
    `<strong>${prose.sentence()}</strong> <em>${prose.word()}</em> ${prose.sentence()}`;
  const sections: string[] = [];
  for (let i = 0; i < units; i++) {
    const body = [`<h2 id="s${i}">${prose.title()}</h2>`];
    for (let p = prose.int(1, 4); p > 0; p--) body.push(`<p class="lead">${inline()}</p>`);
    if (prose.random() < 0.3) {
      const items = Array.from({ length: prose.int(3, 6) }, () => `<li>${prose.sentence()}</li>`);
      body.push(`<ul>\n${items.join('\n')}\n</ul>`);
    }
    if (prose.random() < 0.15) {
      const rows = Array.from(
        { length: prose.int(3, 8) },
        () => `<tr><td>${prose.name()}</td><td>${prose.city()}</td><td>${prose.int(1, 9999)}</td></tr>`,
      );
      body.push(
        `<table>\n<thead><tr><th>Name</th><th>City</th><th>Units</th></tr></thead>\n<tbody>\n${rows.join('\n')}\n</tbody>\n</table>`,
      );
    }
    if (prose.random() < 0.1) {
      body.push(`<script>window.dataLayer.push({section: ${i}, title: "${prose.title()}"});</script>`);
    }
    sections.push(`<section>\n${body.join('\n')}\n</section>`);
  }
  const nav = Array.from({ length: 12 }, (_, i) => `<li><a href="/topics/${i}">${prose.title()}</a></li>`);
  return utf8(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${prose.title()}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 0 auto; max-width: 48rem; }
nav ul { display: flex; gap: 1rem; list-style: none; } .lead { line-height: 1.6; }
table { border-collapse: collapse; } td, th { border: 1px solid #ccc; padding: .25rem .5rem; }
</style>
<script>window.dataLayer = window.dataLayer || []; function track(e) { window.dataLayer.push(e); }</script>
</head>
<body>
<header><nav><ul>
${nav.join('\n')}
</ul></nav></header>
<main>
<article>
<h1>${prose.title()}</h1>
${sections.join('\n')}
</article>
</main>
<footer><p>&copy; 2025 Example Ltd. All rights reserved.</p></footer>
</body>
</html>
`);
}

/** An export of orders, as a spreadsheet saves it: CRLF, quotes only where a field needs them. */
function buildCsv(units: number, seed: number): Uint8Array {
  const prose = new Prose({ seed });
  const statuses = ['paid', 'shipped', 'delivered', 'returned', 'cancelled'];
  const field = (value: string) => (/[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value);
  const lines = ['order_id,date,customer,city,product,quantity,unit_price,status,comment'];
  for (let i = 0; i < units; i++) {
    const date = `2024-${String(prose.int(1, 12)).padStart(2, '0')}-${String(prose.int(1, 28)).padStart(2, '0')}`;
    lines.push(
      [
        String(100_000 + i),
        date,
        prose.name(),
        prose.city(),
        prose.title(),
        String(prose.int(1, 40)),
        (prose.int(99, 99_999) / 100).toFixed(2),
        prose.pick(statuses),
        prose.random() < 0.7 ? prose.sentence() : '',
      ]
        .map(field)
        .join(','),
    );
  }
  return utf8(`${lines.join('\r\n')}\r\n`);
}

/** An API response: an array of nested order records, pretty-printed. */
function buildJson(units: number, seed: number): Uint8Array {
  const prose = new Prose({ seed });
  const orders = Array.from({ length: units }, (_, i) => ({
    id: 100_000 + i,
    createdAt: `2024-${String(prose.int(1, 12)).padStart(2, '0')}-${String(prose.int(1, 28)).padStart(2, '0')}T10:00:00Z`,
    paid: prose.random() < 0.8,
    customer: {
      name: prose.name(),
      email: `customer${i}@example.org`,
      address: { city: prose.city(), postcode: String(prose.int(1000, 99_999)) },
    },
    items: Array.from({ length: prose.int(1, 4) }, () => ({
      sku: `SKU-${prose.int(100, 999)}`,
      title: prose.title(),
      quantity: prose.int(1, 12),
      price: prose.int(99, 99_999) / 100,
    })),
    tags: prose.random() < 0.5 ? [prose.word(), prose.word()] : [],
    note: prose.random() < 0.6 ? prose.sentence() : null,
  }));
  return utf8(`${JSON.stringify({ orders, count: units }, null, 2)}\n`);
}

// ---------------------------------------------------------------- PDF

/** A PDF string literal in WinAnsiEncoding: ( ) \ escaped, bytes above ASCII as octal escapes. */
function pdfString(text: string): string {
  let out = '(';
  for (const byte of iconv.encode(text, 'windows-1252')) {
    if (byte === 0x28 || byte === 0x29 || byte === 0x5c) out += `\\${String.fromCharCode(byte)}`;
    else if (byte < 0x20 || byte > 0x7e) out += `\\${byte.toString(8).padStart(3, '0')}`;
    else out += String.fromCharCode(byte);
  }
  return `${out})`;
}

/** Pages per chapter: each chapter starts with a title and has an outline entry. */
const PAGES_PER_CHAPTER = 8;
const LINES_PER_PAGE = 52;

/**
 * A book-like PDF: `units` letter-size pages of Helvetica text, 10 pt on 13 pt leading, one
 * FlateDecode content stream per page (as every PDF writer compresses them), a chapter title every
 * PAGES_PER_CHAPTER pages, and an outline (bookmarks) with one entry per chapter.
 */
function buildPdf(units: number, seed: number): Uint8Array {
  const prose = new Prose({ seed, accented: 0.01 });
  const pages = Math.max(1, units);
  const chapters = Math.ceil(pages / PAGES_PER_CHAPTER);
  // Objects: 1 catalog, 2 page tree, 3 font, 4 outline root, then a page and its content per page,
  // then one outline entry per chapter.
  const pageObject = (page: number) => 5 + 2 * page;
  const outlineObject = (chapter: number) => 5 + 2 * pages + chapter;
  const objects: Buffer[] = [];
  const dictionary = (text: string) => Buffer.from(text, 'latin1');
  objects.push(
    dictionary('<< /Type /Catalog /Pages 2 0 R /Outlines 4 0 R /PageMode /UseOutlines >>'),
    dictionary(
      `<< /Type /Pages /Kids [${Array.from({ length: pages }, (_, p) => `${pageObject(p)} 0 R`).join(' ')}] /Count ${pages} >>`,
    ),
    dictionary('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>'),
    dictionary(
      `<< /Type /Outlines /First ${outlineObject(0)} 0 R /Last ${outlineObject(chapters - 1)} 0 R /Count ${chapters} >>`,
    ),
  );
  const titles: string[] = [];
  let pending: string[] = [];
  for (let page = 0; page < pages; page++) {
    const operators: string[] = [];
    let lines = LINES_PER_PAGE;
    if (page % PAGES_PER_CHAPTER === 0) {
      const title = `${Math.floor(page / PAGES_PER_CHAPTER) + 1}. ${prose.title()}`;
      titles.push(title);
      operators.push(`BT /F1 18 Tf 72 730 Td ${pdfString(title)} Tj ET`);
      lines -= 3;
    }
    operators.push(`BT /F1 10 Tf 13 TL 72 ${72 + 13 * lines} Td`);
    for (let line = 0; line < lines; line++) {
      if (pending.length === 0) pending = [...wrap(prose.paragraph(), 95), ''];
      const next = pending.shift() as string;
      operators.push(next === '' ? 'T*' : `${pdfString(next)} Tj T*`);
    }
    operators.push('ET');
    const content = deflateSync(Buffer.from(operators.join('\n'), 'latin1'));
    objects.push(
      dictionary(
        `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents ${pageObject(page) + 1} 0 R >>`,
      ),
      Buffer.concat([
        dictionary(`<< /Length ${content.length} /Filter /FlateDecode >>\nstream\n`),
        content,
        dictionary('\nendstream'),
      ]),
    );
  }
  titles.forEach((title, chapter) => {
    const links = [
      chapter > 0 ? `/Prev ${outlineObject(chapter - 1)} 0 R` : '',
      chapter < chapters - 1 ? `/Next ${outlineObject(chapter + 1)} 0 R` : '',
    ].join(' ');
    objects.push(
      dictionary(
        `<< /Title ${pdfString(title)} /Parent 4 0 R ${links} /Dest [${pageObject(chapter * PAGES_PER_CHAPTER)} 0 R /XYZ 0 792 0] >>`,
      ),
    );
  });
  return assemblePdf(objects);
}

/** A PDF file from its objects, numbered 1..n: header, bodies, cross-reference table, trailer. */
function assemblePdf(objects: readonly Buffer[]): Uint8Array {
  const parts: Buffer[] = [Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1')];
  let length = parts[0]?.length ?? 0;
  const offsets: number[] = [];
  objects.forEach((object, index) => {
    offsets.push(length);
    const part = Buffer.concat([
      Buffer.from(`${index + 1} 0 obj\n`, 'latin1'),
      object,
      Buffer.from('\nendobj\n', 'latin1'),
    ]);
    parts.push(part);
    length += part.length;
  });
  let trailer = `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const offset of offsets) trailer += `${String(offset).padStart(10, '0')} 00000 n \n`;
  trailer += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${length}\n%%EOF\n`;
  parts.push(Buffer.from(trailer, 'latin1'));
  return Buffer.concat(parts);
}

// ---------------------------------------------------------------- DOCX

const wordNs =
  'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"';
const relationshipsNs = 'xmlns="http://schemas.openxmlformats.org/package/2006/relationships"';
const officeRelationship = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';

/** Run properties as Word writes them on nearly every run: fonts and language, bold sometimes. */
function wordRun(text: string, bold = false): string {
  const properties = `<w:rPr><w:rFonts w:ascii="Calibri" w:hAnsi="Calibri" w:cs="Calibri"/>${bold ? '<w:b/><w:bCs/>' : ''}<w:lang w:val="en-GB"/></w:rPr>`;
  return `<w:r>${properties}<w:t xml:space="preserve">${escapeXml(text)}</w:t></w:r>`;
}

function wordParagraph(runs: string, id: number, style?: string): string {
  const properties =
    style === undefined
      ? '<w:pPr><w:spacing w:after="160" w:line="259" w:lineRule="auto"/></w:pPr>'
      : `<w:pPr><w:pStyle w:val="${style}"/></w:pPr>`;
  const rsid = (0x00a10000 + (id % 0xffff)).toString(16).toUpperCase().padStart(8, '0');
  return `<w:p w:rsidR="${rsid}" w:rsidRDefault="${rsid}" w:rsidP="${rsid}">${properties}${runs}</w:p>`;
}

function wordStyle(level: number): string {
  return `<w:style w:type="paragraph" w:styleId="Heading${level}"><w:name w:val="heading ${level}"/><w:basedOn w:val="Normal"/><w:next w:val="Normal"/><w:qFormat/><w:pPr><w:keepNext/><w:outlineLvl w:val="${level - 1}"/></w:pPr><w:rPr><w:b/><w:sz w:val="${36 - 4 * level}"/></w:rPr></w:style>`;
}

/** A report: `units` sections of a Heading 1 or 2 and paragraphs of several runs, a table now and then. */
function buildDocx(units: number, seed: number): Uint8Array {
  const prose = new Prose({ seed });
  const body: string[] = [];
  let id = 0;
  for (let i = 0; i < units; i++) {
    body.push(wordParagraph(wordRun(prose.title()), id++, i % 4 === 0 ? 'Heading1' : 'Heading2'));
    for (let p = prose.int(2, 5); p > 0; p--) {
      const runs = Array.from({ length: prose.int(2, 5) }, () =>
        wordRun(`${prose.sentence()} `, prose.random() < 0.15),
      );
      body.push(wordParagraph(runs.join(''), id++));
    }
    if (prose.random() < 0.15) {
      const cell = (text: string) =>
        `<w:tc><w:tcPr><w:tcW w:w="3005" w:type="dxa"/></w:tcPr>${wordParagraph(wordRun(text), id++)}</w:tc>`;
      const rows = Array.from(
        { length: prose.int(3, 6) },
        () => `<w:tr>${cell(prose.name())}${cell(prose.city())}${cell(String(prose.int(1, 9999)))}</w:tr>`,
      );
      body.push(
        `<w:tbl><w:tblPr><w:tblStyle w:val="TableGrid"/><w:tblW w:w="0" w:type="auto"/></w:tblPr><w:tblGrid><w:gridCol w:w="3005"/><w:gridCol w:w="3005"/><w:gridCol w:w="3005"/></w:tblGrid>${rows.join('')}</w:tbl>`,
      );
    }
  }
  const document = `<w:document ${wordNs}><w:body>${body.join('')}<w:sectPr><w:pgSz w:w="11906" w:h="16838"/><w:pgMar w:top="1440" w:right="1440" w:bottom="1440" w:left="1440" w:header="708" w:footer="708" w:gutter="0"/></w:sectPr></w:body></w:document>`;
  return writeZip(
    [
      [
        '[Content_Types].xml',
        xml(
          '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/><Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/><Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/></Types>',
        ),
      ],
      [
        '_rels/.rels',
        xml(
          `<Relationships ${relationshipsNs}><Relationship Id="rId1" Type="${officeRelationship}/officeDocument" Target="word/document.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/></Relationships>`,
        ),
      ],
      [
        'docProps/core.xml',
        xml(
          '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Benchmark report</dc:title><dc:creator>ingestd bench</dc:creator></cp:coreProperties>',
        ),
      ],
      ['word/document.xml', xml(document)],
      [
        'word/_rels/document.xml.rels',
        xml(
          `<Relationships ${relationshipsNs}><Relationship Id="rId1" Type="${officeRelationship}/styles" Target="styles.xml"/></Relationships>`,
        ),
      ],
      [
        'word/styles.xml',
        xml(
          `<w:styles ${wordNs}><w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/><w:qFormat/></w:style>${wordStyle(1)}${wordStyle(2)}<w:style w:type="table" w:styleId="TableGrid"><w:name w:val="Table Grid"/></w:style></w:styles>`,
        ),
      ],
    ],
    { compress: deflateAll },
  );
}

// ---------------------------------------------------------------- XLSX

const sheetNs = `xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="${officeRelationship}"`;

/** Spreadsheet column letters: 0 -> A, 25 -> Z, 26 -> AA. */
function columnName(index: number): string {
  let name = '';
  for (let n = index + 1; n > 0; n = Math.floor((n - 1) / 26))
    name = String.fromCharCode(65 + ((n - 1) % 26)) + name;
  return name;
}

/**
 * An orders workbook as Excel saves it: every string in the shared-string table, dates as serial
 * numbers with a date style, amounts as numbers, one formula per row with its cached value;
 * `units` rows on the first sheet and a short summary sheet.
 */
function buildXlsx(units: number, seed: number): Uint8Array {
  const prose = new Prose({ seed });
  const shared: string[] = [];
  const sharedIndex = new Map<string, number>();
  const stringCell = (ref: string, text: string) => {
    let index = sharedIndex.get(text);
    if (index === undefined) {
      index = shared.length;
      shared.push(text);
      sharedIndex.set(text, index);
    }
    return `<c r="${ref}" t="s"><v>${index}</v></c>`;
  };
  const headers = [
    'Order',
    'Date',
    'Customer',
    'City',
    'Product',
    'Quantity',
    'Unit price',
    'Total',
    'Status',
    'Comment',
  ];
  const statuses = ['Paid', 'Shipped', 'Delivered', 'Returned'];
  const row = (r: number, cells: string[]) =>
    `<row r="${r}" spans="1:${headers.length}">${cells.join('')}</row>`;
  const rows = [
    row(
      1,
      headers.map((header, c) => stringCell(`${columnName(c)}1`, header)),
    ),
  ];
  for (let i = 0; i < units; i++) {
    const r = i + 2;
    const quantity = prose.int(1, 40);
    const price = prose.int(99, 99_999) / 100;
    rows.push(
      row(r, [
        `<c r="A${r}"><v>${100_000 + i}</v></c>`,
        `<c r="B${r}" s="1"><v>${45_292 + prose.int(0, 365)}</v></c>`,
        stringCell(`C${r}`, prose.name()),
        stringCell(`D${r}`, prose.city()),
        stringCell(`E${r}`, prose.title()),
        `<c r="F${r}"><v>${quantity}</v></c>`,
        `<c r="G${r}" s="2"><v>${price}</v></c>`,
        `<c r="H${r}" s="2"><f>F${r}*G${r}</f><v>${Math.round(quantity * price * 100) / 100}</v></c>`,
        stringCell(`I${r}`, prose.pick(statuses)),
        ...(prose.random() < 0.7 ? [stringCell(`J${r}`, prose.sentence())] : []),
      ]),
    );
  }
  const summary = [
    row(1, [stringCell('A1', 'Status'), stringCell('B1', 'Orders')]),
    ...statuses.map((status, i) =>
      row(i + 2, [
        stringCell(`A${i + 2}`, status),
        `<c r="B${i + 2}"><f>COUNTIF(Orders!I:I,A${i + 2})</f><v>${Math.floor(units / 4)}</v></c>`,
      ]),
    ),
  ];
  const sheet = (sheetRows: string[], dimension: string) =>
    xml(
      `<worksheet ${sheetNs}><dimension ref="${dimension}"/><sheetViews><sheetView workbookViewId="0"/></sheetViews><sheetFormatPr defaultRowHeight="15"/><sheetData>${sheetRows.join('')}</sheetData></worksheet>`,
    );
  const orders = sheet(rows, `A1:${columnName(headers.length - 1)}${units + 1}`);
  const summarySheet = sheet(summary, `A1:B${statuses.length + 1}`);
  return writeZip(
    [
      [
        '[Content_Types].xml',
        xml(
          '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/worksheets/sheet2.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>',
        ),
      ],
      [
        '_rels/.rels',
        xml(
          `<Relationships ${relationshipsNs}><Relationship Id="rId1" Type="${officeRelationship}/officeDocument" Target="xl/workbook.xml"/></Relationships>`,
        ),
      ],
      [
        'xl/workbook.xml',
        xml(
          `<workbook ${sheetNs}><workbookPr defaultThemeVersion="166925"/><sheets><sheet name="Orders" sheetId="1" r:id="rId1"/><sheet name="Summary" sheetId="2" r:id="rId2"/></sheets></workbook>`,
        ),
      ],
      [
        'xl/_rels/workbook.xml.rels',
        xml(
          `<Relationships ${relationshipsNs}><Relationship Id="rId1" Type="${officeRelationship}/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="${officeRelationship}/worksheet" Target="worksheets/sheet2.xml"/><Relationship Id="rId3" Type="${officeRelationship}/sharedStrings" Target="sharedStrings.xml"/><Relationship Id="rId4" Type="${officeRelationship}/styles" Target="styles.xml"/></Relationships>`,
        ),
      ],
      [
        'xl/sharedStrings.xml',
        xml(
          `<sst ${sheetNs} count="${shared.length}" uniqueCount="${shared.length}">${shared
            .map((text) => `<si><t>${escapeXml(text)}</t></si>`)
            .join('')}</sst>`,
        ),
      ],
      [
        'xl/styles.xml',
        xml(
          `<styleSheet ${sheetNs}><numFmts count="1"><numFmt numFmtId="164" formatCode="#,##0.00"/></numFmts><cellStyleXfs count="1"><xf numFmtId="0"/></cellStyleXfs><cellXfs count="3"><xf numFmtId="0"/><xf numFmtId="14" applyNumberFormat="1"/><xf numFmtId="164" applyNumberFormat="1"/></cellXfs></styleSheet>`,
        ),
      ],
      ['xl/worksheets/sheet1.xml', orders],
      ['xl/worksheets/sheet2.xml', summarySheet],
    ],
    { compress: deflateAll },
  );
}

// ---------------------------------------------------------------- PPTX

const slideNs = `xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:r="${officeRelationship}" xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"`;

function slideShape(id: number, placeholder: string, paragraphs: readonly string[], offsetY: number): string {
  const body = paragraphs
    .map(
      (paragraph) =>
        `<a:p><a:pPr lvl="0"/><a:r><a:rPr lang="en-GB" sz="2000" dirty="0"/><a:t>${escapeXml(paragraph)}</a:t></a:r></a:p>`,
    )
    .join('');
  return `<p:sp><p:nvSpPr><p:cNvPr id="${id}" name="Placeholder ${id}"/><p:cNvSpPr><a:spLocks noGrp="1"/></p:cNvSpPr><p:nvPr>${placeholder}</p:nvPr></p:nvSpPr><p:spPr><a:xfrm><a:off x="838200" y="${offsetY}"/><a:ext cx="10515600" cy="1325563"/></a:xfrm></p:spPr><p:txBody><a:bodyPr><a:normAutofit/></a:bodyPr><a:lstStyle/>${body}</p:txBody></p:sp>`;
}

/** A deck of `units` slides, each a title and four to seven bullet points. */
function buildPptx(units: number, seed: number): Uint8Array {
  const prose = new Prose({ seed });
  const slides: [string, Uint8Array][] = [];
  const ids: string[] = [];
  const relationships: string[] = [];
  for (let i = 0; i < units; i++) {
    const bullets = Array.from({ length: prose.int(4, 7) }, () => prose.sentence());
    const shapes = [
      slideShape(2, '<p:ph type="title"/>', [prose.title()], 365125),
      slideShape(3, '<p:ph idx="1"/>', bullets, 1825625),
    ];
    slides.push([
      `ppt/slides/slide${i + 1}.xml`,
      xml(
        `<p:sld ${slideNs}><p:cSld><p:spTree><p:nvGrpSpPr><p:cNvPr id="1" name=""/><p:cNvGrpSpPr/><p:nvPr/></p:nvGrpSpPr><p:grpSpPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="0" cy="0"/></a:xfrm></p:grpSpPr>${shapes.join('')}</p:spTree></p:cSld><p:clrMapOvr><a:masterClrMapping/></p:clrMapOvr></p:sld>`,
      ),
    ]);
    ids.push(`<p:sldId id="${256 + i}" r:id="rId${i + 2}"/>`);
    relationships.push(
      `<Relationship Id="rId${i + 2}" Type="${officeRelationship}/slide" Target="slides/slide${i + 1}.xml"/>`,
    );
  }
  const overrides = slides
    .map(
      ([name]) =>
        `<Override PartName="/${name}" ContentType="application/vnd.openxmlformats-officedocument.presentationml.slide+xml"/>`,
    )
    .join('');
  return writeZip(
    [
      [
        '[Content_Types].xml',
        xml(
          `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/ppt/presentation.xml" ContentType="application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"/>${overrides}</Types>`,
        ),
      ],
      [
        '_rels/.rels',
        xml(
          `<Relationships ${relationshipsNs}><Relationship Id="rId1" Type="${officeRelationship}/officeDocument" Target="ppt/presentation.xml"/></Relationships>`,
        ),
      ],
      [
        'ppt/presentation.xml',
        xml(
          `<p:presentation ${slideNs} saveSubsetFonts="1"><p:sldIdLst>${ids.join('')}</p:sldIdLst><p:sldSz cx="12192000" cy="6858000"/><p:notesSz cx="6858000" cy="9144000"/></p:presentation>`,
        ),
      ],
      [
        'ppt/_rels/presentation.xml.rels',
        xml(`<Relationships ${relationshipsNs}>${relationships.join('')}</Relationships>`),
      ],
      ...slides,
    ],
    { compress: deflateAll },
  );
}

// ---------------------------------------------------------------- ODT

const odtType = 'application/vnd.oasis.opendocument.text';

/** An OpenDocument report: `units` sections of a heading and styled paragraphs, a list now and then. */
function buildOdt(units: number, seed: number): Uint8Array {
  const prose = new Prose({ seed });
  const body: string[] = [];
  for (let i = 0; i < units; i++) {
    body.push(
      `<text:h text:style-name="Heading_20_${i % 4 === 0 ? 1 : 2}" text:outline-level="${i % 4 === 0 ? 1 : 2}">${escapeXml(prose.title())}</text:h>`,
    );
    for (let p = prose.int(2, 5); p > 0; p--) {
      body.push(
        `<text:p text:style-name="P1">${escapeXml(prose.sentence())} <text:span text:style-name="T1">${escapeXml(prose.sentence())}</text:span> ${escapeXml(prose.sentence())}<text:s/>${escapeXml(prose.sentence())}</text:p>`,
      );
    }
    if (prose.random() < 0.25) {
      const items = Array.from(
        { length: prose.int(3, 5) },
        () =>
          `<text:list-item><text:p text:style-name="P2">${escapeXml(prose.sentence())}</text:p></text:list-item>`,
      );
      body.push(`<text:list text:style-name="L1">${items.join('')}</text:list>`);
    }
  }
  const content = `<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" office:version="1.3"><office:automatic-styles><style:style style:name="P1" style:family="paragraph"><style:paragraph-properties fo:margin-bottom="0.25cm"/></style:style><style:style style:name="T1" style:family="text"><style:text-properties fo:font-weight="bold"/></style:style></office:automatic-styles><office:body><office:text>${body.join('')}</office:text></office:body></office:document-content>`;
  return writeZip(
    [
      // Stored and first, so detectors find the type at a fixed offset.
      ['mimetype', utf8(odtType)],
      [
        'META-INF/manifest.xml',
        xml(
          `<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3"><manifest:file-entry manifest:full-path="/" manifest:media-type="${odtType}"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>`,
        ),
      ],
      ['content.xml', xml(content)],
    ],
    { compress: (name) => name !== 'mimetype' },
  );
}

// ---------------------------------------------------------------- the list

export const sampleFormats: readonly SampleFormat[] = [
  {
    label: 'text UTF-8',
    declared: 'text/plain',
    expected: 'text/plain',
    unit: 'paragraphs',
    build: buildUtf8Text,
  },
  {
    label: 'text Latin-1',
    declared: 'text/plain',
    expected: 'text/plain',
    unit: 'paragraphs',
    build: buildLatin1Text,
  },
  {
    label: 'Markdown',
    declared: 'text/markdown',
    expected: 'text/markdown',
    unit: 'sections',
    build: buildMarkdown,
  },
  {
    label: 'HTML',
    declared: 'text/html; charset=utf-8',
    expected: 'text/html',
    unit: 'sections',
    build: buildHtml,
  },
  { label: 'CSV', declared: 'text/csv', expected: 'text/csv', unit: 'rows', build: buildCsv },
  {
    label: 'JSON',
    declared: 'application/json',
    expected: 'application/json',
    unit: 'records',
    build: buildJson,
  },
  { label: 'PDF', declared: 'application/pdf', expected: 'application/pdf', unit: 'pages', build: buildPdf },
  {
    label: 'DOCX',
    declared: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    expected: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    unit: 'sections',
    build: buildDocx,
  },
  {
    label: 'XLSX',
    declared: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    expected: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    unit: 'rows',
    build: buildXlsx,
  },
  {
    label: 'PPTX',
    declared: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
    expected: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
    unit: 'slides',
    build: buildPptx,
  },
  { label: 'ODT', declared: odtType, expected: odtType, unit: 'sections', build: buildOdt },
];

export interface Sample {
  bytes: Uint8Array;
  units: number;
}

/**
 * A document of `format` close to `targetBytes` (within a few percent): built once small to learn
 * the bytes per unit (compression makes it format- and size-dependent), then at the scaled count,
 * then corrected once more.
 */
export function sampleOfSize(format: SampleFormat, targetBytes: number, seed = 7): Sample {
  let units = 32;
  let bytes = format.build(units, seed);
  for (let attempt = 0; attempt < 2; attempt++) {
    const scaled = Math.max(1, Math.round((units * targetBytes) / bytes.length));
    if (Math.abs(scaled - units) <= Math.max(1, units * 0.02)) break;
    units = scaled;
    bytes = format.build(units, seed);
  }
  return { bytes, units };
}
