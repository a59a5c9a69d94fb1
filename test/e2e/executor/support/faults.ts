// Faults the e2e control plane can be put through while blocks run: the API server stopped and started
// again (same port, same etcd), a Job suspended and resumed as Kueue does it, and log lines appended to
// what every KWOK container "prints". (A rotating token is in token.ts.)
import { execFile } from 'node:child_process';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import type { TestNamespace } from './cluster.js';

const run = promisify(execFile);

/**
 * Stops the kube-apiserver, waits `downSeconds`, starts it again and resolves once it is ready
 * (test/e2e/cluster/restart-apiserver.sh; `W` comes from the env file run.sh sources).
 */
export async function restartApiServer(downSeconds: number): Promise<void> {
  const w = process.env['W'];
  if (!w) throw new Error('W is not set: run the e2e suite through test/e2e/run.sh');
  await run('bash', ['test/e2e/cluster/restart-apiserver.sh', String(downSeconds)], {
    env: { ...process.env, W: w },
    timeout: 180_000,
  });
}

/** True when the API server of run.sh's cluster can be restarted from here. */
export function apiServerRestartable(): boolean {
  return Boolean(process.env['W']);
}

/**
 * Appends one line to the log every KWOK container "prints" (`E2E_POD_LOG`, CRI format), stamped now:
 * a follow that is open sees it, a follow resumed with `sinceTime` sees it once.
 */
export async function appendPodLogLine(text: string, at = new Date()): Promise<void> {
  const file = process.env['E2E_POD_LOG'];
  if (!file) throw new Error('E2E_POD_LOG is not set: run the e2e suite through test/e2e/run.sh');
  const stamp = `${at.toISOString().slice(0, -1)}000000Z`; // RFC 3339 with nanoseconds, as the CRI writes
  await appendFile(file, `${stamp} stdout F ${text}\n`);
}

/**
 * Saves the log every KWOK container "prints" and returns what puts it back: the lines a test appends
 * must not show up in the logs of later tests (and files), which expect exactly the known lines.
 */
export async function savePodLog(): Promise<() => Promise<void>> {
  const file = process.env['E2E_POD_LOG'];
  if (!file) throw new Error('E2E_POD_LOG is not set: run the e2e suite through test/e2e/run.sh');
  const saved = await readFile(file);
  return () => writeFile(file, saved);
}

/** Suspends (`true`) or resumes (`false`) a Job, as Kueue does on preemption and admission. */
export async function setJobSuspended(ns: TestNamespace, name: string, suspend: boolean): Promise<void> {
  await ns.batch.patchNamespacedJob(
    { name, namespace: ns.name, body: { spec: { suspend } } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
}
