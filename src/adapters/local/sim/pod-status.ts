import type { Condition, ContainerStatus, Job, Pod } from '../../../types/kube.js';
import type { ContainerExit } from './pod-runner.js';
import { rfc3339 } from './sim-state.js';

/**
 * The pod objects the simulated Job controller and kubelet write, as a 1.31 API server serves them:
 * a new pod from its Job's template, then each status it goes through. Pure functions of the pod and
 * the time.
 */

/** The node every simulated pod is scheduled on. */
export const SIM_NODE_NAME = 'k8s-executor-sim';

/** What a new pod of a Job is named and stamped with. */
export interface NewPod {
  name: string;
  uid: string;
  /** The clock's time of the creation. */
  now: number;
}

/** A new Pending pod of `job`, from its template, owned by it (the controller's ownerReference). */
export function podFromTemplate(job: Job, pod: NewPod): Pod {
  const template = job.spec!.template;
  const name = job.metadata.name!;
  // Typed loosely in ObjectMeta; the real controller sets these two fields as well.
  const owner = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    name,
    uid: job.metadata.uid!,
    controller: true,
    blockOwnerDeletion: true,
  };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: pod.name,
      generateName: `${name}-`,
      namespace: job.metadata.namespace!,
      uid: pod.uid,
      creationTimestamp: rfc3339(pod.now),
      labels: { ...template.metadata?.labels },
      ...(template.metadata?.annotations ? { annotations: { ...template.metadata.annotations } } : {}),
      ownerReferences: [owner],
    },
    spec: structuredClone(template.spec),
    status: { phase: 'Pending', qosClass: 'BestEffort' },
  };
}

/** The pod marked for deletion: `deletionTimestamp` and the default 30 s grace. */
export function markedForDeletion(pod: Pod, now: number): Pod {
  return {
    ...pod,
    metadata: { ...pod.metadata, deletionTimestamp: rfc3339(now), deletionGracePeriodSeconds: 30 },
  };
}

function podCondition(
  type: string,
  status: 'True' | 'False',
  at: string,
  reason?: string,
  message?: string,
): Condition {
  return {
    type,
    status,
    lastTransitionTime: at,
    ...(reason ? { reason } : {}),
    ...(message ? { message } : {}),
  };
}

function containerStatus(pod: Pod, state: ContainerStatus['state'], ready: boolean): ContainerStatus[] {
  const main = pod.spec?.containers[0];
  const status = {
    name: main?.name ?? 'main',
    ...(main?.image ? { image: main.image } : {}),
    ready,
    restartCount: 0,
    started: state?.running !== undefined, // not in the shared ContainerStatus type, but served by Kubernetes
    state,
  };
  return [status];
}

function scheduled(pod: Pod, now: number): Pod {
  const at = rfc3339(now);
  return {
    ...pod,
    spec: { containers: [], ...pod.spec, nodeName: SIM_NODE_NAME },
    status: {
      ...pod.status,
      phase: 'Pending',
      startTime: pod.status?.startTime ?? at,
      conditions: [
        podCondition('Initialized', 'True', at),
        podCondition('Ready', 'False', at, 'ContainersNotReady', 'containers with unready status'),
        podCondition('ContainersReady', 'False', at, 'ContainersNotReady', 'containers with unready status'),
        podCondition('PodScheduled', 'True', at),
      ],
    },
  };
}

export function unschedulable(pod: Pod, message: string, now: number): Pod {
  return {
    ...pod,
    status: {
      ...pod.status,
      phase: 'Pending',
      conditions: [podCondition('PodScheduled', 'False', rfc3339(now), 'Unschedulable', message)],
    },
  };
}

export function waiting(pod: Pod, reason: string, message: string | undefined, now: number): Pod {
  const base = scheduled(pod, now);
  const state = { waiting: { reason, ...(message ? { message } : {}) } };
  return { ...base, status: { ...base.status, containerStatuses: containerStatus(pod, state, false) } };
}

export function running(pod: Pod, now: number): Pod {
  const at = rfc3339(now);
  const base = pod.spec?.nodeName ? pod : scheduled(pod, now);
  return {
    ...base,
    status: {
      ...base.status,
      phase: 'Running',
      conditions: [
        podCondition('Initialized', 'True', at),
        podCondition('Ready', 'True', at),
        podCondition('ContainersReady', 'True', at),
        podCondition('PodScheduled', 'True', at),
      ],
      containerStatuses: containerStatus(pod, { running: { startedAt: at } }, true),
    },
  };
}

export function terminated(pod: Pod, exit: ContainerExit, now: number): Pod {
  const at = rfc3339(now);
  const failed = exit.exitCode !== 0 || exit.podFailure !== undefined;
  const startedAt = pod.status?.containerStatuses?.[0]?.state?.running?.startedAt ?? at;
  const state = {
    terminated: {
      exitCode: exit.exitCode,
      reason: exit.reason ?? (exit.exitCode === 0 ? 'Completed' : 'Error'),
      ...(exit.message ? { message: exit.message } : {}),
      startedAt,
      finishedAt: at,
    },
  };
  const notReady = failed ? 'PodFailed' : 'PodCompleted';
  return {
    ...pod,
    status: {
      ...pod.status,
      phase: failed ? 'Failed' : 'Succeeded',
      ...(exit.podFailure ? { reason: exit.podFailure.reason, message: exit.podFailure.message } : {}),
      startTime: pod.status?.startTime ?? at,
      conditions: [
        ...(exit.disruption
          ? [podCondition('DisruptionTarget', 'True', at, exit.disruption.reason, exit.disruption.message)]
          : []),
        podCondition('Initialized', 'True', at, notReady),
        podCondition('Ready', 'False', at, notReady),
        podCondition('ContainersReady', 'False', at, notReady),
        podCondition('PodScheduled', 'True', at),
      ],
      containerStatuses: containerStatus(pod, state, false),
    },
  };
}
