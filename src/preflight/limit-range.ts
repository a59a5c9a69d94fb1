import type { LimitRange, LimitRangeItem, ResourceList } from '../ports/cluster-inspector.js';
import { containerLabel, type PodContainer, podTotal } from './pod-spec.js';
import { type Amounts, amountOf, exceeds, formatAmount } from './quantity.js';
import type { Finding } from './types.js';

/**
 * The containers as the LimitRanger admission plugin leaves them: each resource a container does not
 * limit gets the `default` of a `Container` item, each one it does not request gets its `defaultRequest`
 * (the API server stores those filled in from `max` and `min` when the LimitRange leaves them out).
 */
export function withLimitRangeDefaults(
  containers: readonly PodContainer[],
  ranges: readonly LimitRange[],
): PodContainer[] {
  const items = containerItems(ranges);
  return containers.map((c) => {
    const limits = new Map(c.limits);
    const requests = new Map(c.requests);
    for (const item of items) {
      for (const [name, q] of Object.entries(item.default ?? {}))
        if (!limits.has(name)) limits.set(name, amountOf(q));
      for (const [name, q] of Object.entries(item.defaultRequest ?? {}))
        if (!requests.has(name)) requests.set(name, amountOf(q));
    }
    return { ...c, limits, requests };
  });
}

/**
 * The `limit-range` findings: every `min`, `max` and `maxLimitRequestRatio` of the namespace's
 * LimitRanges (`Container` items for each container, `Pod` items for the pod's totals) against the
 * containers as defaulted by {@link withLimitRangeDefaults}, in the words of the LimitRanger plugin. A
 * violation fails: the Job controller could never create the pod.
 */
export function checkLimitRanges(
  namespace: string,
  containers: readonly PodContainer[],
  overhead: Amounts,
  ranges: readonly LimitRange[],
): Finding[] {
  if (ranges.length === 0)
    return [{ check: 'limit-range', status: 'ok', message: `no LimitRange in namespace "${namespace}".` }];
  const problems: string[] = [];
  for (const range of ranges) {
    const name = range.metadata.name ?? '';
    for (const item of range.spec?.limits ?? []) {
      if (item.type === 'Container') {
        for (const c of containers)
          for (const p of violations(item, 'Container', c.requests, c.limits))
            problems.push(`LimitRange "${name}": ${p} (${containerLabel(c)})`);
      } else if (item.type === 'Pod') {
        const requests = podTotal(containers, 'requests', overhead);
        const limits = podTotal(containers, 'limits', overhead);
        for (const p of violations(item, 'Pod', requests, limits))
          problems.push(`LimitRange "${name}": ${p}`);
      }
    }
  }
  if (problems.length === 0)
    return [
      {
        check: 'limit-range',
        status: 'ok',
        message: `within every LimitRange of namespace "${namespace}" (${ranges.map((r) => `"${r.metadata.name}"`).join(', ')}).`,
      },
    ];
  return problems.map((p) => ({
    check: 'limit-range',
    status: 'fail',
    message: `${p}: the Job controller could never create the pod (FailedCreate), and the block fails with POD_CREATE_FAILED.`,
    fix: "change the block's resource_requests / resource_limits to fit, or ask for the LimitRange to be changed.",
  }));
}

function containerItems(ranges: readonly LimitRange[]): LimitRangeItem[] {
  return ranges.flatMap((r) => (r.spec?.limits ?? []).filter((i) => i.type === 'Container'));
}

/** The LimitRanger's constraint errors of one item against requests and limits. */
function violations(item: LimitRangeItem, per: string, requests: Amounts, limits: Amounts): string[] {
  const out: string[] = [];
  const shown = (amounts: Amounts, name: string) => formatAmount(amounts.get(name) ?? 0);
  for (const [name, q] of entries(item.min)) {
    const min = amountOf(q);
    if (!requests.has(name))
      out.push(`minimum ${name} usage per ${per} is ${q}, but no request is specified`);
    else if (exceeds(min, requests.get(name)!))
      out.push(`minimum ${name} usage per ${per} is ${q}, but request is ${shown(requests, name)}`);
    else if (limits.has(name) && exceeds(min, limits.get(name)!))
      out.push(`minimum ${name} usage per ${per} is ${q}, but limit is ${shown(limits, name)}`);
  }
  for (const [name, q] of entries(item.max)) {
    const max = amountOf(q);
    if (!limits.has(name)) out.push(`maximum ${name} usage per ${per} is ${q}, but no limit is specified`);
    else if (exceeds(limits.get(name)!, max))
      out.push(`maximum ${name} usage per ${per} is ${q}, but limit is ${shown(limits, name)}`);
    else if (requests.has(name) && exceeds(requests.get(name)!, max))
      out.push(`maximum ${name} usage per ${per} is ${q}, but request is ${shown(requests, name)}`);
  }
  for (const [name, q] of entries(item.maxLimitRequestRatio)) {
    const request = requests.get(name) ?? 0;
    const limit = limits.get(name) ?? 0;
    if (request === 0)
      out.push(
        `${name} max limit to request ratio per ${per} is ${q}, but no request is specified or request is 0`,
      );
    else if (limit === 0)
      out.push(
        `${name} max limit to request ratio per ${per} is ${q}, but no limit is specified or limit is 0`,
      );
    else if (exceeds(limit / request, amountOf(q)))
      out.push(
        `${name} max limit to request ratio per ${per} is ${q}, but provided ratio is ${Number((limit / request).toFixed(3))}`,
      );
  }
  return out;
}

function entries(list: ResourceList | undefined): [string, string][] {
  return Object.entries(list ?? {}).sort(([a], [b]) => a.localeCompare(b));
}
