import { readFileSync } from 'node:fs';

export interface MemoryPeak {
  name: string;
  pid: number;
  /** Largest VmRSS seen by sampling, in bytes; null if no sample could be read. */
  peakRssBytes: number | null;
  /** The kernel's own high-water mark (VmHWM) read when sampling stopped, in bytes. */
  highWaterMarkBytes: number | null;
  samples: number;
}

/** A `Vm*` field of /proc/<pid>/status in bytes, or null when the process is gone or the field missing. */
function readStatusField(pid: number, field: 'VmRSS' | 'VmHWM'): number | null {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return match ? Number(match[1]) * 1024 : null;
}

/** Samples the resident set size of some processes every `intervalMs` (Linux /proc only). */
export class RssSampler {
  private readonly peaks: MemoryPeak[];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    processes: readonly { name: string; pid: number }[],
    private readonly intervalMs = 100,
  ) {
    this.peaks = processes.map(({ name, pid }) => ({
      name,
      pid,
      peakRssBytes: null,
      highWaterMarkBytes: null,
      samples: 0,
    }));
  }

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
  }

  /** Stops sampling and reads each process's VmHWM; call while the processes still run. */
  stop(): MemoryPeak[] {
    clearInterval(this.timer);
    this.sample();
    for (const peak of this.peaks) peak.highWaterMarkBytes = readStatusField(peak.pid, 'VmHWM');
    return this.peaks.map((peak) => ({ ...peak }));
  }

  private sample(): void {
    for (const peak of this.peaks) {
      const rss = readStatusField(peak.pid, 'VmRSS');
      if (rss === null) continue;
      peak.samples++;
      if (peak.peakRssBytes === null || rss > peak.peakRssBytes) peak.peakRssBytes = rss;
    }
  }
}
