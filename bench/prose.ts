/**
 * Deterministic English-like prose for the extraction scenario: sentences of common English words
 * (so the tokenizer sees realistic pieces, unlike bench/documents.ts's made-up syllables), with
 * numbers, commas and the odd question, and optionally accented words as European text has them.
 * Same seed, same text.
 */
import { mulberry32 } from './random.js';

const COMMON = (
  'the of and to a in is that for it as was with be by on not he this are or his from at which but have an ' +
  'had they you were their one all we can her has there been if more when will would who so no out up into ' +
  'than them about time only other some could these two may then do first any my now such like our over man ' +
  'me even most made after also did many before must through back years where much your way well down should ' +
  'because each just those people how too little state good very make world still own see men work long get ' +
  'here between both life being under never day same another know while last might us great old year off come ' +
  'since against go came right used take three'
).split(' ');

const CONTENT = (
  'system report customer order invoice payment delivery schedule meeting budget quarter revenue market ' +
  'product service contract agreement policy process document record account balance analysis research ' +
  'project team manager department committee council region country city village river mountain history ' +
  'science engineering software network database server storage memory performance security measurement ' +
  'temperature pressure experiment laboratory hospital patient treatment medicine education student teacher ' +
  'university library museum government election parliament minister economy industry production factory ' +
  'transport railway station airport harbour shipment warehouse inventory supplier purchase approval review ' +
  'important significant available additional previous following particular general specific different ' +
  'current annual monthly detailed careful reliable efficient international regional national technical ' +
  'increase decrease improve develop provide require include consider describe explain compare estimate ' +
  'approve deliver publish establish maintain evaluate support prepare propose reduce complete'
).split(' ');

const SYLLABLES =
  'an ber cor di el fa gen hi in jo ka lo men no or pa qui ra sto ta un ver wa xe yo zu tri mon sel'.split(
    ' ',
  );

/** Words with letters outside ASCII, all within windows-1252 so the Latin-1 sample can hold them. */
const ACCENTED = (
  'café naïve façade résumé déjà Köln Zürich München Straße Grüße über schön Åland Malmö São Paulo ' +
  'señor año jalapeño crème brûlée fiancée coöperate Ærø garçon piñata it’s – €'
).split(' ');

/** Uniform in [0, 1). */
const unitRandom = (seed: number): (() => number) => {
  const next = mulberry32(seed);
  return () => next() / 2 ** 32;
};

export interface ProseOptions {
  seed?: number;
  /** Share of words taken from the accented list: 0 for ASCII prose. Default 0. */
  accented?: number;
}

/** A source of words, sentences, paragraphs and titles, reproducible from its seed. */
export class Prose {
  readonly random: () => number;
  private readonly accented: number;

  constructor({ seed = 1, accented = 0 }: ProseOptions = {}) {
    this.random = unitRandom(seed);
    this.accented = accented;
  }

  /** An integer in [low, high]. */
  int(low: number, high: number): number {
    return low + Math.floor(this.random() * (high - low + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)] as T;
  }

  /**
   * Mostly common and content words; 1 in 12 a made-up rarer word (a name, a term) of 2 to 4
   * syllables, so the vocabulary has the long tail real text has and the tokenizer keeps meeting
   * pieces it has not cached.
   */
  word(): string {
    const roll = this.random();
    if (roll < this.accented) return this.pick(ACCENTED);
    if (roll < this.accented + 1 / 12) {
      return Array.from({ length: this.int(2, 4) }, () => this.pick(SYLLABLES)).join('');
    }
    return this.random() < 0.55 ? this.pick(COMMON) : this.pick(CONTENT);
  }

  /** 6 to 25 words, capitalised, a number or a comma now and then, ending in . or ?. */
  sentence(): string {
    const words = Array.from({ length: this.int(6, 25) }, () => this.word());
    if (this.random() < 0.2) words.splice(this.int(0, words.length - 1), 0, String(this.int(1, 99_999)));
    if (this.random() < 0.35) {
      const at = this.int(0, words.length - 2);
      words[at] = `${words[at]},`;
    }
    return `${capitalised(words.join(' '))}${this.random() < 0.08 ? '?' : '.'}`;
  }

  /** 2 to 7 sentences. */
  paragraph(): string {
    return Array.from({ length: this.int(2, 7) }, () => this.sentence()).join(' ');
  }

  /** Two to five capitalised words: a heading or a slide title. */
  title(): string {
    return Array.from({ length: this.int(2, 5) }, () => capitalised(this.pick(CONTENT))).join(' ');
  }

  name(): string {
    return `${this.pick(FIRST_NAMES)} ${this.pick(LAST_NAMES)}`;
  }

  city(): string {
    return this.pick(CITIES);
  }
}

export const FIRST_NAMES =
  'Ada Grace Alan Linus Margaret Edsger Barbara Donald Frances Ken Radia John Hedy Tim'.split(' ');
export const LAST_NAMES =
  'Lovelace Hopper Turing Torvalds Hamilton Dijkstra Liskov Knuth Allen Thompson Perlman McCarthy Lamarr Berners-Lee'.split(
    ' ',
  );
export const CITIES =
  'London Paris Berlin Köln Zürich Madrid Lisbon Rome Vienna Prague Warsaw Oslo Helsinki Dublin Amsterdam'.split(
    ' ',
  );

function capitalised(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
