import type { KubeNode } from '../ports/cluster-inspector.js';
import type { JsonObject } from '../types/kube.js';
import { objectOf, objects } from './pod-spec.js';

/** One `matchExpressions` or `matchFields` requirement of a node selector term. */
export interface NodeRequirement {
  key: string;
  /** `In`, `NotIn`, `Exists`, `DoesNotExist`, `Gt`, `Lt`. */
  operator: string;
  values: readonly string[];
}

/** A node selector term: its requirements all hold (an empty term matches no node). */
export interface NodeSelectorTerm {
  matchExpressions: readonly NodeRequirement[];
  matchFields: readonly NodeRequirement[];
}

/** The `requiredDuringSchedulingIgnoredDuringExecution` terms of a pod's node affinity (any one must hold). */
export function requiredNodeTerms(affinity: JsonObject | undefined): NodeSelectorTerm[] | undefined {
  const required = objectOf(objectOf(affinity?.nodeAffinity).requiredDuringSchedulingIgnoredDuringExecution);
  if (!Array.isArray(required.nodeSelectorTerms)) return undefined;
  const requirements = (value: unknown): NodeRequirement[] =>
    objects(value).map((r) => ({
      key: String(r.key ?? ''),
      operator: String(r.operator ?? ''),
      values: Array.isArray(r.values) ? r.values.map(String) : [],
    }));
  return objects(required.nodeSelectorTerms).map((term) => ({
    matchExpressions: requirements(term.matchExpressions),
    matchFields: requirements(term.matchFields),
  }));
}

/** Whether one requirement holds for a value (undefined: the label, or field, is absent), as the scheduler decides it. */
export function requirementHolds(requirement: NodeRequirement, value: string | undefined): boolean {
  const { operator, values } = requirement;
  switch (operator) {
    case 'In':
      return value !== undefined && values.includes(value);
    case 'NotIn':
      return value === undefined || !values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
    case 'Lt': {
      const have = integerOf(value);
      const bound = integerOf(values[0]);
      if (have === undefined || bound === undefined) return false;
      return operator === 'Gt' ? have > bound : have < bound;
    }
    default:
      return false;
  }
}

/** Whether a node matches a term: every label expression and every field (`metadata.name`) requirement. */
export function termMatches(term: NodeSelectorTerm, node: KubeNode): boolean {
  if (term.matchExpressions.length === 0 && term.matchFields.length === 0) return false;
  const labels = node.metadata.labels ?? {};
  return (
    term.matchExpressions.every((r) => requirementHolds(r, labels[r.key])) &&
    term.matchFields.every((r) =>
      requirementHolds(r, r.key === 'metadata.name' ? node.metadata.name : undefined),
    )
  );
}

/** The `nodeSelector` entries a node's labels do not have (`disktype=ssd`). */
export function unmatchedSelector(selector: Readonly<Record<string, string>>, node: KubeNode): string[] {
  const labels = node.metadata.labels ?? {};
  return Object.entries(selector)
    .filter(([key, value]) => labels[key] !== value)
    .map(([key, value]) => `${key}=${value}`);
}

/** A term as a short text: `disktype In [ssd], zone NotIn [a]`. */
export function describeTerm(term: NodeSelectorTerm): string {
  const parts = [...term.matchExpressions, ...term.matchFields].map((r) =>
    r.operator === 'Exists' || r.operator === 'DoesNotExist'
      ? `${r.key} ${r.operator}`
      : `${r.key} ${r.operator} [${r.values.join(', ')}]`,
  );
  return parts.length > 0 ? parts.join(', ') : '(empty term)';
}

/** A label value read as the scheduler reads it for Gt/Lt: a base-10 integer. */
function integerOf(value: string | undefined): number | undefined {
  if (value === undefined || !/^[+-]?\d+$/.test(value.trim())) return undefined;
  return Number(value);
}
