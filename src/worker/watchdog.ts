import type { Logger } from '../logger.js';
import type { DocumentQueue } from '../queue/producer.js';

export interface WatchdogOptions {
  queue: DocumentQueue;
  logger: Logger;
  /** How long jobs may wait with none active and nothing finished before the consumer is restarted, in ms. */
  stallMs: number;
  /** When this worker last started or finished a job. */
  lastProgressAt: () => number;
  /** Replaces the BullMQ consumer with a fresh one. */
  restartConsumer: () => Promise<void>;
}

/**
 * BullMQ consumers are known to go quiet after a Redis reconnect: jobs wait, none run, and the
 * process looks healthy. When that state lasts `stallMs` (jobs waiting, none active anywhere, no
 * progress here), the consumer is replaced.
 */
export function startWatchdog(options: WatchdogOptions): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  const check = async () => {
    if (Date.now() - options.lastProgressAt() < options.stallMs) return;
    const counts = await options.queue.queue.getJobCounts('waiting', 'active');
    if ((counts.waiting ?? 0) === 0 || (counts.active ?? 0) > 0) return;
    options.logger.warn(
      { waiting: counts.waiting, quietForMs: Date.now() - options.lastProgressAt() },
      'jobs wait but none run: restarting the consumer',
    );
    await options.restartConsumer();
  };
  const timer = setInterval(
    () => {
      running ??= check()
        .catch((error: unknown) => options.logger.warn({ err: error }, 'watchdog check failed'))
        .finally(() => {
          running = undefined;
        });
    },
    Math.max(100, Math.min(10_000, options.stallMs / 4)),
  );
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
