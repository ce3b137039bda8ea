import type { FastifyBaseLogger } from 'fastify';
import { type LoggerOptions, pino } from 'pino';
import type { Config } from './config.js';

/**
 * The logging surface ingestd codes against: pino's, as Fastify types it, so `app.log` and the
 * loggers made here are interchangeable (Fastify may bundle another pino version's types).
 */
export type Logger = FastifyBaseLogger;

/** pino options shared by API nodes and workers: JSON lines, ISO time, secrets redacted. */
export function loggerOptions(config: Pick<Config, 'LOG_LEVEL'>): LoggerOptions {
  return {
    level: config.LOG_LEVEL,
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      // Credentials wherever a request's headers get logged; document content is never logged.
      paths: [
        'req.headers.authorization',
        'req.headers["x-api-key"]',
        'req.headers.cookie',
        'headers.authorization',
        'headers["x-api-key"]',
        'headers.cookie',
        'apiKey',
        '*.apiKey',
      ],
      censor: '[Redacted]',
    },
  };
}

export function createLogger(
  config: Pick<Config, 'LOG_LEVEL'>,
  bindings: Record<string, unknown> = {},
): Logger {
  return pino(loggerOptions(config)).child(bindings);
}
