/** What the extraction scenario measured, and how it prints (see bench/extraction.ts). */

export const MB = 1024 ** 2;

export interface Machine {
  cores: number;
  cpu: string;
  memoryGb: number;
  node: string;
  platform: string;
  /** 1-minute load average when the run started: other work on the machine skews every figure. */
  loadAverage: number;
}

/** One timed operation: repeated `runs` times after one untimed warm-up run. */
export interface Timing {
  /** The warm-up run: module loading, JIT and caches included. */
  firstMs: number;
  medianMs: number;
  minMs: number;
  maxMs: number;
}

export interface FormatResult {
  format: string;
  declared: string;
  detected: string;
  /** A large document of the format: input MB/s. */
  large: {
    bytes: number;
    units: number;
    unit: string;
    outputChars: number;
    headings: number;
    pages: number;
    /** detect + extract. */
    timing: Timing;
    /** Median of the detect share alone. */
    detectMedianMs: number;
    /** Input bytes per second, in MB (2^20 bytes), at the median. */
    mbPerSec: number;
    /** Extracted UTF-16 characters per second, at the median. */
    charsPerSec: number;
  };
  /** A document of typical size: documents per second, one after another in one thread. */
  typical: {
    bytes: number;
    units: number;
    /** Documents extracted per timed run. */
    docsPerRun: number;
    /** Median over the runs. */
    docsPerSec: number;
    mbPerSec: number;
  };
}

export interface ChunkingRow {
  label: string;
  implementation: 'ingestd' | 'LangChain';
  /** What one timed call does and returns. */
  timed: string;
  timing: Timing;
  /** UTF-8 bytes of the text per second, in MB (2^20 bytes), at the median. */
  mbPerSec: number;
  chunks: number;
}

export interface Ratio {
  label: string;
  /** ingestd MB/s / LangChain MB/s: above 1, ingestd is faster. */
  ratio: number;
}

export interface ExtractionBenchResult {
  scenario: 'extraction';
  startedAt: string;
  machine: Machine;
  method: { runs: number; warmUpRuns: 1; statistic: 'median'; clock: 'performance.now()'; mb: number };
  formats: FormatResult[];
  chunking: {
    text: { bytes: number; chars: number; headings: number; source: string };
    /** One chunkText (words 500/50) over the text with the tokenizer's piece cache empty, before the rows. */
    coldPassMs: number;
    rows: ChunkingRow[];
    ratios: Ratio[];
    /** Why LangChain was not measured, if it was not. */
    langchainMissing: string | null;
  };
  totalSeconds: number;
}

function formatNumber(value: number, digits = 0): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Three significant figures or so: 0.412, 4.12, 41.2, 412. */
function formatRate(value: number): string {
  if (value >= 100) return formatNumber(value);
  if (value >= 10) return formatNumber(value, 1);
  if (value >= 1) return formatNumber(value, 2);
  return formatNumber(value, 3);
}

function formatBytes(bytes: number): string {
  return bytes >= MB ? `${formatNumber(bytes / MB, 2)} MB` : `${formatNumber(bytes / 1024)} KB`;
}

function formatMs(ms: number): string {
  return formatNumber(ms, ms < 10 ? 2 : ms < 100 ? 1 : 0);
}

function formatChars(chars: number): string {
  return chars >= 1e6 ? `${formatNumber(chars / 1e6, 2)} M` : `${formatNumber(chars / 1e3, 1)} k`;
}

/** Left-aligned text columns, right-aligned figures. */
function formatTable(
  header: readonly string[],
  rows: readonly string[][],
  numeric: readonly boolean[],
): string {
  const widths = header.map((_, column) =>
    Math.max(...[header, ...rows].map((row) => row[column]?.length ?? 0)),
  );
  const line = (row: readonly string[]) =>
    row
      .map((cell, column) =>
        numeric[column] ? cell.padStart(widths[column] ?? 0) : cell.padEnd(widths[column] ?? 0),
      )
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

function formatsTable(formats: readonly FormatResult[]): string {
  const header = [
    'format',
    'large document',
    'MB/s',
    'median ms',
    'detect ms',
    '1st run ms',
    'chars out',
    'M chars/s',
    'typical doc',
    'docs/s',
  ];
  const rows = formats.map(({ format, large, typical }) => [
    format,
    `${formatBytes(large.bytes)} (${formatNumber(large.units)} ${large.unit})`,
    formatRate(large.mbPerSec),
    formatMs(large.timing.medianMs),
    formatMs(large.detectMedianMs),
    formatMs(large.timing.firstMs),
    formatChars(large.outputChars),
    formatRate(large.charsPerSec / 1e6),
    `${formatBytes(typical.bytes)} (${formatNumber(typical.units)})`,
    formatRate(typical.docsPerSec),
  ]);
  return formatTable(header, rows, [false, false, true, true, true, true, true, true, false, true]);
}

function chunkingTable(rows: readonly ChunkingRow[]): string {
  const header = ['configuration', 'what one timed call does', 'MB/s', 'median ms', '1st run ms', 'chunks'];
  return formatTable(
    header,
    rows.map((row) => [
      `${row.implementation} ${row.label}`,
      row.timed,
      formatRate(row.mbPerSec),
      formatMs(row.timing.medianMs),
      formatMs(row.timing.firstMs),
      formatNumber(row.chunks),
    ]),
    [false, false, true, true, true, true],
  );
}

/** The human-readable report: machine and method, then the two tables and the ratios. */
export function formatExtractionReport(result: ExtractionBenchResult): string {
  const { machine, method, chunking } = result;
  const lines = [
    '',
    'ingestd benchmark: extraction and chunking (in-process, one thread, no Postgres)',
    `machine   ${machine.cores} cores (${machine.cpu}), ${formatNumber(machine.memoryGb, 1)} GB RAM, ` +
      `node ${machine.node} (${machine.platform}), load average ${formatNumber(machine.loadAverage, 2)} at start`,
    `method    each figure is the median of ${method.runs} timed runs after 1 untimed warm-up run ` +
      `(${method.clock}); MB = 2^20 bytes`,
    '',
    'Extraction: detectContentType + extractorFor(type) with defaultExtractLimits, per format',
    '  MB/s and median ms on the large document (input bytes); detect ms is the median of detection alone;',
    '  1st run includes loading the format module; docs/s: the typical document extracted again and again.',
    '',
    formatsTable(result.formats),
    '',
    `Chunking: ${formatBytes(chunking.text.bytes)} of text (${formatNumber(chunking.text.chars)} characters, ` +
      `${formatNumber(chunking.text.headings)} headings), ${chunking.text.source}`,
    `  cold pass: the first chunkText over this text (words 500/50, tokenizer piece cache empty) took ` +
      `${formatMs(chunking.coldPassMs)} ms; the rows below run after it.`,
    '',
    chunkingTable(chunking.rows),
    '',
  ];
  if (chunking.langchainMissing !== null) {
    lines.push(`LangChain not measured: ${chunking.langchainMissing}`);
  }
  if (chunking.ratios.length > 0) {
    lines.push('ingestd MB/s / LangChain MB/s, same text, same run (above 1: ingestd is faster):');
    for (const { label, ratio } of chunking.ratios) lines.push(`  ${formatNumber(ratio, 2)}x  ${label}`);
  }
  lines.push(
    '',
    'Notes: every ingestd chunkText row includes tokenizing the whole text once (cl100k_base) and, per chunk, its',
    'text, offsets, word and token counts, heading path and pages; LangChain splitText returns the chunk strings only.',
    '"boundaries only" is the recursive cutter alone (offsets, nothing counted), the figure closest to splitText.',
    "The separators differ (ingestd cuts sentences at . ! ? followed by whitespace, LangChain at '. '), so chunk",
    "counts differ slightly. The tokenizer's piece cache lives across calls, as in a long-lived pipeline thread",
    "(see the cold pass above); 1st run is each row's untimed warm-up.",
    '',
    `total     ${formatNumber(result.totalSeconds, 1)} s`,
  );
  return lines.join('\n');
}
