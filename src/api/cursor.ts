import type { z } from 'zod';
import { RequestError } from '../errors.js';

/** Opaque page cursors: base64url JSON, so clients cannot come to depend on their inside. */
export function encodeCursor(position: unknown): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

export function decodeCursor<T>(cursor: string, schema: z.ZodType<T>): T {
  try {
    return schema.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
  } catch {
    throw new RequestError(400, 'invalid_cursor', 'cursor is not one this API returned');
  }
}
