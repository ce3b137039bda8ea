import secureJson from 'secure-json-parse';
import { z } from 'zod';
import { mediaTypeOf } from '../../../pipeline/detect.js';
import { chunkingRequest } from '../../chunking.js';

/** Formats that can travel as a JSON string; binary formats come as uploads. */
export const jsonContentTypes = [
  'text/plain',
  'text/markdown',
  'text/html',
  'text/csv',
  'application/json',
] as const;

/** Metadata is for filtering and display: bounded so it cannot carry a second document. */
const MAX_METADATA_KEYS = 64;
const MAX_METADATA_BYTES = 16 * 1024;
const MAX_METADATA_DEPTH = 8;

/** Postgres text and jsonb cannot hold NUL characters or lone UTF-16 surrogates. */
function isStorableText(value: string): boolean {
  return !value.includes('\u0000') && value.isWellFormed();
}

export const storableText = (max: number) =>
  z
    .string()
    .max(max)
    .refine(isStorableText, { message: 'must not contain NUL characters or lone surrogates' });

/** Every key and string in a JSON value is storable, and it nests at most `depthLeft` levels. */
function isStorableJson(value: unknown, depthLeft: number): boolean {
  if (typeof value === 'string') return isStorableText(value);
  if (value === null || typeof value !== 'object') return true;
  if (depthLeft === 0) return false;
  const entries = Array.isArray(value) ? value.map((item) => ['', item] as const) : Object.entries(value);
  return entries.every(([key, item]) => isStorableText(key) && isStorableJson(item, depthLeft - 1));
}

export const metadata = z
  .record(z.string().max(200), z.unknown())
  .refine((value) => Object.keys(value).length <= MAX_METADATA_KEYS, {
    message: `at most ${MAX_METADATA_KEYS} keys`,
  })
  .refine((value) => Buffer.byteLength(JSON.stringify(value)) <= MAX_METADATA_BYTES, {
    message: `at most ${MAX_METADATA_BYTES} bytes as JSON`,
  })
  .refine((value) => isStorableJson(value, MAX_METADATA_DEPTH), {
    message: `nested at most ${MAX_METADATA_DEPTH} levels, without NUL characters or lone surrogates`,
  });

export const documentStatus = z.enum(['queued', 'processing', 'completed', 'failed']);

export const newDocumentBody = z
  .object({
    content: z.string().min(1, 'content must not be empty').optional(),
    url: z
      .string()
      .max(2048)
      .optional()
      .describe(
        'fetch the document from this http(s) URL instead of sending content (public addresses only)',
      ),
    contentType: z
      .string()
      .max(200)
      .refine((type) => (jsonContentTypes as readonly string[]).includes(mediaTypeOf(type)), {
        message: `must be one of ${jsonContentTypes.join(', ')}; upload other formats as multipart/form-data or a raw body`,
      })
      .default('text/plain'),
    source: storableText(200).min(1).default('api'),
    externalId: storableText(500).min(1).optional(),
    metadata: metadata.default({}),
    chunking: chunkingRequest.optional(),
  })
  .strict()
  .refine((body) => (body.content === undefined) !== (body.url === undefined), {
    message: 'send exactly one of content and url',
    path: ['content'],
  });
export type NewDocumentBody = z.infer<typeof newDocumentBody>;

/** A JSON-encoded form field or query parameter (metadata, chunking), parsed before validation. */
const jsonField = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value, ctx) => {
    if (typeof value !== 'string') return value;
    try {
      // As for JSON bodies: __proto__ or constructor.prototype is refused, not silently dropped.
      return secureJson.parse(value, undefined, { protoAction: 'error', constructorAction: 'error' });
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be JSON, without __proto__ or constructor.prototype' });
      return z.NEVER;
    }
  }, schema);

/**
 * What comes beside an uploaded file: multipart fields, or query parameters of a raw body.
 * `metadata` and `chunking` are JSON strings there.
 */
export const uploadFields = z
  .object({
    source: storableText(200).min(1).default('upload'),
    externalId: storableText(500).min(1).optional(),
    // Any length: only the last path segment is kept, cut to 255 characters (sanitizeFilename).
    filename: z.string().optional(),
    metadata: jsonField(metadata).default({}),
    chunking: jsonField(chunkingRequest).optional(),
  })
  .strict();
export type UploadFields = z.infer<typeof uploadFields>;

/** The query parameters of a raw-body upload, for the OpenAPI document (validated as uploadFields). */
export const uploadQuery = z
  .object({
    source: z.string().optional(),
    externalId: z.string().optional(),
    filename: z.string().optional(),
    metadata: z.string().optional().describe('JSON object'),
    chunking: z.string().optional().describe('JSON object: {strategy, size, overlap, unit, tokenizer}'),
  })
  .strict();

export const acceptedDocument = z.object({
  id: z.uuid(),
  version: z.number().int(),
  status: documentStatus,
  /** True when an externalId was sent again with the latest version's content: nothing new is stored. */
  duplicate: z.boolean(),
});

export const rechunkAccepted = z.object({
  id: z.uuid(),
  version: z.number().int(),
  status: z.literal('rechunking'),
  chunking: z.record(z.string(), z.unknown()).describe('the complete settings, defaults filled in'),
});

export function batchBody(maxDocuments: number) {
  return z
    .object({
      // Items are validated one by one in the handler, so one bad item cannot sink the batch.
      documents: z.array(z.unknown()).min(1).max(maxDocuments),
    })
    .strict();
}

const errorObject = z.object({ code: z.string(), message: z.string(), details: z.unknown() });

export const batchResponse = z.object({
  accepted: z.number().int(),
  rejected: z.number().int(),
  items: z.array(
    z.object({
      index: z.number().int(),
      status: z
        .number()
        .int()
        .describe('HTTP status this item would have had alone: 202, 200 (duplicate) or 4xx'),
      id: z.uuid().optional(),
      version: z.number().int().optional(),
      duplicate: z.boolean().optional(),
      error: errorObject.optional(),
    }),
  ),
});

export const documentIdParams = z.object({ id: z.uuid('id must be a UUID') });

export const documentResponse = z.object({
  id: z.uuid(),
  status: documentStatus,
  version: z.number().int(),
  currentVersion: z.number().int().nullable(),
  source: z.string(),
  externalId: z.string().nullable(),
  contentType: z.string().describe('as declared by the client'),
  detectedType: z.string().nullable().describe('what the bytes turned out to be, once processed'),
  filename: z.string().nullable(),
  sourceUrl: z.string().nullable().describe('the URL a document sent by URL is fetched from'),
  bytes: z.number().int(),
  chunkCount: z.number().int().nullable(),
  metadata: z.record(z.string(), z.unknown()),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  stages: z.object({
    queuedAt: z.string(),
    startedAt: z.string().nullable(),
    extractedAt: z.string().nullable(),
    chunkedAt: z.string().nullable(),
    completedAt: z.string().nullable(),
  }),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type DocumentResponse = z.infer<typeof documentResponse>;

export const versionListResponse = z.object({
  items: z.array(
    z.object({
      version: z.number().int(),
      status: documentStatus,
      contentHash: z.string().describe('sha256 of the bytes, hex'),
      contentType: z.string(),
      detectedType: z.string().nullable(),
      bytes: z.number().int(),
      chunkCount: z.number().int().nullable(),
      errorCode: z.string().nullable(),
      createdAt: z.string(),
      completedAt: z.string().nullable(),
    }),
  ),
});

export const listDocumentsQuery = z
  .object({
    status: documentStatus.optional(),
    source: z.string().min(1).max(200).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(20),
    cursor: z.string().max(200).optional(),
  })
  .strict();

export const documentListResponse = z.object({
  items: z.array(documentResponse),
  nextCursor: z.string().nullable(),
});

export const listChunksQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    cursor: z.string().max(200).optional(),
    version: z.coerce.number().int().min(1).optional(),
  })
  .strict();

export const chunkItem = z.object({
  index: z.number().int(),
  text: z.string(),
  start: z.number().int(),
  end: z.number().int(),
  wordCount: z.number().int(),
  tokenCount: z.number().int(),
  pages: z.array(z.number().int()),
  headingPath: z.array(z.string()),
});

export const chunkListResponse = z.object({
  version: z.number().int().nullable(),
  items: z.array(chunkItem),
  nextCursor: z.string().nullable(),
});

export const errorResponse = z.object({ error: errorObject });
