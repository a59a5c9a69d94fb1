import type { Job } from '../types/kube.js';
import type { RunIdentity } from '../types/run.js';
import { SHORT_HASH_LENGTH, shortHash } from './short-hash.js';

/** The standard label that marks every Job (and pod) this SDK creates. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';

/** The value of {@link MANAGED_BY_LABEL} on our Jobs. */
export const MANAGED_BY_VALUE = 'k8s-executor';

/**
 * The identity keys. Each is used twice: as a label (value sanitized by {@link toLabelValue}, for
 * selectors) and as an annotation (the full value, for exact comparison), except `kind` (label only).
 */
export const IDENTITY_KEYS = Object.freeze({
  /** The cluster id (`MAGE_CLUSTER_UUID` or the executor option): keeps deployments sharing a cluster apart. */
  cluster: 'k8s-executor/cluster',
  /** `block` or `pipeline` (label only). */
  kind: 'k8s-executor/kind',
  /** The pipeline uuid. */
  pipeline: 'k8s-executor/pipeline',
  /** The pipeline run id. */
  pipelineRunId: 'k8s-executor/pipeline-run-id',
  /** The block uuid (block runs only). */
  block: 'k8s-executor/block',
  /** The block run id (block runs only). */
  blockRunId: 'k8s-executor/block-run-id',
  /** The attempt, `1` for the first try. */
  attempt: 'k8s-executor/attempt',
  /** The trigger (schedule) name, when the run has one. */
  trigger: 'k8s-executor/trigger',
} as const);

/** The longest valid label value. */
const MAX_LABEL_VALUE_LENGTH = 63;

/** The keys that single out one run's Job; {@link isJobOfRun} compares exactly these (and `kind`). */
const RUN_KEYS = [
  IDENTITY_KEYS.cluster,
  IDENTITY_KEYS.pipelineRunId,
  IDENTITY_KEYS.blockRunId,
  IDENTITY_KEYS.attempt,
] as const;

/**
 * Turns any string into a valid Kubernetes label value: every run of characters outside `[A-Za-z0-9._-]`
 * becomes `-`, characters that are not letters or digits are trimmed from both ends, and a value longer than
 * 63 characters is cut to 54 and gets `-` plus an 8-hex SHA-256 of the original string, so distinct long
 * values stay distinct. The empty string (a valid label value) is returned for input with no letter or digit.
 * Case is kept: label values are case-sensitive.
 *
 * @example toLabelValue('My Pipeline/v2') // 'My-Pipeline-v2'
 * @example toLabelValue('__x__') // 'x'
 */
export function toLabelValue(value: string): string {
  const cleaned = trimToAlphanumeric(value.replace(/[^A-Za-z0-9._-]+/g, '-'));
  if (cleaned.length <= MAX_LABEL_VALUE_LENGTH) return cleaned;
  const kept = trimToAlphanumeric(cleaned.slice(0, MAX_LABEL_VALUE_LENGTH - SHORT_HASH_LENGTH - 1));
  return `${kept}-${shortHash(value)}`;
}

/**
 * The labels that identify a run's Job and its pods: {@link MANAGED_BY_LABEL}, `kind`, and every
 * {@link IDENTITY_KEYS} value the identity has, sanitized with {@link toLabelValue}. Block keys appear only
 * when the identity has them; `attempt` is always there (`1` by default).
 *
 * @example identityLabels({ pipelineUuid: 'etl', pipelineRunId: '7', blockUuid: 'load', blockRunId: '42' }, 'mage', 'block')
 *   // { 'app.kubernetes.io/managed-by': 'k8s-executor', 'k8s-executor/kind': 'block', 'k8s-executor/cluster': 'mage',
 *   //   'k8s-executor/pipeline': 'etl', 'k8s-executor/pipeline-run-id': '7', 'k8s-executor/block': 'load',
 *   //   'k8s-executor/block-run-id': '42', 'k8s-executor/attempt': '1' }
 */
export function identityLabels(
  identity: RunIdentity,
  clusterId: string,
  kind: 'block' | 'pipeline',
): Record<string, string> {
  const labels: Record<string, string> = {
    [MANAGED_BY_LABEL]: MANAGED_BY_VALUE,
    [IDENTITY_KEYS.kind]: kind,
  };
  for (const [key, value] of Object.entries(identityAnnotations(identity, clusterId))) {
    labels[key] = toLabelValue(value);
  }
  return labels;
}

/**
 * The full, unsanitized identity values as annotations, under the same {@link IDENTITY_KEYS} as the labels
 * (without `kind`). They let {@link isJobOfRun} compare exactly, where sanitized labels could collide.
 */
export function identityAnnotations(identity: RunIdentity, clusterId: string): Record<string, string> {
  const annotations: Record<string, string> = {
    [IDENTITY_KEYS.cluster]: clusterId,
    [IDENTITY_KEYS.pipeline]: identity.pipelineUuid,
    [IDENTITY_KEYS.pipelineRunId]: identity.pipelineRunId,
    [IDENTITY_KEYS.attempt]: String(identity.attempt ?? 1),
  };
  if (identity.blockUuid !== undefined) annotations[IDENTITY_KEYS.block] = identity.blockUuid;
  if (identity.blockRunId !== undefined) annotations[IDENTITY_KEYS.blockRunId] = identity.blockRunId;
  if (identity.triggerName !== undefined) annotations[IDENTITY_KEYS.trigger] = identity.triggerName;
  return annotations;
}

/**
 * The label selector of every Job this SDK manages, narrowed to one cluster id when given: what the shared
 * Job and pod watches list and watch with.
 *
 * @example managedSelector() // 'app.kubernetes.io/managed-by=k8s-executor'
 * @example managedSelector('prod') // 'app.kubernetes.io/managed-by=k8s-executor,k8s-executor/cluster=prod'
 */
export function managedSelector(clusterId?: string): string {
  const managed = `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`;
  return clusterId === undefined ? managed : `${managed},${IDENTITY_KEYS.cluster}=${toLabelValue(clusterId)}`;
}

/**
 * True when the Job carries our labels for exactly this run (cluster, pipeline run, block run, attempt,
 * kind) — used to adopt an existing Job when create answers 409. Labels must equal the sanitized values;
 * where the Job has the identity annotations, they must equal the full values too, so two runs whose ids
 * sanitize to the same label can never adopt each other's Job. A key the identity lacks (a pipeline run's
 * block run id) must be absent from the Job as well.
 */
export function isJobOfRun(
  job: Job,
  identity: RunIdentity,
  clusterId: string,
  kind: 'block' | 'pipeline',
): boolean {
  const labels = job.metadata.labels ?? {};
  const annotations = job.metadata.annotations ?? {};
  if (labels[MANAGED_BY_LABEL] !== MANAGED_BY_VALUE || labels[IDENTITY_KEYS.kind] !== kind) return false;
  const expected = identityAnnotations(identity, clusterId);
  return RUN_KEYS.every((key) => {
    const want = expected[key];
    if (want === undefined) return labels[key] === undefined && annotations[key] === undefined;
    const annotation = annotations[key];
    return labels[key] === toLabelValue(want) && (annotation === undefined || annotation === want);
  });
}

/** Drops every character that is not a letter or digit from both ends. */
function trimToAlphanumeric(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && !isAlphanumeric(text.charCodeAt(start))) start++;
  while (end > start && !isAlphanumeric(text.charCodeAt(end - 1))) end--;
  return text.slice(start, end);
}

/** `[A-Za-z0-9]` by char code. */
function isAlphanumeric(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
}
