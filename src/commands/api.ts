import { startApiNode } from '../api/server.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { onShutdownSignals } from '../shutdown.js';
import { requireServers } from './shared.js';

/** One stateless API node. Migrations are `ingestd migrate`'s job, run once per deploy. */
export async function runApi(config: Config, logger: Logger): Promise<void> {
  const node = await startApiNode({ config: requireServers(config, 'api'), logger });
  logger.info({ url: node.url }, 'api node listening');
  onShutdownSignals(logger, config.SHUTDOWN_GRACE_MS, () => node.close());
}
