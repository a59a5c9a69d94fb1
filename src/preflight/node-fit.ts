import type { KubeNode, Taint } from '../ports/cluster-inspector.js';
import { describeTerm, requiredNodeTerms, termMatches, unmatchedSelector } from './node-affinity.js';
import type { PodView } from './pod-spec.js';
import { type Amounts, amountOf, exceeds, formatAmount } from './quantity.js';
import { describeTaint, tolerationsOf, untoleratedTaints } from './taints.js';
import type { Finding } from './types.js';

/** Why one node cannot run the pod. */
export type NodeMiss =
  | { kind: 'missing-resource'; resource: string }
  | { kind: 'too-little'; resource: string; allocatable: number }
  | { kind: 'taint'; taint: string }
  | { kind: 'cordoned' }
  | { kind: 'selector'; unmatched: string[] }
  | { kind: 'affinity' }
  | { kind: 'node-name' };

/** The taint the node controller puts on a cordoned node (`spec.unschedulable: true`). */
const UNSCHEDULABLE_TAINT: Taint = { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' };

/**
 * Every reason why `node` can never run the pod, as the scheduler's filters see it: `spec.nodeName`,
 * the node selector, required node affinity, taints not tolerated (a cordoned node counts as tainted
 * `node.kubernetes.io/unschedulable:NoSchedule`), and allocatable resources (total, not free: pods that
 * run there now end) against the pod's requests. Empty when the node can run it.
 *
 * @param requests the pod's total requests (LimitRange defaults applied, overhead included).
 */
export function nodeMisses(pod: PodView, requests: Amounts, node: KubeNode): NodeMiss[] {
  const misses: NodeMiss[] = [];
  if (pod.nodeName !== undefined && pod.nodeName !== node.metadata.name) misses.push({ kind: 'node-name' });
  const unmatched = unmatchedSelector(pod.nodeSelector, node);
  if (unmatched.length > 0) misses.push({ kind: 'selector', unmatched });
  const terms = requiredNodeTerms(pod.affinity);
  if (terms !== undefined && !terms.some((t) => termMatches(t, node))) misses.push({ kind: 'affinity' });
  const taints = [...(node.spec?.taints ?? [])];
  if (node.spec?.unschedulable && !taints.some((t) => t.key === UNSCHEDULABLE_TAINT.key))
    taints.push(UNSCHEDULABLE_TAINT);
  for (const taint of untoleratedTaints(taints, tolerationsOf(pod.tolerations)))
    misses.push(
      taint.key === UNSCHEDULABLE_TAINT.key
        ? { kind: 'cordoned' }
        : { kind: 'taint', taint: describeTaint(taint) },
    );
  const allocatable = node.status?.allocatable ?? node.status?.capacity ?? {};
  for (const [resource, need] of [...requests, ['pods', 1] as const]) {
    if (need <= 0) continue;
    const have = allocatable[resource];
    if (have === undefined || amountOf(have) === 0) misses.push({ kind: 'missing-resource', resource });
    else if (exceeds(need, amountOf(have)))
      misses.push({ kind: 'too-little', resource, allocatable: amountOf(have) });
  }
  return misses;
}

/**
 * The `node-fit` finding: whether at least one node could ever run the pod. When none can, one sentence
 * says why, node counts per reason ("no node has nvidia.com/gpu; 3 nodes have taint
 * dedicated=data-jobs:NoSchedule that the pod does not tolerate"). That is a warning, not a failure: a
 * cluster autoscaler may add a matching node, and Kueue may hold the Job until one exists.
 */
export function checkNodeFit(pod: PodView, requests: Amounts, nodes: readonly KubeNode[]): Finding {
  if (nodes.length === 0)
    return {
      check: 'node-fit',
      status: 'warn',
      message: 'the cluster has no Node today: the pod stays Pending unless a cluster autoscaler adds one.',
    };
  const results = nodes.map((node) => ({ node, misses: nodeMisses(pod, requests, node) }));
  const fit = results.filter((r) => r.misses.length === 0).map((r) => r.node.metadata.name ?? '');
  if (fit.length > 0) {
    const shown = fit.slice(0, 3).join(', ') + (fit.length > 3 ? ', ...' : '');
    return {
      check: 'node-fit',
      status: 'ok',
      message: `${fit.length} of ${plural(nodes.length, 'node')} can run the pod (${shown}).`,
    };
  }
  return {
    check: 'node-fit',
    status: 'warn',
    message: `no node can run the pod today: ${summarize(
      pod,
      requests,
      results.map((r) => r.misses),
      nodes.length,
    )}.`,
    fix:
      'change node_selector / affinity / tolerations / resources in the executor config, or add a node that fits; ' +
      'with a cluster autoscaler or Kueue, make sure a node group of such nodes exists (docs/preflight.md).',
  };
}

/** The reasons of every node, counted: one clause per reason, most telling first. */
function summarize(pod: PodView, requests: Amounts, misses: readonly NodeMiss[][], total: number): string {
  const count = (match: (m: NodeMiss) => boolean) => misses.filter((list) => list.some(match)).length;
  const clauses: string[] = [];
  for (const resource of [...requests.keys(), 'pods']) {
    const lacking = count((m) => m.kind === 'missing-resource' && m.resource === resource);
    if (lacking === total) clauses.push(`no node has ${resource}`);
    else if (lacking > 0) clauses.push(`${nodesHave(lacking)} no ${resource}`);
  }
  const taints = [...new Set(misses.flat().flatMap((m) => (m.kind === 'taint' ? [m.taint] : [])))].sort();
  for (const taint of taints) {
    const n = count((m) => m.kind === 'taint' && m.taint === taint);
    clauses.push(`${nodesHave(n)} taint ${taint} that the pod does not tolerate`);
  }
  const selector = count((m) => m.kind === 'selector');
  if (selector > 0) {
    const wanted = Object.entries(pod.nodeSelector).map(([k, v]) => `${k}=${v}`);
    clauses.push(`${nodesDo(selector)} not match the node selector ${wanted.join(', ')}`);
  }
  const affinity = count((m) => m.kind === 'affinity');
  if (affinity > 0) {
    const terms = (requiredNodeTerms(pod.affinity) ?? []).map(describeTerm);
    clauses.push(`${nodesDo(affinity)} not match the required node affinity (${terms.join(' or ')})`);
  }
  for (const resource of [...requests.keys(), 'pods']) {
    const short = misses.flat().filter((m) => m.kind === 'too-little' && m.resource === resource);
    if (short.length === 0) continue;
    const most = Math.max(...short.map((m) => (m.kind === 'too-little' ? m.allocatable : 0)));
    const need = resource === 'pods' ? 1 : (requests.get(resource) ?? 0);
    clauses.push(
      `${nodesHave(short.length)} too little ${resource} (at most ${formatAmount(most)} allocatable, the pod requests ${formatAmount(need)})`,
    );
  }
  const cordoned = count((m) => m.kind === 'cordoned');
  if (cordoned > 0)
    clauses.push(`${plural(cordoned, 'node')} ${cordoned === 1 ? 'is' : 'are'} cordoned (unschedulable)`);
  const named = count((m) => m.kind === 'node-name');
  if (named === total) clauses.push(`no node is named "${pod.nodeName}" (the pod's spec.nodeName)`);
  else if (named > 0)
    clauses.push(
      `${plural(named, 'other node')} cannot run it: the pod's spec.nodeName is "${pod.nodeName}"`,
    );
  return clauses.join('; ');
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function nodesHave(n: number): string {
  return `${plural(n, 'node')} ${n === 1 ? 'has' : 'have'}`;
}

function nodesDo(n: number): string {
  return `${plural(n, 'node')} ${n === 1 ? 'does' : 'do'}`;
}
