import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readRawBody } from '../../src/api/raw-body.js';

/** A request whose raw stream is the payload itself, as Fastify hands it to a parser without preParsing streams. */
function request(contentLength?: number) {
  const raw = new PassThrough();
  const headers: IncomingMessage['headers'] =
    contentLength === undefined ? {} : { 'content-length': String(contentLength) };
  return { raw: raw as unknown as IncomingMessage, headers, payload: raw };
}

function send(stream: PassThrough, ...parts: (string | Error)[]) {
  setImmediate(() => {
    for (const part of parts) {
      if (part instanceof Error) stream.destroy(part);
      else stream.write(part);
    }
    if (!parts.some((part) => part instanceof Error)) stream.end();
  });
}

describe('readRawBody', () => {
  it('reads a body of declared length, in any number of chunks, into one buffer', async () => {
    const { payload, ...req } = request(11);
    send(payload, 'hello', ' ', 'world');
    expect((await readRawBody(req, payload, 100)).toString()).toBe('hello world');
  });

  it('reads a body of undeclared length (chunked transfer)', async () => {
    const { payload, ...req } = request();
    send(payload, 'a'.repeat(70_000), 'b');
    expect((await readRawBody(req, payload, 100_000)).length).toBe(70_001);
  });

  it('refuses a body over the limit, declared or streamed, with 413', async () => {
    const declared = request(101);
    await expect(readRawBody(declared, declared.payload, 100)).rejects.toMatchObject({ statusCode: 413 });
    const streamed = request();
    send(streamed.payload, 'x'.repeat(60), 'x'.repeat(60));
    await expect(readRawBody(streamed, streamed.payload, 100)).rejects.toMatchObject({ statusCode: 413 });
  });

  it('refuses a body that does not match its Content-Length with 400', async () => {
    const short = request(10);
    send(short.payload, 'abc');
    await expect(readRawBody(short, short.payload, 100)).rejects.toMatchObject({
      statusCode: 400,
      code: 'FST_ERR_CTP_INVALID_CONTENT_LENGTH',
    });
    const long = request(2);
    send(long.payload, 'abc');
    await expect(readRawBody(long, long.payload, 100)).rejects.toMatchObject({ statusCode: 400 });
  });

  it('fails with 400 when the stream breaks', async () => {
    const broken = request(10);
    send(broken.payload, 'abc', new Error('socket hang up'));
    await expect(readRawBody(broken, broken.payload, 100)).rejects.toMatchObject({
      statusCode: 400,
      message: 'socket hang up',
    });
  });
});
