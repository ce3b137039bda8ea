/**
 * A measurement, not a test: chunking throughput of every strategy on ~5 MB of prose with
 * paragraphs and headings, and LangChain's RecursiveCharacterTextSplitter on the same text when
 * it is installed. Run: npx vite-node test/pipeline/chunk/measure-throughput.ts [megabytes] [runs]
 */
import { countTokens as gptTokenizerCount } from 'gpt-tokenizer/encoding/cl100k_base';
import { chunkText } from '../../../src/pipeline/chunk/index.js';
import { measureCharacters, recursiveSpans } from '../../../src/pipeline/chunk/recursive.js';
import type { ChunkingSettings } from '../../../src/pipeline/chunk/settings.js';
import { countTokens, TokenizedText } from '../../../src/pipeline/tokenize.js';
import { prose } from './prose.js';

const megabytes = Number(process.argv[2] ?? 5);
/** Timed runs per row, the best one reported: machines running other work are noisy. */
const RUNS = Number(process.argv[3] ?? 9);
const { text, headings } = prose({ length: megabytes * 1_000_000, seed: 42, headingEvery: 8 });
const document = { text, headings, pages: [] };
const mb = Buffer.byteLength(text) / 1e6;
console.log(`text: ${mb.toFixed(2)} MB, ${text.length} UTF-16 units, ${headings.length} headings`);

function time<T>(label: string, run: () => T, describe: (result: T) => string): void {
  run(); // warm up: tokenizer tables, JIT, piece caches
  const runs: number[] = [];
  let result = run();
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    result = run();
    runs.push(performance.now() - started);
  }
  const best = Math.min(...runs);
  console.log(
    `${label.padEnd(50)} ${(mb / (best / 1000)).toFixed(1).padStart(6)} MB/s  ${best.toFixed(0).padStart(5)} ms  ${describe(result)}`,
  );
}

const chunks = (result: { length: number }) => `${result.length} chunks`;
time(
  'gpt-tokenizer countTokens cl100k (whole text)',
  () => gptTokenizerCount(text, { disallowedSpecial: new Set() }),
  (n) => `${n} tokens`,
);
time(
  'countTokens cl100k (whole text)',
  () => countTokens(text),
  (n) => `${n} tokens`,
);
time(
  'TokenizedText cl100k (whole text)',
  () => new TokenizedText(text).tokenCount,
  (n) => `${n} tokens`,
);
time(
  'TokenizedText o200k (whole text)',
  () => new TokenizedText(text, 'o200k_base').tokenCount,
  (n) => `${n} tokens`,
);

const settings: [string, ChunkingSettings][] = [
  ['words 500/50', { strategy: 'words', size: 500, overlap: 50 }],
  ['tokens 512/64 cl100k', { strategy: 'tokens', size: 512, overlap: 64, tokenizer: 'cl100k_base' }],
  ['tokens 512/64 o200k', { strategy: 'tokens', size: 512, overlap: 64, tokenizer: 'o200k_base' }],
  [
    'recursive 1000/200 characters',
    { strategy: 'recursive', size: 1000, overlap: 200, unit: 'characters', tokenizer: 'cl100k_base' },
  ],
  [
    'recursive 256/32 tokens cl100k',
    { strategy: 'recursive', size: 256, overlap: 32, unit: 'tokens', tokenizer: 'cl100k_base' },
  ],
  [
    'structure 1000/200 characters',
    { strategy: 'structure', size: 1000, overlap: 200, unit: 'characters', tokenizer: 'cl100k_base' },
  ],
  [
    'structure 256/32 tokens cl100k',
    { strategy: 'structure', size: 256, overlap: 32, unit: 'tokens', tokenizer: 'cl100k_base' },
  ],
];
for (const [label, chunking] of settings) time(label, () => chunkText(document, chunking), chunks);
// The cutting alone, without the document's tokenization and the chunks' counts: the figure to
// set beside LangChain's splitter, which counts nothing.
time(
  'recursive 1000/200 characters, spans only',
  () => recursiveSpans(text, 0, text.length, { size: 1000, overlap: 200, measure: measureCharacters }),
  chunks,
);

try {
  const { RecursiveCharacterTextSplitter } = await import('@langchain/textsplitters');
  const splitter = new RecursiveCharacterTextSplitter({ chunkSize: 1000, chunkOverlap: 200 });
  const tokenizer = new RecursiveCharacterTextSplitter({
    chunkSize: 256,
    chunkOverlap: 32,
    lengthFunction: (piece: string) => countTokens(piece),
  });
  // LangChain's splitText is async; these times include its promise overhead, as callers pay it.
  const runAsync = async (label: string, split: (text: string) => Promise<string[]>) => {
    await split(text);
    const runs: number[] = [];
    let result: string[] = [];
    for (let i = 0; i < RUNS; i++) {
      const started = performance.now();
      result = await split(text);
      runs.push(performance.now() - started);
    }
    const best = Math.min(...runs);
    console.log(
      `${label.padEnd(50)} ${(mb / (best / 1000)).toFixed(1).padStart(6)} MB/s  ${best.toFixed(0).padStart(5)} ms  ${result.length} chunks`,
    );
  };
  await runAsync('LangChain recursive 1000/200 characters', (t) => splitter.splitText(t));
  // What a LangChain user pays to know each chunk's tokens: a count per chunk.
  await runAsync('LangChain 1000/200 chars + gpt-tokenizer counts', async (t) => {
    const pieces = await splitter.splitText(t);
    for (const piece of pieces) gptTokenizerCount(piece, { disallowedSpecial: new Set() });
    return pieces;
  });
  await runAsync('LangChain 1000/200 chars + ingestd countTokens', async (t) => {
    const pieces = await splitter.splitText(t);
    for (const piece of pieces) countTokens(piece);
    return pieces;
  });
  await runAsync('LangChain recursive 256/32 tokens (no counts)', (t) => tokenizer.splitText(t));
} catch (error) {
  console.log(`LangChain not measured: ${(error as Error).message}`);
}
