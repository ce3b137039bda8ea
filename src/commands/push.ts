import { openAsBlob } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { MultiBar, Presets } from 'cli-progress';
import { Agent, FormData, request } from 'undici';

export interface PushOptions {
  /** Base URL of an ingestd API, e.g. http://127.0.0.1:8080 */
  url: string;
  /** Uploads (and status polls) in flight at once. */
  concurrency: number;
  /** Wait until every document is completed or failed. */
  wait: boolean;
  /** `source` of every document; its externalId is the file's path relative to the folder pushed. */
  source: string;
  /** Chunking settings as JSON, passed through. */
  chunking?: string | undefined;
  /** Give up waiting after this many seconds. */
  timeoutSeconds: number;
  apiKey?: string | undefined;
  /** Draw progress bars (off when stderr is not a terminal). */
  progress: boolean;
}

type Outcome =
  | { file: string; state: 'completed'; chunks: number }
  | { file: string; state: 'failed' | 'rejected'; code: string; message: string }
  | { file: string; state: 'duplicate' | 'queued' | 'processing' };

interface PushFile {
  absolute: string;
  /** Path relative to the argument it was found under: the document's externalId. */
  relative: string;
}

/** Content types by extension; the server still decides by the bytes. */
const typesByExtension: Record<string, string> = {
  '.pdf': 'application/pdf',
  '.docx': 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  '.xlsx': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  '.pptx': 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  '.odt': 'application/vnd.oasis.opendocument.text',
  '.html': 'text/html',
  '.htm': 'text/html',
  '.md': 'text/markdown',
  '.markdown': 'text/markdown',
  '.csv': 'text/csv',
  '.json': 'application/json',
  '.txt': 'text/plain',
};

/** A response body as JSON, or {} when it is not (an HTML error page from a proxy, say). */
async function readJson(body: { text(): Promise<string> }): Promise<unknown> {
  const text = await body.text();
  try {
    return JSON.parse(text);
  } catch {
    return {};
  }
}

/** Every regular file under the given files and folders, in a stable order. */
export async function collectFiles(paths: readonly string[]): Promise<PushFile[]> {
  const files: PushFile[] = [];
  const walk = async (absolute: string, root: string): Promise<void> => {
    const info = await stat(absolute);
    if (info.isDirectory()) {
      const entries = (await readdir(absolute)).sort();
      for (const entry of entries) await walk(path.join(absolute, entry), root);
    } else if (info.isFile()) {
      files.push({ absolute, relative: path.relative(root, absolute) || path.basename(absolute) });
    }
  };
  for (const given of paths) {
    const absolute = path.resolve(given);
    const info = await stat(absolute);
    await walk(absolute, info.isDirectory() ? absolute : path.dirname(absolute));
  }
  return files;
}

/** Runs `work` on every item with at most `limit` at once. */
async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}

/**
 * `ingestd push`: uploads files and folders to an ingestd API with bounded concurrency, waits for
 * them to be processed, and prints a summary. Returns the process exit code: 0 when every file
 * completed (or was a duplicate), 1 when any was rejected or failed or did not finish in time.
 */
export async function runPush(paths: readonly string[], options: PushOptions): Promise<number> {
  const base = options.url.replace(/\/+$/, '');
  const files = await collectFiles(paths);
  if (files.length === 0) {
    process.stderr.write('ingestd push: no files found\n');
    return 1;
  }
  const dispatcher = new Agent({ connections: options.concurrency, keepAliveTimeout: 10_000 });
  const headers: Record<string, string> = options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {};
  const bars = new MultiBar(
    {
      format: ' {phase} [{bar}] {value}/{total}',
      hideCursor: true,
      noTTYOutput: false,
      stream: process.stderr,
    },
    Presets.shades_classic,
  );
  const uploadBar = options.progress ? bars.create(files.length, 0, { phase: 'uploaded ' }) : undefined;
  const outcomes = new Map<PushFile, Outcome>();
  const ids = new Map<PushFile, string>();

  try {
    await forEachLimited(files, options.concurrency, async (file) => {
      outcomes.set(file, await upload(file));
      uploadBar?.increment();
    });

    const pending = files.filter((file) => ids.has(file));
    if (options.wait && pending.length > 0) {
      const doneBar = options.progress ? bars.create(pending.length, 0, { phase: 'processed' }) : undefined;
      const deadline = Date.now() + options.timeoutSeconds * 1000;
      let waiting = pending;
      while (waiting.length > 0 && Date.now() < deadline) {
        const stillWaiting: PushFile[] = [];
        await forEachLimited(waiting, options.concurrency, async (file) => {
          const outcome = await status(file, ids.get(file) as string);
          outcomes.set(file, outcome);
          if (outcome.state === 'queued' || outcome.state === 'processing') stillWaiting.push(file);
          else doneBar?.increment();
        });
        waiting = stillWaiting;
        if (waiting.length > 0) await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  } finally {
    bars.stop();
    await dispatcher.close();
  }

  return printSummary(
    files.map((file) => outcomes.get(file) as Outcome),
    options.wait,
  );

  /** Multipart, streamed from disk: the part's type is a hint, and a JSON file stays a document. */
  async function upload(file: PushFile): Promise<Outcome> {
    const contentType =
      typesByExtension[path.extname(file.absolute).toLowerCase()] ?? 'application/octet-stream';
    try {
      const form = new FormData();
      form.append('source', options.source);
      form.append('externalId', file.relative);
      if (options.chunking) form.append('chunking', options.chunking);
      form.append(
        'file',
        await openAsBlob(file.absolute, { type: contentType }),
        path.basename(file.absolute),
      );
      const response = await request(`${base}/api/v1/documents`, {
        method: 'POST',
        dispatcher,
        headers,
        body: form,
      });
      const body = (await readJson(response.body)) as {
        id?: string;
        duplicate?: boolean;
        error?: { code: string; message: string };
      };
      if (response.statusCode >= 400 || !body.id) {
        return {
          file: file.relative,
          state: 'rejected',
          code: body.error?.code ?? `http_${response.statusCode}`,
          message: body.error?.message ?? 'rejected',
        };
      }
      if (body.duplicate) return { file: file.relative, state: 'duplicate' };
      ids.set(file, body.id);
      return { file: file.relative, state: 'queued' };
    } catch (error) {
      return {
        file: file.relative,
        state: 'rejected',
        code: 'network_error',
        message: (error as Error).message,
      };
    }
  }

  async function status(file: PushFile, id: string): Promise<Outcome> {
    try {
      const response = await request(`${base}/api/v1/documents/${id}`, { dispatcher, headers });
      const body = (await readJson(response.body)) as {
        status?: string;
        chunkCount?: number | null;
        error?: { code: string; message: string } | null;
      };
      if (body.status === 'completed')
        return { file: file.relative, state: 'completed', chunks: body.chunkCount ?? 0 };
      if (body.status === 'failed') {
        return {
          file: file.relative,
          state: 'failed',
          code: body.error?.code ?? 'failed',
          message: body.error?.message ?? '',
        };
      }
      return { file: file.relative, state: body.status === 'processing' ? 'processing' : 'queued' };
    } catch {
      return { file: file.relative, state: 'processing' }; // a blip while polling: ask again
    }
  }
}

/** Prints counts by outcome, then one line per problem file; returns the exit code. */
function printSummary(outcomes: readonly Outcome[], waited: boolean): number {
  const count = (state: Outcome['state']) => outcomes.filter((o) => o.state === state).length;
  const rows: [string, number][] = [
    ['completed', count('completed')],
    ['failed', count('failed')],
    ['rejected at upload', count('rejected')],
    ['skipped as duplicates', count('duplicate')],
    [waited ? 'unfinished (timed out)' : 'queued (not waited for)', count('queued') + count('processing')],
  ];
  const out = process.stdout;
  out.write(`\n${outcomes.length} files\n`);
  for (const [label, n] of rows) out.write(`  ${label.padEnd(24)} ${String(n).padStart(6)}\n`);
  const problems = outcomes.filter((o) => o.state === 'failed' || o.state === 'rejected');
  if (problems.length > 0) {
    out.write('\nproblems:\n');
    for (const problem of problems) {
      if (problem.state === 'failed' || problem.state === 'rejected') {
        out.write(
          `  ${problem.state.padEnd(8)} ${problem.code.padEnd(18)} ${problem.file}: ${problem.message}\n`,
        );
      }
    }
  }
  const unfinished = waited ? count('queued') + count('processing') : 0;
  return problems.length > 0 || unfinished > 0 ? 1 : 0;
}
