import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A memory cgroup for one worker: a process started in it sees the limit as its machine's memory, as in
 * a pod with `resources.limits.memory`, and Node sizes V8's heap from it (its young generation too: 32 MiB
 * under a 1 GiB limit, 128 MiB on a 24 GiB host without one). Needs a writable cgroup file system (root,
 * cgroup v1's memory controller or v2 with it enabled); elsewhere `unavailable` says why.
 */
export type MemoryCgroup =
  | {
      /** The file a process writes its pid to, to move into the cgroup. */
      procsFile: string;
      /** Removes the cgroup (once every process in it has ended). */
      remove(): void;
    }
  | { unavailable: string };

const V1_ROOT = '/sys/fs/cgroup/memory';
const V2_ROOT = '/sys/fs/cgroup';

/** Creates a memory cgroup limited to `limitMiB`, or says why it cannot. */
export function createMemoryCgroup(limitMiB: number): MemoryCgroup {
  const name = `k8s-executor-bench-${process.pid}`;
  const bytes = String(limitMiB * 1024 * 1024);
  try {
    if (existsSync(join(V1_ROOT, 'memory.limit_in_bytes'))) {
      return made(join(V1_ROOT, name), 'memory.limit_in_bytes', bytes);
    }
    if (readFileSync(join(V2_ROOT, 'cgroup.controllers'), 'utf8').split(/\s+/).includes('memory')) {
      return made(join(V2_ROOT, name), 'memory.max', bytes);
    }
    return { unavailable: 'no memory controller under /sys/fs/cgroup' };
  } catch (error) {
    return { unavailable: error instanceof Error ? error.message : String(error) };
  }
}

function made(dir: string, limitFile: string, bytes: string): MemoryCgroup {
  mkdirSync(dir);
  try {
    writeFileSync(join(dir, limitFile), bytes);
  } catch (error) {
    rmdirSync(dir);
    throw error;
  }
  return { procsFile: join(dir, 'cgroup.procs'), remove: () => rmdirSync(dir) };
}
