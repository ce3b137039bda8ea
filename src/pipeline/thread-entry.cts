/**
 * The file piscina loads in each pipeline thread. CommonJS on purpose: piscina require()s its
 * file first, and Node 20.19+ turns require() of an ES module into a synchronous ESM load that
 * aborted a whole test process when threads started together (fatal `v8::Module::IsGraphAsync`,
 * seen in CI). From here the ESM body is loaded by import(), the ordinary asynchronous loader.
 */
type RunPipeline = typeof import('./thread.js', { with: { 'resolution-mode': 'import' }}).default;

const loading = import('./thread.js');
// A failed load is reported to each task that awaits it, not as an unhandled rejection.
loading.catch(() => {});

const runPipeline: RunPipeline = async (input) => (await loading).default(input);

export = runPipeline;
