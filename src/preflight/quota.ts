import type { ResourceQuota, ScopeSelectorTerm } from '../ports/cluster-inspector.js';
import { containerLabel, isBestEffort, type PodContainer, type PodView, podTotal } from './pod-spec.js';
import { type Amounts, amountOf, exceeds, formatAmount } from './quantity.js';
import type { Finding } from './types.js';

/** What the quota admission plugin charges for one pod and its Job. */
export interface QuotaCharge {
  /** Per quota resource name (`requests.cpu`, `limits.memory`, `pods`, `count/jobs.batch`, ...). */
  usage: Amounts;
  /** Whether the pod is BestEffort (the `BestEffort`/`NotBestEffort` scopes). */
  bestEffort: boolean;
}

/** Resources whose quota requires every container to set them (the quota plugin's own list). */
const MUST_SPECIFY: Readonly<Record<string, (c: PodContainer) => boolean>> = {
  cpu: (c) => c.requests.has('cpu'),
  'requests.cpu': (c) => c.requests.has('cpu'),
  memory: (c) => c.requests.has('memory'),
  'requests.memory': (c) => c.requests.has('memory'),
  'limits.cpu': (c) => c.limits.has('cpu'),
  'limits.memory': (c) => c.limits.has('memory'),
};

/**
 * What a Job and its one pod count against quotas: `pods`, `count/pods`, `count/jobs.batch` (1 each),
 * the pod's total requests (as `requests.<name>`, and `cpu`, `memory`, `ephemeral-storage` alone) and
 * limits (as `limits.<name>`), from containers already defaulted by the namespace's LimitRanges.
 */
export function quotaCharge(containers: readonly PodContainer[], overhead: Amounts): QuotaCharge {
  const usage: Amounts = new Map([
    ['pods', 1],
    ['count/pods', 1],
    ['count/jobs.batch', 1],
  ]);
  for (const [name, value] of podTotal(containers, 'requests', overhead)) {
    usage.set(`requests.${name}`, value);
    if (name === 'cpu' || name === 'memory' || name === 'ephemeral-storage') usage.set(name, value);
  }
  for (const [name, value] of podTotal(containers, 'limits', overhead)) usage.set(`limits.${name}`, value);
  return { usage, bestEffort: isBestEffort(containers) };
}

/**
 * The `quota` findings, one per ResourceQuota that applies to the pod (by its scopes and scope
 * selector). A quota the pod can never fit (it needs more than `hard`), or whose tracked cpu/memory a
 * container does not set, fails; one whose headroom (`hard − used`) is too small today warns: the Job
 * controller retries creating the pod until other pods free the quota, within the no-pod timeout.
 */
export function checkQuotas(
  namespace: string,
  pod: Pick<PodView, 'terminating' | 'priorityClassName'>,
  containers: readonly PodContainer[],
  charge: QuotaCharge,
  quotas: readonly ResourceQuota[],
): Finding[] {
  if (quotas.length === 0)
    return [{ check: 'quota', status: 'ok', message: `no ResourceQuota in namespace "${namespace}".` }];
  const applying = quotas.filter((q) => appliesTo(q, pod, charge.bestEffort));
  if (applying.length === 0)
    return [
      {
        check: 'quota',
        status: 'ok',
        message: `no ResourceQuota of namespace "${namespace}" applies to the pod (by their scopes).`,
      },
    ];
  return applying.map((quota) => checkQuota(quota, containers, charge));
}

function checkQuota(quota: ResourceQuota, containers: readonly PodContainer[], charge: QuotaCharge): Finding {
  const what = `ResourceQuota "${quota.metadata.name}"`;
  const hard = quota.status?.hard ?? quota.spec?.hard ?? {};
  const used = quota.status?.used;
  const scoped =
    (quota.spec?.scopes?.length ?? 0) > 0 || (quota.spec?.scopeSelector?.matchExpressions?.length ?? 0) > 0;
  const unset = Object.keys(hard)
    .sort()
    .flatMap((name) => {
      const sets = MUST_SPECIFY[name];
      const without = sets ? containers.filter((c) => !sets(c)) : [];
      return without.length > 0 ? [{ name, without }] : [];
    });
  if (unset.length > 0)
    return {
      check: 'quota',
      status: 'fail',
      message: `${what} tracks ${unset.map((u) => u.name).join(', ')}, so every container must set ${unset.length === 1 ? 'it' : 'them'}: ${unset.map((u) => `${u.name} is not set by ${u.without.map(containerLabel).join(', ')}`).join('; ')}. The Job controller could never create the pod (FailedCreate) and the block fails with POD_CREATE_FAILED.`,
      fix: 'set resource_requests / resource_limits for cpu and memory in the executor config (or ask for a LimitRange default).',
    };
  const never: string[] = [];
  const notNow: string[] = [];
  const fits: string[] = [];
  for (const [name, q] of Object.entries(hard).sort(([a], [b]) => a.localeCompare(b))) {
    // A scoped quota only tracks pods; a Job is never in its scope.
    if (scoped && name === 'count/jobs.batch') continue;
    const need = charge.usage.get(name) ?? 0;
    if (need === 0) continue;
    const limit = amountOf(q);
    const inUse = used?.[name] !== undefined ? amountOf(used[name]) : undefined;
    if (exceeds(need, limit)) never.push(`${name} needs ${formatAmount(need)}, the quota allows ${q} in all`);
    else if (inUse !== undefined && exceeds(need + inUse, limit))
      notNow.push(
        `${name} needs ${formatAmount(need)}, ${formatAmount(Math.max(0, limit - inUse))} of ${q} is left`,
      );
    else
      fits.push(
        `${name} ${formatAmount(need)} of ${inUse === undefined ? q : `${formatAmount(limit - inUse)} left`}`,
      );
  }
  if (never.length > 0)
    return {
      check: 'quota',
      status: 'fail',
      message: `${what} is too small for this block: ${never.join('; ')}. The Job controller could never create the pod (exceeded quota) and the block fails with POD_CREATE_FAILED.`,
      fix: `lower the block's resources, or raise the quota (kubectl describe resourcequota ${quota.metadata.name} -n ${quota.metadata.namespace ?? '<namespace>'}).`,
    };
  if (notNow.length > 0)
    return {
      check: 'quota',
      status: 'warn',
      message: `${what} has too little left right now: ${notNow.join('; ')}. The pod is created only once other pods free the quota; if none does within the no-pod timeout (5 min by default), the block fails with POD_CREATE_FAILED.`,
      fix: 'wait for the running pods to finish, or raise the quota.',
    };
  return {
    check: 'quota',
    status: 'ok',
    message: `fits ${what}${used === undefined ? ' (its usage is not computed yet: checked against hard only)' : ''}${fits.length > 0 ? `: ${fits.join(', ')}` : ''}.`,
  };
}

/** Whether a quota's scopes and scope selector all match the pod. */
function appliesTo(
  quota: ResourceQuota,
  pod: Pick<PodView, 'terminating' | 'priorityClassName'>,
  bestEffort: boolean,
): boolean {
  const scopes = quota.spec?.scopes ?? [];
  const terms = quota.spec?.scopeSelector?.matchExpressions ?? [];
  return (
    scopes.every((scope) => scopeMatches({ scopeName: scope, operator: 'Exists' }, pod, bestEffort)) &&
    terms.every((term) => scopeMatches(term, pod, bestEffort))
  );
}

function scopeMatches(
  term: ScopeSelectorTerm,
  pod: Pick<PodView, 'terminating' | 'priorityClassName'>,
  bestEffort: boolean,
): boolean {
  const flag = (value: boolean) => (term.operator === 'DoesNotExist' ? !value : value);
  switch (term.scopeName) {
    case 'Terminating':
      return flag(pod.terminating);
    case 'NotTerminating':
      return flag(!pod.terminating);
    case 'BestEffort':
      return flag(bestEffort);
    case 'NotBestEffort':
      return flag(!bestEffort);
    case 'PriorityClass': {
      const name = pod.priorityClassName;
      const values = term.values ?? [];
      if (term.operator === 'Exists') return name !== undefined;
      if (term.operator === 'DoesNotExist') return name === undefined;
      if (term.operator === 'In') return name !== undefined && values.includes(name);
      if (term.operator === 'NotIn') return name === undefined || !values.includes(name);
      return false;
    }
    default:
      // CrossNamespacePodAffinity, VolumeAttributesClass: the executor's pods never use them.
      return false;
  }
}
