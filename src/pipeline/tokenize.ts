import { countTokens as countCl100kTokens } from 'gpt-tokenizer/encoding/cl100k_base';

/**
 * Tokens of `text` under OpenAI's cl100k_base (the tokenizer of text-embedding-3), the one
 * behind every stored token count. Special-token strings such as "<|endoftext|>" are counted
 * as plain text: documents are data, never instructions to the tokenizer.
 */
export function countTokens(text: string): number {
  return countCl100kTokens(text, { allowedSpecial: 'all' });
}
