import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { migrate } from '../store/migrate.js';
import { createPool } from '../store/pool.js';
import { requireServers } from './shared.js';

export async function runMigrate(config: Config, logger: Logger): Promise<void> {
  const { DATABASE_URL } = requireServers(config, 'migrate', ['DATABASE_URL']);
  const pool = createPool(
    { connectionString: DATABASE_URL, max: 1, applicationName: 'ingestd-migrate' },
    logger,
  );
  try {
    const applied = await migrate(pool, logger);
    logger.info({ applied }, applied.length ? 'migrations applied' : 'schema already up to date');
  } finally {
    await pool.end();
  }
}
