import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { onShutdownSignals } from '../shutdown.js';
import { startWorkerNode, type WorkerRole } from '../worker/worker-node.js';
import { requireServers } from './shared.js';

export async function runWorker(config: Config, logger: Logger, role: WorkerRole): Promise<void> {
  const node = await startWorkerNode({ config: requireServers(config, 'worker'), logger, role });
  onShutdownSignals(logger, config.SHUTDOWN_GRACE_MS, () => node.close());
}
