import type { ConfigIssue } from '../errors/config-error.js';
import type { JsonObject } from '../types/kube.js';
import { dropOrigins, isPlainObject, type Tree } from './merge.js';
import { joinIndex } from './paths.js';
import { issueAt, nearestOrigin } from './provenance.js';
import type { FieldOrigin } from './types.js';

/**
 * The built-in `podFailurePolicy`: a pod that fails with the `DisruptionTarget` condition (preempted,
 * evicted through the API or by node pressure, its node drained, tainted NoExecute or gone) is ignored:
 * the Job replaces it without counting it against `backoffLimit`. Infrastructure failures then do not
 * spend the user's retries (docs/configuration.md §8).
 */
export const DISRUPTION_POLICY: Readonly<JsonObject> = Object.freeze({
  rules: [{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] }],
});

const ACTIONS = ['FailJob', 'Ignore', 'Count', 'FailIndex'];
const CONDITION_STATUSES = ['True', 'False', 'Unknown'];
/** Bounds of the Job API (k8s.io/kubernetes pkg/apis/batch/validation). */
const MAX_RULES = 20;
const MAX_EXIT_CODES = 255;
const MAX_CONDITION_PATTERNS = 20;

/**
 * Drops the built-in policy where it must not apply: `retry_disruptions: false`, or a pod `restartPolicy`
 * other than `Never` (Kubernetes allows a podFailurePolicy only with `Never`). A policy of the user's is
 * left as it is (and checked by {@link checkPodFailurePolicy}).
 */
export function withDisruptionPolicy(tree: Tree<FieldOrigin>): Tree<FieldOrigin> {
  const job = tree.value.job;
  if (!isPlainObject(job) || job.podFailurePolicy === undefined) return tree;
  if (nearestOrigin(tree.origins, 'job.podFailurePolicy.rules')?.origin.layer !== 'built-in') return tree;
  const restartPolicy = isPlainObject(tree.value.pod) ? tree.value.pod.restartPolicy : undefined;
  const never = restartPolicy === undefined || restartPolicy === 'Never';
  if (tree.value.retryDisruptions !== false && never) return tree;
  const { podFailurePolicy: _dropped, ...rest } = job;
  const origins = new Map(tree.origins);
  dropOrigins(origins, 'job.podFailurePolicy');
  return { value: { ...tree.value, job: rest }, origins };
}

/**
 * The rules the API server applies to a `podFailurePolicy`, checked before any call: `restartPolicy:
 * Never`; at most 20 rules; each with an `action` (FailJob, Ignore, Count, FailIndex: the last one only with
 * `backoffLimitPerIndex`) and exactly one of `onExitCodes` (operator In or NotIn; 1 to 255 exit codes,
 * unique and ascending, no 0 with In; a `containerName` that is the Job's container) and `onPodConditions`
 * (1 to 20 patterns, each with a `type`, and a `status` of True, False or Unknown).
 */
export function checkPodFailurePolicy(
  config: JsonObject,
  origins: ReadonlyMap<string, FieldOrigin>,
): ConfigIssue[] {
  const job = isPlainObject(config.job) ? config.job : {};
  const policy = job.podFailurePolicy;
  if (!isPlainObject(policy)) return [];
  const issues: ConfigIssue[] = [];
  const add = (path: string, message: string) =>
    issues.push(issueAt(origins, path, 'INVALID_VALUE', message));
  const pod = isPlainObject(config.pod) ? config.pod : {};
  if (pod.restartPolicy !== undefined && pod.restartPolicy !== 'Never') {
    add(
      'job.podFailurePolicy',
      `a podFailurePolicy needs the pod's restartPolicy to be Never (it is ${String(pod.restartPolicy)}): set pod.restart_policy: Never, or remove the podFailurePolicy.`,
    );
  }
  const rules = Array.isArray(policy.rules) ? policy.rules : [];
  if (rules.length > MAX_RULES)
    add('job.podFailurePolicy.rules', `has ${rules.length} rules; Kubernetes allows at most ${MAX_RULES}.`);
  const container = isPlainObject(config.container) ? config.container.name : undefined;
  for (const [i, item] of rules.entries()) {
    const at = joinIndex('job.podFailurePolicy.rules', i);
    const rule = isPlainObject(item) ? item : {};
    if (typeof rule.action !== 'string' || !ACTIONS.includes(rule.action)) {
      add(
        `${at}.action`,
        rule.action === undefined
          ? `rule ${i} needs an action: one of ${ACTIONS.join(', ')}.`
          : `"${String(rule.action)}" is not an action: use one of ${ACTIONS.join(', ')}.`,
      );
    } else if (rule.action === 'FailIndex' && job.backoffLimitPerIndex === undefined) {
      add(`${at}.action`, 'FailIndex needs job.backoff_limit_per_index to be set.');
    }
    const hasExitCodes = rule.onExitCodes !== undefined;
    const hasConditions = rule.onPodConditions !== undefined;
    if (hasExitCodes === hasConditions) {
      add(
        at,
        `rule ${i} needs exactly one of on_exit_codes and on_pod_conditions (it has ${hasExitCodes ? 'both' : 'neither'}).`,
      );
    }
    if (hasExitCodes) checkExitCodes(`${at}.onExitCodes`, rule.onExitCodes, container, add);
    if (hasConditions) checkConditions(`${at}.onPodConditions`, rule.onPodConditions, add);
  }
  return issues;
}

type Add = (path: string, message: string) => void;

function checkExitCodes(at: string, raw: unknown, container: unknown, add: Add): void {
  if (!isPlainObject(raw)) {
    add(at, 'expected a map {operator, values, container_name}.');
    return;
  }
  if (raw.operator !== 'In' && raw.operator !== 'NotIn')
    add(`${at}.operator`, `expected operator In or NotIn, got ${JSON.stringify(raw.operator ?? null)}.`);
  const values = raw.values;
  if (!Array.isArray(values) || values.length === 0) {
    add(`${at}.values`, 'expected a list of 1 or more exit codes.');
  } else if (!values.every((v) => Number.isInteger(v))) {
    add(`${at}.values`, 'expected whole-number exit codes.');
  } else {
    const codes = values as number[];
    if (codes.length > MAX_EXIT_CODES)
      add(`${at}.values`, `has ${codes.length} exit codes; Kubernetes allows at most ${MAX_EXIT_CODES}.`);
    if (codes.some((code, i) => i > 0 && code <= codes[i - 1]!))
      add(`${at}.values`, 'exit codes must be unique and in ascending order (Kubernetes requires it).');
    if (raw.operator === 'In' && codes.includes(0))
      add(`${at}.values`, 'exit code 0 is not allowed with operator In (a pod that exits 0 succeeded).');
  }
  if (raw.containerName !== undefined && raw.containerName !== container) {
    add(
      `${at}.containerName`,
      `"${String(raw.containerName)}" is not the Job's container ("${String(container)}"): use that name, or leave container_name out.`,
    );
  }
}

function checkConditions(at: string, raw: unknown, add: Add): void {
  if (!Array.isArray(raw) || raw.length === 0) {
    add(at, 'expected a list of 1 or more pod conditions ({type, status}).');
    return;
  }
  if (raw.length > MAX_CONDITION_PATTERNS)
    add(at, `has ${raw.length} patterns; Kubernetes allows at most ${MAX_CONDITION_PATTERNS}.`);
  for (const [i, item] of raw.entries()) {
    const pattern = isPlainObject(item) ? item : {};
    const path = joinIndex(at, i);
    if (typeof pattern.type !== 'string' || pattern.type === '')
      add(`${path}.type`, 'needs the type of a pod condition, such as DisruptionTarget.');
    if (pattern.status !== undefined && !CONDITION_STATUSES.includes(String(pattern.status)))
      add(`${path}.status`, `expected status True, False or Unknown, got ${JSON.stringify(pattern.status)}.`);
  }
}
