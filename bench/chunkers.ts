/**
 * `npm run bench -- chunkers`: MB/s of each chunking strategy (words, tokens, recursive, structure)
 * and of LangChain's RecursiveCharacterTextSplitter on the same ~5 MB of text, in this one thread,
 * in the same run, and the words chunker's speed as a multiple of LangChain's. The extraction
 * scenario prints the same chunking table after its formats.
 */
import { countTokens as gptTokenizerCount } from 'gpt-tokenizer/encoding/cl100k_base';
import { type ChunkingSettings, chunkText } from '../src/pipeline/chunk/index.js';
import { measureCharacters, recursiveSpans } from '../src/pipeline/chunk/recursive.js';
import { wordSpans } from '../src/pipeline/chunk/words.js';
import {
  type ChunkingRow,
  type ExtractionBenchResult,
  MB,
  type Ratio,
  type Timing,
} from './extraction-report.js';
import { formatFigure, formatMs, formatNumber, formatTimes } from './format.js';
import { sampleFormats, sampleOfSize } from './sample-documents.js';
import { check, ISSUE7, type Row } from './targets.js';
import { detectAndExtract, timeRuns } from './timing.js';

const CHUNKING_TEXT_BYTES = 5 * MB;

const LANGCHAIN_SIZE = 2000;
const LANGCHAIN_OVERLAP = 200;
/** The ingestd configuration LangChain's splitter mirrors. */
const RECURSIVE_CHARACTERS = `recursive ${LANGCHAIN_SIZE}/${LANGCHAIN_OVERLAP} characters`;
/** The configuration issue 7's workload uses, and its ratio is taken of. */
export const WORDS_LABEL = 'words 500/50';

/** Prints what is being measured to stderr, keeping stdout for the report. */
function progress(line: string): void {
  process.stderr.write(`bench: ${line}\n`);
}

/** The strategies at the settings people use; the recursive characters row is the one LangChain mirrors. */
const chunkingConfigurations: { label: string; settings: ChunkingSettings }[] = [
  { label: WORDS_LABEL, settings: { strategy: 'words', size: 500, overlap: 50 } },
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
const WORD_STRINGS_TIMED = 'wordSpans: chunk strings only';
/** The ratio issue 7 judges: strings against strings. */
const JUDGED_RATIO = `${WORDS_LABEL}, chunk strings only vs splitText`;

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

export async function measureChunking(runs: number): Promise<ExtractionBenchResult['chunking']> {
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

  // Like for like with LangChain's splitText: the chunk strings alone, no counts.
  progress(`chunking ${WORDS_LABEL} strings only x ${runs + 1}`);
  const wordStrings = await timeRuns(runs, () =>
    wordSpans(document.text, 500, 50).map(({ start, end }) => document.text.slice(start, end)),
  );
  rows.push({
    label: WORDS_LABEL,
    implementation: 'ingestd',
    timed: WORD_STRINGS_TIMED,
    timing: wordStrings.timing,
    mbPerSec: rate(wordStrings.timing),
    chunks: wordStrings.result.length,
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
    const words = rows.find((row) => row.timed === CHUNK_TEXT_TIMED && row.label === WORDS_LABEL);
    const langchain = rate(plain.timing);
    // The first ratio is the one issue 7 judges: strings against strings.
    ratios.push({
      label: JUDGED_RATIO,
      ratio: rate(wordStrings.timing) / langchain,
    });
    if (words !== undefined) {
      ratios.push(
        {
          label: `${WORDS_LABEL}, chunkText (with counts) vs splitText + token counts per chunk`,
          ratio: words.mbPerSec / rate(counted.timing),
        },
        {
          label: `${WORDS_LABEL}, chunkText (with counts) vs splitText`,
          ratio: words.mbPerSec / langchain,
        },
      );
    }
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

export type ChunkingMeasurement = ExtractionBenchResult['chunking'];

/** What the chunkers scenario measured (the --json file holds this). */
export interface ChunkersMeasurement {
  scenario: 'chunkers';
  runs: number;
  chunking: ChunkingMeasurement;
  /** words 500/50 chunk strings MB/s / LangChain splitText MB/s; null when LangChain could not be loaded. */
  wordsVsLangChain: number | null;
}

export async function runChunkers(runs: number): Promise<ChunkersMeasurement> {
  const chunking = await measureChunking(runs);
  const ratio = chunking.ratios.find((each) => each.label === JUDGED_RATIO);
  return { scenario: 'chunkers', runs, chunking, wordsVsLangChain: ratio?.ratio ?? null };
}

/** What each row's timed call does. */
export const CHUNKERS_NOTES = [
  'ingestd rows: chunkText, each chunk with its text, offsets, word and token counts (cl100k_base), pages and',
  'heading path; "strings only": the words cutter and a string per chunk, what splitText returns; "boundaries',
  'only": the recursive cutter alone (offsets). LangChain: splitText, the chunk strings only; "+ token counts":',
  'plus gpt-tokenizer countTokens per chunk. Same text, same thread, same run. Issue 7 is judged strings',
  'against strings; with counts on both sides the ratio is shown too.',
];

export function chunkersRows(result: ChunkersMeasurement): Row[] {
  const { chunking } = result;
  const rows: Row[] = [
    {
      figure: 'text',
      measured:
        `${formatNumber(chunking.text.bytes / MB, 2)} MB, ${formatNumber(chunking.text.headings)} headings: ` +
        `${chunking.text.source}; median of ${result.runs} runs`,
    },
  ];
  for (const row of chunking.rows) {
    const variant = row.timed.startsWith('recursiveSpans')
      ? ', boundaries only'
      : row.timed === WORD_STRINGS_TIMED
        ? ', strings only'
        : row.timed.includes('countTokens')
          ? ' + token counts'
          : '';
    rows.push({
      figure: `${row.implementation} ${row.label}${variant}`,
      measured: `${formatFigure(row.mbPerSec)} MB/s (${formatMs(row.timing.medianMs)}, ${formatNumber(row.chunks)} chunks)`,
    });
  }
  rows.push({
    figure: `words 500/50 / LangChain ${LANGCHAIN_SIZE}/${LANGCHAIN_OVERLAP}, strings only`,
    measured: chunking.langchainMissing ?? formatTimes(result.wordsVsLangChain),
    issue: check(
      'issue 7',
      `>= ${ISSUE7.chunkerRatio}x`,
      result.wordsVsLangChain === null ? null : result.wordsVsLangChain >= ISSUE7.chunkerRatio,
      result.wordsVsLangChain === null ? 'LangChain not loaded' : undefined,
    ),
  });
  for (const ratio of chunking.ratios.filter((each) => each.label !== JUDGED_RATIO)) {
    rows.push({ figure: `  ${ratio.label}`, measured: formatTimes(ratio.ratio) });
  }
  return rows;
}
