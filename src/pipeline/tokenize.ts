import { countTokens as countCl100kTokens } from 'gpt-tokenizer/encoding/cl100k_base';

/** The tokenizer behind every stored token count (OpenAI's cl100k_base, as used by text-embedding-3). */
export const DEFAULT_TOKENIZER = 'cl100k_base';

/**
 * Tokens of `text` under cl100k_base. Special-token strings such as "<|endoftext|>" are counted
 * as plain text: documents are data, never instructions to the tokenizer.
 */
export function countTokens(text: string): number {
  return countCl100kTokens(text, { allowedSpecial: 'all' });
}
