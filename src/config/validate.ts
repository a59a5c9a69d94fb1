import type { ConfigIssue, ConfigIssueCode } from '../errors/config-error.js';
import type { JsonObject } from '../types/kube.js';
import { didYouMean } from './did-you-mean.js';
import {
  dnsLabelProblem,
  dnsSubdomainProblem,
  labelValueProblem,
  parseQuantity,
  qualifiedNameProblem,
} from './k8s-values.js';
import { isPlainObject, itemKeyOf } from './merge.js';
import { joinIndex, joinItem, joinKey } from './paths.js';
import { issueAt, nearestOrigin } from './provenance.js';
import type { FieldOrigin } from './types.js';

const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'];
const RESTART_POLICIES = ['Never', 'OnFailure'];
const TOLERATION_OPERATORS = ['Exists', 'Equal'];
const TOLERATION_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];
const JOB_COUNTS = [
  'activeDeadlineSeconds',
  'backoffLimit',
  'backoffLimitPerIndex',
  'completions',
  'maxFailedIndexes',
  'parallelism',
  'ttlSecondsAfterFinished',
];

/**
 * Checks a merged, templated config: quantities, names, labels, enums, counts, the image and the volumes
 * that mounts refer to. Returns every problem found (nothing stops at the first one), each at the
 * user's own path and file:line.
 */
export function validateConfig(config: JsonObject, origins: ReadonlyMap<string, FieldOrigin>): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const add = (path: string, code: ConfigIssueCode, message: string) =>
    issues.push(issueAt(origins, path, code, message));
  const name = (path: string, value: unknown, kind: 'label' | 'subdomain', what: string) => {
    if (typeof value !== 'string') return;
    const problem = kind === 'label' ? dnsLabelProblem(value) : dnsSubdomainProblem(value);
    if (problem) add(path, 'INVALID_NAME', `${what} "${value}" ${problem}.`);
  };
  const container = asObject(config.container);
  const pod = asObject(config.pod);
  const job = asObject(config.job);

  for (const [path, value] of [
    ['namespace', config.namespace],
    ['jobNamePrefix', config.jobNamePrefix],
    ['container.name', container.name],
  ] as const) {
    if (typeof value !== 'string' || value === '') {
      add(path, 'INVALID_VALUE', `${path} is required: set it, or drop the \`!remove\` that clears it.`);
    }
  }
  name('namespace', config.namespace, 'label', 'namespace');
  checkMetadata(asObject(config.metadata), add);

  name('container.name', container.name, 'label', 'container name');
  if (typeof container.image !== 'string' || container.image.trim() === '') {
    const message =
      "no image is set for the Job's container: set `image` (or `container.image`) in k8s_executor_config of the project metadata.yaml, in the block's executor_config, or in K8S_CONFIG_FILE; when the executor runs in a pod, that pod's image is used.";
    // An image that is absent came from nowhere: report the canonical field, not the nearest map that was set.
    issues.push(
      container.image === undefined
        ? { code: 'MISSING_IMAGE', path: 'container.image', message }
        : issueAt(origins, 'container.image', 'MISSING_IMAGE', message),
    );
  }
  oneOf('container.imagePullPolicy', container.imagePullPolicy, PULL_POLICIES, add);
  checkResources('container.resources', asObject(container.resources), add, origins);
  checkResources('pod.resources', asObject(pod.resources), add, origins);
  for (const [i, port] of asList(container.ports).entries()) {
    const number = asObject(port).containerPort;
    if (typeof number === 'number' && (number < 1 || number > 65535)) {
      add(
        joinKey(joinItem('container.ports', String(number)), 'containerPort'),
        'INVALID_VALUE',
        `port ${number} (item ${i}) must be between 1 and 65535.`,
      );
    }
  }
  for (const item of asList(container.env)) {
    const env = asObject(item);
    const path = joinItem('container.env', String(env.name));
    if (
      typeof env.name === 'string' &&
      (env.name === '' || env.name.includes('=') || /[^\x20-\x7e]/.test(env.name))
    ) {
      add(path, 'INVALID_NAME', `env name "${env.name}" must be printable ASCII without "=".`);
    }
    if (
      env.value !== undefined &&
      env.value !== null &&
      env.valueFrom !== undefined &&
      env.valueFrom !== null
    ) {
      // The API server rejects this (422); say it before anything is sent. The value itself is not quoted: it may be a secret.
      add(path, 'INVALID_VALUE', `env "${String(env.name)}" sets both value and valueFrom: keep one.`);
    }
    const valueFrom = asObject(env.valueFrom);
    for (const ref of ['secretKeyRef', 'configMapKeyRef'] as const) {
      name(
        `${path}.valueFrom.${ref}.name`,
        asObject(valueFrom[ref]).name,
        'subdomain',
        ref === 'secretKeyRef' ? 'secret name' : 'config map name',
      );
    }
  }
  for (const item of asList(container.envFrom)) {
    const path = joinItem('container.envFrom', itemKeyOf('container.envFrom', item) ?? '?');
    name(`${path}.secretRef.name`, asObject(asObject(item).secretRef).name, 'subdomain', 'secret name');
    name(
      `${path}.configMapRef.name`,
      asObject(asObject(item).configMapRef).name,
      'subdomain',
      'config map name',
    );
  }

  name('pod.serviceAccountName', pod.serviceAccountName, 'subdomain', 'service account name');
  name('pod.priorityClassName', pod.priorityClassName, 'subdomain', 'priority class name');
  oneOf('pod.restartPolicy', pod.restartPolicy, RESTART_POLICIES, add, "a Job's pod");
  for (const item of asList(pod.imagePullSecrets)) {
    const secret = asObject(item).name;
    name(
      joinKey(joinItem('pod.imagePullSecrets', String(secret)), 'name'),
      secret,
      'subdomain',
      'image pull secret name',
    );
  }
  checkStringMap('pod.nodeSelector', asObject(pod.nodeSelector), 'node selector', add);
  for (const [i, item] of asList(pod.tolerations).entries()) {
    const toleration = asObject(item);
    const path = joinIndex('pod.tolerations', i);
    oneOf(`${path}.operator`, toleration.operator, TOLERATION_OPERATORS, add);
    if (toleration.effect !== '') oneOf(`${path}.effect`, toleration.effect, TOLERATION_EFFECTS, add);
    if (toleration.operator === 'Exists' && toleration.value !== undefined && toleration.value !== '') {
      add(
        `${path}.value`,
        'INVALID_VALUE',
        'a toleration with operator Exists must not have a value: remove the value or use operator Equal.',
      );
    }
  }
  const volumeNames = new Set<string>();
  for (const item of asList(pod.volumes)) {
    const volume = asObject(item);
    if (typeof volume.name !== 'string') continue;
    volumeNames.add(volume.name);
    const path = joinItem('pod.volumes', volume.name);
    name(joinKey(path, 'name'), volume.name, 'label', 'volume name');
    name(`${path}.secret.secretName`, asObject(volume.secret).secretName, 'subdomain', 'secret name');
    name(`${path}.configMap.name`, asObject(volume.configMap).name, 'subdomain', 'config map name');
    name(
      `${path}.persistentVolumeClaim.claimName`,
      asObject(volume.persistentVolumeClaim).claimName,
      'subdomain',
      'claim name',
    );
    quantity(`${path}.emptyDir.sizeLimit`, asObject(volume.emptyDir).sizeLimit, add);
  }
  for (const item of asList(container.volumeMounts)) {
    const mount = asObject(item);
    if (typeof mount.name === 'string' && !volumeNames.has(mount.name)) {
      add(
        joinKey(joinItem('container.volumeMounts', String(mount.mountPath)), 'name'),
        'INVALID_VALUE',
        `the mount at ${String(mount.mountPath)} uses volume "${mount.name}", which is not defined: add it to pod.volumes${volumeNames.size ? ` (defined: ${[...volumeNames].join(', ')})` : ''}.`,
      );
    }
  }
  for (const field of JOB_COUNTS) nonNegative(joinKey('job', field), job[field], add);
  nonNegative('pod.terminationGracePeriodSeconds', pod.terminationGracePeriodSeconds, add);
  if (typeof pod.activeDeadlineSeconds === 'number' && pod.activeDeadlineSeconds < 1) {
    add('pod.activeDeadlineSeconds', 'INVALID_VALUE', 'must be at least 1 (seconds).');
  }
  return issues;
}

type Add = (path: string, code: ConfigIssueCode, message: string) => void;

function asObject(value: unknown): JsonObject {
  return isPlainObject(value) ? value : {};
}

function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function oneOf(path: string, value: unknown, allowed: readonly string[], add: Add, forWhat?: string): void {
  if (value === undefined || (typeof value === 'string' && allowed.includes(value))) return;
  add(
    path,
    'INVALID_VALUE',
    `"${String(value)}" is not allowed${forWhat ? ` for ${forWhat}` : ''}: use one of ${allowed.join(', ')}.`,
  );
}

function nonNegative(path: string, value: unknown, add: Add): void {
  if (typeof value === 'number' && value < 0)
    add(path, 'INVALID_VALUE', `must be a whole number of 0 or more, got ${value}.`);
}

function quantity(path: string, value: unknown, add: Add): number | undefined {
  if (typeof value !== 'string') return undefined;
  const parsed = parseQuantity(value);
  if (parsed === undefined) {
    add(
      path,
      'INVALID_QUANTITY',
      `"${value}" is not a Kubernetes quantity: write e.g. 500m or 2 for CPU, 512Mi or 2Gi for memory (not 2GB).`,
    );
  }
  return parsed;
}

/** Resource names Kubernetes accepts without a domain prefix (others must be qualified: `nvidia.com/gpu`). */
const STANDARD_RESOURCES = ['cpu', 'memory', 'ephemeral-storage', 'storage'];

/** The API server rejects an unqualified resource name that is not a standard one (`memroy`). */
function checkResourceName(path: string, name: string, add: Add): void {
  if (name.includes('/') || STANDARD_RESOURCES.includes(name) || /^hugepages-\S+$/.test(name)) return;
  const guess = didYouMean(name, STANDARD_RESOURCES);
  add(
    path,
    'UNKNOWN_KEY',
    `"${name}" is not a resource Kubernetes knows${guess ? `: did you mean "${guess}"?` : ''} Use cpu, memory, ephemeral-storage, hugepages-<size>, or a qualified extended resource such as nvidia.com/gpu.`,
  );
}

/** Where a value came from, for messages: `block, pipelines/etl/metadata.yaml:12`. */
function whereFrom(origins: ReadonlyMap<string, FieldOrigin>, path: string): string {
  const origin = nearestOrigin(origins, path)?.origin;
  if (!origin) return 'built-in';
  const at = origin.location
    ? `${origin.location.file}${origin.location.line !== undefined ? `:${origin.location.line}` : ''}`
    : origin.sourcePath;
  return at ? `${origin.layer}, ${at}` : origin.layer;
}

function checkResources(
  path: string,
  resources: JsonObject,
  add: Add,
  origins: ReadonlyMap<string, FieldOrigin>,
): void {
  const parsed: Record<'limits' | 'requests', Record<string, number | undefined>> = {
    limits: {},
    requests: {},
  };
  for (const kind of ['limits', 'requests'] as const) {
    for (const [resource, value] of Object.entries(asObject(resources[kind]))) {
      const at = joinKey(joinKey(path, kind), resource);
      checkResourceName(at, resource, add);
      parsed[kind][resource] = quantity(at, value, add);
    }
  }
  for (const [resource, request] of Object.entries(parsed.requests)) {
    const limit = parsed.limits[resource];
    if (request !== undefined && limit !== undefined && request > limit) {
      const requestPath = joinKey(joinKey(path, 'requests'), resource);
      const limitPath = joinKey(joinKey(path, 'limits'), resource);
      const written = (kind: 'requests' | 'limits') => String(asObject(resources[kind])[resource]);
      add(
        requestPath,
        'INVALID_VALUE',
        `the ${resource} request ${written('requests')} (${whereFrom(origins, requestPath)}) is above its limit ${written('limits')} (${whereFrom(origins, limitPath)}): lower the request or raise the limit.`,
      );
    }
  }
}

function checkMetadata(metadata: JsonObject, add: Add): void {
  checkStringMap('metadata.labels', asObject(metadata.labels), 'label', add);
  for (const key of Object.keys(asObject(metadata.annotations))) {
    const problem = qualifiedNameProblem(key);
    if (problem)
      add(joinKey('metadata.annotations', key), 'INVALID_LABEL', `annotation key "${key}" ${problem}.`);
  }
}

function checkStringMap(path: string, map: JsonObject, what: string, add: Add): void {
  for (const [key, value] of Object.entries(map)) {
    const keyProblem = qualifiedNameProblem(key);
    if (keyProblem) add(joinKey(path, key), 'INVALID_LABEL', `${what} key "${key}" ${keyProblem}.`);
    const valueProblem = typeof value === 'string' ? labelValueProblem(value) : undefined;
    if (valueProblem)
      add(joinKey(path, key), 'INVALID_LABEL', `${what} value "${String(value)}" ${valueProblem}.`);
  }
}
