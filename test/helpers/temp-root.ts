import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Vitest global setup: every temporary folder a test run makes (projects, kubeconfigs, the local backend's
 * termination files, its child processes' own) goes under one folder of the run, removed when the run ends.
 * Workers and the processes they spawn inherit `TMPDIR`, and `os.tmpdir()` reads it on every call.
 */
export default function setup(): () => void {
  const previous = process.env.TMPDIR;
  const root = mkdtempSync(join(tmpdir(), 'k8s-executor-tests-'));
  process.env.TMPDIR = root;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    rmSync(root, { recursive: true, force: true });
  };
}
