/**
 * `npm run bench:extraction` (or `npm run bench -- --scenario extraction`): the pipeline's pure
 * stages measured in-process, in this one thread: detect + extract per format (input MB/s on a
 * large document, docs/s on a typical one), then chunking per strategy on ~5 MB of prose beside
 * LangChain's RecursiveCharacterTextSplitter on the same text in the same run. No Postgres,
 * Redis or API. Other work on the machine skews the figures: the report prints the load average.
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { countTokens as gptTokenizerCount } from 'gpt-tokenizer/encoding/cl100k_base';
import { type ChunkingSettings, chunkText } from '../src/pipeline/chunk/index.js';
import { measureCharacters, recursiveSpans } from '../src/pipeline/chunk/recursive.js';
import { charsetOf, detectContentType } from '../src/pipeline/detect.js';
import { defaultExtractLimits, type ExtractedText, extractorFor } from '../src/pipeline/extract/index.js';
import {
  type ChunkingRow,
  type ExtractionBenchResult,
  type FormatResult,
  formatExtractionReport,
  MB,
  type Ratio,
  type Timing,
} from './extraction-report.js';
import { type SampleFormat, sampleFormats, sampleOfSize } from './sample-documents.js';
import { percentile } from './stats.js';

export interface ExtractionBenchOptions {
  /** Timed runs per figure, after one warm-up run. Default 5. */
  runs: number;
  /** Also print the result as one JSON line. Default false. */
  json: boolean;
}

/**
 * Large-document sizes: 4 MB for text formats; 1 MB for the binary ones, which hold several times
 * more text per byte (a 1 MB DOCX is ~8 MB of XML) and are slower per byte, so that every format
 * takes seconds, not minutes, at 5 runs.
 */
const LARGE_TEXT_BYTES = 4 * MB;
const LARGE_BINARY_BYTES = 1 * MB;
const binaryFormats = new Set(['PDF', 'DOCX', 'XLSX', 'PPTX', 'ODT']);
/** A typical upload: between a short memo and a long report. */
const TYPICAL_BYTES = 100 * 1024;
/** A docs/s run extracts the typical document this long at least, so timer resolution does not matter. */
const TYPICAL_RUN_MS = 200;
const CHUNKING_TEXT_BYTES = 5 * MB;

const LANGCHAIN_SIZE = 2000;
const LANGCHAIN_OVERLAP = 200;
/** The ingestd configuration LangChain's splitter mirrors. */
const RECURSIVE_CHARACTERS = `recursive ${LANGCHAIN_SIZE}/${LANGCHAIN_OVERLAP} characters`;

/** Prints what is being measured to stderr, keeping stdout for the report. */
function progress(line: string): void {
  process.stderr.write(`bench: ${line}\n`);
}

/** Runs `operation` once untimed, then `runs` times timed; returns the timing and the last result. */
async function timeRuns<T>(
  runs: number,
  operation: () => T | Promise<T>,
): Promise<{ timing: Timing; result: T }> {
  let started = performance.now();
  let result = await operation();
  const firstMs = performance.now() - started;
  const samples: number[] = [];
  for (let run = 0; run < runs; run++) {
    started = performance.now();
    result = await operation();
    samples.push(performance.now() - started);
  }
  return { timing: timingOf(firstMs, samples), result };
}

function timingOf(firstMs: number, samples: readonly number[]): Timing {
  const sorted = samples.toSorted((a, b) => a - b);
  return {
    firstMs,
    medianMs: median(sorted),
    minMs: sorted[0] ?? Number.NaN,
    maxMs: sorted.at(-1) ?? Number.NaN,
  };
}

/** The median of ascending `sorted` (the mean of the middle two for an even count). */
function median(sorted: readonly number[]): number {
  if (sorted.length % 2 === 1) return percentile(sorted, 50) ?? Number.NaN;
  const upper = sorted.length / 2;
  return ((sorted[upper - 1] ?? Number.NaN) + (sorted[upper] ?? Number.NaN)) / 2;
}

/** What processDocument does before chunking: detect from bytes and declared type, then extract. */
async function detectAndExtract(
  bytes: Uint8Array,
  declared: string,
): Promise<{ type: string; extracted: ExtractedText; detectMs: number }> {
  const started = performance.now();
  const type = await detectContentType(bytes, declared, undefined, defaultExtractLimits);
  const detectMs = performance.now() - started;
  const extracted = await extractorFor(type)(bytes, defaultExtractLimits, { charset: charsetOf(declared) });
  return { type, extracted, detectMs };
}

async function measureFormat(format: SampleFormat, runs: number): Promise<FormatResult> {
  const largeBytes = binaryFormats.has(format.label) ? LARGE_BINARY_BYTES : LARGE_TEXT_BYTES;
  const large = sampleOfSize(format, largeBytes);
  const typical = sampleOfSize(format, TYPICAL_BYTES, 8);
  progress(
    `extracting ${format.label}: ${large.bytes.length} bytes x ${runs + 1}, then the typical document`,
  );

  const detectSamples: number[] = [];
  let warmedUp = false;
  const { timing, result } = await timeRuns(runs, async () => {
    const outcome = await detectAndExtract(large.bytes, format.declared);
    // The warm-up's detection is not one of the timed runs.
    if (warmedUp) detectSamples.push(outcome.detectMs);
    warmedUp = true;
    return outcome;
  });
  if (result.type !== format.expected) {
    throw new Error(`${format.label} was detected as ${result.type}, not ${format.expected}`);
  }
  const seconds = timing.medianMs / 1000;

  // Calibrate: enough documents per run for TYPICAL_RUN_MS, after two warm-up extractions.
  await detectAndExtract(typical.bytes, format.declared);
  const probeStarted = performance.now();
  await detectAndExtract(typical.bytes, format.declared);
  const probeMs = performance.now() - probeStarted;
  const docsPerRun = Math.min(2000, Math.max(1, Math.ceil(TYPICAL_RUN_MS / Math.max(probeMs, 0.01))));
  const rates: number[] = [];
  for (let run = 0; run < runs; run++) {
    const started = performance.now();
    for (let doc = 0; doc < docsPerRun; doc++) await detectAndExtract(typical.bytes, format.declared);
    rates.push(docsPerRun / ((performance.now() - started) / 1000));
  }
  const docsPerSec = median(rates.toSorted((a, b) => a - b));

  return {
    format: format.label,
    declared: format.declared,
    detected: result.type,
    large: {
      bytes: large.bytes.length,
      units: large.units,
      unit: format.unit,
      outputChars: result.extracted.text.length,
      headings: result.extracted.headings.length,
      pages: result.extracted.pages.length,
      timing,
      detectMedianMs: median(detectSamples.toSorted((a, b) => a - b)),
      mbPerSec: large.bytes.length / MB / seconds,
      charsPerSec: result.extracted.text.length / seconds,
    },
    typical: {
      bytes: typical.bytes.length,
      units: typical.units,
      docsPerRun,
      docsPerSec,
      mbPerSec: (docsPerSec * typical.bytes.length) / MB,
    },
  };
}

/** The strategies at the settings people use; the recursive characters row is the one LangChain mirrors. */
const chunkingConfigurations: { label: string; settings: ChunkingSettings }[] = [
  { label: 'words 500/50', settings: { strategy: 'words', size: 500, overlap: 50 } },
  {
    label: 'tokens 512/51 cl100k_base',
    settings: { strategy: 'tokens', size: 512, overlap: 51, tokenizer: 'cl100k_base' },
  },
  {
    label: RECURSIVE_CHARACTERS,
    settings: {
      strategy: 'recursive',
      size: LANGCHAIN_SIZE,
      overlap: LANGCHAIN_OVERLAP,
      unit: 'characters',
      tokenizer: 'cl100k_base',
    },
  },
  {
    label: 'recursive 512/51 tokens cl100k_base',
    settings: { strategy: 'recursive', size: 512, overlap: 51, unit: 'tokens', tokenizer: 'cl100k_base' },
  },
  {
    label: `structure ${LANGCHAIN_SIZE}/${LANGCHAIN_OVERLAP} characters`,
    settings: {
      strategy: 'structure',
      size: LANGCHAIN_SIZE,
      overlap: LANGCHAIN_OVERLAP,
      unit: 'characters',
      tokenizer: 'cl100k_base',
    },
  },
];

const CHUNK_TEXT_TIMED = 'chunkText: chunks with text, offsets, word+token counts';

interface Splitter {
  splitText(text: string): Promise<string[]>;
}

/** LangChain's splitter, or why it could not be loaded (a production install has no devDependencies). */
async function loadLangChain(): Promise<Splitter | string> {
  try {
    const { RecursiveCharacterTextSplitter } = await import('@langchain/textsplitters');
    return new RecursiveCharacterTextSplitter({ chunkSize: LANGCHAIN_SIZE, chunkOverlap: LANGCHAIN_OVERLAP });
  } catch (error) {
    return `@langchain/textsplitters cannot be loaded (${(error as Error).message}); it is a devDependency`;
  }
}

async function measureChunking(runs: number): Promise<ExtractionBenchResult['chunking']> {
  const markdown = sampleFormats.find((format) => format.expected === 'text/markdown');
  if (markdown === undefined) throw new Error('no Markdown sample format');
  // The text comes out of the Markdown extractor, as a worker would chunk it: headings found by it.
  const source = sampleOfSize(markdown, CHUNKING_TEXT_BYTES, 11);
  const { extracted: document } = await detectAndExtract(source.bytes, markdown.declared);
  const textBytes = Buffer.byteLength(document.text, 'utf8');
  const rate = (timing: Timing) => textBytes / MB / (timing.medianMs / 1000);
  // Load the tokenizer's tables first, as a pipeline thread does at start, then make one pass over
  // the text with the piece cache empty: its time is reported apart, so that no row's 1st run pays
  // for a cache every later call finds full.
  chunkText({ text: 'warm up', headings: [], pages: [] }, { strategy: 'words', size: 10, overlap: 0 });
  progress('chunking: one cold pass to fill the tokenizer cache');
  const coldStarted = performance.now();
  chunkText(document, { strategy: 'words', size: 500, overlap: 50 });
  const coldPassMs = performance.now() - coldStarted;

  const rows: ChunkingRow[] = [];
  for (const { label, settings } of chunkingConfigurations) {
    progress(`chunking ${label} x ${runs + 1}`);
    const { timing, result } = await timeRuns(runs, () => chunkText(document, settings));
    rows.push({
      label,
      implementation: 'ingestd',
      timed: CHUNK_TEXT_TIMED,
      timing,
      mbPerSec: rate(timing),
      chunks: result.length,
    });
  }
  progress(`chunking recursive boundaries only x ${runs + 1}`);
  const boundaries = await timeRuns(runs, () =>
    recursiveSpans(document.text, 0, document.text.length, {
      size: LANGCHAIN_SIZE,
      overlap: LANGCHAIN_OVERLAP,
      measure: measureCharacters,
    }),
  );
  rows.push({
    label: RECURSIVE_CHARACTERS,
    implementation: 'ingestd',
    timed: 'recursiveSpans: boundaries only (start/end offsets)',
    timing: boundaries.timing,
    mbPerSec: rate(boundaries.timing),
    chunks: boundaries.result.length,
  });

  const splitter = await loadLangChain();
  const ratios: Ratio[] = [];
  if (typeof splitter !== 'string') {
    progress(`chunking LangChain RecursiveCharacterTextSplitter x ${runs + 1}, then with token counts`);
    const plain = await timeRuns(runs, () => splitter.splitText(document.text));
    // What a LangChain user pays to know each chunk's tokens: gpt-tokenizer (an ingestd dependency) per chunk.
    const counted = await timeRuns(runs, async () => {
      const chunks = await splitter.splitText(document.text);
      for (const chunk of chunks) gptTokenizerCount(chunk, { disallowedSpecial: new Set() });
      return chunks;
    });
    const label = `RecursiveCharacterTextSplitter ${LANGCHAIN_SIZE}/${LANGCHAIN_OVERLAP}`;
    rows.push(
      {
        label,
        implementation: 'LangChain',
        timed: 'splitText (async): chunk strings only',
        timing: plain.timing,
        mbPerSec: rate(plain.timing),
        chunks: plain.result.length,
      },
      {
        label,
        implementation: 'LangChain',
        timed: 'splitText + gpt-tokenizer countTokens per chunk',
        timing: counted.timing,
        mbPerSec: rate(counted.timing),
        chunks: counted.result.length,
      },
    );
    const full = rows.find((row) => row.timed === CHUNK_TEXT_TIMED && row.label === RECURSIVE_CHARACTERS);
    const langchain = rate(plain.timing);
    if (full !== undefined) {
      ratios.push(
        {
          label: `${RECURSIVE_CHARACTERS}, chunkText (with counts) vs splitText`,
          ratio: full.mbPerSec / langchain,
        },
        {
          label: `${RECURSIVE_CHARACTERS}, boundaries only vs splitText`,
          ratio: rate(boundaries.timing) / langchain,
        },
        {
          label: `${RECURSIVE_CHARACTERS}, chunkText vs splitText + token counts per chunk`,
          ratio: full.mbPerSec / rate(counted.timing),
        },
      );
    }
  }
  return {
    text: {
      bytes: textBytes,
      chars: document.text.length,
      headings: document.headings.length,
      source: `generated Markdown prose (${source.units} sections) through the Markdown extractor`,
    },
    coldPassMs,
    rows,
    ratios,
    langchainMissing: typeof splitter === 'string' ? splitter : null,
  };
}

/** Runs the scenario and prints its report; 0 when every format was detected and extracted as expected. */
export async function runExtractionScenario(options: ExtractionBenchOptions): Promise<number> {
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const machine = {
    cores: os.cpus().length,
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown cpu',
    memoryGb: os.totalmem() / 1024 ** 3,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    loadAverage: os.loadavg()[0] ?? 0,
  };
  try {
    const formats: FormatResult[] = [];
    for (const format of sampleFormats) formats.push(await measureFormat(format, options.runs));
    const chunking = await measureChunking(options.runs);
    const result: ExtractionBenchResult = {
      scenario: 'extraction',
      startedAt,
      machine,
      method: {
        runs: options.runs,
        warmUpRuns: 1,
        statistic: 'median',
        clock: 'performance.now()',
        mb: MB,
      },
      formats,
      chunking,
      totalSeconds: (performance.now() - started) / 1000,
    };
    process.stdout.write(`${formatExtractionReport(result)}\n`);
    if (options.json) process.stdout.write(`${JSON.stringify(result)}\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`bench failed: ${(error as Error).stack ?? String(error)}\n`);
    return 1;
  }
}
