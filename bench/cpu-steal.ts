import { readFileSync } from 'node:fs';

/** The machine's CPU time so far (all CPUs, clock ticks, from Linux's `/proc/stat`). */
export interface CpuTicks {
  /** Time spent running (user, nice, system, irq, softirq) or stolen. */
  busy: number;
  /** Time a virtual CPU wanted to run while the hypervisor ran something else. */
  steal: number;
}

/** The machine's CPU time so far; undefined where `/proc/stat` cannot be read (not Linux). */
export function cpuTicks(): CpuTicks | undefined {
  try {
    return cpuTicksOf(readFileSync('/proc/stat', 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * The CPU time in the text of `/proc/stat`, from its first line
 * (`cpu user nice system idle iowait irq softirq steal ...`); undefined when that line is not there.
 */
export function cpuTicksOf(procStat: string): CpuTicks | undefined {
  const [label, ...fields] = (procStat.split('\n', 1)[0] ?? '').trim().split(/\s+/);
  const [user, nice, system, , , irq, softirq, steal] = fields.map(Number);
  const busy = [user, nice, system, irq, softirq, steal];
  if (label !== 'cpu' || !busy.every((n) => n !== undefined && Number.isFinite(n))) return undefined;
  return { busy: busy.reduce((sum: number, n) => sum + (n ?? 0), 0), steal: steal ?? 0 };
}

/**
 * The share of the machine's busy time since `start` that the hypervisor stole (0–1): on a shared
 * virtual machine, the part of a delay no code of ours can shorten. Undefined when unknown.
 */
export function stealShareSince(start: CpuTicks | undefined): number | undefined {
  const end = cpuTicks();
  if (!start || !end || end.busy <= start.busy) return undefined;
  return (end.steal - start.steal) / (end.busy - start.busy);
}
