/**
 * Jobs and pods shaped as the API server writes them (a kind cluster, Kubernetes 1.31): metadata
 * with uid and resourceVersion, conditions with reasons, messages and transition times, container
 * statuses with kubelet messages. Times are ms on the FakeClock's scale.
 */
import type { Condition, ContainerStatus, Job, Pod } from '../../src/types/kube.js';

/** The FakeClock's default start. */
export const T0 = 1_700_000_000_000;
export const JOB_NAME = 'mage-data-prep-block-42';
export const JOB_UID = '0f5a3c1e-6b1d-4e0b-9a53-6f1f2c9d8e11';
export const NAMESPACE = 'etl';
export const IMAGE = 'registry.example.com/etl/mage-block:1.4.2';

/** RFC 3339 with seconds, as the API server writes it. */
export function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const managed = { 'app.kubernetes.io/managed-by': 'k8s-executor', 'k8s-executor/block-run-id': '42' };

export interface JobFixture {
  name?: string;
  uid?: string;
  rv: string;
  backoffLimit?: number;
  activeDeadlineSeconds?: number;
  status?: Job['status'];
}

export function job(f: JobFixture): Job {
  const name = f.name ?? JOB_NAME;
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name,
      namespace: NAMESPACE,
      uid: f.uid ?? JOB_UID,
      resourceVersion: f.rv,
      generation: 1,
      creationTimestamp: iso(T0),
      labels: { ...managed },
      annotations: { 'k8s-executor/block-uuid': 'load_orders' },
    },
    spec: {
      parallelism: 1,
      completions: 1,
      backoffLimit: f.backoffLimit ?? 0,
      ...(f.activeDeadlineSeconds !== undefined ? { activeDeadlineSeconds: f.activeDeadlineSeconds } : {}),
      completionMode: 'NonIndexed',
      suspend: false,
      template: {
        metadata: { labels: { ...managed } },
        spec: {
          restartPolicy: 'Never',
          containers: [
            {
              name: 'mage-job-container',
              image: IMAGE,
              command: ['mage', 'run', 'etl', 'load_orders'],
              resources: {
                limits: { cpu: '1', memory: '512Mi' },
                requests: { cpu: '500m', memory: '256Mi' },
              },
            },
          ],
        },
      },
    },
    status: f.status ?? {
      active: 1,
      ready: 0,
      terminating: 0,
      startTime: iso(T0),
      uncountedTerminatedPods: {},
    },
  };
}

function condition(type: string, reason: string, message: string, at: number): Condition {
  return { type, status: 'True', reason, message, lastProbeTime: iso(at), lastTransitionTime: iso(at) };
}

/** A Job that completed (1.31 sets SuccessCriteriaMet first, then Complete). */
export function completedJob(rv: string, at: number, only?: 'Complete' | 'SuccessCriteriaMet'): Job {
  const message = 'Reached expected number of succeeded pods';
  const conditions = [
    condition('SuccessCriteriaMet', 'CompletionsReached', message, at),
    condition('Complete', 'CompletionsReached', message, at),
  ].filter((c) => !only || c.type === only);
  return job({
    rv,
    status: {
      succeeded: 1,
      ready: 0,
      terminating: 0,
      startTime: iso(T0),
      completionTime: iso(at),
      conditions,
    },
  });
}

/** A Job that failed: FailureTarget first, then Failed, with the same reason (1.31). */
export function failedJob(
  f: Omit<JobFixture, 'status'> & {
    reason: string;
    message: string;
    failed: number;
    at: number;
    only?: 'FailureTarget';
  },
): Job {
  const conditions = [
    condition('FailureTarget', f.reason, f.message, f.at),
    condition('Failed', f.reason, f.message, f.at),
  ].filter((c) => !f.only || c.type === f.only);
  return job({
    ...f,
    status: { failed: f.failed, ready: 0, terminating: 0, startTime: iso(T0), conditions },
  });
}

export type ContainerState = NonNullable<ContainerStatus['state']>;

export const waiting = (reason: string, message?: string): ContainerState => ({
  waiting: { reason, ...(message ? { message } : {}) },
});
export const running = (at: number): ContainerState => ({ running: { startedAt: iso(at) } });
export const terminated = (exitCode: number, reason: string, from: number, to: number): ContainerState => ({
  terminated: { exitCode, reason, startedAt: iso(from), finishedAt: iso(to) },
});

export interface PodFixture {
  name: string;
  created: number;
  rv: string;
  phase: NonNullable<Pod['status']>['phase'];
  /** State of the main container; none = no container status yet. */
  main?: ContainerState;
  initContainers?: { name: string; state: ContainerState }[];
  /** PodScheduled=False, reason Unschedulable, with this scheduler message. */
  unschedulable?: string;
  reason?: string;
  message?: string;
  jobName?: string;
  jobUid?: string;
}

export function pod(f: PodFixture): Pod {
  const jobName = f.jobName ?? JOB_NAME;
  const scheduled: Condition = f.unschedulable
    ? {
        type: 'PodScheduled',
        status: 'False',
        reason: 'Unschedulable',
        message: f.unschedulable,
        lastTransitionTime: iso(f.created),
      }
    : { type: 'PodScheduled', status: 'True', lastTransitionTime: iso(f.created) };
  const owner = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    name: jobName,
    uid: f.jobUid ?? JOB_UID,
    controller: true,
    blockOwnerDeletion: true,
  };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: f.name,
      generateName: `${jobName}-`,
      namespace: NAMESPACE,
      uid: `pod-uid-${f.name}`,
      resourceVersion: f.rv,
      creationTimestamp: iso(f.created),
      labels: {
        ...managed,
        'batch.kubernetes.io/controller-uid': f.jobUid ?? JOB_UID,
        'batch.kubernetes.io/job-name': jobName,
        'controller-uid': f.jobUid ?? JOB_UID,
        'job-name': jobName,
      },
      ownerReferences: [owner],
      finalizers: ['batch.kubernetes.io/job-tracking'],
    },
    spec: {
      restartPolicy: 'Never',
      ...(f.unschedulable ? {} : { nodeName: 'kind-worker2' }),
      ...(f.initContainers
        ? { initContainers: f.initContainers.map((c) => ({ name: c.name, image: 'busybox:1.36' })) }
        : {}),
      containers: [
        {
          name: 'mage-job-container',
          image: IMAGE,
          resources: { limits: { cpu: '1', memory: '512Mi' }, requests: { cpu: '500m', memory: '256Mi' } },
        },
      ],
    },
    status: {
      phase: f.phase,
      ...(f.reason ? { reason: f.reason } : {}),
      ...(f.message ? { message: f.message } : {}),
      conditions: [scheduled],
      ...(f.unschedulable ? {} : { hostIP: '172.18.0.3', podIP: '10.244.1.17', startTime: iso(f.created) }),
      qosClass: 'Burstable',
      ...(f.initContainers
        ? {
            initContainerStatuses: f.initContainers.map((c) => ({
              name: c.name,
              image: 'docker.io/library/busybox:1.36',
              ready: false,
              restartCount: 0,
              state: c.state,
            })),
          }
        : {}),
      ...(f.main
        ? {
            containerStatuses: [
              {
                name: 'mage-job-container',
                image: IMAGE,
                ready: f.main.running !== undefined,
                restartCount: 0,
                state: f.main,
              },
            ],
          }
        : {}),
    },
  };
}
