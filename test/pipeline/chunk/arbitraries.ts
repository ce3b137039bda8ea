import fc from 'fast-check';
import type { ExtractedText } from '../../../src/pipeline/extract/types.js';

/** Text fragments that stress tokenizers and splitters: scripts, marks, emoji, digits, specials. */
const unicodeFragment = fc.oneof(
  { weight: 6, arbitrary: fc.stringMatching(/^[a-zA-Z]{1,12}$/) },
  {
    weight: 4,
    arbitrary: fc.constantFrom(' ', ' ', ' ', '  ', '\n', '\n\n', '\t', '\r\n', '\u00a0', '\u3000', ' \n '),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom('. ', ', ', '! ', '? ', '; ', "'s ", "'ll ", '...', '--', '()', '"'),
  },
  { weight: 2, arbitrary: fc.stringMatching(/^[0-9]{1,9}$/) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '中文',
      '日本語のテキスト',
      '한국어',
      '漢字',
      '。',
      '！',
      '鬱',
      '龘',
      '𠀋',
      '𪚥',
    ),
  },
  { weight: 2, arbitrary: fc.constantFrom('😀', '👍🏽', '👨‍👩‍👧‍👦', '🇫🇷', '🧪', '❤️', '🫠') },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      'e\u0301',
      'n\u0303o',
      'a\u0308\u0304',
      '\u0915\u094d\u0937',
      'ñ',
      'Ω',
      'ß',
      'Привет',
      'مرحبا',
    ),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom('<|endoftext|>', '<|fim_prefix|>', '<|im_start|>', '<|endofprompt|>'),
  },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 4 }) },
  { weight: 1, arbitrary: fc.constantFrom('\ud800', '\udfff', 'x\ud83d') }, // lone surrogates
);

/** Unicode-heavy text of up to `maxFragments` fragments. */
export const unicodeText = (maxFragments: number) =>
  fc.array(unicodeFragment, { maxLength: maxFragments }).map((fragments) => fragments.join(''));

/** Short fragments where split patterns turn: whitespace kinds, digits, apostrophes, pairs. */
export const edgyText = (maxFragments: number) =>
  fc
    .array(
      fc.constantFrom(
        ' ',
        '  ',
        '\n',
        '\r\n',
        '\t',
        'a',
        'Ab',
        '1',
        '12345',
        '.',
        "'",
        "'s",
        'é',
        '中',
        '😀',
        '\u00a0',
        '\u3000',
        '\n\n',
        '\ud800',
        '|>',
      ),
      { maxLength: maxFragments },
    )
    .map((fragments) => fragments.join(''));

/** Prose-like text: words, sentences, lines and paragraphs, ASCII only. */
export const proseText = (maxFragments: number) =>
  fc
    .array(
      fc.oneof(
        { weight: 8, arbitrary: fc.stringMatching(/^[a-z]{1,10}$/) },
        { weight: 5, arbitrary: fc.constant(' ') },
        { weight: 1, arbitrary: fc.constantFrom('. ', '? ', '.\n', '\n', '\n\n', '  ', '\n \n', '\t') },
      ),
      { maxLength: maxFragments },
    )
    .map((fragments) => fragments.join(''));

/** Page spans tiling the text at random cut points, with a separator gap now and then. */
export function pagesFor(text: string, cuts: number[]): ExtractedText['pages'] {
  const bounds = [...new Set([0, ...cuts.map((cut) => Math.floor(cut * text.length)), text.length])].sort(
    (a, b) => a - b,
  );
  return bounds.slice(0, -1).map((start, i) => ({
    page: i + 1,
    start,
    // Leave a one-character gap (a form feed, in a real PDF) between some pages.
    end: Math.max(start, (bounds[i + 1] as number) - (i % 3 === 2 ? 1 : 0)),
  }));
}

/** Words long enough, against small budgets, to make the overlap compete with the next piece. */
export const longWords = fc
  .array(fc.tuple(fc.stringMatching(/^[a-z]{1,25}$/), fc.constantFrom(' ', ' ', '. ', '\n', '\n\n')), {
    maxLength: 60,
  })
  .map((pairs) => pairs.flat().join(''));

/**
 * A document with headings, as a Markdown extractor would report it: an optional preface, then
 * sections each opened by a heading line ("## Title") whose start is the heading's start.
 */
export const sectionedDocument = fc
  .record({
    preface: fc.oneof(fc.constant(''), proseText(30)),
    sections: fc.array(
      fc.record({
        level: fc.integer({ min: 1, max: 4 }),
        title: fc.stringMatching(/^[A-Z][a-z]{0,8}$/),
        body: fc.oneof(proseText(80), unicodeText(30), longWords),
      }),
      { maxLength: 8 },
    ),
  })
  .map(({ preface, sections }): ExtractedText => {
    let text = preface ? `${preface}\n\n` : '';
    const headings: ExtractedText['headings'] = [];
    for (const { level, title, body } of sections) {
      headings.push({ level, title, start: text.length });
      text += `${'#'.repeat(level)} ${title}\n\n${body}\n\n`;
    }
    return { text, headings, pages: [] };
  });
