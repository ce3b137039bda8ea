/**
 * Finding the Postgres and Redis processes behind a connection string, so their CPU can be read
 * from /proc. Works for any server on this machine (ours, or `ingestd cluster`'s), needs no access
 * to their data directories, and returns null for a server elsewhere.
 */
import { Redis } from 'ioredis';
import pg from 'pg';
import { readProcStat } from './cpu.js';

/**
 * The postmaster's pid: the parent of the backend serving a fresh connection. Null when that
 * backend is not a process on this machine (a remote server, or another pid namespace).
 */
export async function findPostmasterPid(databaseUrl: string): Promise<number | null> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'ingestd-bench-probe' });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const backend = rows[0] ? readProcStat(rows[0].pid) : null;
    if (!backend?.comm.startsWith('postgres')) return null;
    const postmaster = readProcStat(backend.ppid);
    return postmaster?.comm.startsWith('postgres') ? postmaster.pid : null;
  } finally {
    await client.end();
  }
}

/** redis-server's pid from INFO server, when that process runs on this machine. */
export async function findRedisPid(redisUrl: string): Promise<number | null> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    const info = await redis.info('server');
    const match = /^process_id:(\d+)/m.exec(info);
    const stat = match ? readProcStat(Number(match[1])) : null;
    return stat?.comm.startsWith('redis') ? stat.pid : null;
  } finally {
    redis.disconnect();
  }
}
