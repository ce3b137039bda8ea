import type { Logger } from './logger.js';

/**
 * The first SIGTERM or SIGINT starts `shutdown`; the process exits 0 when it finishes, or 1 when
 * it overruns `graceMs`. A second signal exits at once, for an operator who will not wait. A
 * process started with an IPC channel (a node of `ingestd cluster`) also shuts down when the
 * channel closes: its parent is gone, even if it was SIGKILLed and could not stop its children.
 */
export function onShutdownSignals(logger: Logger, graceMs: number, shutdown: () => Promise<void>): void {
  let stopping = false;
  const handle = (signal: NodeJS.Signals | 'parent exited') => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal, graceMs }, 'shutting down');
    // Deliberately not unref'd: a shutdown that hangs must end in this exit(1), not a silent exit(0).
    setTimeout(() => {
      logger.error({ graceMs }, 'shutdown overran its grace period: exiting');
      process.exit(1);
    }, graceMs);
    shutdown().then(
      () => {
        logger.info('shut down cleanly');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', handle);
  process.on('SIGINT', handle);
  if (process.connected) {
    process.once('disconnect', () => {
      if (!stopping) handle('parent exited');
    });
    // The channel only watches the parent; it must not keep this process alive by itself.
    process.channel?.unref();
  }
}
