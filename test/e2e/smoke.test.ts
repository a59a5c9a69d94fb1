// Proves the local e2e cluster (test/e2e/cluster): every KWOK fate drives the pods through the
// states a kubelet would report, the real Job controller writes the matching Job conditions,
// pod logs come through the API server, and the ServiceAccount kubeconfig is subject to RBAC.
// Needs KUBECONFIG and E2E_KWOK_FATES=1, both set by `bash test/e2e/run.sh`.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FateOptions, fateAnnotations, knownLogLines, kwokFatesAvailable } from './cluster/fates.js';

const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';

/** Polls `read` until `done` holds for its value; e2e only, where time is the real cluster's. */
async function eventually<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 60_000;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await read();
    if (done(last)) return last;
    await sleep(250);
  }
  throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(last, null, 2)}`);
}

function conditionOf(job: k8s.V1Job, type: string): k8s.V1JobCondition | undefined {
  return job.status?.conditions?.find((c) => c.type === type && c.status === 'True');
}

describe.skipIf(!process.env['KUBECONFIG'] || !kwokFatesAvailable())('e2e cluster: KWOK fates', () => {
  const kc = new k8s.KubeConfig();
  kc.loadFromDefault();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const batch = kc.makeApiClient(k8s.BatchV1Api);
  const namespace = `e2e-smoke-${randomBytes(3).toString('hex')}`;

  beforeAll(async () => {
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    // ServiceAccount admission rejects pods until the namespace's default ServiceAccount exists.
    await eventually(
      'the default ServiceAccount',
      () => core.listNamespacedServiceAccount({ namespace }),
      (list) => list.items.some((sa) => sa.metadata?.name === 'default'),
    );
  });

  afterAll(async () => {
    await core.deleteNamespace({ name: namespace }).catch(() => undefined);
  });

  async function runJob(name: string, fate: FateOptions, spec: Partial<k8s.V1JobSpec> = {}): Promise<void> {
    await batch.createNamespacedJob({
      namespace,
      body: {
        metadata: { name },
        spec: {
          backoffLimit: 0,
          ...spec,
          template: {
            metadata: { annotations: { ...fateAnnotations(fate) } },
            spec: {
              restartPolicy: 'Never',
              containers: [{ name: 'main', image: 'example.invalid/block:1' }],
            },
          },
        },
      },
    });
  }

  const jobWith = (name: string, type: string) =>
    eventually(
      `Job ${name} condition ${type}`,
      () => batch.readNamespacedJobStatus({ name, namespace }),
      (job) => conditionOf(job, type) !== undefined,
    );

  const podsOf = async (name: string) =>
    (await core.listNamespacedPod({ namespace, labelSelector: `${JOB_NAME_LABEL}=${name}` })).items;

  const terminatedOf = (pod: k8s.V1Pod) => pod.status?.containerStatuses?.[0]?.state?.terminated;

  it.concurrent('succeed: pod Succeeded with exit 0, Job Complete, logs through the API server', async () => {
    await runJob('succeed', { fate: 'succeed' });

    const job = await jobWith('succeed', 'Complete');
    expect(conditionOf(job, 'SuccessCriteriaMet')).toBeDefined();
    expect(job.status?.succeeded).toBe(1);
    const [pod] = await podsOf('succeed');
    expect(pod?.status?.phase).toBe('Succeeded');
    expect(terminatedOf(pod!)).toMatchObject({ exitCode: 0, reason: 'Completed' });

    const log = await core.readNamespacedPodLog({ name: pod!.metadata!.name!, namespace, container: 'main' });
    expect(log.split('\n').filter(Boolean)).toEqual(knownLogLines().map((line) => line.text));
  });

  it.concurrent('fail with exit code 3 and backoffLimit 0: Job Failed BackoffLimitExceeded', async () => {
    await runJob('fail-3', { fate: 'fail', exitCode: 3 });

    const job = await jobWith('fail-3', 'Failed');
    expect(conditionOf(job, 'Failed')?.reason).toBe('BackoffLimitExceeded');
    const pods = await podsOf('fail-3');
    expect(pods).toHaveLength(1);
    expect(pods[0]?.status?.phase).toBe('Failed');
    expect(terminatedOf(pods[0]!)).toMatchObject({ exitCode: 3, reason: 'Error' });
  });

  it.concurrent('oom: container OOMKilled with exit 137, Job Failed BackoffLimitExceeded', async () => {
    await runJob('oom', { fate: 'oom' });

    const job = await jobWith('oom', 'Failed');
    expect(conditionOf(job, 'Failed')?.reason).toBe('BackoffLimitExceeded');
    const [pod] = await podsOf('oom');
    expect(pod?.status?.phase).toBe('Failed');
    expect(terminatedOf(pod!)).toMatchObject({ exitCode: 137, reason: 'OOMKilled' });
  });

  it.concurrent('oom with a FailJob podFailurePolicy on exit 137: Job Failed PodFailurePolicy', async () => {
    await runJob(
      'oom-policy',
      { fate: 'oom' },
      {
        backoffLimit: 3,
        podFailurePolicy: { rules: [{ action: 'FailJob', onExitCodes: { operator: 'In', values: [137] } }] },
      },
    );

    const job = await jobWith('oom-policy', 'Failed');
    expect(conditionOf(job, 'Failed')?.reason).toBe('PodFailurePolicy');
  });

  it.concurrent('image-pull: pod stays Pending in ImagePullBackOff until the deadline', async () => {
    await runJob('image-pull', { fate: 'image-pull' }, { activeDeadlineSeconds: 4 });

    const [pod] = await eventually(
      'a pod waiting in ImagePullBackOff',
      () => podsOf('image-pull'),
      (pods) => pods[0]?.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ImagePullBackOff',
    );
    expect(pod?.status?.phase).toBe('Pending');
    expect(pod?.status?.containerStatuses?.[0]?.state?.waiting?.message).toContain('example.invalid/block:1');
    const events = await core.listNamespacedEvent({
      namespace,
      fieldSelector: `involvedObject.name=${pod!.metadata!.name!}`,
    });
    expect(events.items.map((e) => [e.type, e.reason, e.message])).toContainEqual([
      'Warning',
      'Failed',
      'Error: ImagePullBackOff',
    ]);

    const job = await jobWith('image-pull', 'Failed');
    expect(conditionOf(job, 'Failed')?.reason).toBe('DeadlineExceeded');
  });

  it.concurrent('hang with activeDeadlineSeconds 2: pod Running, then Job Failed DeadlineExceeded', async () => {
    await runJob('hang', { fate: 'hang' }, { activeDeadlineSeconds: 2 });

    await eventually(
      'a Running pod',
      () => podsOf('hang'),
      (pods) => pods[0]?.status?.phase === 'Running',
    );
    const job = await jobWith('hang', 'Failed');
    expect(conditionOf(job, 'Failed')?.reason).toBe('DeadlineExceeded');
    // The controller deletes the running pod; KWOK reports it killed and removes it.
    await eventually(
      'the pod to be gone',
      () => podsOf('hang'),
      (pods) => pods.length === 0,
    );
  });

  it.concurrent('fail with backoffLimit 1: a second pod, then Job Failed BackoffLimitExceeded', async () => {
    await runJob('retry', { fate: 'fail' }, { backoffLimit: 1 });

    const job = await jobWith('retry', 'Failed');
    expect(conditionOf(job, 'Failed')?.reason).toBe('BackoffLimitExceeded');
    expect(job.status?.failed).toBe(2);
    const pods = await podsOf('retry');
    expect(pods.map((p) => [p.status?.phase, terminatedOf(p)?.exitCode])).toEqual([
      ['Failed', 1],
      ['Failed', 1],
    ]);
  });
});

describe.skipIf(!process.env['E2E_SA_KUBECONFIG'])('e2e cluster: ServiceAccount kubeconfig', () => {
  it('authenticates as default/e2e-runner, which RBAC denies by default', async () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(process.env['E2E_SA_KUBECONFIG']!);

    const review = await kc.makeApiClient(k8s.AuthenticationV1Api).createSelfSubjectReview({ body: {} });
    expect(review.status?.userInfo?.username).toBe('system:serviceaccount:default:e2e-runner');
    await expect(
      kc.makeApiClient(k8s.BatchV1Api).listNamespacedJob({ namespace: 'default' }),
    ).rejects.toMatchObject({ code: 403 });
  });
});
