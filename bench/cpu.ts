/**
 * CPU time per component from /proc (Linux): utime + stime of each process, read before and after
 * the measured window. A process's figure covers all its threads (a worker's pipeline threads
 * included). Postgres forks a backend per connection, so its component is the postmaster and every
 * child, plus the postmaster's cutime/cstime: children that exited during the window are counted
 * when the postmaster reaps them.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** The fields of /proc/<pid>/stat the meter reads; times in clock ticks. */
export interface ProcStat {
  pid: number;
  /** The executable's name, as the kernel keeps it (at most 15 characters). */
  comm: string;
  ppid: number;
  utime: number;
  stime: number;
  /** CPU of children this process has waited for (reaped). */
  cutime: number;
  cstime: number;
}

/**
 * Parses the text of /proc/<pid>/stat. The name is in parentheses and may itself hold spaces and
 * parentheses, so the fields are counted from the last ')'.
 */
export function parseProcStat(text: string): ProcStat {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) throw new Error(`not a /proc stat line: ${text.slice(0, 80)}`);
  const pid = Number(text.slice(0, open).trim());
  // After the name: state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime
  const fields = text
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  const field = (index: number) => {
    const value = Number(fields[index]);
    if (!Number.isFinite(value)) throw new Error(`/proc stat of ${pid}: field ${index} is not a number`);
    return value;
  };
  return {
    pid,
    comm: text.slice(open + 1, close),
    ppid: field(1),
    utime: field(11),
    stime: field(12),
    cutime: field(13),
    cstime: field(14),
  };
}

/** /proc/<pid>/stat, or null when the process is gone (or /proc is not there). */
export function readProcStat(pid: number): ProcStat | null {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

let ticksPerSecond: number | undefined;

/** Clock ticks a second, in which /proc reports CPU time (`getconf CLK_TCK`; 100 almost everywhere). */
export function clockTicksPerSecond(): number {
  if (ticksPerSecond === undefined) {
    try {
      const value = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
      ticksPerSecond = Number.isInteger(value) && value > 0 ? value : 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** Every process whose parent is `ppid`, found by reading each /proc/<pid>/stat. */
export function childrenOf(ppid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const children: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readProcStat(Number(entry));
    if (stat?.ppid === ppid) children.push(stat.pid);
  }
  return children;
}

/** One component of the system whose CPU is measured. */
export interface CpuComponent {
  name: string;
  /** The component's processes now; called at the start and at the end of the window. */
  pids(): readonly number[];
  /**
   * Processes whose reaped children's CPU (cutime + cstime) belongs to the component: the
   * postmaster, whose backends come and go. Default none
   */
  reapers?: readonly number[];
}

/** CPU ticks per pid, and reaped-children ticks per reaper, at one moment. */
export interface Snapshot {
  ticks: Map<number, number>;
  reaped: Map<number, number>;
}

function snapshot(component: CpuComponent): Snapshot {
  const ticks = new Map<number, number>();
  const reaped = new Map<number, number>();
  for (const pid of new Set(component.pids())) {
    const stat = readProcStat(pid);
    if (stat) ticks.set(pid, stat.utime + stat.stime);
  }
  for (const pid of component.reapers ?? []) {
    const stat = readProcStat(pid);
    if (stat) reaped.set(pid, stat.cutime + stat.cstime);
  }
  return { ticks, reaped };
}

/**
 * Ticks spent between two snapshots: each process alive at the end, less what it had at the start
 * (a process born in the window started from 0), plus what reapers collected from exited children.
 * A process that existed at the start and exited in the window is counted by its reaper in full,
 * its pre-window time included: a small overcount, for backends that lived across the edge.
 */
export function ticksBetween(start: Snapshot, end: Snapshot): number {
  let total = 0;
  for (const [pid, ticks] of end.ticks) total += Math.max(0, ticks - (start.ticks.get(pid) ?? 0));
  for (const [pid, ticks] of end.reaped) total += Math.max(0, ticks - (start.reaped.get(pid) ?? ticks));
  return total;
}

/** CPU milliseconds per component over a window, and this process's own (the load generator). */
export interface CpuUsage {
  /** Milliseconds of CPU per component name. */
  components: Record<string, number>;
  /** This process: the load generator and the bench's own bookkeeping. */
  loadGeneratorMs: number;
  /** Wall-clock length of the window, in ms. */
  wallMs: number;
}

/** Measures CPU per component between start() and stop(). */
export class CpuMeter {
  private starts: Snapshot[] = [];
  private ownStart: NodeJS.CpuUsage | undefined;
  private startedAt = 0;

  constructor(private readonly components: readonly CpuComponent[]) {}

  start(): void {
    this.starts = this.components.map(snapshot);
    this.ownStart = process.cpuUsage();
    this.startedAt = performance.now();
  }

  stop(): CpuUsage {
    const own = process.cpuUsage(this.ownStart);
    const msPerTick = 1000 / clockTicksPerSecond();
    const components: Record<string, number> = {};
    this.components.forEach((component, index) => {
      const start = this.starts[index];
      if (!start) return;
      const ticks = ticksBetween(start, snapshot(component));
      components[component.name] = (components[component.name] ?? 0) + ticks * msPerTick;
    });
    return {
      components,
      loadGeneratorMs: (own.user + own.system) / 1000,
      wallMs: performance.now() - this.startedAt,
    };
  }
}

/** The processes of a Postgres server: the postmaster and its children, less the `exclude`d ones. */
export function postgresComponent(postmasterPid: number, exclude: readonly number[] = []): CpuComponent {
  const skip = new Set(exclude);
  return {
    name: 'postgres',
    pids: () => [postmasterPid, ...childrenOf(postmasterPid)].filter((pid) => !skip.has(pid)),
    reapers: [postmasterPid],
  };
}

/** A fixed set of processes (API nodes, workers, redis-server, nginx and its workers). */
export function processComponent(name: string, pids: () => readonly number[]): CpuComponent {
  return { name, pids };
}
