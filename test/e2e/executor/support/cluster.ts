// Plumbing of the executor's e2e suite: the admin client of the test cluster, one namespace per test
// file, and polling with a bound. Real time is fine here: these tests talk to a real control plane.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll } from 'vitest';
import { kwokFatesAvailable } from '../../cluster/fates.js';

/** True when a cluster is configured (`KUBECONFIG`, set by `test/e2e/run.sh`). */
export function clusterAvailable(): boolean {
  return Boolean(process.env['KUBECONFIG']);
}

/** True when the KWOK cluster of `run.sh` runs, so pods follow their fate annotations. */
export function fatesAvailable(): boolean {
  return clusterAvailable() && kwokFatesAvailable();
}

/** The admin identity of the test cluster (`KUBECONFIG`). */
export function adminKubeConfig(): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromDefault();
  return kc;
}

/**
 * Polls `read` until `done` holds, for at most `timeoutMs`; the error shows the last value read.
 * @throws Error when the bound passes first.
 */
export async function eventually<T>(
  what: string,
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await read();
    if (done(last)) return last;
    await sleep(250);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last value: ${JSON.stringify(last)}`);
}

/** The condition of that type with status True, if any. */
export function trueCondition(job: k8s.V1Job | undefined, type: string): k8s.V1JobCondition | undefined {
  return job?.status?.conditions?.find((c) => c.type === type && c.status === 'True');
}

/** The namespace of one test file and the admin clients to inspect it. */
export interface TestNamespace {
  /** The namespace's name (valid once `beforeAll` ran). */
  readonly name: string;
  readonly core: k8s.CoreV1Api;
  readonly batch: k8s.BatchV1Api;
  /** Reads a Job; undefined once it is gone. */
  readJob(name: string): Promise<k8s.V1Job | undefined>;
  /** The pods of a Job (by the Job controller's `batch.kubernetes.io/job-name` label). */
  podsOf(jobName: string): Promise<k8s.V1Pod[]>;
  /** Polls until the Job has the True condition `type`, and returns it. */
  jobWithCondition(name: string, type: string): Promise<k8s.V1Job>;
}

/**
 * Creates a fresh namespace before the file's tests (and waits for its `default` ServiceAccount,
 * without which ServiceAccount admission rejects every pod) and deletes it afterwards.
 */
export function useTestNamespace(prefix: string): TestNamespace {
  const kc = adminKubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const batch = kc.makeApiClient(k8s.BatchV1Api);
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;

  beforeAll(async () => {
    await core.createNamespace({ body: { metadata: { name } } });
    await eventually(
      `the default ServiceAccount of ${name}`,
      () => core.listNamespacedServiceAccount({ namespace: name }),
      (list) => list.items.some((sa) => sa.metadata?.name === 'default'),
    );
  });
  afterAll(async () => {
    await core.deleteNamespace({ name }).catch(() => undefined);
  });

  const readJob = async (job: string) => {
    try {
      return await batch.readNamespacedJob({ name: job, namespace: name });
    } catch (error) {
      if ((error as { code?: unknown }).code === 404) return undefined;
      throw error;
    }
  };
  return {
    name,
    core,
    batch,
    readJob,
    podsOf: async (jobName) =>
      (
        await core.listNamespacedPod({
          namespace: name,
          labelSelector: `batch.kubernetes.io/job-name=${jobName}`,
        })
      ).items,
    jobWithCondition: async (job, type) =>
      (await eventually(
        `Job ${job} condition ${type}`,
        () => readJob(job),
        (read) => trueCondition(read, type) !== undefined,
      )) as k8s.V1Job,
  };
}
