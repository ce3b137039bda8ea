import { afterEach, describe, expect, it } from 'vitest';
import { defaultExtractLimits } from '../../src/pipeline/extract/types.js';
import { PipelinePool } from '../../src/pipeline/pipeline-pool.js';
import { type PipelineInput, processDocument } from '../../src/pipeline/process.js';
import { numberedWords } from '../helpers/context.js';

const pools: PipelinePool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.close()));
});

function pool(options: { threads?: number; timeoutMs?: number; heapMb?: number } = {}): PipelinePool {
  const created = new PipelinePool({ threads: 1, timeoutMs: 20_000, heapMb: 256, ...options });
  pools.push(created);
  return created;
}

function input(text: string, overrides: Partial<PipelineInput> = {}): PipelineInput {
  return {
    bytes: Buffer.from(text),
    declaredType: 'text/plain',
    filename: null,
    chunking: { strategy: 'words', size: 500, overlap: 50 },
    limits: defaultExtractLimits,
    ...overrides,
  };
}

describe('the extracted text, against the bytes', () => {
  it('is marked as the bytes themselves only when it is exactly their UTF-8', async () => {
    const same = async (bytes: Buffer, declaredType = 'text/plain') =>
      (await processDocument({ ...input(''), bytes, declaredType })).textIsBytes;
    expect(await same(Buffer.from('plain words, Grüße, 中文 and 😀 too\n'))).toBe(true);
    expect(await same(Buffer.from('# Title\n\nsome words'), 'text/markdown')).toBe(true);
    // Decoding changed something: line ends, a byte order mark, NUL bytes, another encoding.
    expect(await same(Buffer.from('two\r\nlines'))).toBe(false);
    expect(await same(Buffer.from('\ufeffwith a BOM'))).toBe(false);
    expect(await same(Buffer.from('a\u0000b words'))).toBe(false);
    expect(await same(Buffer.from('caf\u00e9 au lait, d\u00e9j\u00e0 vu', 'latin1'))).toBe(false);
    // Markup: the text is not the bytes.
    expect(await same(Buffer.from('<p>some <b>words</b></p>'), 'text/html')).toBe(false);
    // A re-chunk extracts nothing.
    const rechunk = await processDocument({
      ...input('kept words'),
      extracted: { text: 'kept words', headings: [], pages: [] },
    });
    expect(rechunk.textIsBytes).toBe(false);
  });

  it('keeps its mark through a pipeline thread', async () => {
    const text = numberedWords(20_000); // over the inline limit
    const threads = pool();
    expect((await threads.run(input(text), { moveBytes: true })).textIsBytes).toBe(true);
    expect(threads.threadTasks).toBe(1);
  });
});

describe('PipelinePool', () => {
  it('gives the same result as running the pipeline in place', async () => {
    const text = numberedWords(1200);
    const inThread = await pool().run(input(text));
    const inPlace = await processDocument(input(text));
    expect(inThread.chunks).toEqual(inPlace.chunks);
    expect(inThread.extracted).toEqual(inPlace.extracted);
    expect(inThread.detectedType).toBe('text/plain');
  });

  it('gives a thread-processed document the same chunks, texts included, moving its bytes when asked', async () => {
    const text = numberedWords(20_000); // over the inline limit: a thread takes it
    const moved = input(text);
    const threads = pool();
    const inThread = await threads.run(moved, { moveBytes: true });
    expect(threads.threadTasks).toBe(1);
    expect(moved.bytes.length).toBe(0); // moved, not copied
    const inPlace = await processDocument(input(text));
    expect(inThread.chunks).toEqual(inPlace.chunks);
    expect(inThread.extracted).toEqual(inPlace.extracted);
    // Without moveBytes, the caller's bytes stay.
    const kept = input(text);
    await threads.run(kept);
    expect(kept.bytes.length).toBe(Buffer.byteLength(text));
  });

  it('fails a document with its own code, and the thread keeps serving', async () => {
    const threads = pool();
    await expect(threads.run(input(' \n '))).rejects.toMatchObject({ code: 'empty', retryable: false });
    expect((await threads.run(input('still working'))).chunks).toHaveLength(1);
  });

  it('stops a document that overruns its time with `timeout`, and a new thread takes the next one', async () => {
    // Chunking 4 million words (4,000 chunks of 1,000, each token-counted) takes a thread ~2 s.
    const slow = input(numberedWords(4_000_000), { chunking: { strategy: 'words', size: 1000, overlap: 0 } });
    // How long the whole document takes here and now (a loaded machine slows both runs alike).
    const unlimited = pool({ timeoutMs: 120_000 });
    let started = Date.now();
    await unlimited.run(slow);
    const wholeMs = Date.now() - started;

    const threads = pool({ timeoutMs: 500 });
    started = Date.now();
    const outcome = await threads.run(slow).then(
      () => 'finished in time',
      (error: unknown) => error,
    );
    expect(outcome).toMatchObject({ code: 'timeout', retryable: false });
    // Stopped, not waited for: well before the document would have finished.
    expect(Date.now() - started).toBeLessThan(wholeMs * 0.75);
    expect((await threads.run(input('after the timeout'))).chunks).toHaveLength(1);
  }, 60_000);

  it('refuses settings that would cut a big text into runaway numbers of chunks, before using the memory', async () => {
    const threads = pool({ heapMb: 64 });
    const huge = input('word '.repeat(8_000_000), { chunking: { strategy: 'words', size: 2, overlap: 1 } });
    const started = Date.now();
    await expect(threads.run(huge)).rejects.toMatchObject({ code: 'too_large', retryable: false });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect((await threads.run(input('still serving'))).chunks).toHaveLength(1);
  }, 60_000);
});

describe('small plain text', () => {
  it('is processed on the calling thread, with the same result and failures as a thread gives', async () => {
    const threads = pool({ threads: 1 });
    const small = await threads.run(
      input(numberedWords(1000), { chunking: { strategy: 'words', size: 500, overlap: 50 } }),
    );
    expect(small.chunks.map((chunk) => chunk.wordCount)).toEqual([500, 500, 100]);
    // No thread was needed for it.
    expect(threads.threadTasks).toBe(0);
    await expect(threads.run(input('   '))).rejects.toMatchObject({ code: 'empty', retryable: false });
    // A bigger text, or a binary format, still goes to a thread.
    await threads.run(input(numberedWords(20_000)));
    expect(threads.threadTasks).toBe(1);
  });
});
