import type { ResourceList } from '../ports/cluster-inspector.js';
import type { Job, JsonObject } from '../types/kube.js';
import { type Amounts, addAmounts, amountsOf, maxAmounts } from './quantity.js';

/** A container of the pod, as preflight reads it. */
export interface PodContainer {
  /** The container's name. */
  name: string;
  /** True for an init container. */
  init: boolean;
  /** True for an init container with `restartPolicy: Always` (a sidecar: it runs beside the others). */
  sidecar: boolean;
  /** Its requests, as the API server stores them: a resource with a limit and no request requests the limit. */
  requests: Amounts;
  /** Its limits. */
  limits: Amounts;
  /** The container as written (env, envFrom, volumeMounts). */
  raw: JsonObject;
}

/** The pod template of a Job, as preflight reads it. */
export interface PodView {
  /** Regular containers, then init containers. */
  containers: PodContainer[];
  /** `spec.volumes`. */
  volumes: JsonObject[];
  /** `spec.serviceAccountName` (or the old `serviceAccount`), else `default`. */
  serviceAccountName: string;
  /** `spec.imagePullSecrets[].name`. */
  imagePullSecrets: string[];
  /** `spec.nodeSelector`. */
  nodeSelector: Readonly<Record<string, string>>;
  /** `spec.affinity`, when set. */
  affinity: JsonObject | undefined;
  /** `spec.tolerations`. */
  tolerations: JsonObject[];
  /** `spec.nodeName`, when the pod is bound to one node. */
  nodeName: string | undefined;
  /** `spec.priorityClassName`, when set. */
  priorityClassName: string | undefined;
  /** Whether the pod has `activeDeadlineSeconds` (a quota's `Terminating` scope). */
  terminating: boolean;
  /** `spec.overhead`. */
  overhead: Amounts;
}

/** The pod template of a Job, read defensively (a Job that is not one reads as a pod with nothing set). */
export function podViewOf(job: Job): PodView {
  const spec = (job.spec?.template?.spec ?? {}) as JsonObject;
  const container = (raw: JsonObject, init: boolean): PodContainer => {
    const resources = objectOf(raw.resources);
    const limits = amountsOf(stringMap(resources.limits));
    // A limit without a request requests the limit (the API server's defaulting).
    const requests: Amounts = new Map([...limits, ...amountsOf(stringMap(resources.requests))]);
    return {
      name: typeof raw.name === 'string' ? raw.name : '',
      init,
      sidecar: init && raw.restartPolicy === 'Always',
      requests,
      limits,
      raw,
    };
  };
  return {
    containers: [
      ...objects(spec.containers).map((c) => container(c, false)),
      ...objects(spec.initContainers).map((c) => container(c, true)),
    ],
    volumes: objects(spec.volumes),
    serviceAccountName: stringOf(spec.serviceAccountName) ?? stringOf(spec.serviceAccount) ?? 'default',
    imagePullSecrets: objects(spec.imagePullSecrets).flatMap((s) => stringOf(s.name) ?? []),
    nodeSelector: stringMap(spec.nodeSelector),
    affinity: isObject(spec.affinity) ? spec.affinity : undefined,
    tolerations: objects(spec.tolerations),
    nodeName: stringOf(spec.nodeName),
    priorityClassName: stringOf(spec.priorityClassName),
    terminating: typeof spec.activeDeadlineSeconds === 'number' && spec.activeDeadlineSeconds >= 0,
    overhead: amountsOf(stringMap(spec.overhead)),
  };
}

/**
 * The pod's total of `requests` or `limits`, as the scheduler and the quota count it: the regular
 * containers and sidecars together, or the largest init container (plus the sidecars started before it)
 * when that is more, plus the pod overhead.
 */
export function podTotal(
  containers: readonly PodContainer[],
  field: 'requests' | 'limits',
  overhead: Amounts,
): Amounts {
  let running: Amounts = new Map();
  let sidecars: Amounts = new Map();
  let initPeak: Amounts = new Map();
  for (const c of containers.filter((c) => !c.init)) running = addAmounts(running, c[field]);
  for (const c of containers.filter((c) => c.init)) {
    if (c.sidecar) {
      running = addAmounts(running, c[field]);
      sidecars = addAmounts(sidecars, c[field]);
    } else initPeak = maxAmounts(initPeak, addAmounts(c[field], sidecars));
  }
  return addAmounts(maxAmounts(running, initPeak), overhead);
}

/** Whether the pod is BestEffort: no container requests or limits cpu or memory. */
export function isBestEffort(containers: readonly PodContainer[]): boolean {
  return containers.every((c) =>
    ['cpu', 'memory'].every((r) => !(c.requests.get(r) ?? 0) && !(c.limits.get(r) ?? 0)),
  );
}

/** Describes a container for messages: `container "main"`, `init container "setup"`. */
export function containerLabel(c: Pick<PodContainer, 'name' | 'init'>): string {
  return `${c.init ? 'init container' : 'container'} "${c.name}"`;
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function objectOf(value: unknown): JsonObject {
  return isObject(value) ? value : {};
}

export function objects(value: unknown): JsonObject[] {
  return Array.isArray(value) ? value.filter(isObject) : [];
}

export function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function stringMap(value: unknown): ResourceList {
  if (!isObject(value)) return {};
  return Object.fromEntries(
    Object.entries(value).flatMap(([k, v]) =>
      typeof v === 'string' ? [[k, v]] : typeof v === 'number' ? [[k, String(v)]] : [],
    ),
  );
}
