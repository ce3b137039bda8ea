/**
 * `npm run bench:extraction` (or `npm run bench -- extraction`): the pipeline's pure
 * stages measured in-process, in this one thread: detect + extract per format (input MB/s on a
 * large document, docs/s on a typical one), then chunking per strategy on ~5 MB of prose beside
 * LangChain's RecursiveCharacterTextSplitter on the same text in the same run. No Postgres,
 * Redis or API. Other work on the machine skews the figures: the report prints the load average.
 */
import { performance } from 'node:perf_hooks';
import { measureChunking } from './chunkers.js';
import {
  type ExtractionBenchResult,
  type FormatResult,
  formatExtractionReport,
  MB,
} from './extraction-report.js';
import { describeMachine } from './format.js';
import { type SampleFormat, sampleFormats, sampleOfSize } from './sample-documents.js';
import { detectAndExtract, median, timeRuns } from './timing.js';

export interface ExtractionBenchOptions {
  /** Timed runs per figure, after one warm-up run. Default 5. */
  runs: number;
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

/** Prints what is being measured to stderr, keeping stdout for the report. */
function progress(line: string): void {
  process.stderr.write(`bench: ${line}\n`);
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

/** Runs the scenario and prints its report; throws when a format was not detected and extracted as expected. */
export async function runExtractionScenario(options: ExtractionBenchOptions): Promise<ExtractionBenchResult> {
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const machine = describeMachine();
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
  return result;
}
