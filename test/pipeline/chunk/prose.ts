/**
 * Deterministic, realistic-looking prose for chunking tests and measurements: paragraphs of
 * sentences of English function words and made-up words, with numbers, commas, questions, and
 * optionally Markdown-style headings. Same seed, same text.
 */
export interface ProseOptions {
  /** Approximate length in characters. */
  length: number;
  /** Seed for the generator; 1 unless told. */
  seed?: number;
  /** Put a heading line before roughly one paragraph in this many (0: none). */
  headingEvery?: number;
}

export interface Prose {
  text: string;
  /** Headings as an extractor would report them: level, title, start of the heading line. */
  headings: { level: number; title: string; start: number }[];
}

const SYLLABLES =
  'an ber cor di el fa gen hi in jo ka lo men no or pa qui ra sto ta un ver wa xe yo zu'.split(' ');
const COMMON =
  'the of and to a in is that for it as was with be by on not he this are or his from at which but have an had they you were their one all we can her has there been if more when will would who so no'.split(
    ' ',
  );

export function prose({ length, seed = 1, headingEvery = 0 }: ProseOptions): Prose {
  let state = seed >>> 0;
  const random = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const word = () =>
    random() < 0.5
      ? pick(COMMON)
      : Array.from({ length: 1 + Math.floor(random() * 3) }, () => pick(SYLLABLES)).join('');
  const capitalised = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
  let text = '';
  const headings: Prose['headings'] = [];
  while (text.length < length) {
    if (headingEvery > 0 && random() < 1 / headingEvery) {
      const level = 1 + Math.floor(random() * 3);
      const title = capitalised(`${word()} ${word()}`);
      headings.push({ level, title, start: text.length });
      text += `${'#'.repeat(level)} ${title}\n\n`;
    }
    const sentences: string[] = [];
    const count = 2 + Math.floor(random() * 6);
    for (let s = 0; s < count; s++) {
      const words = Array.from({ length: 6 + Math.floor(random() * 20) }, word);
      if (random() < 0.2)
        words.splice(Math.floor(random() * words.length), 0, String(Math.floor(random() * 10000)));
      if (random() < 0.3) {
        const at = Math.floor(random() * words.length);
        words[at] = `${words[at]},`;
      }
      sentences.push(`${capitalised(words.join(' '))}${random() < 0.1 ? '?' : '.'}`);
    }
    text += `${sentences.join(' ')}\n\n`;
  }
  return { text, headings };
}
