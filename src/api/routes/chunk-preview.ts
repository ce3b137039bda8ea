import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Config } from '../../config.js';
import { RequestError } from '../../errors.js';
import { mediaTypeOf } from '../../pipeline/detect.js';
import { defaultExtractLimits } from '../../pipeline/extract/types.js';
import { chunkingRequest, resolveChunking } from '../chunking.js';
import { chunkItem, errorResponse, jsonContentTypes } from './documents/schemas.js';

/** A preview is for trying settings on a sample, not a way to chunk documents without storing them. */
const MAX_PREVIEW_BYTES = 1024 * 1024;

const previewBody = z
  .object({
    text: z.string().min(1, 'text must not be empty'),
    contentType: z.enum(jsonContentTypes).default('text/plain'),
    chunking: chunkingRequest.optional(),
  })
  .strict();

const previewResponse = z.object({
  chunking: z.record(z.string(), z.unknown()).describe('the complete settings used, defaults filled in'),
  chunks: z.array(chunkItem),
});

/** POST /api/v1/chunk-preview: the chunks a text would get, computed and returned, nothing stored. */
export async function chunkPreviewRoutes(app: FastifyInstance, options: { config: Config }): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().post(
    '/api/v1/chunk-preview',
    {
      schema: {
        summary: 'Chunk a text with the given settings and return the chunks without storing anything',
        tags: ['chunking'],
        body: previewBody,
        response: { 200: previewResponse, 400: errorResponse, 413: errorResponse },
      },
    },
    async (request) => {
      const bytes = Buffer.from(request.body.text, 'utf8');
      if (bytes.length > MAX_PREVIEW_BYTES) {
        throw new RequestError(
          413,
          'document_too_large',
          `a preview takes at most ${MAX_PREVIEW_BYTES} bytes of text`,
          {
            bytes: bytes.length,
            limit: MAX_PREVIEW_BYTES,
          },
        );
      }
      const chunking = resolveChunking(request.body.chunking, options.config);
      const { chunks } = await app.pipeline.run({
        bytes,
        declaredType: mediaTypeOf(request.body.contentType),
        filename: null,
        chunking,
        limits: defaultExtractLimits,
      });
      return { chunking, chunks };
    },
  );
}
