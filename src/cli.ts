#!/usr/bin/env node
import { Command, InvalidArgumentError, Option } from 'commander';
import { runApi } from './commands/api.js';
import { runCluster } from './commands/cluster.js';
import { parseScopes, runKeysCreate, runKeysList, runKeysRevoke } from './commands/keys.js';
import { runMigrate } from './commands/migrate.js';
import { runPush } from './commands/push.js';
import { runSetup } from './commands/setup.js';
import { runUp } from './commands/up.js';
import { runWorker } from './commands/worker.js';
import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { SetupError } from './stack/binaries.js';
import { workerRoles } from './worker/worker-node.js';

function positiveInt(value: string): string {
  if (!/^[1-9]\d*$/.test(value)) throw new InvalidArgumentError('expected a positive integer');
  return value;
}

/** Loads config (after flags have been copied into the environment) and a logger, then runs `command`. */
async function run(
  command: string,
  action: (config: ReturnType<typeof loadConfig>, logger: ReturnType<typeof createLogger>) => Promise<void>,
): Promise<void> {
  try {
    const config = loadConfig();
    const logger = createLogger(config, { command });
    await action(config, logger);
  } catch (error) {
    if (error instanceof ConfigError || error instanceof SetupError) {
      process.stderr.write(`ingestd ${command}: ${error.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`ingestd ${command} failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  }
}

const program = new Command('ingestd')
  .description('Document ingestion service: REST in, clean text and chunks in Postgres out.')
  .showHelpAfterError();

program
  .command('up')
  .description(
    'run everything locally: private Postgres and Redis (unless DATABASE_URL/REDIS_URL are set), an API node, a processor and a monitor',
  )
  .option('-p, --port <port>', 'API port (env PORT, default 8080)', positiveInt)
  .action(async (options: { port?: string }) => {
    if (options.port) process.env.PORT = options.port;
    await run('up', runUp);
  });

program
  .command('api')
  .description('run one stateless API node (needs DATABASE_URL and REDIS_URL)')
  .option('-p, --port <port>', 'API port (env PORT, default 8080)', positiveInt)
  .action(async (options: { port?: string }) => {
    if (options.port) process.env.PORT = options.port;
    await run('api', runApi);
  });

program
  .command('worker')
  .description('run one worker process (needs DATABASE_URL and REDIS_URL)')
  .addOption(
    new Option('-r, --role <role>', 'what the worker does').choices(workerRoles).default('processor'),
  )
  .option(
    '-c, --concurrency <n>',
    'jobs at once (env WORKER_CONCURRENCY, default from cores and memory)',
    positiveInt,
  )
  .action(async (options: { role: (typeof workerRoles)[number]; concurrency?: string }) => {
    if (options.concurrency) process.env.WORKER_CONCURRENCY = options.concurrency;
    await run('worker', (config, logger) => runWorker(config, logger, options.role));
  });

program
  .command('cluster')
  .description(
    'run the production topology natively: nginx in front of N API nodes, processor, dlq and monitor workers, ' +
      'private Postgres and Redis (unless DATABASE_URL/REDIS_URL are set), each node its own process',
  )
  .option('--api <n>', 'API nodes behind nginx', positiveInt, '3')
  .option('--workers <n>', 'processor workers', positiveInt, '2')
  .option('-p, --port <port>', "nginx's port (default: a free one)", positiveInt)
  .option('--no-dlq', 'without the dlq worker')
  .option('--monitor', 'with the monitor worker (default: when this build has the role)')
  .option('--no-monitor', 'without the monitor worker')
  .option('--restart', 'restart nodes that crash')
  .action(
    async (options: {
      api: string;
      workers: string;
      port?: string;
      dlq: boolean;
      monitor?: boolean;
      restart?: boolean;
    }) => {
      await run('cluster', (config, logger) =>
        runCluster(config, logger, {
          apiNodes: Number(options.api),
          workers: Number(options.workers),
          port: options.port ? Number(options.port) : undefined,
          dlq: options.dlq,
          monitor: options.monitor,
          restart: options.restart ?? false,
        }),
      );
    },
  );

program
  .command('migrate')
  .description('apply database migrations (safe to run from many nodes at once)')
  .action(async () => run('migrate', runMigrate));

const keys = program.command('keys').description('manage API keys (needs DATABASE_URL)');
keys
  .command('create')
  .description('make an API key; prints it once, alone on the last line')
  .requiredOption('-t, --tenant <tenant>', 'the tenant the key acts for')
  .option(
    '-s, --scopes <scopes>',
    'comma-separated: ingest, read, admin (admin implies the others)',
    'ingest,read',
  )
  .option('-n, --name <name>', 'a label for listings')
  .action(async (options: { tenant: string; scopes: string; name?: string }) => {
    await run('keys', (config, logger) =>
      runKeysCreate(config, logger, {
        tenant: options.tenant,
        scopes: parseScopes(options.scopes),
        name: options.name,
      }),
    );
  });
keys
  .command('list')
  .description('list API keys (never their secrets)')
  .option('-t, --tenant <tenant>', 'only this tenant')
  .action(async (options: { tenant?: string }) =>
    run('keys', (config, logger) => runKeysList(config, logger, options)),
  );
keys
  .command('revoke')
  .description('revoke an API key by id or prefix')
  .argument('<id>', 'key id or prefix')
  .action(async (id: string) => run('keys', (config, logger) => runKeysRevoke(config, logger, id)));

program
  .command('push')
  .description('upload files and folders to an ingestd API, wait for them to be processed, print a summary')
  .argument('<paths...>', 'files and folders (folders are walked recursively)')
  .option('-u, --url <url>', 'the API', process.env.INGESTD_URL ?? 'http://127.0.0.1:8080')
  .option('-c, --concurrency <n>', 'uploads in flight', positiveInt, '4')
  .option('-s, --source <source>', 'source of every document (externalId is the relative path)', 'push')
  .option('--chunking <json>', 'chunking settings, e.g. \'{"strategy":"structure","size":1500}\'')
  .option('--timeout <seconds>', 'how long to wait for processing', positiveInt, '600')
  .option('--api-key <key>', 'API key (env INGESTD_API_KEY)', process.env.INGESTD_API_KEY)
  .option('--no-wait', 'return once uploaded, without waiting for processing')
  .action(
    async (
      paths: string[],
      options: {
        url: string;
        concurrency: string;
        source: string;
        chunking?: string;
        timeout: string;
        apiKey?: string;
        wait: boolean;
      },
    ) => {
      try {
        const code = await runPush(paths, {
          url: options.url,
          concurrency: Number(options.concurrency),
          wait: options.wait,
          source: options.source,
          chunking: options.chunking,
          timeoutSeconds: Number(options.timeout),
          apiKey: options.apiKey,
          progress: process.stderr.isTTY === true,
        });
        process.exit(code);
      } catch (error) {
        process.stderr.write(`ingestd push: ${(error as Error).message}\n`);
        process.exit(2);
      }
    },
  );

program
  .command('setup')
  .description('install PostgreSQL, Redis, nginx and promtool if missing (apt-get, as root)')
  .action(async () => {
    try {
      runSetup((line) => process.stdout.write(`${line}\n`));
    } catch (error) {
      process.stderr.write(`ingestd setup: ${(error as Error).message}\n`);
      process.exit(2);
    }
  });

await program.parseAsync();
