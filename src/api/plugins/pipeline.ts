import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { PipelinePool } from '../../pipeline/pipeline-pool.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** A small pipeline pool for chunk previews, so chunking never runs on the request loop. */
    pipeline: Pick<PipelinePool, 'run'>;
  }
}

export interface PipelinePluginOptions {
  timeoutMs: number;
  heapMb: number;
}

/** Started on first use: most API nodes never serve a preview, and a thread costs memory. */
const pipelinePlugin: FastifyPluginAsync<PipelinePluginOptions> = async (app, options) => {
  let pool: PipelinePool | undefined;
  app.decorate('pipeline', {
    run: (input) => {
      pool ??= new PipelinePool({ threads: 1, timeoutMs: options.timeoutMs, heapMb: options.heapMb });
      return pool.run(input);
    },
  });
  app.addHook('onClose', async () => {
    await pool?.close();
  });
};

export default fp(pipelinePlugin, { name: 'pipeline', fastify: '5.x' });
