import type { FastifyInstance } from 'fastify';
import secureJson from 'secure-json-parse';
import { RequestError } from '../errors.js';
import { jsonDepth } from '../pipeline/extract/json.js';

/** Deepest nesting an API body may have: a batch item's metadata is ~11 levels down at most. */
export const MAX_BODY_JSON_DEPTH = 32;

/**
 * True when the text cannot hold a `__proto__` or `constructor` key, not even written with escapes
 * (which all take a `\u`). secure-json-parse scans every body with two regexes to find out, ~20 us
 * of an 8 KB request; three substring searches take ~1, and any body they cannot clear still goes
 * through secure-json-parse.
 */
function cannotPoison(text: string): boolean {
  return !text.includes('__proto__') && !text.includes('constructor') && !text.includes('\\u');
}

/**
 * The JSON body parser: nesting is measured by a linear bracket scan before parsing, so a
 * million nested arrays are a 400 instead of a stack overflow in a validator; `__proto__` and
 * `constructor.prototype` keys are a 400 too.
 */
export function registerJsonBodyParser(app: FastifyInstance, bodyLimit: number): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit }, (_request, body, done) => {
    const text = body as string;
    if (text.trim() === '') {
      done(new RequestError(400, 'invalid_json', 'the body is empty; send a JSON object'), undefined);
      return;
    }
    if (jsonDepth(text) > MAX_BODY_JSON_DEPTH) {
      done(
        new RequestError(
          400,
          'json_too_deep',
          `the JSON body nests deeper than ${MAX_BODY_JSON_DEPTH} levels`,
        ),
        undefined,
      );
      return;
    }
    try {
      done(
        null,
        cannotPoison(text)
          ? JSON.parse(text)
          : secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' }),
      );
    } catch (error) {
      done(
        new RequestError(400, 'invalid_json', `the body is not valid JSON: ${(error as Error).message}`),
        undefined,
      );
    }
  });
}
