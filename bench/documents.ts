import { mulberry32 } from './random.js';

/** Syllables of the vocabulary: 16 of them give 256 two- and 4096 three-syllable words. */
const SYLLABLES = [
  'ka',
  'lo',
  'mi',
  'ren',
  'tu',
  'sa',
  'vel',
  'dor',
  'pi',
  'na',
  'qu',
  'est',
  'ri',
  'om',
  'bel',
  'zu',
];

/** Words per line: the chunker splits on any whitespace, so lines only make the text look like text. */
const WORDS_PER_LINE = 16;

function syllable(index: number): string {
  return SYLLABLES[index % SYLLABLES.length] as string;
}

/** Every two- and three-syllable word, in a fixed order. */
function buildVocabulary(): string[] {
  const words: string[] = [];
  for (let i = 0; i < 256; i++) words.push(syllable(i >> 4) + syllable(i));
  for (let i = 0; i < 4096; i++) words.push(syllable(i >> 8) + syllable(i >> 4) + syllable(i));
  return words;
}

const vocabulary = buildVocabulary();

/**
 * Makes the text of document `index`: exactly `words` whitespace-separated words. The first word
 * names the run and the index, so every document is distinct (also across runs against one
 * server); the rest are drawn from the vocabulary by a PRNG seeded with the index.
 */
export function documentText(runId: string, index: number, words: number): string {
  const next = mulberry32(Math.imul(index + 1, 0x9e3779b1));
  let text = `bench-${runId}-${index}`;
  for (let i = 1; i < words; i++) {
    text += i % WORDS_PER_LINE === 0 ? '\n' : ' ';
    text += vocabulary[next() % vocabulary.length];
  }
  return text;
}

/** Chunks the words chunker makes from `words` words: chunk k starts at word k * (size - overlap). */
export function expectedChunkCount(words: number, size: number, overlap: number): number {
  if (words === 0) return 0;
  return 1 + Math.max(0, Math.ceil((words - size) / (size - overlap)));
}
