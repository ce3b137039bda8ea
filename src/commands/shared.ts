import { type Config, ConfigError } from '../config.js';

export type ConnectedConfig = Config & { DATABASE_URL: string; REDIS_URL: string };

/** api, worker and migrate join existing servers; only `up` starts its own. */
export function requireServers(
  config: Config,
  command: string,
  needed: readonly ('DATABASE_URL' | 'REDIS_URL')[] = ['DATABASE_URL', 'REDIS_URL'],
): ConnectedConfig {
  const missing = needed.filter((name) => !config[name]);
  if (missing.length > 0) {
    throw new ConfigError(
      `ingestd ${command} needs ${missing.join(' and ')}; \`ingestd up\` starts private servers instead`,
    );
  }
  return config as ConnectedConfig;
}
