/** A heading found while extracting, for structure-aware chunking. */
export interface Heading {
  /** 1 is the outermost level (a Markdown `#`, an HTML h1, a DOCX Heading 1, a PDF outline's top). */
  level: number;
  title: string;
  /** UTF-16 offset in `ExtractedText.text` where the section it opens begins. */
  start: number;
}

/** Where one page of a paged format (PDF) lies in the extracted text. */
export interface PageSpan {
  /** 1-based page number. */
  page: number;
  start: number;
  end: number;
}

/** What every extractor returns: clean text plus the structure it could see. */
export interface ExtractedText {
  text: string;
  /** In document order; empty when the format has no headings. */
  headings: Heading[];
  /** In page order; empty for formats without pages. */
  pages: PageSpan[];
}

/** Caps that keep a hostile file from costing more than a normal one. */
export interface ExtractLimits {
  /** Most entries a zip-based document (DOCX, XLSX, PPTX, ODT) may have. */
  maxZipEntries: number;
  /** Most bytes all entries of a zip may inflate to, checked before and while inflating. */
  maxInflatedBytes: number;
  /** Largest inflated/compressed ratio of any zip entry (zip bombs are 1000:1 and more). */
  maxCompressionRatio: number;
  /** Longest extracted text, in characters. */
  maxTextChars: number;
  /** Deepest nesting of JSON, HTML or XML structures. */
  maxNestingDepth: number;
}

export const defaultExtractLimits: ExtractLimits = {
  maxZipEntries: 10_000,
  maxInflatedBytes: 512 * 1024 * 1024,
  maxCompressionRatio: 200,
  maxTextChars: 100 * 1024 * 1024,
  maxNestingDepth: 256,
};

/** What the upload said about the bytes, beyond their type. Every field is optional. */
export interface ExtractHints {
  /** The `charset` parameter of the declared Content-Type, tried before guessing for text formats. Default: none. */
  charset?: string;
}

/**
 * An extractor reads one format. It throws DocumentError with a stable code for input it cannot
 * read: `corrupt`, `encrypted`, `empty`, `too_large` (a limit was hit), and `unsupported_type`
 * from the text formats when the bytes are not text at all; never a retryable error.
 */
export type Extractor = (
  bytes: Uint8Array,
  limits: ExtractLimits,
  hints?: ExtractHints,
) => Promise<ExtractedText>;
