import { describe, expect, it } from 'vitest';
import { OptionsError, resolveOptions } from '../../bench/cli.js';
import { rawOptions } from './raw-options.js';

const given = rawOptions;

describe('resolveOptions', () => {
  it('runs single with 8,000 documents against a private up stack by default', () => {
    const options = resolveOptions(given({}), {});
    expect(options).toMatchObject({
      scenario: 'single',
      docs: 8000,
      concurrency: 20,
      target: 'up',
      warmupDocs: 200,
    });
    expect(options.apiKey).toBeUndefined();
  });

  it('sends reference 16,000 documents a server after warming each with 2,000, unless told otherwise', () => {
    expect(resolveOptions(given({ scenario: 'reference' }), {})).toMatchObject({
      docs: 16_000,
      warmupDocs: 2000,
    });
    expect(resolveOptions(given({ scenario: 'reference', warmup: 50 }), {}).warmupDocs).toBe(50);
  });

  it('holds the workers back only where the intake alone means something: single and batch, own stack', () => {
    expect(resolveOptions(given({ scenario: 'batch', holdWorkers: true }), {}).holdWorkers).toBe(true);
    expect(resolveOptions(given({ scenario: 'batch' }), {}).holdWorkers).toBe(false);
    expect(() => resolveOptions(given({ scenario: 'sustained', holdWorkers: true }), {})).toThrow(
      /hold-workers/,
    );
    expect(() =>
      resolveOptions(given({ scenario: 'batch', holdWorkers: true, url: 'http://127.0.0.1:1' }), {}),
    ).toThrow(/hold-workers/);
  });

  it('maps the old end-to-end name to single', () => {
    expect(resolveOptions(given({ scenario: 'end-to-end' }), {}).scenario).toBe('single');
  });

  it('sizes sustained from rate and duration', () => {
    expect(resolveOptions(given({ scenario: 'sustained' }), {})).toMatchObject({
      docs: 30_000,
      rate: 500,
      durationSeconds: 60,
    });
    expect(resolveOptions(given({ scenario: 'sustained', rate: 1000, duration: 5 }), {}).docs).toBe(5000);
    expect(() => resolveOptions(given({ scenario: 'sustained', docs: 10 }), {})).toThrow(OptionsError);
  });

  it('sends one large document and a 1,000-document batch in memory', () => {
    expect(resolveOptions(given({ scenario: 'memory' }), {})).toMatchObject({
      docs: 1001,
      batchSize: 1000,
      bigDocumentMb: 50,
      concurrency: 2,
    });
    expect(resolveOptions(given({ scenario: 'batch' }), {}).batchSize).toBe(100);
    expect(() => resolveOptions(given({ scenario: 'memory', docs: 5 }), {})).toThrow(OptionsError);
  });

  it('picks the cluster target for several API nodes, and refuses up with them', () => {
    expect(resolveOptions(given({ apiNodes: 3 }), {}).target).toBe('cluster');
    expect(() => resolveOptions(given({ apiNodes: 3, target: 'up' }), {})).toThrow(/--target cluster/);
  });

  it('takes the key for --url from INGESTD_API_KEY unless --api-key is given', () => {
    const env = { INGESTD_API_KEY: 'from-env' };
    expect(resolveOptions(given({ url: 'http://h:1' }), env)).toMatchObject({
      target: 'url',
      apiKey: 'from-env',
    });
    expect(resolveOptions(given({ url: 'http://h:1', apiKey: 'given' }), env).apiKey).toBe('given');
  });

  it('refuses what cannot run', () => {
    expect(() => resolveOptions(given({ scenario: 'nope' }), {})).toThrow(/unknown scenario/);
    expect(() => resolveOptions(given({ overlap: 500 }), {})).toThrow(/--overlap/);
    expect(() => resolveOptions(given({ scenario: 'reference', url: 'http://h:1' }), {})).toThrow(
      /reference/,
    );
    expect(() => resolveOptions(given({ scenario: 'copy', url: 'http://h:1' }), {})).toThrow(/--url/);
    expect(() => resolveOptions(given({ url: 'http://h:1', target: 'up' }), {})).toThrow(/exclude/);
  });
});
