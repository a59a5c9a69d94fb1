/**
 * The watch caches keep lean copies of Jobs and Pods: the reducer must decide exactly the same on
 * them as on the objects the API server sends, whatever the sequence of observations.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { leanJob, leanPod } from '../../src/monitor/lean-objects.js';
import {
  initialBlockState,
  nextDeadline,
  defaultMonitorPolicy as policy,
  reduce,
} from '../../src/monitor/reduce.js';
import type { BlockState, Observation } from '../../src/monitor/types.js';
import type { Job, Pod } from '../../src/types/kube.js';
import {
  completedJob,
  failedJob,
  JOB_NAME,
  JOB_UID,
  job,
  pod,
  running,
  T0,
  terminated,
  waiting,
} from './kube-fixtures.js';

const S = 1000;

/** What a real API server adds to every object: managedFields, a last-applied annotation, status details. */
function managedFields(manager: string) {
  return Array.from({ length: 3 }, (_, i) => ({
    manager: `${manager}-${i}`,
    operation: 'Update',
    apiVersion: 'v1',
    time: '2026-12-01T10:00:00Z',
    fieldsType: 'FieldsV1',
    fieldsV1: {
      'f:status': { 'f:conditions': { '.': {}, 'k:{"type":"Ready"}': { '.': {}, 'f:status': {} } } },
    },
  }));
}

function fullJob(base: Job): Job {
  const spec = base.spec!;
  const container = spec.template.spec.containers[0]!;
  return {
    ...base,
    metadata: {
      ...base.metadata,
      managedFields: managedFields('kube-controller-manager'),
      annotations: {
        ...base.metadata.annotations,
        'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify(base).repeat(2),
      },
      finalizers: ['batch.kubernetes.io/job-tracking'],
    },
    spec: {
      ...spec,
      selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': JOB_UID } },
      podReplacementPolicy: 'TerminatingOrFailed',
      manualSelector: false,
      template: {
        ...spec.template,
        spec: {
          ...spec.template.spec,
          containers: [
            {
              ...container,
              env: [{ name: 'DB_PASSWORD', value: 's3cr3t' }],
              volumeMounts: [{ name: 'data', mountPath: '/data' }],
            },
          ],
          volumes: [{ name: 'data', emptyDir: {} }],
          tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' }],
        },
      },
    },
  };
}

function fullPod(base: Pod): Pod {
  const status = base.status ?? {};
  const withDetails = (s: NonNullable<NonNullable<Pod['status']>['containerStatuses']>[number]) => ({
    ...s,
    imageID:
      'docker.io/library/busybox@sha256:9ae97d36d26566ff84e8893c64a6dc4fe8ca6d1144bf5b87b2b85a32def253c7',
    containerID: 'containerd://3f4e1d2c',
    started: s.state?.running !== undefined,
    lastState: {},
    volumeMounts: [
      { name: 'kube-api-access-x7k2p', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' },
    ],
    allocatedResources: { cpu: '500m', memory: '256Mi' },
  });
  return {
    ...base,
    metadata: {
      ...base.metadata,
      managedFields: managedFields('kubelet'),
      annotations: {
        'k8s-executor/block-uuid': 'load_orders',
        'cni.projectcalico.org/podIP': '10.244.1.17/32',
      },
    },
    spec: {
      ...base.spec!,
      containers: base.spec!.containers.map((c) => ({
        ...c,
        env: [{ name: 'DB_PASSWORD', value: 's3cr3t' }],
        volumeMounts: [
          { name: 'kube-api-access-x7k2p', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' },
        ],
      })),
      volumes: [
        {
          name: 'kube-api-access-x7k2p',
          projected: { sources: [{ serviceAccountToken: { path: 'token' } }] },
        },
      ],
      tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' }],
      serviceAccountName: 'default',
      schedulerName: 'default-scheduler',
    },
    status: {
      ...status,
      // The conditions a kubelet adds besides scheduling (the monitor reads none of them).
      conditions: [
        ...(status.conditions ?? []),
        ...['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady'].map((type) => ({
          type,
          status: status.phase === 'Running' ? 'True' : 'False',
          lastTransitionTime: status.startTime ?? '2023-11-14T22:13:20Z',
        })),
      ],
      podIPs: [{ ip: '10.244.1.17' }],
      hostIPs: [{ ip: '172.18.0.3' }],
      ...(status.containerStatuses ? { containerStatuses: status.containerStatuses.map(withDetails) } : {}),
      ...(status.initContainerStatuses
        ? { initContainerStatuses: status.initContainerStatuses.map(withDetails) }
        : {}),
    },
  };
}

const jobs: Job[] = [
  job({ rv: '101' }),
  { ...job({ rv: '102' }), spec: { ...job({ rv: '102' }).spec!, suspend: true } },
  job({ rv: '103', backoffLimit: 2 }),
  completedJob('110', T0 + 60 * S),
  failedJob({
    rv: '111',
    reason: 'BackoffLimitExceeded',
    message: 'Job has reached the specified backoff limit',
    failed: 1,
    at: T0 + 61 * S,
  }),
  failedJob({
    rv: '112',
    reason: 'BackoffLimitExceeded',
    message: 'Job has reached the specified backoff limit',
    failed: 3,
    at: T0 + 62 * S,
    backoffLimit: 2,
  }),
  failedJob({
    rv: '113',
    reason: 'DeadlineExceeded',
    message: 'Job was active longer than specified deadline',
    failed: 1,
    at: T0 + 63 * S,
    activeDeadlineSeconds: 30,
  }),
  failedJob({
    rv: '114',
    reason: 'PodFailurePolicy',
    message: 'Container main for pod x failed with exit code 42 matching FailJob rule',
    failed: 1,
    at: T0 + 64 * S,
    only: 'FailureTarget',
  }),
  job({ rv: '90', uid: 'an-earlier-job' }),
  job({ rv: '190', uid: 'a-newer-job' }),
];

const name = (i: number) => `${JOB_NAME}-p${i}`;
const pods: Pod[] = [0, 1].flatMap((i) => {
  const created = T0 + (5 + i * 30) * S;
  const at = (s: number) => created + s * S;
  return [
    pod({ name: name(i), created, rv: `${120 + i * 20}`, phase: 'Pending' }),
    pod({
      name: name(i),
      created,
      rv: `${121 + i * 20}`,
      phase: 'Pending',
      unschedulable: '0/3 nodes are available: 3 Insufficient memory.',
    }),
    pod({
      name: name(i),
      created,
      rv: `${122 + i * 20}`,
      phase: 'Pending',
      main: waiting('ContainerCreating'),
    }),
    pod({
      name: name(i),
      created,
      rv: `${123 + i * 20}`,
      phase: 'Pending',
      main: waiting('ImagePullBackOff', 'Back-off pulling image'),
    }),
    pod({
      name: name(i),
      created,
      rv: `${124 + i * 20}`,
      phase: 'Pending',
      main: waiting('ErrImagePull', 'not found'),
    }),
    pod({
      name: name(i),
      created,
      rv: `${125 + i * 20}`,
      phase: 'Pending',
      main: waiting('InvalidImageName', 'bad tag'),
    }),
    pod({
      name: name(i),
      created,
      rv: `${126 + i * 20}`,
      phase: 'Pending',
      main: waiting('CreateContainerConfigError', 'secret "db" not found'),
    }),
    pod({
      name: name(i),
      created,
      rv: `${127 + i * 20}`,
      phase: 'Pending',
      initContainers: [{ name: 'fetch', state: running(at(1)) }],
    }),
    pod({
      name: name(i),
      created,
      rv: `${128 + i * 20}`,
      phase: 'Failed',
      initContainers: [{ name: 'fetch', state: terminated(2, 'Error', at(1), at(2)) }],
    }),
    pod({ name: name(i), created, rv: `${129 + i * 20}`, phase: 'Running', main: running(at(2)) }),
    pod({
      name: name(i),
      created,
      rv: `${130 + i * 20}`,
      phase: 'Failed',
      main: terminated(137, 'OOMKilled', at(2), at(9)),
    }),
    pod({
      name: name(i),
      created,
      rv: `${131 + i * 20}`,
      phase: 'Failed',
      main: terminated(3, 'Error', at(2), at(9)),
    }),
    pod({
      name: name(i),
      created,
      rv: `${132 + i * 20}`,
      phase: 'Failed',
      reason: 'Evicted',
      message: 'The node was low on resource: memory.',
    }),
    pod({
      name: name(i),
      created,
      rv: `${133 + i * 20}`,
      phase: 'Succeeded',
      main: terminated(0, 'Completed', at(2), at(9)),
    }),
  ];
});

type Pick =
  | { kind: 'job'; index: number }
  | { kind: 'pod'; index: number }
  | { kind: 'pod-deleted'; pod: number }
  | { kind: 'job-deleted'; uid: 'ours' | 'other' }
  | { kind: 'tick' };

const pick: fc.Arbitrary<Pick> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('job' as const), index: fc.nat(jobs.length - 1) }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('pod' as const), index: fc.nat(pods.length - 1) }), weight: 5 },
  { arbitrary: fc.record({ kind: fc.constant('pod-deleted' as const), pod: fc.nat(1) }), weight: 1 },
  {
    arbitrary: fc.record({
      kind: fc.constant('job-deleted' as const),
      uid: fc.constantFrom('ours' as const, 'other' as const),
    }),
    weight: 1,
  },
  { arbitrary: fc.record({ kind: fc.constant('tick' as const) }), weight: 2 },
);

function observation(p: Pick, at: number, lean: boolean): Observation {
  switch (p.kind) {
    case 'job': {
      const full = fullJob(jobs[p.index]!);
      return { kind: 'job', job: lean ? leanJob(full) : full, at };
    }
    case 'pod': {
      const full = fullPod(pods[p.index]!);
      return { kind: 'pod', pod: lean ? leanPod(full) : full, at };
    }
    case 'pod-deleted':
      return { kind: 'pod-deleted', podName: name(p.pod), at };
    case 'job-deleted':
      return {
        kind: 'job-deleted',
        uid: p.uid === 'ours' ? JOB_UID : 'an-earlier-job',
        resourceVersion: '95',
        at,
      };
    case 'tick':
      return { kind: 'tick', at };
  }
}

function play(steps: readonly { pick: Pick; afterMs: number }[], lean: boolean): BlockState[] {
  let state = initialBlockState(JOB_NAME, T0, { uid: JOB_UID, resourceVersion: '100' });
  let at = T0;
  const states = [state];
  for (const step of steps) {
    at += step.afterMs;
    state = reduce(state, observation(step.pick, at, lean), policy);
    states.push(state);
  }
  return states;
}

describe('lean cache objects', () => {
  it('the reducer reaches the same states, and the same next deadlines, on lean objects as on full ones', () => {
    const steps = fc.array(
      fc.record({ pick, afterMs: fc.constantFrom(0, 10, S, 5 * S, 31 * S, 61 * S, 6 * 60 * S, 16 * 60 * S) }),
      { minLength: 1, maxLength: 25 },
    );
    fc.assert(
      fc.property(steps, (sequence) => {
        const full = play(sequence, false);
        const lean = play(sequence, true);
        expect(lean).toEqual(full);
        expect(lean.map((s) => nextDeadline(s, policy))).toEqual(full.map((s) => nextDeadline(s, policy)));
      }),
      { seed: 11, numRuns: 400 },
    );
  });

  it('every fixture, on its own, gives the same state lean or full', () => {
    const start = initialBlockState(JOB_NAME, T0, { uid: JOB_UID, resourceVersion: '100' });
    for (const j of jobs) {
      const at = T0 + 70 * S;
      expect(reduce(start, { kind: 'job', job: leanJob(fullJob(j)), at }, policy)).toEqual(
        reduce(start, { kind: 'job', job: fullJob(j), at }, policy),
      );
    }
    for (const p of pods) {
      const at = T0 + 70 * S;
      expect(reduce(start, { kind: 'pod', pod: leanPod(fullPod(p)), at }, policy)).toEqual(
        reduce(start, { kind: 'pod', pod: fullPod(p), at }, policy),
      );
    }
  });

  it('keeps no managedFields, annotations, env, volumes or pod template, and a fraction of the size', () => {
    const fullJ = fullJob(completedJob('110', T0));
    const fullP = fullPod(pod({ name: 'p', created: T0, rv: '5', phase: 'Running', main: running(T0) }));
    const lj = leanJob(fullJ);
    const lp = leanPod(fullP);
    for (const lean of [lj, lp]) {
      const text = JSON.stringify(lean);
      expect(text).not.toMatch(/managedFields|last-applied|s3cr3t|volumeMounts|tolerations|imageID|podIPs/);
      expect(lean.metadata.annotations).toBeUndefined();
    }
    expect(lj.spec?.template.spec.containers).toEqual([]);
    // Only the label the hub routes a pod by (the first present), and the owner's own name string.
    expect(lp.metadata.labels).toEqual({ 'batch.kubernetes.io/job-name': JOB_NAME });
    expect(lp.metadata.labels?.['batch.kubernetes.io/job-name']).toBe(lp.metadata.ownerReferences?.[0]?.name);
    // Of its conditions, only those the monitor reads (scheduling, disruption).
    expect(fullP.status?.conditions?.length ?? 0).toBeGreaterThan(1);
    expect(lp.status?.conditions?.map((c) => c.type)).toEqual(
      fullP.status?.conditions
        ?.filter((c) => ['PodScheduled', 'DisruptionTarget'].includes(c.type))
        .map((c) => c.type),
    );
    expect(lp.metadata.ownerReferences).toEqual([
      { kind: 'Job', name: JOB_NAME, uid: JOB_UID, controller: true },
    ]);
    expect(lp.spec?.containers).toEqual([
      {
        name: 'mage-job-container',
        image: fullP.spec!.containers[0]!.image,
        resources: { limits: { memory: '512Mi' } },
      },
    ]);
    expect(lp.spec?.nodeName).toBe('kind-worker2');
    expect(JSON.stringify(lj).length).toBeLessThan(JSON.stringify(fullJ).length / 4);
    expect(JSON.stringify(lp).length).toBeLessThan(JSON.stringify(fullP).length / 3);
  });
});
