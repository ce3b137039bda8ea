import os from 'node:os';

export interface MachineResources {
  cores: number;
  memoryBytes: number;
}

/** Cores and memory this process may use: a container's cgroup limit counts, not the host's size. */
export function machineResources(): MachineResources {
  const constrained = process.constrainedMemory();
  const total = os.totalmem();
  return {
    cores: Math.max(1, os.availableParallelism()),
    // constrainedMemory() is 0 (or a huge number) when no cgroup limit applies.
    memoryBytes: constrained > 0 && constrained < total ? constrained : total,
  };
}

const GiB = 1024 ** 3;

/**
 * Jobs one processor runs at once when WORKER_CONCURRENCY is unset: the design guide's rule.
 * Jobs above the pipeline's thread count wait for a thread while their I/O (claim, store)
 * overlaps other jobs' CPU work; memory bounds how many raw documents may be held at once.
 */
export function defaultWorkerConcurrency({ cores, memoryBytes }: MachineResources): number {
  if (memoryBytes < 4 * GiB) return Math.min(4, cores);
  if (memoryBytes < 8 * GiB) return Math.min(8, cores * 2);
  return Math.min(16, cores * 4);
}
