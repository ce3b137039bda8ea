import { z } from 'zod';
import { MAX_CHUNK_WORDS } from '../../../pipeline/chunk/settings.js';
import { isSupportedContentType, supportedContentTypes } from '../../../pipeline/detect.js';

/** Metadata is for filtering and display: bounded so it cannot carry a second document. */
const MAX_METADATA_KEYS = 64;

export const documentStatus = z.enum(['queued', 'processing', 'completed', 'failed']);

export const chunkingInput = z
  .object({
    strategy: z.literal('words').default('words'),
    size: z.number().int().min(1).max(MAX_CHUNK_WORDS).optional(),
    overlap: z
      .number()
      .int()
      .min(0)
      .max(MAX_CHUNK_WORDS - 1)
      .optional(),
  })
  .strict();

export const newDocumentBody = z
  .object({
    content: z.string().min(1, 'content must not be empty'),
    contentType: z
      .string()
      .max(200)
      .refine(isSupportedContentType, { message: `must be one of ${supportedContentTypes.join(', ')}` })
      .default('text/plain'),
    source: z.string().min(1).max(200).default('api'),
    externalId: z.string().min(1).max(500).optional(),
    metadata: z
      .record(z.string().max(200), z.unknown())
      .refine((value) => Object.keys(value).length <= MAX_METADATA_KEYS, {
        message: `at most ${MAX_METADATA_KEYS} keys`,
      })
      .default({}),
    chunking: chunkingInput.optional(),
  })
  .strict();
export type NewDocumentBody = z.infer<typeof newDocumentBody>;

export const acceptedDocument = z.object({
  id: z.uuid(),
  version: z.number().int(),
  status: z.literal('queued'),
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
      status: z.number().int().describe('HTTP status this item would have had alone: 202 or 4xx'),
      id: z.uuid().optional(),
      version: z.number().int().optional(),
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
  contentType: z.string(),
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

export const chunkListResponse = z.object({
  version: z.number().int().nullable(),
  items: z.array(
    z.object({
      index: z.number().int(),
      text: z.string(),
      start: z.number().int(),
      end: z.number().int(),
      wordCount: z.number().int(),
      tokenCount: z.number().int(),
    }),
  ),
  nextCursor: z.string().nullable(),
});

export const errorResponse = z.object({ error: errorObject });
