import type { FastifyInstance } from 'fastify';

/** Resolves 'ok', or the reason the check failed or did not answer within `timeoutMs`. */
async function check(probe: () => Promise<unknown>, timeoutMs: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${timeoutMs} ms`), timeoutMs);
  });
  try {
    return await Promise.race([
      probe().then(
        () => 'ok',
        (error: Error) => `failed: ${error.message}`,
      ),
      deadline,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export async function healthRoutes(app: FastifyInstance, options: { readyTimeoutMs: number }): Promise<void> {
  // Liveness: the process answers. Touches no dependency, so a Postgres outage never restarts pods.
  app.get('/health', { schema: { hide: true } }, async () => ({ status: 'ok' }));

  // Readiness: route traffic here only while Postgres and Redis answer and no shutdown has begun.
  app.get('/ready', { schema: { hide: true } }, async (_request, reply) => {
    if (app.readiness.shuttingDown) {
      return reply.code(503).send({ status: 'unavailable', checks: { shutdown: 'in progress' } });
    }
    const [postgres, redis] = await Promise.all([
      check(() => app.db.query('SELECT 1'), options.readyTimeoutMs),
      check(() => app.redis.ping(), options.readyTimeoutMs),
    ]);
    const ready = postgres === 'ok' && redis === 'ok';
    return reply
      .code(ready ? 200 : 503)
      .send({ status: ready ? 'ready' : 'unavailable', checks: { postgres, redis } });
  });
}
