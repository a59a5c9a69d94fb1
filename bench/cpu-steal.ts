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
 * (`cpu user nice system idle iowait irq softirq steal guest guest_nice`); undefined when that line is
 * not there or lacks the steal column. Guest time is left out: the kernel counts it in user and nice too.
 */
export function cpuTicksOf(procStat: string): CpuTicks | undefined {
  const [label, ...fields] = (procStat.split('\n', 1)[0] ?? '').trim().split(/\s+/);
  const columns = fields.slice(0, 8).map(Number);
  if (label !== 'cpu' || columns.length < 8 || !columns.every((n) => Number.isFinite(n) && n >= 0)) {
    return undefined;
  }
  const [user, nice, system, , , irq, softirq, steal] = columns as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  return { busy: user + nice + system + irq + softirq + steal, steal };
}

/**
 * The share of the machine's busy time between two readings that the hypervisor stole (0–1): time the
 * machine's CPUs waited for the host, which no process inside the machine can shorten (it does not show
 * other processes of the machine competing for its CPUs: the load average does). Undefined when unknown,
 * or when the counters went backwards.
 */
export function stealShare(start: CpuTicks | undefined, end: CpuTicks | undefined): number | undefined {
  if (!start || !end || end.busy <= start.busy || end.steal < start.steal) return undefined;
  return (end.steal - start.steal) / (end.busy - start.busy);
}
