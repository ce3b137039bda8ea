import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

/** `class X extends String`, `class extends String`, or a transpiler's `__extends(X, String)`. */
const SUBCLASS_OF_STRING = /\bclass\b[^{;]*\bextends\s+String\b|__extends\(\s*[\w$]+\s*,\s*String\s*\)/;

describe('the modules the API and workers load', () => {
  it('do not subclass String, which slows every string scan in the process several times over', async () => {
    // Node 20's V8: once any `class X extends String` is declared, loops reading a string with
    // charCodeAt (tokenizing, chunking, detection, the JSON depth scan) run 4-5x slower for the
    // life of the process. ioredis 6's RESP3 VerbatimString did it; ingestd stays on ioredis 5.
    // CommonJS modules only (require.cache): the ESM ones are not listed anywhere.
    await import('../src/api/app.js');
    await import('../src/worker/worker-node.js');
    const loaded = Object.keys(createRequire(import.meta.url).cache);
    expect(loaded.some((file) => file.includes('/node_modules/ioredis/'))).toBe(true);
    const subclassing = loaded.filter(
      (file) => file.endsWith('.js') && SUBCLASS_OF_STRING.test(readFileSync(file, 'utf8')),
    );
    expect(subclassing).toEqual([]);
  });
});
