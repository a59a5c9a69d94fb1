import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A memory cgroup for one worker: a process started in it sees the limit as its machine's memory, as in
 * a pod with `resources.limits.memory`, and Node sizes V8's heap from it (its young generation too: 32 MiB
 * under a 1 GiB limit, 128 MiB on a 24 GiB host without one). It is made inside the cgroup this process
 * is in, so the worker stays under that cgroup's own limits and accounting. Needs a writable cgroup file
 * system (root; cgroup v1's memory controller, or v2 with memory enabled for child cgroups); elsewhere
 * `unavailable` says why.
 */
export type MemoryCgroup =
  | {
      /** The file a process writes its pid to, to move into the cgroup. */
      procsFile: string;
      /** Removes the cgroup; throws while a process is still in it. */
      remove(): void;
    }
  | { unavailable: string };

const V1_ROOT = '/sys/fs/cgroup/memory';
const V2_ROOT = '/sys/fs/cgroup';
/** The prefix of the cgroups this module makes (a unique suffix each). */
const PREFIX = 'k8s-executor-bench-';

/** Creates a memory cgroup limited to `limitMiB` and checks that a process can join it, or says why not. */
export function createMemoryCgroup(limitMiB: number): MemoryCgroup {
  const bytes = String(limitMiB * 1024 * 1024);
  try {
    const v1 = existsSync(join(V1_ROOT, 'memory.limit_in_bytes'));
    const parent = join(
      v1 ? V1_ROOT : V2_ROOT,
      ownCgroup(v1 ? /^\d+:(?:[^:]*,)?memory(?:,[^:]*)?:(.*)$/ : /^0::(.*)$/),
    );
    if (!v1) {
      const enabled = readFileSync(join(parent, 'cgroup.subtree_control'), 'utf8').split(/\s+/);
      if (!enabled.includes('memory'))
        return {
          unavailable: `memory is not enabled for the child cgroups of ${parent} (cgroup.subtree_control)`,
        };
    }
    removeStale(parent);
    const dir = join(parent, `${PREFIX}${process.pid}-${randomBytes(3).toString('hex')}`);
    mkdirSync(dir);
    const remove = () => rmdirSync(dir);
    try {
      writeFileSync(join(dir, v1 ? 'memory.limit_in_bytes' : 'memory.max'), bytes);
      const procsFile = join(dir, 'cgroup.procs');
      // A shell that joins and exits: a cgroup that refuses processes (v2's rule against processes in
      // an inner cgroup, delegation) is found here, not when the measured run starts.
      const joined = spawnSync('/bin/sh', ['-c', 'echo $$ > "$1"', 'sh', procsFile], { encoding: 'utf8' });
      if (joined.status !== 0)
        throw new Error(`a process cannot join ${dir}: ${joined.stderr.trim() || joined.status}`);
      return { procsFile, remove };
    } catch (error) {
      remove();
      throw error;
    }
  } catch (error) {
    return { unavailable: error instanceof Error ? error.message : String(error) };
  }
}

/** The path of this process's cgroup in the hierarchy whose line of /proc/self/cgroup `line` matches. */
function ownCgroup(line: RegExp): string {
  for (const entry of readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
    const match = line.exec(entry);
    if (match) return match[1]!;
  }
  throw new Error('this process has no memory cgroup in /proc/self/cgroup');
}

/** Removes the empty cgroups an earlier bench left behind (killed before it could); busy ones stay. */
function removeStale(parent: string): void {
  for (const name of readdirSync(parent)) {
    if (!name.startsWith(PREFIX)) continue;
    try {
      rmdirSync(join(parent, name));
    } catch {
      // a process is still in it: an other bench's
    }
  }
}
