import type { Condition, Container, ContainerStatus, Job, ObjectMeta, Pod } from '../types/kube.js';

/**
 * What the watch hub keeps of each Job and Pod it caches: the fields the monitor reads, nothing else
 * (client-go's informer `TransformFunc`, Argo's `StripManagedFields`). Applied to every object as it
 * arrives from a list or a watch, before it enters the cache, so a full object (managedFields, the pod
 * template with its env, volumes, tolerations, status details) lives only as long as one event.
 *
 * The fields kept are those read by `reduce.ts`, `job-outcome.ts`, `pod-summary.ts`,
 * `waiting-bounds.ts` and the hub's routing (which Job a pod belongs to); the executor reads only the
 * monitor's `BlockState`. A field the monitor starts reading must be added here:
 * `test/monitor/lean-objects.test.ts` runs the reducer on full and on lean objects and wants identical
 * states.
 */

/** The labels that name a pod's Job, in the order the hub reads them to route a pod (the first one present). */
const POD_LABELS = ['batch.kubernetes.io/job-name', 'job-name'] as const;

/** The pod conditions the monitor reads (`pod-summary.ts`): scheduling and disruption. */
const POD_CONDITIONS = new Set(['PodScheduled', 'DisruptionTarget']);

/** The pod template of every lean Job: the type wants one, the monitor never reads it. Shared, frozen. */
const NO_TEMPLATE: NonNullable<Job['spec']>['template'] = Object.freeze({
  spec: Object.freeze({ containers: Object.freeze([]) as unknown as Container[] }),
});

/**
 * The strings of the objects decoded lately, by value. A decoded object brings its own copy of every
 * string the parser did not intern (names and timestamps longer than a few characters): a Job's name
 * in its Job, in its pod's owner and label; the same container name, image, node name and timestamps
 * in thousands of pods. Kept objects take the one copy seen first instead. Cleared when full, so it
 * never holds more than a bounded number of strings, whatever runs for a day.
 */
const recentStrings = new Map<string, string>();
const RECENT_STRINGS_MAX = 4096;

function shared<S extends string | undefined>(value: S): S {
  if (value === undefined) return value;
  const known = recentStrings.get(value);
  if (known !== undefined) return known as S;
  if (recentStrings.size >= RECENT_STRINGS_MAX) recentStrings.clear();
  recentStrings.set(value, value);
  return value;
}

/**
 * A Job with only what the monitor reads: identity, `suspend`, the retry and deadline limits, its status
 * (whole: a block's state carries its Job, and the status is small).
 */
export function leanJob(job: Job): Job {
  const { spec, status } = job;
  return {
    metadata: leanMeta(job.metadata, false),
    ...(spec
      ? {
          spec: {
            ...defined('suspend', spec.suspend),
            ...defined('backoffLimit', spec.backoffLimit),
            ...defined('activeDeadlineSeconds', spec.activeDeadlineSeconds),
            template: NO_TEMPLATE,
          },
        }
      : {}),
    ...(status
      ? { status: status.startTime ? { ...status, startTime: shared(status.startTime) } : status }
      : {}),
  };
}

/**
 * A Pod with only what the monitor reads: identity and owner, the names, images and memory limits of
 * its containers (init containers included), the node it runs on (for diagnostics), and its status:
 * phase, reason and message, conditions, and each container's state.
 */
export function leanPod(pod: Pod): Pod {
  const { spec, status } = pod;
  return {
    metadata: leanMeta(pod.metadata, true),
    ...(spec
      ? {
          spec: {
            containers: spec.containers.map(leanContainer),
            ...(spec.initContainers ? { initContainers: spec.initContainers.map(leanContainer) } : {}),
            ...defined('nodeName', shared(spec.nodeName)),
          },
        }
      : {}),
    ...(status
      ? {
          status: {
            ...defined('phase', status.phase),
            ...defined('reason', status.reason),
            ...defined('message', status.message),
            ...leanPodConditions(status.conditions),
            ...(status.containerStatuses
              ? { containerStatuses: status.containerStatuses.map(leanContainerStatus) }
              : {}),
            ...(status.initContainerStatuses
              ? { initContainerStatuses: status.initContainerStatuses.map(leanContainerStatus) }
              : {}),
          },
        }
      : {}),
  };
}

/** The conditions of a pod the monitor reads, when it has any. */
function leanPodConditions(conditions: readonly Condition[] | undefined): { conditions?: Condition[] } {
  const kept = conditions?.filter((c) => POD_CONDITIONS.has(c.type));
  return kept && kept.length > 0 ? { conditions: kept.map(leanCondition) } : {};
}

/**
 * Identity, times and controlling Job of an object; of a pod (`jobLabel`) also the label its Job is
 * found by, sharing the owner's name string when they are equal (one string per pod, not two).
 */
function leanMeta(meta: ObjectMeta, jobLabel: boolean): ObjectMeta {
  const owner = meta.ownerReferences?.find((o) => o.controller && o.kind === 'Job');
  const labels: Record<string, string> = {};
  const key = jobLabel ? POD_LABELS.find((k) => meta.labels?.[k] !== undefined) : undefined;
  if (key) {
    const value = meta.labels![key]!;
    labels[key] = shared(value);
  }
  return {
    ...defined('name', jobLabel ? meta.name : shared(meta.name)),
    ...defined('namespace', shared(meta.namespace)),
    ...defined('uid', jobLabel ? meta.uid : shared(meta.uid)),
    ...defined('resourceVersion', meta.resourceVersion),
    ...defined('creationTimestamp', shared(meta.creationTimestamp)),
    ...defined('deletionTimestamp', meta.deletionTimestamp),
    ...(Object.keys(labels).length > 0 ? { labels } : {}),
    ...(owner
      ? {
          ownerReferences: [
            { kind: owner.kind, name: shared(owner.name), uid: shared(owner.uid), controller: true },
          ],
        }
      : {}),
  };
}

function leanContainer(container: Container): Container {
  const memory = container.resources?.limits?.memory;
  return {
    name: shared(container.name),
    ...defined('image', shared(container.image)),
    ...(memory !== undefined ? { resources: { limits: { memory } } } : {}),
  };
}

function leanContainerStatus(status: ContainerStatus): ContainerStatus {
  const running = status.state?.running;
  return {
    name: shared(status.name),
    ...defined('image', shared(status.image)),
    // A running container's state is what thousands of running blocks keep: its start time shared.
    ...defined(
      'state',
      running && Object.keys(status.state!).length === 1
        ? { running: running.startedAt ? { ...running, startedAt: shared(running.startedAt) } : running }
        : status.state,
    ),
  };
}

function leanCondition(condition: Condition): Condition {
  return {
    type: shared(condition.type),
    status: condition.status,
    ...defined('reason', shared(condition.reason)),
    ...defined('message', condition.message),
    ...defined('lastTransitionTime', shared(condition.lastTransitionTime)),
  };
}

/** `{ [key]: value }`, or `{}` when the value is undefined (the objects never hold undefined). */
function defined<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
